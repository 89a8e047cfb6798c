/**
 * One port for HTTP and WebSocket: a Deno.listen-based HTTP/1.1 server that passes plain
 * requests to a `Deno.serve`-style fetch handler and hands `Upgrade: websocket` requests,
 * with their raw connection, to the hand-written WebSocket engine.
 *
 * @module
 */
export * from "./one_port_server.ts";
