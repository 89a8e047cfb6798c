// Decides whether the one-port server answers the first request of a connection itself, and
// collects that request's body. Sans-I/O: heads and bytes in, plans and results out.
//
// Only plain requests are answered here; anything whose semantics we would otherwise have to
// reimplement (Expect, unusual framing, absolute-form targets, oversized bodies) goes to the
// relay, where Deno.serve answers it. That keeps the userland HTTP surface small.
import type { RequestHead } from "../http/head_parser.ts";
import { splitList } from "../http/token.ts";
import { ChunkedDecoder } from "./_chunked_decoder.ts";

/** How the first request's body is framed. */
export type BodyFraming =
  | { readonly type: "none" }
  | { readonly type: "length"; readonly length: number }
  | { readonly type: "chunked" };

/** What to do with a first request that is not an upgrade. */
export type FirstRequestPlan =
  | {
    readonly type: "serve";
    /** The absolute URL the `Request` gets. */
    readonly url: string;
    readonly framing: BodyFraming;
    /** False for `Connection: close` and for HTTP/1.0 (answered, then closed). */
    readonly keepAlive: boolean;
  }
  | { readonly type: "relay"; readonly reason: string };

const DIGITS = /^\d{1,15}$/;

/** True when the comma-separated `value` holds `token` (case-insensitive). */
function hasToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  return splitList(value).some((t) => t.toLowerCase() === token);
}

/**
 * Plans the first request: serve it here, or leave it to the relay (Deno.serve).
 * `maxBody` bounds a body buffered here; a larger declared length is relayed.
 */
export function planFirstRequest(head: RequestHead, maxBody: number): FirstRequestPlan {
  const { headers } = head;
  // RFC 9112 §3.2: origin-form only here; absolute, authority and asterisk forms go to hyper.
  if (head.target.charCodeAt(0) !== 0x2f) return { type: "relay", reason: "target form" };
  const host = headers.get("host");
  if (host === null || host === "") return { type: "relay", reason: "no host" };
  // RFC 9110 §10.1.1: 100-continue needs an interim response; hyper writes it.
  if (headers.has("expect")) return { type: "relay", reason: "expect" };
  const te = headers.get("transfer-encoding");
  const cl = headers.get("content-length");
  let framing: BodyFraming = { type: "none" };
  if (te !== null) {
    // RFC 9112 §6.1, §6.3: only a lone `chunked` in HTTP/1.1 without Content-Length is plain.
    if (cl !== null || head.httpVersion !== "1.1" || te.trim().toLowerCase() !== "chunked") {
      return { type: "relay", reason: "transfer-encoding" };
    }
    framing = { type: "chunked" };
  } else if (cl !== null) {
    // A repeated or malformed Content-Length is hyper's to reject.
    if (!DIGITS.test(cl)) return { type: "relay", reason: "content-length" };
    const length = Number(cl);
    if (length > maxBody) return { type: "relay", reason: "body size" };
    if (length > 0) framing = { type: "length", length };
  }
  // RFC 9110 §9.3.1: a GET/HEAD body has no defined meaning; a Request cannot carry one.
  if (framing.type !== "none" && (head.method === "GET" || head.method === "HEAD")) {
    return { type: "relay", reason: "body on GET or HEAD" };
  }
  const connection = headers.get("connection");
  const keepAlive = head.httpVersion === "1.1" && !hasToken(connection, "close");
  return { type: "serve", url: `http://${host}${head.target}`, framing, keepAlive };
}

/** The result of feeding bytes to a {@linkcode BodyCollector}. */
export type BodyResult =
  | { readonly type: "more" }
  | {
    readonly type: "done";
    /** The whole body (empty when there is none). */
    readonly body: Uint8Array<ArrayBuffer>;
    /** Bytes after the body: a pipelined request. */
    readonly rest: Uint8Array;
  }
  /** Malformed chunked framing or a body over the limit: leave it to the relay. */
  | { readonly type: "relay"; readonly reason: string };

const EMPTY: Uint8Array<ArrayBuffer> = new Uint8Array(0);

/** Collects a first request's body, Content-Length or chunked, up to `maxBody` bytes. */
export class BodyCollector {
  readonly #framing: BodyFraming;
  readonly #maxBody: number;
  readonly #chunked: ChunkedDecoder | undefined;
  #parts: Uint8Array<ArrayBuffer>[] = [];
  #size = 0;

  constructor(framing: BodyFraming, maxBody: number) {
    this.#framing = framing;
    this.#maxBody = maxBody;
    this.#chunked = framing.type === "chunked" ? new ChunkedDecoder() : undefined;
  }

  /** Feeds bytes read after the head (the caller keeps ownership; views are copied). */
  receive(bytes: Uint8Array): BodyResult {
    const framing = this.#framing;
    if (framing.type === "none") return { type: "done", body: EMPTY, rest: bytes };
    if (framing.type === "length") {
      const take = Math.min(framing.length - this.#size, bytes.length);
      this.#push(bytes.subarray(0, take));
      if (this.#size < framing.length) return { type: "more" };
      return { type: "done", body: this.#join(), rest: bytes.subarray(take) };
    }
    const result = this.#chunked!.receive(bytes);
    if (result.type === "error") return { type: "relay", reason: result.code };
    for (const chunk of result.chunks) this.#push(chunk);
    if (this.#size > this.#maxBody) return { type: "relay", reason: "body size" };
    if (!result.done) return { type: "more" };
    return { type: "done", body: this.#join(), rest: result.rest };
  }

  #push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#parts.push(chunk.slice());
    this.#size += chunk.length;
  }

  #join(): Uint8Array<ArrayBuffer> {
    if (this.#parts.length === 1) return this.#parts[0]!;
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const part of this.#parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}
