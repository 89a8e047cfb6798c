/**
 * WebSocket on the wire: the hand-written protocol core (`lib/websocket/`) over sockets
 * pushwire owns. A server (`Deno.listen`, `Deno.listenTls`, or the one-port server's upgrade
 * hook) running endpoints with routes, accept decisions, codecs and session groups; a
 * client (`connect()` with async iteration, and the WHATWG-shaped `WebSocketClient`); and an
 * adapter running the same endpoints on `Deno.serve`.
 *
 * @example An echo endpoint and a client
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, WebSocketRouter, WebSocketServer } from "./mod.ts";
 *
 * const router = new WebSocketRouter();
 * router.route("/echo", { message: (session, message) => void session.send(message) });
 * const server = new WebSocketServer(router);
 * const { addr } = server.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await connect(`ws://127.0.0.1:${addr.port}/echo`);
 * client.send("hi");
 * for await (const message of client) {
 *   assert.equal(message, "hi");
 *   break;
 * }
 * client.close(1000);
 * await client.closed;
 * await server.shutdown();
 * ```
 *
 * @module
 */
export * from "./client.ts";
export * from "./connect_error.ts";
export * from "./deno_serve_adapter.ts";
export * from "./endpoint.ts";
export * from "./prepared_message.ts";
export * from "./router.ts";
export * from "./server.ts";
export * from "./session.ts";
export * from "./session_group.ts";
export * from "./websocket_client.ts";
// Core types that appear in this module's signatures.
export type { ExtensionOffer, ExtensionParam } from "../websocket/extension_header.ts";
export type { ProtocolError, ProtocolErrorCode } from "../websocket/protocol_error.ts";
