// Sans-I/O decoder of the chunked transfer coding of a request body (RFC 9112 §7.1), for the
// first request of a connection. Bytes in; data views, end of body and the bytes after it out.

/** Longest chunk-size line (size, extensions, CRLF) accepted, in bytes. @default 4096 */
export const MAX_CHUNK_LINE = 4096;
/** Longest trailer section accepted, in bytes. @default 8192 */
export const MAX_TRAILER_SIZE = 8192;

/** The result of feeding bytes to a {@linkcode ChunkedDecoder}. */
export type ChunkedResult =
  | {
    readonly type: "data";
    /** Chunk data, as views into the bytes passed in (copy before reusing them). */
    readonly chunks: Uint8Array[];
    /** True once the last chunk and the trailer section were read. */
    readonly done: boolean;
    /** When `done`: the bytes after the body (the next pipelined request). */
    readonly rest: Uint8Array;
  }
  | {
    readonly type: "error";
    readonly code: "bad_chunk_size" | "bad_chunk_end" | "chunk_line_too_long" | "trailer_too_large";
  };

type State = "size" | "data" | "data-crlf" | "trailer" | "done";

const EMPTY = new Uint8Array(0);

/** Decodes `Transfer-Encoding: chunked`; trailer fields are read and dropped. */
export class ChunkedDecoder {
  #state: State = "size";
  #line = "";
  #remaining = 0;
  #trailerBytes = 0;

  /** Feeds body bytes; see {@linkcode ChunkedResult}. */
  receive(input: Uint8Array): ChunkedResult {
    const chunks: Uint8Array[] = [];
    let i = 0;
    while (i < input.length) {
      switch (this.#state) {
        case "size":
        case "trailer": {
          const lf = input.indexOf(0x0a, i);
          const end = lf === -1 ? input.length : lf + 1;
          for (let j = i; j < end; j++) this.#line += String.fromCharCode(input[j]!);
          if (this.#state === "size" && this.#line.length > MAX_CHUNK_LINE) {
            return { type: "error", code: "chunk_line_too_long" };
          }
          if (this.#state === "trailer") {
            this.#trailerBytes += end - i;
            if (this.#trailerBytes > MAX_TRAILER_SIZE) {
              return { type: "error", code: "trailer_too_large" };
            }
          }
          i = end;
          if (lf === -1) break;
          const line = this.#line.endsWith("\r\n")
            ? this.#line.slice(0, -2)
            : this.#line.slice(0, -1);
          this.#line = "";
          if (this.#state === "trailer") {
            if (line.length === 0) {
              this.#state = "done";
              return { type: "data", chunks, done: true, rest: input.subarray(i) };
            }
            break;
          }
          // chunk-size = 1*HEXDIG, then optional chunk-ext after ";" (ignored).
          const semi = line.indexOf(";");
          const hex = (semi === -1 ? line : line.slice(0, semi)).trimEnd();
          if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) return { type: "error", code: "bad_chunk_size" };
          this.#remaining = parseInt(hex, 16);
          this.#state = this.#remaining === 0 ? "trailer" : "data";
          break;
        }
        case "data": {
          const n = Math.min(this.#remaining, input.length - i);
          chunks.push(input.subarray(i, i + n));
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = "data-crlf";
          break;
        }
        case "data-crlf": {
          // Each chunk's data is followed by CRLF.
          const c = input[i]!;
          if (this.#line.length === 0 && c === 0x0d) {
            this.#line = "\r";
            i++;
          } else if (c === 0x0a) {
            this.#line = "";
            this.#state = "size";
            i++;
          } else {
            return { type: "error", code: "bad_chunk_end" };
          }
          break;
        }
        case "done":
          return { type: "data", chunks, done: true, rest: input.subarray(i) };
      }
    }
    return { type: "data", chunks, done: this.#state === "done", rest: EMPTY };
  }
}
