/**
 * A client class with the WHATWG `WebSocket` interface (HTML Living Standard §10.3), over
 * pushwire's own handshake and framing, so browser code runs on Deno unchanged:
 * `globalThis.WebSocket = WebSocketClient`.
 *
 * Differences from a browser: `bufferedAmount` counts frame bytes (headers included) not yet
 * accepted by the socket; there are no cookies, proxies or mixed-content rules; the
 * constructor takes a third argument with pushwire's client options.
 *
 * @module
 */
import { CLOSE_ABNORMAL } from "../websocket/_constants.ts";
import { encodeClosePayload } from "../websocket/close.ts";
import { checkMaxMessageSize, clientHandshake, parseWebSocketUrl } from "./_client_handshake_io.ts";
import { DeflateCodec } from "../websocket/deflate_codec.ts";
import type { ConnectOptions } from "./client.ts";
import { resolveSessionOptions, type SessionCloseEvent, WebSocketSession } from "./session.ts";

/** Options of {@linkcode WebSocketClient} beyond the WHATWG arguments. */
export type WebSocketClientOptions = Omit<ConnectOptions, "protocols" | "maxQueuedMessages">;

/** An `on…` event handler attribute of {@linkcode WebSocketClient}. */
export type WebSocketClientEventHandler<E extends Event> =
  | ((this: WebSocketClient, event: E) => unknown)
  | null;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const encoder = new TextEncoder();

/**
 * The WHATWG `WebSocket` interface: `readyState`, `bufferedAmount`, `binaryType`,
 * `protocol`, `extensions`, `send`, `close(code, reason)` and the `open` / `message` /
 * `error` / `close` events (also as `on…` attributes).
 *
 * @example Browser-style code
 * ```ts
 * import assert from "node:assert/strict";
 * import { WebSocketRouter } from "./router.ts";
 * import { WebSocketServer } from "./server.ts";
 * import { WebSocketClient } from "./websocket_client.ts";
 *
 * const router = new WebSocketRouter();
 * router.route("/echo", { message: (session, message) => void session.send(message) });
 * const server = new WebSocketServer(router);
 * const { addr } = server.listen({ hostname: "127.0.0.1", port: 0 });
 *
 * const ws = new WebSocketClient(`ws://127.0.0.1:${addr.port}/echo`);
 * ws.binaryType = "arraybuffer";
 * ws.onopen = () => ws.send(new Uint8Array([1, 2, 3]));
 * const data = await new Promise((resolve) => ws.onmessage = (event) => resolve(event.data));
 * assert(data instanceof ArrayBuffer && data.byteLength === 3);
 * ws.close(1000, "done");
 * const event = await new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
 * assert.equal(event.code, 1000);
 * assert(event.wasClean);
 * await server.shutdown();
 * ```
 */
export class WebSocketClient extends EventTarget {
  /** The connection has not yet been established. */
  static readonly CONNECTING: 0 = 0;
  /** The connection is established and communication is possible. */
  static readonly OPEN: 1 = 1;
  /** The connection is going through the closing handshake. */
  static readonly CLOSING: 2 = 2;
  /** The connection has been closed or could not be opened. */
  static readonly CLOSED: 3 = 3;
  /** `0`. */
  readonly CONNECTING: 0 = 0;
  /** `1`. */
  readonly OPEN: 1 = 1;
  /** `2`. */
  readonly CLOSING: 2 = 2;
  /** `3`. */
  readonly CLOSED: 3 = 3;

  /** The URL, serialized. */
  readonly url: string;
  /** Called on `open`. */
  onopen: WebSocketClientEventHandler<Event> = null;
  /** Called on `message`. */
  onmessage: WebSocketClientEventHandler<MessageEvent> = null;
  /** Called on `error`. */
  onerror: WebSocketClientEventHandler<Event> = null;
  /** Called on `close`. */
  onclose: WebSocketClientEventHandler<CloseEvent> = null;

  #readyState = CONNECTING;
  #binaryType: BinaryType = "blob";
  #protocol = "";
  #extensions = "";
  #session: WebSocketSession | undefined;
  /** Bytes accepted by send() after the connection stopped being open (WHATWG counts them). */
  #discarded = 0;
  /** Bytes of Blobs being read before they can be sent in order. */
  #blobBytes = 0;
  #sendChain: Promise<void> | undefined;
  #closeRequested: { code?: number; reason?: string } | undefined;
  readonly #origin: string;

  /**
   * Starts connecting (asynchronously; listen for `open`).
   *
   * @param url A `ws:`, `wss:`, `http:` or `https:` URL without a fragment.
   * @param protocols One subprotocol or a list, each a token, without duplicates.
   * @param options pushwire client options (TLS roots, headers, limits, timers).
   * @throws {DOMException} `SyntaxError` for an invalid URL or subprotocol list.
   * @throws {RangeError} If a limit or timer option is out of range.
   */
  constructor(
    url: string | URL,
    protocols: string | string[] = [],
    options: WebSocketClientOptions = {},
  ) {
    super();
    let parsed: URL;
    try {
      parsed = parseWebSocketUrl(url);
    } catch (error) {
      throw new DOMException((error as Error).message, "SyntaxError");
    }
    const list = typeof protocols === "string" ? [protocols] : [...protocols];
    if (new Set(list).size !== list.length) {
      throw new DOMException("Cannot construct WebSocket: duplicate subprotocols", "SyntaxError");
    }
    for (const protocol of list) {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(protocol)) {
        throw new DOMException(
          `Cannot construct WebSocket: ${JSON.stringify(protocol)} is not a valid subprotocol`,
          "SyntaxError",
        );
      }
    }
    resolveSessionOptions(options); // a RangeError now, not an unhandled rejection later
    checkMaxMessageSize(options.maxMessageSize);
    this.url = parsed.href;
    this.#origin = parsed.origin === "null" ? `${parsed.protocol}//${parsed.host}` : parsed.origin;
    this.#open(parsed, list, options);
  }

  /** `CONNECTING` (0), `OPEN` (1), `CLOSING` (2) or `CLOSED` (3). */
  get readyState(): number {
    return this.#readyState;
  }

  /** Bytes queued by `send()` and not yet accepted by the socket. */
  get bufferedAmount(): number {
    return (this.#session?.bufferedAmount ?? 0) + this.#discarded + this.#blobBytes;
  }

  /** How binary messages are exposed: `"blob"` (default) or `"arraybuffer"`. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }
  set binaryType(value: BinaryType) {
    // WHATWG: other values are ignored.
    if (value === "blob" || value === "arraybuffer") this.#binaryType = value;
  }

  /** The subprotocol the server selected, `""` before open or if none. */
  get protocol(): string {
    return this.#protocol;
  }

  /** The extensions the server accepted, `""` if none. */
  get extensions(): string {
    return this.#extensions;
  }

  /**
   * Queues a message: a string as text, anything binary as a binary message.
   *
   * @param data The message.
   * @throws {DOMException} `InvalidStateError` while `CONNECTING`.
   */
  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (this.#readyState === CONNECTING) {
      throw new DOMException("Cannot send: the connection is not open yet", "InvalidStateError");
    }
    if (data instanceof Blob) {
      const size = data.size;
      if (!this.#isOpen()) {
        this.#discarded += size;
        return;
      }
      this.#blobBytes += size;
      this.#chain(async () => {
        const bytes = new Uint8Array(await data.arrayBuffer());
        this.#blobBytes -= size;
        this.#sendNow(bytes);
      });
      return;
    }
    const payload = typeof data === "string" ? data : toBytes(data);
    if (!this.#isOpen()) {
      // WHATWG: after close, bufferedAmount still grows by what send() was given.
      this.#discarded += typeof payload === "string"
        ? encoder.encode(payload).length
        : payload.length;
      return;
    }
    if (this.#sendChain !== undefined) this.#chain(() => this.#sendNow(payload));
    else this.#sendNow(payload);
  }

  /**
   * Starts the closing handshake (or abandons the connection while connecting).
   *
   * @param code `1000` or `3000`–`4999`.
   * @param reason At most 123 bytes of UTF-8.
   * @throws {DOMException} `InvalidAccessError` for another code, `SyntaxError` for a
   *   reason that is too long.
   */
  close(code?: number, reason?: string): void {
    if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new DOMException(
        `Cannot close: code must be 1000 or 3000-4999, got ${code}`,
        "InvalidAccessError",
      );
    }
    if (reason !== undefined && encoder.encode(reason).length > 123) {
      throw new DOMException("Cannot close: the reason is longer than 123 bytes", "SyntaxError");
    }
    if (reason !== undefined && code === undefined) code = 1000;
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      // WHATWG: fail the connection; the handshake's end reports error + close.
      this.#readyState = CLOSING;
      this.#closeRequested = { code: CLOSE_ABNORMAL };
      return;
    }
    this.#readyState = CLOSING;
    encodeClosePayload(code, reason); // validated above; keeps the rules in one place
    if (this.#sendChain !== undefined) this.#chain(() => this.#session!.close(code, reason));
    else this.#session!.close(code, reason);
  }

  #isOpen(): boolean {
    return this.#readyState === OPEN;
  }

  #sendNow(payload: string | Uint8Array): void {
    this.#session?.send(payload);
  }

  #chain(step: () => void | Promise<void>): void {
    const next = (this.#sendChain ?? Promise.resolve()).then(step).catch(() => {});
    this.#sendChain = next;
    next.then(() => {
      if (this.#sendChain === next) this.#sendChain = undefined;
    });
  }

  async #open(url: URL, protocols: string[], options: WebSocketClientOptions): Promise<void> {
    let transport;
    try {
      transport = await clientHandshake(url, { ...options, protocols });
    } catch {
      this.#readyState = CLOSED;
      this.#fire(new Event("error"));
      this.#fire(new CloseEvent("close", { code: CLOSE_ABNORMAL, reason: "", wasClean: false }));
      return;
    }
    if (this.#closeRequested !== undefined) {
      // close() was called while connecting.
      transport.conn.close();
      this.#readyState = CLOSED;
      this.#fire(new Event("error"));
      this.#fire(new CloseEvent("close", { code: CLOSE_ABNORMAL, reason: "", wasClean: false }));
      return;
    }
    const maxMessageSize = options.maxMessageSize;
    this.#protocol = transport.protocol;
    this.#extensions = transport.extensions;
    this.#session = new WebSocketSession({
      conn: transport.conn,
      role: "client",
      ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
      protocol: transport.protocol,
      extensions: transport.extensions,
      ...(transport.deflate === undefined ? {} : {
        deflate: new DeflateCodec({
          ...(options.perMessageDeflate || {}),
          role: "client",
          params: transport.deflate,
          ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
        }),
      }),
      options,
      handler: {
        message: (data) => this.#onMessage(data),
        close: (event) => this.#onClose(event),
      },
    });
    this.#readyState = OPEN;
    this.#fire(new Event("open"));
    this.#session.start(transport.rest);
  }

  #onMessage(data: string | Uint8Array): void {
    if (this.#readyState !== OPEN) return;
    let value: string | Blob | ArrayBuffer;
    if (typeof data === "string") value = data;
    else if (this.#binaryType === "blob") value = new Blob([data as Uint8Array<ArrayBuffer>]);
    else {
      value = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength &&
          data.buffer instanceof ArrayBuffer
        ? data.buffer
        : data.slice().buffer;
    }
    this.#fire(new MessageEvent("message", { data: value, origin: this.#origin }));
  }

  #onClose(event: SessionCloseEvent): void {
    this.#readyState = CLOSED;
    // WHATWG: a failed connection (not a clean closing handshake) fires error first.
    if (!event.wasClean) this.#fire(new Event("error"));
    this.#fire(
      new CloseEvent("close", {
        code: event.wasClean ? event.code : CLOSE_ABNORMAL,
        reason: event.wasClean ? event.reason : "",
        wasClean: event.wasClean,
      }),
    );
  }

  #fire(event: Event): void {
    const handler = (this as Record<string, unknown>)[`on${event.type}`];
    if (typeof handler === "function") {
      try {
        handler.call(this, event);
      } catch (error) {
        reportError(error);
      }
    }
    this.dispatchEvent(event);
  }
}

function toBytes(data: ArrayBufferLike | ArrayBufferView): Uint8Array {
  if (ArrayBuffer.isView(data)) {
    // Copied: the caller may reuse its buffer at once, as with a browser's send().
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  return new Uint8Array(data).slice();
}
