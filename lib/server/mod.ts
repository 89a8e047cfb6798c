/**
 * The hub's HTTP transports as Fetch-API handlers: publish, short poll, long poll, SSE,
 * hidden-iframe streaming, CORS, Prometheus metrics, health check and HS256 token auth, all
 * behind one router, {@linkcode createHubHandler}.
 *
 * @example Serve a hub on Deno
 * ```ts ignore
 * import { Hub } from "../hub/hub.ts";
 * import { createHubHandler } from "./mod.ts";
 * Deno.serve({ hostname: "127.0.0.1", port: 8000 }, createHubHandler(new Hub()));
 * ```
 *
 * @module
 */
export * from "./auth.ts";
export * from "./cors.ts";
export * from "./hub_handler.ts";
export * from "./iframe_route.ts";
export * from "./iframe_script.ts";
export * from "./metrics.ts";
export * from "./poll_route.ts";
export * from "./publish_route.ts";
export * from "./read_body.ts";
export * from "./route_context.ts";
export * from "./sse_route.ts";
export * from "./demo/demo_page.ts";
