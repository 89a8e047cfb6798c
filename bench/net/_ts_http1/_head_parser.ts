// Minimal request-head parser of the option (c) benchmark prototype only (written before
// lib/http's HeadParser existed; the library uses lib/http). It reuses one parser per
// connection, as a per-request server needs. Deliberately minimal: start-line split,
// field lines split at the first colon, size limit. Field syntax is left to `Headers`.

/** A parsed request head. Field names keep their case; values are trimmed of OWS. */
export interface ParsedRequestHead {
  /** The request method, case-sensitive (RFC 9110 §9.1). */
  readonly method: string;
  /** The request-target as sent (origin-form, absolute-form, authority-form or `*`). */
  readonly target: string;
  /** `"HTTP/1.1"` or `"HTTP/1.0"`. */
  readonly version: string;
  /** Field lines in order, as `[name, value]`. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** What the parser reports once it has seen a whole head, or a fault. */
export type HeadEvent =
  | { readonly type: "head"; readonly head: ParsedRequestHead; readonly rest: Uint8Array }
  | { readonly type: "error"; readonly status: 400 | 431 | 505; readonly code: string };

const decoder = new TextDecoder("latin1");

/** Accumulates bytes until a blank line ends the head. */
export class HeadParser {
  #maxHeadSize: number;
  #buffered: Uint8Array | undefined;

  constructor(maxHeadSize = 8192) {
    this.#maxHeadSize = maxHeadSize;
  }

  /** True when part of a head is buffered. */
  get hasPartialHead(): boolean {
    return this.#buffered !== undefined;
  }

  /**
   * Feeds bytes. Returns the head (and the bytes after it, a view into `chunk` or a
   * private copy), an error, or `undefined` when more bytes are needed. The parser
   * keeps no reference to `chunk` after returning.
   */
  receive(chunk: Uint8Array): HeadEvent | undefined {
    let data = chunk;
    let searchFrom = 0;
    if (this.#buffered !== undefined) {
      searchFrom = Math.max(0, this.#buffered.length - 3);
      data = new Uint8Array(this.#buffered.length + chunk.length);
      data.set(this.#buffered);
      data.set(chunk, this.#buffered.length);
    }
    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
    let start = 0;
    while (start + 1 < data.length && data[start] === 0x0d && data[start + 1] === 0x0a) start += 2;
    const end = findHeadEnd(data, Math.max(searchFrom, start));
    if (end < 0) {
      if (data.length - start > this.#maxHeadSize) return this.#fail(431, "head_too_large");
      this.#buffered = data.slice(start);
      return undefined;
    }
    this.#buffered = undefined;
    if (end + 4 - start > this.#maxHeadSize) return this.#fail(431, "head_too_large");
    const text = decoder.decode(data.subarray(start, end));
    const rest = data.subarray(end + 4);
    const lines = text.split("\r\n");
    const first = lines[0]!;
    const sp1 = first.indexOf(" ");
    const sp2 = first.indexOf(" ", sp1 + 1);
    if (sp1 <= 0 || sp2 <= sp1 + 1 || first.indexOf(" ", sp2 + 1) !== -1) {
      return this.#fail(400, "bad_request_line");
    }
    const version = first.slice(sp2 + 1);
    if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
      return this.#fail(/^HTTP\/\d\.\d$/.test(version) ? 505 : 400, "bad_version");
    }
    const headers: [string, string][] = [];
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      // RFC 9112 §5.1: no whitespace is allowed between the field name and colon.
      if (colon <= 0 || line.charCodeAt(colon - 1) === 0x20 || line.charCodeAt(0) === 0x20) {
        return this.#fail(400, "bad_field_line");
      }
      headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
    }
    return {
      type: "head",
      head: { method: first.slice(0, sp1), target: first.slice(sp1 + 1, sp2), version, headers },
      rest,
    };
  }

  #fail(status: 400 | 431 | 505, code: string): HeadEvent {
    this.#buffered = undefined;
    return { type: "error", status, code };
  }
}

function findHeadEnd(data: Uint8Array, from: number): number {
  for (
    let i = data.indexOf(0x0d, from);
    i !== -1 && i + 3 < data.length;
    i = data.indexOf(0x0d, i + 1)
  ) {
    if (data[i + 1] === 0x0a && data[i + 2] === 0x0d && data[i + 3] === 0x0a) return i;
  }
  return -1;
}
