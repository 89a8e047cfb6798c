/**
 * HTTP/1.1 message heads (RFC 9110, RFC 9112), sans-I/O: a strict, bounded, incremental
 * head parser for requests and responses, and the field-syntax helpers the WebSocket
 * handshake uses. No sockets, no timers; bodies are out of scope.
 *
 * @example Parse a request head
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeadParser } from "./mod.ts";
 * const parser = new HeadParser({ kind: "request" });
 * const event = parser.receive(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
 * assert(event?.type === "head" && event.head.method === "GET");
 * ```
 *
 * @module
 */
export * from "./head_parser.ts";
export * from "./token.ts";
export { DEFAULT_MAX_HEAD_SIZE, DEFAULT_MAX_HEADERS } from "./_constants.ts";
