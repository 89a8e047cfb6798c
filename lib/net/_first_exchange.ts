// Answers the first request of a connection in userland: builds the Request, runs the fetch
// handler, writes the Response (Content-Length when the body is complete, chunked while it
// streams). I/O adapter over `_first_request.ts` and `_response_head.ts`.
//
// The socket is read only when needed: while `request.signal` is observed or a response
// streams (to notice the client leaving). A read in flight forbids handing the connection to
// the runtime afterwards, so handlers that never look at the signal keep the fast path.
import {
  encodeChunk,
  encodeResponseHead,
  httpDate,
  LAST_CHUNK,
  type ResponseFraming,
} from "./_response_head.ts";
import { writeAll } from "./_pipe.ts";

/** Bytes buffered from a client that pipelines during the first response. @default 65536 */
export const MAX_EARLY_BYTES = 64 * 1024;

/** A `Request` whose `signal` exists only once read (passing one to the constructor is slow). */
class IncomingRequest extends Request {
  #controller: AbortController | undefined;
  #onSignal: () => void;
  #reason: unknown;
  #aborted = false;

  constructor(url: string, init: RequestInit, onSignal: () => void) {
    super(url, init);
    this.#onSignal = onSignal;
  }

  override get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
      else this.#onSignal();
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/** `Deno.ServeHandlerInfo` whose `completed` promise exists only once read. */
class HandlerInfo implements Deno.ServeHandlerInfo<Deno.NetAddr> {
  readonly remoteAddr: Deno.NetAddr;
  #completed: PromiseWithResolvers<void> | undefined;
  #outcome: boolean | undefined;

  constructor(remoteAddr: Deno.NetAddr) {
    this.remoteAddr = remoteAddr;
  }

  get completed(): Promise<void> {
    if (this.#completed === undefined) {
      this.#completed = Promise.withResolvers<void>();
      if (this.#outcome !== undefined) this.settle(this.#outcome);
    }
    return this.#completed.promise;
  }

  settle(ok: boolean): void {
    this.#outcome ??= ok;
    if (this.#completed === undefined) return;
    if (this.#outcome) this.#completed.resolve();
    else {
      this.#completed.promise.catch(() => {});
      this.#completed.reject(
        new Deno.errors.Interrupted("HTTP response was not sent successfully"),
      );
    }
  }
}

/** What the first exchange needs. */
export interface FirstExchangeInit {
  readonly conn: Deno.TcpConn;
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: Uint8Array<ArrayBuffer> | null;
  /** True for HTTP/1.1 (streams go chunked), false for HTTP/1.0 (close-delimited). */
  readonly http11: boolean;
  /** False: answer with `connection: close` and close. */
  readonly keepAlive: boolean;
  readonly fetch: (
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ) => Response | Promise<Response>;
  readonly onError: (error: unknown) => Response | Promise<Response>;
  /** True once the server shuts down: the answer closes the connection. */
  readonly closing: () => boolean;
}

/** How the first exchange ended. */
export type FirstOutcome =
  /** The response was sent and the connection may carry more requests. */
  | {
    readonly type: "keep-alive";
    /** Bytes of later requests read during the exchange (empty: none). */
    readonly early: Uint8Array[];
    /** Set while a read is still in flight: wait for it before using the socket. */
    readonly reading: Promise<void> | undefined;
  }
  /** Close the connection (asked for, HTTP/1.0, a failed write, the client left). */
  | { readonly type: "close" };

const PENDING: unique symbol = Symbol("pending");

/** One first request and its response on a connection. */
export class FirstExchange {
  readonly #init: FirstExchangeInit;
  #request: IncomingRequest | undefined;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #reading: Promise<void> | undefined;
  #early: Uint8Array[] = [];
  #earlySize = 0;
  #gone = false;
  #answered = false;

  constructor(init: FirstExchangeInit) {
    this.#init = init;
  }

  /** Builds the request, runs the handler and writes its response. Never rejects. */
  async run(): Promise<FirstOutcome> {
    const init = this.#init;
    let request: IncomingRequest;
    try {
      request = new IncomingRequest(
        init.url,
        init.method === "GET"
          ? { headers: init.headers }
          : { method: init.method, headers: init.headers, body: init.body },
        () => this.#watch(),
      );
    } catch {
      // A method or field the Fetch API refuses; nothing is written yet, so close quietly.
      return { type: "close" };
    }
    this.#request = request;
    const info = new HandlerInfo(init.conn.remoteAddr);
    let response: Response;
    try {
      response = await init.fetch(request, info);
      if (!(response instanceof Response)) {
        throw new TypeError("The fetch handler must return a Response");
      }
    } catch (error) {
      try {
        response = await init.onError(error);
      } catch {
        response = new Response("Internal Server Error", { status: 500 });
      }
    }
    const keepAlive = init.keepAlive && !init.closing();
    let ok = false;
    try {
      ok = await this.#write(response, keepAlive);
    } catch {
      ok = false;
    }
    this.#answered = true;
    info.settle(ok && !this.#gone);
    if (!ok || this.#gone || !keepAlive || init.closing()) return { type: "close" };
    return { type: "keep-alive", early: this.#early, reading: this.#reading };
  }

  /** Reads the socket until the exchange ends, to see the client leave. */
  #watch(): void {
    if (this.#reading !== undefined || this.#gone) return;
    const buf = new Uint8Array(16 * 1024);
    this.#reading = (async () => {
      for (;;) {
        let n: number | null;
        try {
          n = await this.#init.conn.read(buf);
        } catch {
          n = null;
        }
        if (n === null) return this.#leave();
        this.#early.push(buf.slice(0, n));
        this.#earlySize += n;
        // Bytes after the first request are the next one; keep at most MAX_EARLY_BYTES.
        if (this.#answered || this.#earlySize >= MAX_EARLY_BYTES) return;
      }
    })();
  }

  #leave(): void {
    this.#gone = true;
    if (this.#answered) return;
    this.#request?.abort(new Deno.errors.ConnectionAborted("The client closed the connection"));
    this.#reader?.cancel().catch(() => {});
  }

  async #send(data: Uint8Array): Promise<boolean> {
    if (this.#gone) return false;
    try {
      await writeAll(this.#init.conn, data);
      return true;
    } catch {
      this.#leave();
      return false;
    }
  }

  /** Writes `response`; returns false when the connection must close. */
  async #write(response: Response, keepAlive: boolean): Promise<boolean> {
    const { status, headers, statusText } = response;
    // Response.error(): a network error, so drop the connection.
    if (response.type === "error" || status === 0) return false;
    const date = httpDate(Date.now());
    // RFC 9110 §6.4.1: no content in answers to HEAD, nor in 1xx, 204 and 304 answers.
    if (this.#init.method === "HEAD" || status === 204 || status === 304 || status < 200) {
      response.body?.cancel().catch(() => {});
      const framing: ResponseFraming = { type: "bodyless", length: headers.get("content-length") };
      return await this.#send(
        encodeResponseHead(status, statusText, headers, framing, keepAlive, date),
      );
    }
    if (response.body === null) {
      const framing: ResponseFraming = { type: "length", length: 0 };
      return await this.#send(
        encodeResponseHead(status, statusText, headers, framing, keepAlive, date),
      );
    }
    const reader = response.body.getReader();
    this.#reader = reader;
    try {
      const first = await reader.read();
      if (first.done) {
        const framing: ResponseFraming = { type: "length", length: 0 };
        return await this.#send(
          encodeResponseHead(status, statusText, headers, framing, keepAlive, date),
        );
      }
      // A body that is already complete goes out in one write, with its length.
      const secondRead = reader.read();
      const second = await Promise.race<ReadableStreamReadResult<Uint8Array> | typeof PENDING>([
        secondRead,
        PENDING,
      ]);
      if (second !== PENDING && second.done) {
        const bytes = first.value;
        const framing: ResponseFraming = { type: "length", length: bytes.length };
        const head = encodeResponseHead(
          status,
          statusText,
          headers,
          framing,
          keepAlive,
          date,
          bytes.length,
        );
        head.set(bytes, head.length - bytes.length);
        return await this.#send(head);
      }
      // Streaming (SSE, long poll, iframe): watch the socket so a leaving client cancels it.
      this.#watch();
      // RFC 9112 §7.1: chunked in HTTP/1.1; an HTTP/1.0 client reads until the close.
      const chunked = this.#init.http11;
      const framing: ResponseFraming = chunked ? { type: "chunked" } : { type: "close-delimited" };
      const head = encodeResponseHead(status, statusText, headers, framing, keepAlive, date);
      if (!await this.#send(chunked ? encodeChunk(head, first.value) : join(head, first.value))) {
        return false;
      }
      let next: ReadableStreamReadResult<Uint8Array> = second === PENDING
        ? await secondRead
        : second;
      while (!next.done) {
        if (next.value.length > 0) {
          const data = chunked ? encodeChunk(EMPTY, next.value) : next.value;
          if (!await this.#send(data)) return false;
        }
        next = await reader.read();
      }
      if (!chunked) return false;
      return await this.#send(LAST_CHUNK) && keepAlive;
    } catch {
      // The handler's stream failed or was cancelled: the response cannot be completed.
      reader.cancel().catch(() => {});
      return false;
    } finally {
      this.#reader = undefined;
      reader.releaseLock();
    }
  }
}

const EMPTY = new Uint8Array(0);

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
