/**
 * pushwire: every way a server pushes data to a client, hand-written to the specs.
 *
 * Subpath exports give one concern each (`@pushwire/pushwire/websocket`, ...); this
 * entry point re-exports them all.
 *
 * @module
 */
export * from "./lib/websocket/mod.ts";
export * from "./lib/http/mod.ts";
export * from "./lib/net/mod.ts";
export * from "./lib/sse/mod.ts";
export * from "./lib/hub/mod.ts";
export * from "./lib/server/mod.ts";
export * from "./lib/relay/mod.ts";
export * from "./lib/websocket_io/mod.ts";
