/**
 * An `EventSource`-compatible client on `fetch` (WHATWG HTML §9.2.2-§9.2.4), for runtimes
 * without one and for tests. The I/O adapter around {@linkcode createEventStreamParser}.
 *
 * @module
 */
import {
  DEFAULT_RECONNECTION_TIME,
  EVENT_STREAM_MIME_TYPE,
  LAST_EVENT_ID_HEADER,
} from "./_constants.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { utf8ByteString } from "./_header_value.ts";
import {
  createEventStreamParser,
  type EventStreamParser,
  type EventStreamParserEvent,
} from "./parser.ts";

/** Why the client fired `error`. */
export type EventSourceErrorCode =
  /** The request failed or the body broke off: the client reconnects. */
  | "SSE_ERR_NETWORK"
  /** The server ended the stream: the client reconnects. */
  | "SSE_ERR_STREAM_ENDED"
  /** The answer was not `200` (e.g. `204` to stop): the connection failed for good. */
  | "SSE_ERR_STATUS"
  /** The answer was not `text/event-stream`: the connection failed for good. */
  | "SSE_ERR_CONTENT_TYPE"
  /** An event broke the parser's size bound: the connection failed for good. */
  | "SSE_ERR_EVENT_TOO_BIG";

/**
 * The `error` event of {@linkcode EventSource}: a plain `Event` for code written for browsers,
 * plus why it fired (an extension).
 */
export class EventSourceErrorEvent extends Event {
  /** Stable machine-readable reason. */
  readonly code: EventSourceErrorCode;
  /** Human-readable explanation. */
  readonly message: string;
  /** The HTTP status for `SSE_ERR_STATUS` and `SSE_ERR_CONTENT_TYPE`, else `undefined`. */
  readonly status: number | undefined;

  /**
   * Creates the event.
   *
   * @param code Why it fired.
   * @param message Human-readable explanation.
   * @param status The HTTP status, when one was received.
   */
  constructor(code: EventSourceErrorCode, message: string, status?: number) {
    super("error");
    this.code = code;
    this.message = message;
    this.status = status;
  }
}

/** Options of {@linkcode EventSource}: the browser's `EventSourceInit` plus extensions. */
export interface EventSourceOptions {
  /** Send cookies and credentials cross-origin (`credentials: "include"`). @default {false} */
  readonly withCredentials?: boolean;
  /** The `fetch` to use (tests, proxies). @default {globalThis.fetch} */
  readonly fetch?: typeof fetch;
  /** Extra request headers (e.g. `Authorization`); `Accept` and `Last-Event-ID` are set by the client. */
  readonly headers?: HeadersInit;
  /**
   * Reconnection time until the server sends `retry:`, in ms.
   *
   * @default {3000}
   */
  readonly reconnectionTime?: number;
  /** Exponential backoff with jitter between reconnections; off unless given. */
  readonly backoff?: BackoffOptions;
  /**
   * Time allowed for the response headers of each attempt, in ms; past it the attempt counts as
   * a network error and the client reconnects.
   *
   * @default {30000}
   */
  readonly connectTimeout?: number;
  /**
   * Largest event accepted, in UTF-16 code units; a larger one fails the connection.
   *
   * @default {16777216}
   */
  readonly maxEventSize?: number;
  /**
   * A last event id to resume from on the first connection (sent as `Last-Event-ID`), e.g. one
   * kept from an earlier session. Browsers cannot do this; it is an extension.
   *
   * @default {""}
   */
  readonly lastEventId?: string;
  /** Source of randomness for the backoff jitter. @default {Math.random} */
  readonly random?: () => number;
}

/** An event handler attribute (`onopen`, `onmessage`, `onerror`): a function or `null`. */
export type EventSourceHandler<E extends Event> =
  | ((this: EventSource, event: E) => unknown)
  | null;

/** The outcome of one connection attempt. */
type Attempt =
  | { readonly kind: "reconnect"; readonly error: EventSourceErrorEvent }
  | { readonly kind: "fail"; readonly error: EventSourceErrorEvent }
  | { readonly kind: "closed" };

const DEFAULT_CONNECT_TIMEOUT = 30_000;

/** The MIME type essence of a `Content-Type` value: lowercased, parameters dropped. */
function mimeEssence(contentType: string | null): string {
  if (contentType === null) return "";
  const semicolon = contentType.indexOf(";");
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * A client with the browser `EventSource` interface: `readyState`, `url`, `withCredentials`,
 * `open` / `message` / named events / `error`, `onopen` / `onmessage` / `onerror` and
 * `close()`. Message events are `MessageEvent`s carrying `data`, `origin` and `lastEventId`.
 *
 * Follows the spec: after the stream ends or the network fails it fires `error`, waits the
 * reconnection time (the server's `retry:` when given) and reconnects with `Last-Event-ID`; a
 * status other than 200 (so `204` stops it) or a type other than `text/event-stream` fails the
 * connection without retrying. Extensions: `lastEventId`, the `closed` promise, error details
 * on {@linkcode EventSourceErrorEvent}, and options in {@linkcode EventSourceOptions}.
 *
 * @example Receive events until the server answers 204
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventSource } from "./event_source.ts";
 * let connections = 0;
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
 *   if (connections++ > 0) return new Response(null, { status: 204 });
 *   return new Response("retry: 10\nid: 1\ndata: hello\n\n", {
 *     headers: { "content-type": "text/event-stream" },
 *   });
 * });
 * const source = new EventSource(`http://127.0.0.1:${server.addr.port}/`);
 * const received: string[] = [];
 * source.onmessage = (event) => received.push(event.data);
 * await source.closed; // the 204 failed the connection
 * await server.shutdown();
 * assert(received[0] === "hello" && source.lastEventId === "1");
 * ```
 */
export class EventSource extends EventTarget {
  /** The connection has not been established, or it was closed and the client is reconnecting. */
  static readonly CONNECTING = 0;
  /** The connection is open and dispatching events. */
  static readonly OPEN = 1;
  /** The connection is not open and the client is not reconnecting. */
  static readonly CLOSED = 2;
  /** Same as {@linkcode EventSource.CONNECTING}. */
  readonly CONNECTING = 0;
  /** Same as {@linkcode EventSource.OPEN}. */
  readonly OPEN = 1;
  /** Same as {@linkcode EventSource.CLOSED}. */
  readonly CLOSED = 2;

  readonly #url: string;
  readonly #withCredentials: boolean;
  readonly #fetch: typeof fetch;
  readonly #headers: Headers;
  readonly #backoff: BackoffOptions | undefined;
  readonly #connectTimeout: number;
  readonly #random: () => number;
  readonly #parser: EventStreamParser;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;
  #readyState: number = 0;
  #reconnectionTime: number;
  #failures = 0;
  #origin = "";
  #controller: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #tooBig = false;
  #handlers = new Map<string, EventSourceHandler<Event>>();

  /**
   * Starts connecting to `url` at once.
   *
   * @param url Absolute URL, or relative to `globalThis.location` where there is one.
   * @param options `withCredentials` as in browsers, plus the extensions.
   * @throws {DOMException} `SyntaxError` when `url` cannot be parsed.
   * @throws {TypeError} when `options.headers` holds an invalid header.
   */
  constructor(url: string | URL, options: EventSourceOptions = {}) {
    super();
    const base = (globalThis as { location?: { href: string } }).location?.href;
    let parsed: URL;
    try {
      parsed = new URL(url, base);
    } catch {
      throw new DOMException(`Cannot open EventSource: invalid URL ${String(url)}`, "SyntaxError");
    }
    this.#url = parsed.href;
    this.#withCredentials = options.withCredentials === true;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    // Built here so bad headers throw from the constructor, not inside a reconnection.
    this.#headers = new Headers(options.headers);
    this.#backoff = options.backoff;
    this.#connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
    this.#random = options.random ?? Math.random;
    this.#reconnectionTime = options.reconnectionTime ?? DEFAULT_RECONNECTION_TIME;
    if (!(this.#reconnectionTime >= 0)) {
      throw new RangeError(
        `Cannot open EventSource: reconnectionTime must be >= 0, got ${this.#reconnectionTime}`,
      );
    }
    this.#parser = createEventStreamParser({
      onEvent: (event) => this.#onParserEvent(event),
      lastEventId: options.lastEventId ?? "",
      ...(options.maxEventSize === undefined ? {} : { maxEventSize: options.maxEventSize }),
    });
    this.#closed = new Promise((resolve) => this.#resolveClosed = resolve);
    void this.#run();
  }

  /** The resolved URL of the event source. */
  get url(): string {
    return this.#url;
  }

  /** Whether the requests carry credentials cross-origin. */
  get withCredentials(): boolean {
    return this.#withCredentials;
  }

  /** `CONNECTING` (0), `OPEN` (1) or `CLOSED` (2). */
  get readyState(): number {
    return this.#readyState;
  }

  /** Extension: the last event id string, sent as `Last-Event-ID` when reconnecting. */
  get lastEventId(): string {
    return this.#parser.lastEventId;
  }

  /**
   * Extension: resolves once the client is `CLOSED` (by `close()` or a failed connection) and
   * every request, body and timer it held was released.
   */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Handler for `open`. */
  get onopen(): EventSourceHandler<Event> {
    return this.#handlers.get("open") ?? null;
  }
  set onopen(handler: EventSourceHandler<Event>) {
    this.#setHandler("open", handler);
  }
  /** Handler for unnamed events (`message`). */
  get onmessage(): EventSourceHandler<MessageEvent<string>> {
    return (this.#handlers.get("message") ?? null) as EventSourceHandler<MessageEvent<string>>;
  }
  set onmessage(handler: EventSourceHandler<MessageEvent<string>>) {
    this.#setHandler("message", handler as EventSourceHandler<Event>);
  }
  /** Handler for `error`. */
  get onerror(): EventSourceHandler<Event> {
    return this.#handlers.get("error") ?? null;
  }
  set onerror(handler: EventSourceHandler<Event>) {
    this.#setHandler("error", handler);
  }

  /** Closes the connection for good: aborts the request and cancels any pending reconnection. */
  close(): void {
    if (this.#readyState === 2) return;
    this.#readyState = 2;
    this.#controller?.abort();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wake?.();
  }

  #setHandler(type: string, handler: EventSourceHandler<Event>): void {
    // Event handler attributes keep their first registration slot, as in browsers.
    if (!this.#handlers.has(type)) {
      this.addEventListener(type, (event) => {
        const current = this.#handlers.get(type);
        if (typeof current === "function") current.call(this, event);
      });
    }
    this.#handlers.set(type, typeof handler === "function" ? handler : null);
  }

  #onParserEvent(event: EventStreamParserEvent): void {
    switch (event.type) {
      case "event":
        // WHATWG HTML §9.2.6 step 8: dispatch only "if the readyState attribute is set to a
        // value other than CLOSED".
        if (this.#readyState === 2 || this.#tooBig) return;
        this.#failures = 0;
        this.dispatchEvent(
          new MessageEvent(event.event, {
            data: event.data,
            origin: this.#origin,
            lastEventId: event.lastEventId,
          }),
        );
        return;
      case "retry":
        // §9.2.6: "set the event stream's reconnection time to that integer".
        this.#reconnectionTime = event.retry;
        return;
      case "comment":
        return;
      case "error":
        this.#tooBig = true;
        return;
    }
  }

  async #run(): Promise<void> {
    try {
      while (this.#readyState !== 2) {
        const attempt = await this.#attempt();
        if (attempt.kind === "closed" || this.#readyState === 2) break;
        if (attempt.kind === "fail") {
          // §9.2.3 "fail the connection": set readyState to CLOSED and fire error.
          this.#readyState = 2;
          this.dispatchEvent(attempt.error);
          break;
        }
        // §9.2.3 "reestablish the connection": readyState CONNECTING, fire error, wait the
        // reconnection time, then connect again if still CONNECTING.
        this.#readyState = 0;
        this.dispatchEvent(attempt.error);
        if (this.#readyState !== 0) break;
        const delay = backoffDelay(
          this.#reconnectionTime,
          this.#failures,
          this.#backoff,
          this.#random,
        );
        this.#failures++;
        await this.#sleep(delay);
      }
    } finally {
      this.#readyState = 2;
      this.#resolveClosed();
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#wake?.();
      }, ms);
    });
  }

  async #attempt(): Promise<Attempt> {
    const controller = new AbortController();
    this.#controller = controller;
    const headers = new Headers(this.#headers);
    headers.set("Accept", EVENT_STREAM_MIME_TYPE);
    // §9.2.3: "If the event source's last event ID string is not the empty string, set
    // `Last-Event-ID`/last event ID string, encoded as UTF-8, in request's header list."
    // A header is a byte string: a non-ASCII id goes as its UTF-8 bytes (as browsers send it).
    const lastEventId = this.#parser.lastEventId;
    if (lastEventId !== "") headers.set(LAST_EVENT_ID_HEADER, utf8ByteString(lastEventId));
    else headers.delete(LAST_EVENT_ID_HEADER);

    let response: Response;
    const timeout = setTimeout(() => controller.abort(), this.#connectTimeout);
    try {
      response = await this.#fetch(this.#url, {
        headers,
        signal: controller.signal,
        credentials: this.#withCredentials ? "include" : "same-origin",
        redirect: "follow",
      });
    } catch (error) {
      if (this.#readyState === 2) return { kind: "closed" };
      return {
        kind: "reconnect",
        error: new EventSourceErrorEvent("SSE_ERR_NETWORK", `Cannot connect: ${String(error)}`),
      };
    } finally {
      clearTimeout(timeout);
    }

    const body = response.body;
    const status = response.status;
    const type = mimeEssence(response.headers.get("content-type"));
    // §9.2.3: a status other than 200 or a type other than text/event-stream fails the
    // connection ("a client can be told to stop reconnecting using the HTTP 204 No Content").
    if (status !== 200 || type !== EVENT_STREAM_MIME_TYPE || body === null) {
      await body?.cancel().catch(() => {});
      if (this.#readyState === 2) return { kind: "closed" };
      return status !== 200
        ? {
          kind: "fail",
          error: new EventSourceErrorEvent(
            "SSE_ERR_STATUS",
            `Cannot connect: status ${status}`,
            status,
          ),
        }
        : {
          kind: "fail",
          error: new EventSourceErrorEvent(
            "SSE_ERR_CONTENT_TYPE",
            `Cannot connect: type ${type || "(none)"} is not ${EVENT_STREAM_MIME_TYPE}`,
            status,
          ),
        };
    }

    const reader = body.getReader();
    try {
      if (this.#readyState === 2) return { kind: "closed" };
      // §9.2.3 "announce the connection": readyState OPEN, fire open.
      this.#origin = new URL(response.url || this.#url).origin;
      this.#readyState = 1;
      this.dispatchEvent(new Event("open"));
      while (this.#readyState === 1) {
        const { done, value } = await reader.read();
        if (done) break;
        this.#parser.feed(value);
        if (this.#tooBig) {
          this.#tooBig = false;
          return {
            kind: "fail",
            error: new EventSourceErrorEvent(
              "SSE_ERR_EVENT_TOO_BIG",
              "Cannot parse event stream: an event is over the size bound",
            ),
          };
        }
      }
      if (this.#readyState === 2) return { kind: "closed" };
      return {
        kind: "reconnect",
        error: new EventSourceErrorEvent("SSE_ERR_STREAM_ENDED", "The server ended the stream"),
      };
    } catch (error) {
      if (this.#readyState === 2) return { kind: "closed" };
      return {
        kind: "reconnect",
        error: new EventSourceErrorEvent("SSE_ERR_NETWORK", `Stream broke off: ${String(error)}`),
      };
    } finally {
      // §9.2.6: an event not terminated by a blank line is discarded at end of stream.
      this.#parser.end();
      await reader.cancel().catch(() => {});
      this.#controller = undefined;
    }
  }
}
