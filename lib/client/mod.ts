/**
 * The browser client of the hub, served as the ES module `GET /pushwire.js`: subscribe to and
 * publish on channels through the best transport the network allows (WebSocket `pushwire.v1`,
 * SSE, hidden iframe, long poll, short poll), falling back when one is blocked, reconnecting
 * with capped exponential backoff and full jitter, and resuming every channel from its last id
 * so each message arrives once and in order. The same code runs in Deno (SSE and polling).
 *
 * - {@linkcode subscribe}, {@linkcode publish}, {@linkcode createClient} /
 *   {@linkcode PushwireClient}: the API.
 * - {@linkcode pushwireScriptRoute}, {@linkcode PUSHWIRE_JS}, {@linkcode PUSHWIRE_DTS}: the
 *   module and its declaration, served with `ETag` and CORS.
 * - {@linkcode Backoff}, {@linkcode ChannelCursor}, {@linkcode TransportSelector},
 *   {@linkcode SseEventParser}: the runtime-agnostic cores (no I/O, time and randomness passed in).
 *
 * @example Mount the module on the hub
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import { createHubHandler } from "../server/hub_handler.ts";
 * import { pushwireScriptRoute } from "./mod.ts";
 * const hub = new Hub();
 * const handler = createHubHandler(hub, {
 *   routes: { "/pushwire.js": pushwireScriptRoute, "/pushwire.d.ts": pushwireScriptRoute },
 * });
 * const response = await handler(new Request("http://hub/pushwire.js"));
 * assert.match(await response.text(), /export \{ PushwireClient/);
 * await hub.close();
 * ```
 *
 * @module
 */
export * from "./backoff.ts";
export * from "./browser_module.ts";
export * from "./channel_cursor.ts";
export * from "./iframe_transport.ts";
export * from "./poll_transports.ts";
export * from "./pushwire_client.ts";
export * from "./sse_event_parser.ts";
export * from "./sse_transport.ts";
export * from "./transport.ts";
export * from "./transport_selector.ts";
export * from "./websocket_transport.ts";
