/**
 * The socket relay for plugin-socket clients (Flash `XMLSocket`, Java `java.net.Socket`):
 * a client holds a plain TCP connection, is greeted with a relay id, subscribes over HTTP
 * with that id, and receives every message as a NUL-terminated XML document. The relay
 * never reads data from the socket, only a Flash `<policy-file-request/>`.
 *
 * Runtime-agnostic cores ({@linkcode Relay}, {@linkcode RelayConnection}, the encoders,
 * the policy file, the HTTP handler) and one Deno adapter ({@linkcode listenRelay}).
 *
 * @example Serve a relay from a hub
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import { createRelayHandler, listenRelay, Relay } from "./mod.ts";
 *
 * const hub = new Hub();
 * const relay = new Relay({
 *   source: hub,
 *   policy: { origins: ["https://app.example.com"], ports: [8001] },
 * });
 * const tcp = listenRelay(relay, { port: 0 }); // `--tcp-port N`
 * const relayHandler = createRelayHandler(relay); // mounted under /relay/ by the HTTP server
 * const response = await relayHandler(
 *   new Request("http://localhost/relay/AAAAAAAAAAAAAAAAAAAAAA/channels/news", { method: "POST" }),
 * );
 * assert.equal(response.status, 404); // no connection holds that id
 * await tcp.shutdown();
 * await hub.close();
 * ```
 *
 * @module
 */
export * from "./policy_file.ts";
export * from "./relay.ts";
export * from "./relay_close.ts";
export * from "./relay_connection.ts";
export * from "./relay_http_handler.ts";
export * from "./relay_id.ts";
export * from "./relay_listener.ts";
export * from "./relay_message.ts";
export * from "./relay_request_error.ts";
export * from "./relay_source.ts";
export * from "./xml_escape.ts";
