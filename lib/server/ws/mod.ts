/**
 * The hub's WebSocket transports: `GET /channels/{ch}/ws` (one channel, message JSON per
 * text frame) and `GET /ws` (subprotocol `pushwire.v1`, many channels per socket), both on
 * the hub's one port. See docs/PROTOCOL-ws.md.
 *
 * @example Mount both routes on Deno.serve
 * ```ts ignore
 * import { Hub } from "../../hub/hub.ts";
 * import { createHubHandler } from "../hub_handler.ts";
 * import { createWebSocketRoutes } from "./mod.ts";
 * const hub = new Hub();
 * const ws = createWebSocketRoutes(hub);
 * Deno.serve(createHubHandler(hub, {
 *   channelRoutes: { ws: ws.channelRoute },
 *   routes: { "/ws": ws.wsRoute },
 * }));
 * ```
 *
 * @module
 */
export * from "./channel_socket.ts";
export * from "./error_budget.ts";
export * from "./mux_protocol.ts";
export * from "./mux_socket.ts";
export * from "./websocket_routes.ts";
