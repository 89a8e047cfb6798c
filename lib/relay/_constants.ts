// Wire constants and defaults of the socket relay.
// Private module: re-exported selectively through `mod.ts`.

/** Flash XMLSocket framing: every document on the socket ends with one NUL byte. */
export const NUL = 0x00;

/**
 * The request a Flash Player sends on a fresh connection before it may use a socket
 * (Adobe, "Setting up a socket policy file server"), NUL included.
 */
export const POLICY_FILE_REQUEST: Uint8Array = /* @__PURE__ */ new TextEncoder().encode(
  "<policy-file-request/>\0",
);

/** A channel name, as everywhere in the hub: `[A-Za-z0-9_.:-]{1,128}`. */
export const CHANNEL_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Longest opaque message id accepted as a resume cursor (`?after=`), in characters. */
export const MAX_CURSOR_LENGTH = 256;

/** Default wait for a `<policy-file-request/>` before the greeting is written, in ms. */
export const DEFAULT_POLICY_WINDOW_MS = 100;
/** Default time a started `<policy-file-request/>` has to complete, in ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** Default time a connection may hold no subscription before it is closed, in ms. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Default time one write may stay pending before the reader counts as stalled, in ms. */
export const DEFAULT_WRITE_TIMEOUT_MS = 30_000;
/** Default limit of bytes queued (and in flight) per connection: 8 MiB. */
export const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;
/** Default limit of documents queued (and in flight) per connection. */
export const DEFAULT_MAX_QUEUE_MESSAGES = 1024;
/** Default largest batch of queued documents joined into one write: 64 KiB. */
export const DEFAULT_MAX_WRITE_BYTES = 64 * 1024;
/** Default limit of open relay connections. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Default limit of channels one relay connection may subscribe to. */
export const DEFAULT_MAX_CHANNELS = 64;
/** Default time a closed connection's cursors stay readable, in ms: 5 minutes. */
export const DEFAULT_RETAIN_MS = 5 * 60_000;
/** Default limit of closed connections whose cursors are kept. */
export const DEFAULT_MAX_RETAINED = 10_000;
