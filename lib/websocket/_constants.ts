// Spec constants for the WebSocket protocol (RFC 6455) and its defaults.
// Private module: re-exported selectively through `mod.ts`.

/** RFC 6455 §1.3: the GUID appended to `Sec-WebSocket-Key` before hashing. */
export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** RFC 6455 §4.1: the only protocol version this implementation speaks. */
export const WEBSOCKET_VERSION = "13";

/** RFC 6455 §5.2 / §11.8: frame opcodes. */
export const OPCODE_CONTINUATION = 0x0;
/** RFC 6455 §5.6: a text data frame (UTF-8 payload). */
export const OPCODE_TEXT = 0x1;
/** RFC 6455 §5.6: a binary data frame. */
export const OPCODE_BINARY = 0x2;
/** RFC 6455 §5.5.1: close control frame. */
export const OPCODE_CLOSE = 0x8;
/** RFC 6455 §5.5.2: ping control frame. */
export const OPCODE_PING = 0x9;
/** RFC 6455 §5.5.3: pong control frame. */
export const OPCODE_PONG = 0xa;

/** RFC 6455 §5.5: control frames carry at most 125 payload bytes. */
export const MAX_CONTROL_PAYLOAD = 125;

/** RFC 6455 §7.4.1 close status codes used by this implementation. */
export const CLOSE_NORMAL = 1000;
/** RFC 6455 §7.4.1: endpoint going away (server shutdown, page navigation). */
export const CLOSE_GOING_AWAY = 1001;
/** RFC 6455 §7.4.1: protocol error. */
export const CLOSE_PROTOCOL_ERROR = 1002;
/** RFC 6455 §7.4.1: data type the endpoint cannot accept. */
export const CLOSE_UNSUPPORTED_DATA = 1003;
/** RFC 6455 §7.4.1: reserved, never on the wire: "no status code was present". */
export const CLOSE_NO_STATUS = 1005;
/** RFC 6455 §7.4.1: reserved, never on the wire: "closed abnormally". */
export const CLOSE_ABNORMAL = 1006;
/** RFC 6455 §7.4.1: payload inconsistent with the message type (invalid UTF-8). */
export const CLOSE_INVALID_PAYLOAD = 1007;
/** RFC 6455 §7.4.1: message violates policy. */
export const CLOSE_POLICY_VIOLATION = 1008;
/** RFC 6455 §7.4.1: message too big to process. */
export const CLOSE_MESSAGE_TOO_BIG = 1009;
/** RFC 6455 §7.4.1: client expected an extension the server did not negotiate. */
export const CLOSE_MANDATORY_EXTENSION = 1010;
/** RFC 6455 §7.4.1: unexpected condition on the server. */
export const CLOSE_INTERNAL_ERROR = 1011;
/** IANA registry: try again later (overloaded). */
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** RFC 6455 §7.4.1: reserved, never on the wire: TLS handshake failure. */
export const CLOSE_TLS_HANDSHAKE = 1015;

/** Default largest single frame payload accepted: 16 MiB (fits 8 MiB messages with room). */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
/** Default largest reassembled message accepted: 16 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;

/** RFC 6455 §5.2: a 7-bit length of 126 means a 16-bit extended payload length follows. */
export const PAYLOAD_LENGTH_16 = 126;
/** RFC 6455 §5.2: a 7-bit length of 127 means a 64-bit extended payload length follows. */
export const PAYLOAD_LENGTH_64 = 127;
/** RFC 6455 §5.2: the largest payload length a 16-bit extended length can carry. */
export const MAX_PAYLOAD_LENGTH_16 = 0xffff;
/** RFC 6455 §5.2: the masking key is 4 bytes. */
export const MASK_KEY_LENGTH = 4;
/** RFC 6455 §5.2: the longest frame header (2 + 8 extended length + 4 masking key). */
export const MAX_FRAME_HEADER_LENGTH = 14;
