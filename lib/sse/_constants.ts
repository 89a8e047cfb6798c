// Spec constants for Server-Sent Events (WHATWG HTML §9.2) and this module's defaults.
// Private module: re-exported selectively through `mod.ts`.

/** WHATWG HTML §9.2.5: the MIME type of an event stream. */
export const EVENT_STREAM_MIME_TYPE = "text/event-stream";

/** The `Content-Type` the server side answers with (the stream is always UTF-8). */
export const EVENT_STREAM_CONTENT_TYPE = "text/event-stream; charset=utf-8";

/** WHATWG HTML §9.2.4: the request header a reconnecting client sends its last event id in. */
export const LAST_EVENT_ID_HEADER = "Last-Event-ID";

/** The query parameter read when the header is absent (a first `EventSource` cannot set headers). */
export const LAST_EVENT_ID_PARAM = "lastEventId";

/** WHATWG HTML §9.2.5: U+FEFF BYTE ORDER MARK, skipped once at the start of a stream. */
export const BOM = "\uFEFF";

/** Line feed (U+000A) as a byte. */
export const LF = 0x0a;
/** Carriage return (U+000D) as a byte. */
export const CR = 0x0d;
/** Colon (U+003A) as a byte. */
export const COLON = 0x3a;
/** Space (U+0020) as a byte. */
export const SPACE = 0x20;

/**
 * Default reconnection time of the client in ms. WHATWG HTML §9.2.2 leaves it to the user
 * agent ("probably in the region of a few seconds"); Chromium and the npm `eventsource` use 3 s.
 */
export const DEFAULT_RECONNECTION_TIME = 3_000;

/** Default interval between `:` comment heartbeats on the server side, in ms. */
export const DEFAULT_HEARTBEAT_INTERVAL = 15_000;

/**
 * Default bound on bytes queued for one subscriber and not yet taken by the HTTP layer: 1 MiB.
 * Over it the stream is aborted (see `createEventStream`).
 */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

/**
 * Default bound on one event held by the parser (data buffer, event type and the current
 * line, in UTF-16 code units): 16 Mi, as the WebSocket side's largest message.
 */
export const DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024;

/** Default ceiling of the client's optional exponential backoff, in ms. */
export const DEFAULT_MAX_BACKOFF = 30_000;
