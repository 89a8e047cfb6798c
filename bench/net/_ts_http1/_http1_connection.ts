// One accepted TCP connection speaking HTTP/1.1 (RFC 9112): keep-alive, pipelining,
// Content-Length and chunked request bodies, streamed responses, and the hand-off of
// `Upgrade: websocket` requests with their raw connection. I/O adapter: the head parser
// and the chunked decoder are sans-I/O; timers live in the server (one sweeper for all).
import { ChunkedDecoder } from "../../../lib/net/_chunked_decoder.ts";
import { type HeadEvent, HeadParser, type ParsedRequestHead } from "./_head_parser.ts";
import {
  encodeLatin1,
  errorResponseBytes,
  httpDate,
  isFramingField,
  reasonPhrase,
} from "./_response_head.ts";

/** Bytes read from the socket at a time, per connection. */
export const READ_BUFFER_SIZE = 16 * 1024;

/** What a connection needs from its server. */
export interface ConnectionContext {
  readonly fetch: (
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ) => Response | Promise<Response>;
  readonly upgrade: (
    head: { method: string; target: string; version: string; headers: Headers },
    conn: Deno.Conn,
    rest: Uint8Array,
  ) => void;
  readonly onError: (error: unknown) => Response | Promise<Response>;
  readonly maxHeadSize: number;
  readonly hostname: string;
  /** True once the server shuts down: finish the current exchange, then close. */
  readonly closing: boolean;
}

const EMPTY = new Uint8Array(0);
const CRLF = new Uint8Array([0x0d, 0x0a]);
const LAST_CHUNK = new Uint8Array([0x30, 0x0d, 0x0a, 0x0d, 0x0a]); // "0\r\n\r\n"
const CONTINUE = encodeLatin1("HTTP/1.1 100 Continue\r\n\r\n");
const PENDING: unique symbol = Symbol("pending");

/** `Deno.ServeHandlerInfo` with `completed` created only when asked for. */
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
    if (ok) this.#completed.resolve();
    else {this.#completed.reject(
        new Deno.errors.Interrupted("HTTP response was not sent successfully"),
      );}
  }
}

/**
 * A `Request` whose `signal` is created only when read: an AbortSignal passed to the
 * `Request` constructor doubles its cost, and most handlers never look at it.
 */
class IncomingRequest extends Request {
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;

  override get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts `signal` (now, or when it is first read). */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

/** Framing facts gathered from one request head. */
interface Framing {
  host: string | undefined;
  hosts: number;
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  upgrade: boolean;
  expectContinue: boolean;
  error: 400 | 501 | undefined;
}

function inspect(head: ParsedRequestHead): Framing {
  const f: Framing = {
    host: undefined,
    hosts: 0,
    contentLength: 0,
    chunked: false,
    keepAlive: head.version === "HTTP/1.1",
    upgrade: false,
    expectContinue: false,
    error: undefined,
  };
  let sawLength = false;
  for (const [rawName, value] of head.headers) {
    const name = rawName.length < 4 || rawName.length > 17 ? "" : rawName.toLowerCase();
    switch (name) {
      case "host":
        f.host = value;
        f.hosts++;
        break;
      case "content-length": {
        // RFC 9110 §8.6: a list of identical values may be taken as one; anything else is an error.
        for (const part of value.split(",")) {
          const v = part.trim();
          if (!/^\d{1,15}$/.test(v) || (sawLength && Number(v) !== f.contentLength)) f.error = 400;
          f.contentLength = Number(v);
          sawLength = true;
        }
        break;
      }
      case "transfer-encoding": {
        const codings = value.toLowerCase().split(",").map((s) => s.trim()).filter((s) => s !== "");
        // RFC 9112 §6.3: chunked not final in a request: 400 and close.
        if (codings.at(-1) !== "chunked") f.error = 400;
        // RFC 9112 §6.1: an unknown transfer coding SHOULD get 501.
        else if (codings.length > 1 || f.chunked) f.error ??= 501;
        f.chunked = true;
        break;
      }
      case "connection": {
        const tokens = value.toLowerCase();
        if (/(^|[\s,])close($|[\s,])/.test(tokens)) f.keepAlive = false;
        else if (/(^|[\s,])keep-alive($|[\s,])/.test(tokens)) f.keepAlive = true;
        break;
      }
      case "upgrade":
        if (/(^|[\s,])websocket($|[\s,/])/i.test(value)) f.upgrade = true;
        break;
      case "expect":
        if (value.toLowerCase() === "100-continue") f.expectContinue = true;
        break;
    }
  }
  // RFC 9112 §6.3: Transfer-Encoding with Content-Length is faulty framing; reject it.
  if (f.chunked && sawLength) f.error = 400;
  // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing.
  if (f.chunked && head.version === "HTTP/1.0") f.error = 400;
  // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request without exactly one Host.
  if (f.hosts > 1 || (f.hosts === 0 && head.version === "HTTP/1.1")) f.error = 400;
  return f;
}

/** Serves HTTP/1.1 requests on one connection until it closes, is upgraded or times out. */
export class Http1Connection {
  readonly conn: Deno.Conn;
  /** `Date.now()` when the connection started waiting for a request head; 0 while busy. */
  waitingSince = 0;
  #ctx: ConnectionContext;
  #remoteAddr: Deno.NetAddr;
  #parser: HeadParser;
  #buf = new Uint8Array(READ_BUFFER_SIZE);
  /** Bytes read but not consumed yet (a private copy). */
  #pending: Uint8Array | undefined;
  /** A read into `#buf` started while a response was being written. */
  #read: Promise<number | null> | undefined;
  #closed = false;
  #upgraded = false;
  #request: IncomingRequest | undefined;
  #responseBody: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(conn: Deno.Conn, ctx: ConnectionContext) {
    this.conn = conn;
    this.#ctx = ctx;
    this.#remoteAddr = conn.remoteAddr as Deno.NetAddr;
    this.#parser = new HeadParser(ctx.maxHeadSize);
  }

  /** True while waiting for a head with none of it received: safe to close at shutdown. */
  get idle(): boolean {
    return this.waitingSince !== 0 && !this.#parser.hasPartialHead && this.#pending === undefined;
  }

  /** Closes the socket; a read or write under way fails and the serve loop ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.waitingSince = 0;
    this.#request?.abort(new Deno.errors.ConnectionAborted("The connection was closed"));
    this.#responseBody?.cancel().catch(() => {});
    if (!this.#upgraded) {
      try {
        this.conn.close();
      } catch { /* already closed */ }
    }
  }

  /** Runs the request loop. Never rejects. */
  async serve(): Promise<void> {
    try {
      while (!this.#closed && await this.#exchange());
    } catch {
      // A socket error ends the connection; there is no one to report it to.
    } finally {
      this.close();
    }
  }

  /** Reads one request and answers it. Returns whether the connection stays open for another. */
  async #exchange(): Promise<boolean> {
    this.waitingSince = Date.now();
    let event: HeadEvent | undefined;
    if (this.#pending !== undefined) {
      const pending = this.#pending;
      this.#pending = undefined;
      event = this.#parser.receive(pending);
    }
    while (event === undefined) {
      if (this.#ctx.closing && !this.#parser.hasPartialHead) return false;
      const n = await this.#readChunk();
      if (n === null) return false;
      event = this.#parser.receive(this.#buf.subarray(0, n));
    }
    this.waitingSince = 0;
    if (event.type === "error") {
      await this.#writeAll(errorResponseBytes(event.status));
      return false;
    }
    const { head } = event;
    if (event.rest.length > 0) this.#pending = event.rest.slice();
    const framing = inspect(head);
    if (framing.error !== undefined) {
      await this.#writeAll(errorResponseBytes(framing.error));
      return false;
    }
    if (framing.upgrade) return this.#handOff(head);
    return await this.#respond(head, framing);
  }

  #handOff(head: ParsedRequestHead): false {
    if (this.#ctx.closing) {
      this.#writeAll(errorResponseBytes(503)).catch(() => {}).finally(() => this.close());
      return false;
    }
    let headers: Headers;
    try {
      headers = new Headers(head.headers as [string, string][]);
    } catch {
      this.#writeAll(errorResponseBytes(400)).catch(() => {}).finally(() => this.close());
      return false;
    }
    const rest = this.#pending ?? EMPTY;
    this.#pending = undefined;
    this.#upgraded = true;
    this.#closed = true;
    try {
      this.#ctx.upgrade(
        { method: head.method, target: head.target, version: head.version, headers },
        this.conn,
        rest,
      );
    } catch {
      try {
        this.conn.close();
      } catch { /* already closed */ }
    }
    return false;
  }

  async #respond(head: ParsedRequestHead, framing: Framing): Promise<boolean> {
    const { method } = head;
    const target = head.target;
    let url: string;
    if (target.charCodeAt(0) === 0x2f) {
      url = `http://${framing.host || this.#ctx.hostname}${target}`;
    } else if (/^https?:\/\//i.test(target)) url = target; // RFC 9112 §3.2.2 absolute-form
    else url = `http://${framing.host || this.#ctx.hostname}/`;

    const hasBody = framing.chunked || framing.contentLength > 0;
    let bodyDone = !hasBody;
    let body: ReadableStream<Uint8Array> | null = null;
    if (hasBody) {
      const chunked = framing.chunked ? new ChunkedDecoder() : undefined;
      let remaining = framing.contentLength;
      let expectContinue = framing.expectContinue;
      const finish = () => {
        bodyDone = true;
        this.#watch();
      };
      const pull = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
        if (expectContinue) {
          // RFC 9110 §10.1.1: the client waits for 100 before sending the body.
          expectContinue = false;
          await this.#writeAll(CONTINUE);
        }
        for (;;) {
          let data: Uint8Array;
          if (this.#pending !== undefined) {
            data = this.#pending;
            this.#pending = undefined;
          } else {
            const n = await this.#readChunk();
            if (n === null) {
              controller.error(new Deno.errors.UnexpectedEof("The request body was cut short"));
              return;
            }
            data = this.#buf.subarray(0, n);
          }
          if (chunked === undefined) {
            const take = Math.min(remaining, data.length);
            remaining -= take;
            if (take < data.length) this.#pending = data.slice(take);
            const piece = data.subarray(0, take);
            controller.enqueue(piece.buffer === this.#buf.buffer ? piece.slice() : piece);
            if (remaining === 0) {
              controller.close();
              finish();
            }
            return;
          }
          const result = chunked.receive(data);
          if (result.type === "error") {
            controller.error(new TypeError(`Invalid chunked request body: ${result.code}`));
            this.close();
            return;
          }
          for (const c of result.chunks) controller.enqueue(c.slice());
          if (result.done) {
            if (result.rest.length > 0) this.#pending = result.rest.slice();
            controller.close();
            finish();
            return;
          }
          if (result.chunks.length > 0) return;
        }
      };
      if (method !== "GET" && method !== "HEAD") {
        body = new ReadableStream<Uint8Array>({ pull }, { highWaterMark: 0 });
      } else {
        // A GET or HEAD body has no meaning (RFC 9110 §9.3.1); the Request cannot carry one.
        // Skip it so the next request on the connection is read correctly.
        const sink = new ReadableStream<Uint8Array>({ pull }, { highWaterMark: 0 });
        await sink.pipeTo(new WritableStream()).catch(() => {});
        if (!bodyDone) return false;
      }
    }

    let request: IncomingRequest;
    try {
      request = new IncomingRequest(
        url,
        method === "GET" ? { headers: head.headers as [string, string][] } : {
          method,
          headers: head.headers as [string, string][],
          body,
        },
      );
      this.#request = request;
    } catch {
      // Invalid field syntax, a forbidden method (CONNECT, TRACE) or an unparsable target.
      await this.#writeAll(errorResponseBytes(400));
      return false;
    }
    if (bodyDone) this.#watch();

    const info = new HandlerInfo(this.#remoteAddr);
    let response: Response;
    try {
      response = await this.#ctx.fetch(request, info);
      if (!(response instanceof Response)) {
        throw new TypeError("The fetch handler must return a Response");
      }
    } catch (error) {
      try {
        response = await this.#ctx.onError(error);
      } catch {
        response = new Response(null, { status: 500 });
      }
    }
    const keepAlive = framing.keepAlive && !this.#ctx.closing;
    const ok = await this.#writeResponse(response, method, head.version, keepAlive);
    info.settle(ok);
    this.#request = undefined;
    // A body the handler did not read leaves unknown bytes on the wire: close.
    return ok && keepAlive && bodyDone && !this.#ctx.closing;
  }

  /** After the request is fully read, keep a read going so a disconnect aborts `request.signal`. */
  #watch(): void {
    if (this.#read !== undefined || this.#pending !== undefined || this.#closed) return;
    const read = this.conn.read(this.#buf);
    this.#read = read;
    read.then((n) => {
      if (n === null) this.#disconnected();
    }, () => this.#disconnected());
  }

  #disconnected(): void {
    if (this.waitingSince !== 0) return; // between requests: the serve loop sees the EOF
    this.#request?.abort(new Deno.errors.ConnectionAborted("The client closed the connection"));
    this.#responseBody?.cancel().catch(() => {});
  }

  async #readChunk(): Promise<number | null> {
    const read = this.#read ?? this.conn.read(this.#buf);
    this.#read = undefined;
    try {
      return await read;
    } catch {
      return null;
    }
  }

  async #writeAll(data: Uint8Array): Promise<void> {
    let written = 0;
    while (written < data.length) written += await this.conn.write(data.subarray(written));
  }

  /** Writes `response`; returns false when the connection must close. Never rejects. */
  async #writeResponse(
    response: Response,
    method: string,
    version: string,
    keepAlive: boolean,
  ): Promise<boolean> {
    const status = response.status;
    if (response.type === "error" || status === 0) {
      return false; // Response.error(): a network error, so drop the connection.
    }
    let head = `HTTP/1.1 ${status} ${reasonPhrase(status, response.statusText)}\r\n`;
    let userLength: string | null = null;
    for (const [name, value] of response.headers) {
      if (isFramingField(name)) {
        if (name === "content-length") userLength = value;
        continue;
      }
      // Iteration yields each set-cookie on its own (Fetch: sort and combine).
      head += `${name}: ${value}\r\n`;
    }
    head += `date: ${httpDate()}\r\n`;
    if (!keepAlive) head += "connection: close\r\n";
    else if (version === "HTTP/1.0") head += "connection: keep-alive\r\n";

    // RFC 9110 §6.4.1: no content in answers to HEAD, nor in 1xx, 204 and 304 answers.
    const bodyless = method === "HEAD" || status === 204 || status === 304 || status < 200;
    if (bodyless || response.body === null) {
      response.body?.cancel().catch(() => {});
      if (bodyless) {
        if (userLength !== null && status !== 204) head += `content-length: ${userLength}\r\n`;
      } else head += "content-length: 0\r\n";
      return await this.#tryWrite(encodeLatin1(head + "\r\n")) && keepAlive;
    }

    const reader = response.body.getReader();
    this.#responseBody = reader;
    try {
      const first = await reader.read();
      if (first.done) {
        return await this.#tryWrite(encodeLatin1(head + "content-length: 0\r\n\r\n")) && keepAlive;
      }
      // A body that is already complete goes out in one write with its length.
      const secondRead = reader.read();
      const second = await Promise.race<ReadableStreamReadResult<Uint8Array> | typeof PENDING>([
        secondRead,
        PENDING,
      ]);
      if (second !== PENDING && second.done) {
        const bytes = first.value;
        head += `content-length: ${bytes.length}\r\n\r\n`;
        const out = encodeLatin1(head, bytes.length);
        out.set(bytes, head.length);
        return await this.#tryWrite(out) && keepAlive;
      }
      // Streaming: chunked for HTTP/1.1 (RFC 9112 §7.1); close-delimited for HTTP/1.0.
      const chunked = version === "HTTP/1.1";
      let closeAfter = !keepAlive;
      if (chunked) head += "transfer-encoding: chunked\r\n\r\n";
      else {
        if (keepAlive) head = head.replace("connection: keep-alive\r\n", "connection: close\r\n");
        closeAfter = true;
        head += "\r\n";
      }
      if (!await this.#tryWrite(this.#frame(encodeLatin1(head), first.value, chunked))) {
        return false;
      }
      let next: ReadableStreamReadResult<Uint8Array> = second === PENDING
        ? await secondRead
        : second;
      while (!next.done) {
        if (
          next.value.length > 0 && !await this.#tryWrite(this.#frame(EMPTY, next.value, chunked))
        ) {
          return false;
        }
        next = await reader.read();
      }
      if (this.#closed) return false;
      if (chunked && !await this.#tryWrite(LAST_CHUNK)) return false;
      return !closeAfter;
    } catch {
      // The handler's stream errored: the response cannot be completed, so the connection ends.
      return false;
    } finally {
      this.#responseBody = undefined;
      reader.releaseLock();
    }
  }

  /** `prefix` followed by `data`, as a chunk when `chunked`. */
  #frame(prefix: Uint8Array, data: Uint8Array, chunked: boolean): Uint8Array {
    if (!chunked) {
      if (prefix.length === 0) return data;
      const out = new Uint8Array(prefix.length + data.length);
      out.set(prefix);
      out.set(data, prefix.length);
      return out;
    }
    const size = data.length.toString(16);
    const out = new Uint8Array(prefix.length + size.length + 2 + data.length + 2);
    out.set(prefix);
    let i = prefix.length;
    for (let k = 0; k < size.length; k++) out[i++] = size.charCodeAt(k);
    out.set(CRLF, i);
    out.set(data, i + 2);
    out.set(CRLF, i + 2 + data.length);
    return out;
  }

  async #tryWrite(data: Uint8Array): Promise<boolean> {
    if (this.#closed) return false;
    try {
      await this.#writeAll(data);
      return true;
    } catch {
      this.#disconnected();
      return false;
    }
  }
}
