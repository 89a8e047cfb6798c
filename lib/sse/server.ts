/**
 * The server side of Server-Sent Events: a `Request → Response` primitive for `Deno.serve`
 * (or any runtime with the Fetch API) with heartbeats, resume by last event id, CORS and a
 * bounded per-subscriber queue.
 *
 * @module
 */
import {
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_RECONNECTION_TIME,
  EVENT_STREAM_CONTENT_TYPE,
  LAST_EVENT_ID_HEADER,
  LAST_EVENT_ID_PARAM,
} from "./_constants.ts";
import { encodeServerSentEvent, type ServerSentEvent } from "./encoder.ts";
import { decodeUtf8ByteString } from "./_header_value.ts";

export type { ServerSentEvent } from "./encoder.ts";

/** Options of {@linkcode createEventStream}. */
export interface EventStreamOptions {
  /**
   * A `retry:` (ms) sent first: the client's reconnection time, stated so every client
   * waits the same (browsers differ in their own default). `null`: none is sent.
   *
   * @default {3000}
   */
  readonly retry?: number | null;
  /**
   * Interval of `:` comment heartbeats in ms, which keep proxies from timing the stream out
   * and find dead connections. `0` disables them.
   *
   * @default {15000}
   */
  readonly heartbeatInterval?: number;
  /**
   * Bound on bytes queued for this subscriber and not yet taken by the HTTP layer (a client
   * that stops reading). An event that would push the queue past it, while the queue is not
   * empty, aborts the stream: queued bytes are dropped at once, `send` returns `false` and
   * `closed` resolves with `"overflow"`. The client sees a broken stream, reconnects and
   * resumes after the last event it fully received (`Last-Event-ID`). An event larger than the
   * bound is still accepted into an empty queue.
   *
   * @default {1048576} (1 MiB)
   */
  readonly maxQueuedBytes?: number;
  /** Extra response headers (e.g. CORS). The three event-stream headers always win. */
  readonly headers?: HeadersInit;
  /** Usually `request.signal`: when it aborts (client gone) everything is released. */
  readonly signal?: AbortSignal;
}

/** Why an {@linkcode EventStream} closed. */
export type EventStreamCloseReason = "client-gone" | "overflow" | "closed";

/** One subscriber's event stream: the response to return and the methods to feed it. */
export interface EventStream {
  /**
   * `200`, `Content-Type: text/event-stream; charset=utf-8`,
   * `Cache-Control: no-cache, no-transform`, `X-Accel-Buffering: no`.
   */
  readonly response: Response;
  /**
   * Encodes and queues one event. Returns `false` when the stream is closed (client gone,
   * overflowed, or `close()`d).
   *
   * @throws {TypeError | RangeError} When the event could forge another one (see the encoder).
   */
  send(event: ServerSentEvent): boolean;
  /**
   * Queues bytes already encoded by `encodeServerSentEvent` (encode once, write to every
   * subscriber). Returns `false` when the stream is closed.
   */
  write(bytes: Uint8Array): boolean;
  /** Ends the stream after the queued events (the client will reconnect unless told 204). */
  close(): void;
  /** Resolves once, with why the stream closed; every timer and listener is then released. */
  readonly closed: Promise<EventStreamCloseReason>;
}

/** A bare `:` comment line and a blank line: the smallest heartbeat (3 bytes). */
const HEARTBEAT = new Uint8Array([0x3a, 0x0a, 0x0a]);

function checkOptions(options: EventStreamOptions): void {
  const { retry, heartbeatInterval, maxQueuedBytes } = options;
  if (retry !== undefined && retry !== null && !(Number.isSafeInteger(retry) && retry >= 0)) {
    throw new RangeError(`Cannot create event stream: retry must be an integer >= 0, got ${retry}`);
  }
  if (heartbeatInterval !== undefined && !(heartbeatInterval >= 0 && heartbeatInterval < 2 ** 31)) {
    throw new RangeError(
      `Cannot create event stream: heartbeatInterval must be in [0, 2^31) ms, got ${heartbeatInterval}`,
    );
  }
  if (maxQueuedBytes !== undefined && !(maxQueuedBytes > 0)) {
    throw new RangeError(
      `Cannot create event stream: maxQueuedBytes must be positive, got ${maxQueuedBytes}`,
    );
  }
}

/**
 * Creates one subscriber's event stream. Return `stream.response` from the handler, then
 * `send` events; pass `request.signal` so a departed client frees everything at once.
 *
 * @example Answer a subscriber, resuming after its last event id
 * ```ts
 * import assert from "node:assert/strict";
 * import { createEventStream, lastEventIdOf } from "./server.ts";
 * const history = [{ id: "1", data: "a" }, { id: "2", data: "b" }];
 * function handler(request: Request): Response {
 *   const stream = createEventStream({ retry: 1000, signal: request.signal });
 *   const after = Number(lastEventIdOf(request) ?? 0);
 *   for (const message of history) if (Number(message.id) > after) stream.send(message);
 *   stream.close(); // a live feed would keep it open and send as messages arrive
 *   return stream.response;
 * }
 * const response = handler(new Request("http://x/events", { headers: { "Last-Event-ID": "1" } }));
 * assert.equal(await response.text(), "retry: 1000\n\nid: 2\ndata: b\n\n");
 * ```
 */
export function createEventStream(options: EventStreamOptions = {}): EventStream {
  checkOptions(options);
  const maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  const heartbeatInterval = options.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL;
  const signal = options.signal;

  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let resolveClosed!: (reason: EventStreamCloseReason) => void;
  const closed = new Promise<EventStreamCloseReason>((resolve) => resolveClosed = resolve);

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      cancel() {
        // The HTTP layer cancels the body when the connection is gone.
        finish("client-gone");
      },
    },
    // Queue accounting in bytes: desiredSize = maxQueuedBytes - bytes not yet taken.
    { highWaterMark: maxQueuedBytes, size: (chunk) => chunk.byteLength },
  );

  function onAbort(): void {
    finish("client-gone");
  }

  function finish(reason: EventStreamCloseReason): void {
    if (!open) return;
    open = false;
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = undefined;
    signal?.removeEventListener("abort", onAbort);
    try {
      if (reason === "overflow") {
        // Drops the queue at once and breaks the connection (the HTTP layer logs this error);
        // the client reconnects and resumes after the last event it received in full.
        controller.error(
          new Error(
            `Event stream overflow: a subscriber left over ${maxQueuedBytes} bytes unread and was dropped`,
          ),
        );
      } else {
        // "closed" lets queued events flush; "client-gone" has no reader left to flush to.
        controller.close();
      }
    } catch {
      // Already cancelled by the reader.
    }
    resolveClosed(reason);
  }

  function write(bytes: Uint8Array): boolean {
    if (!open) return false;
    const queued = maxQueuedBytes - (controller.desiredSize ?? 0);
    if (queued > 0 && queued + bytes.byteLength > maxQueuedBytes) {
      finish("overflow");
      return false;
    }
    controller.enqueue(bytes);
    return true;
  }

  const headers = new Headers(options.headers);
  headers.set("Content-Type", EVENT_STREAM_CONTENT_TYPE);
  headers.set("Cache-Control", "no-cache, no-transform");
  // Tells nginx-style proxies not to buffer the stream.
  headers.set("X-Accel-Buffering", "no");
  const response = new Response(body, { status: 200, headers });

  const retry = options.retry === undefined ? DEFAULT_RECONNECTION_TIME : options.retry;
  if (retry !== null) write(encodeServerSentEvent({ retry }));
  if (signal?.aborted) {
    finish("client-gone");
  } else {
    signal?.addEventListener("abort", onAbort, { once: true });
    if (heartbeatInterval > 0) heartbeat = setInterval(() => write(HEARTBEAT), heartbeatInterval);
  }

  return {
    response,
    send: (event) => open && write(encodeServerSentEvent(event)),
    write,
    close: () => finish("closed"),
    closed,
  };
}

/**
 * The last event id a reconnecting client resumes after: the `Last-Event-ID` header, else the
 * `lastEventId` query parameter (a browser `EventSource` cannot set headers on its first
 * connection, so pages put the id they hold in the URL).
 *
 * The header's bytes are read as UTF-8, as the spec has clients send them (a non-ASCII id
 * arrives as its UTF-8 bytes); the query as any URL parameter.
 *
 * @returns The id, or `null` when neither is present or it is empty.
 *
 * @example Header first, then the query
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastEventIdOf } from "./server.ts";
 * const url = "http://x/events?lastEventId=5";
 * assert.equal(lastEventIdOf(new Request(url)), "5");
 * assert.equal(lastEventIdOf(new Request(url, { headers: { "Last-Event-ID": "9" } })), "9");
 * assert.equal(lastEventIdOf(new Request("http://x/events")), null);
 * ```
 */
export function lastEventIdOf(request: Request): string | null {
  const header = request.headers.get(LAST_EVENT_ID_HEADER);
  // Sent "encoded as UTF-8" (WHATWG HTML §9.2.3); `Headers` hands the bytes over as Latin-1.
  if (header !== null && header !== "") return decodeUtf8ByteString(header);
  const param = new URL(request.url).searchParams.get(LAST_EVENT_ID_PARAM);
  return param === null || param === "" ? null : param;
}

/** Cross-origin access for {@linkcode serveEventSource}. */
export interface EventSourceCorsOptions {
  /** Allowed origins: `"*"`, a list, or a predicate. */
  readonly origin: "*" | readonly string[] | ((origin: string) => boolean);
  /** Allow credentials (`new EventSource(url, { withCredentials: true })`). @default {false} */
  readonly credentials?: boolean;
  /** How long browsers may cache the preflight, in seconds. @default {600} */
  readonly maxAge?: number;
}

/** What {@linkcode serveEventSource} hands to `onConnect`. */
export interface EventSourceConnection {
  /** The subscriber's request. */
  readonly request: Request;
  /** Where to resume: see {@linkcode lastEventIdOf}. */
  readonly lastEventId: string | null;
  /** The subscriber's stream: send events, watch `closed` to unsubscribe. */
  readonly stream: EventStream;
}

/** Options of {@linkcode serveEventSource}. */
export interface ServeEventSourceOptions extends Omit<EventStreamOptions, "signal"> {
  /** CORS; without it no `Access-Control-*` header is sent and preflights are refused. */
  readonly cors?: EventSourceCorsOptions;
  /**
   * Called once per subscriber before the response is returned: send the backlog, subscribe,
   * and unsubscribe on `stream.closed`. Return `"stop"` to answer `204 No Content`, which tells
   * an `EventSource` not to reconnect.
   */
  readonly onConnect: (
    connection: EventSourceConnection,
  ) => void | "stop" | Promise<void | "stop">;
}

/** CORS headers for `request`, or none when its origin is not allowed. */
function corsHeaders(request: Request, cors: EventSourceCorsOptions | undefined): Headers {
  const headers = new Headers();
  const origin = request.headers.get("Origin");
  if (cors === undefined || origin === null) return headers;
  const allowed = cors.origin === "*" ||
    (typeof cors.origin === "function" ? cors.origin(origin) : cors.origin.includes(origin));
  if (!allowed) return headers;
  if (cors.origin === "*" && cors.credentials !== true) {
    headers.set("Access-Control-Allow-Origin", "*");
  } else {
    // Credentialed requests need the exact origin, not "*" (Fetch §3.2.5).
    headers.set("Access-Control-Allow-Origin", origin);
    headers.set("Vary", "Origin");
  }
  if (cors.credentials === true) headers.set("Access-Control-Allow-Credentials", "true");
  return headers;
}

/**
 * A ready-made `Request → Response` handler for an SSE endpoint in a plain Deno app. It answers
 * an `OPTIONS` preflight (allowing `Last-Event-ID`), refuses methods other than `GET` with 405,
 * adds CORS headers, resumes from {@linkcode lastEventIdOf}, and answers `204` when `onConnect`
 * returns `"stop"`. The stream is released when the client goes away (`request.signal`).
 *
 * @example A clock feed open to every origin
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveEventSource } from "./server.ts";
 * const handler = (request: Request) =>
 *   serveEventSource(request, {
 *     cors: { origin: "*" },
 *     retry: 2000,
 *     onConnect({ stream }) {
 *       const timer = setInterval(() => stream.send({ data: new Date().toISOString() }), 1000);
 *       stream.closed.then(() => clearInterval(timer));
 *     },
 *   });
 * const preflight = await handler(new Request("http://x/", {
 *   method: "OPTIONS",
 *   headers: { Origin: "http://a.test", "Access-Control-Request-Headers": "last-event-id" },
 * }));
 * assert.equal(preflight.status, 204);
 * assert(preflight.headers.get("Access-Control-Allow-Headers")!.includes("Last-Event-ID"));
 * ```
 */
export async function serveEventSource(
  request: Request,
  options: ServeEventSourceOptions,
): Promise<Response> {
  const cors = corsHeaders(request, options.cors);
  if (request.method === "OPTIONS") {
    if (cors.has("Access-Control-Allow-Origin")) {
      cors.set("Access-Control-Allow-Methods", "GET, OPTIONS");
      cors.set("Access-Control-Allow-Headers", "Last-Event-ID, Cache-Control, Accept");
      cors.set("Access-Control-Max-Age", String(options.cors?.maxAge ?? 600));
    }
    cors.set("Allow", "GET, OPTIONS");
    return new Response(null, { status: 204, headers: cors });
  }
  if (request.method !== "GET") {
    cors.set("Allow", "GET, OPTIONS");
    return new Response(null, { status: 405, headers: cors });
  }
  const headers = new Headers(options.headers);
  for (const [name, value] of cors) headers.set(name, value);
  const { cors: _, onConnect, ...streamOptions } = options;
  const stream = createEventStream({ ...streamOptions, headers, signal: request.signal });
  let result: void | "stop";
  try {
    result = await onConnect({ request, lastEventId: lastEventIdOf(request), stream });
  } catch (error) {
    stream.close();
    await stream.response.body?.cancel();
    throw error;
  }
  if (result === "stop") {
    stream.close();
    await stream.response.body?.cancel();
    return new Response(null, { status: 204, headers: cors });
  }
  return stream.response;
}
