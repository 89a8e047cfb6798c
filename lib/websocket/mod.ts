/**
 * The WebSocket protocol (RFC 6455) as a sans-I/O core: handshake, frame codec,
 * masking and the connection state machine. Bytes in, events out; no sockets or timers.
 *
 * @module
 */
export * from "./protocol_error.ts";
export * from "./frame.ts";
export * from "./mask.ts";
export * from "./frame_decoder.ts";
export * from "./frame_encoder.ts";
export * from "./close.ts";
export * from "./utf8.ts";
export * from "./connection.ts";
export * from "./handshake.ts";
export * from "./client_handshake.ts";
export * from "./extension_header.ts";
export * from "./subprotocol.ts";
export * from "./permessage_deflate.ts";
export * from "./deflate_codec.ts";
