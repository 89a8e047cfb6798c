/**
 * Server-Sent Events (WHATWG HTML §9.2), hand-written to the spec:
 *
 * - {@linkcode encodeServerSentEvent} and {@linkcode ServerSentEventEncoderStream}: messages to
 *   UTF-8 bytes, refusing any field that could forge another event.
 * - {@linkcode createEventStreamParser}: an incremental, bounded, runtime-agnostic parser.
 * - {@linkcode EventSource}: a browser-compatible client on `fetch` (reconnects with
 *   `Last-Event-ID`, honours `retry:`, stops on 204, optional backoff with jitter).
 * - {@linkcode createEventStream}, {@linkcode serveEventSource}, {@linkcode lastEventIdOf}: the
 *   `Request → Response` server side with heartbeats, CORS and a bounded queue per subscriber.
 *
 * Peer errors are data with a stable code: `SSE_ERR_EVENT_TOO_BIG` from the parser;
 * `SSE_ERR_NETWORK`, `SSE_ERR_STREAM_ENDED`, `SSE_ERR_STATUS`, `SSE_ERR_CONTENT_TYPE` and
 * `SSE_ERR_EVENT_TOO_BIG` on the client's `error` events.
 *
 * @example Round trip through the encoder and the parser
 * ```ts
 * import assert from "node:assert/strict";
 * import { createEventStreamParser, encodeServerSentEvent } from "./mod.ts";
 * const seen: string[] = [];
 * const parser = createEventStreamParser({
 *   onEvent: (event) => event.type === "event" && seen.push(`${event.event}:${event.data}`),
 * });
 * parser.feed(encodeServerSentEvent({ event: "note", data: "two\nlines" }));
 * assert.equal(seen[0], "note:two\nlines");
 * ```
 *
 * @module
 */
export * from "./encoder.ts";
export * from "./encoder_stream.ts";
export * from "./parser.ts";
export * from "./backoff.ts";
export * from "./event_source.ts";
export * from "./server.ts";
