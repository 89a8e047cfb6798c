/**
 * The WebSocket protocol (RFC 6455) as a sans-I/O core: handshake, frame codec,
 * masking and the connection state machine. Bytes in, events out; no sockets or timers.
 *
 * @module
 */
export * from "./protocol_error.ts";
