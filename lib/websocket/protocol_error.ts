/**
 * A peer's protocol violation, as data: a stable code for logs and tests and the
 * close code to answer with. Cores return these inside events; they never throw them.
 *
 * @module
 */

/** Stable identifiers of every peer error the WebSocket core reports. Listed in docs/ERRORS.md. */
export type ProtocolErrorCode =
  | "WS_ERR_RESERVED_OPCODE"
  | "WS_ERR_RESERVED_BITS"
  | "WS_ERR_UNEXPECTED_MASK"
  | "WS_ERR_EXPECTED_MASK"
  | "WS_ERR_INVALID_LENGTH"
  | "WS_ERR_FRAME_TOO_BIG"
  | "WS_ERR_MESSAGE_TOO_BIG"
  | "WS_ERR_CONTROL_FRAGMENTED"
  | "WS_ERR_CONTROL_TOO_BIG"
  | "WS_ERR_UNEXPECTED_CONTINUATION"
  | "WS_ERR_EXPECTED_CONTINUATION"
  | "WS_ERR_INVALID_UTF8"
  | "WS_ERR_INVALID_CLOSE_PAYLOAD"
  | "WS_ERR_INVALID_CLOSE_CODE"
  | "WS_ERR_DECOMPRESSION";

/** A peer's protocol violation: what went wrong and which close code answers it. */
export interface ProtocolError {
  /** Stable machine-readable identifier. */
  readonly code: ProtocolErrorCode;
  /** The RFC 6455 §7.4 close code to send to the peer. */
  readonly closeCode: number;
  /** Human-readable explanation, e.g. "Cannot decode frame: opcode 0x3 is reserved". */
  readonly message: string;
}

/**
 * Builds a {@linkcode ProtocolError}.
 *
 * @example Report a reserved opcode
 * ```ts
 * import assert from "node:assert/strict";
 * import { protocolError } from "./protocol_error.ts";
 * const error = protocolError("WS_ERR_RESERVED_OPCODE", 1002, "Cannot decode frame: opcode 0x3 is reserved");
 * assert.equal(error.closeCode, 1002);
 * ```
 */
export function protocolError(
  code: ProtocolErrorCode,
  closeCode: number,
  message: string,
): ProtocolError {
  return { code, closeCode, message };
}
