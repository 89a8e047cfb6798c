/**
 * The close frame payload (RFC 6455 §5.5.1, §7.4): a 2-byte status code and a UTF-8 reason.
 *
 * Which codes may travel on the wire:
 *
 * | code          | on the wire | why                                                        |
 * | ------------- | ----------- | ---------------------------------------------------------- |
 * | 0–999         | no          | RFC 6455 §7.4.2: not used                                  |
 * | 1000–1003     | yes         | RFC 6455 §7.4.1                                            |
 * | 1004          | no          | reserved, no meaning defined                               |
 * | 1005, 1006    | no          | RFC 6455 §7.4.1: local only ("no status", "abnormal")      |
 * | 1007–1011     | yes         | RFC 6455 §7.4.1 and IANA (1010, 1011)                      |
 * | 1012–1014     | yes         | IANA registry: service restart, try again later, bad gateway |
 * | 1015          | no          | RFC 6455 §7.4.1: local only (TLS handshake failure)        |
 * | 1016–2999     | no          | reserved for future RFCs: unknown meaning, so refused      |
 * | 3000–4999     | yes         | registered libraries (3000–3999) and private use (4000–4999) |
 * | 5000 and up   | no          | outside every range RFC 6455 §7.4.2 defines                |
 *
 * 1012–1014 are accepted because they are registered and sent by deployed servers; Autobahn
 * does not test them either way.
 *
 * @module
 */

import {
  CLOSE_INVALID_PAYLOAD,
  CLOSE_NO_STATUS,
  CLOSE_PROTOCOL_ERROR,
  MAX_CONTROL_PAYLOAD,
} from "./_constants.ts";
import { type ProtocolError, protocolError } from "./protocol_error.ts";
import { decodeUtf8 } from "./utf8.ts";

/** RFC 6455 §5.5: a close payload fits a control frame, two bytes of which hold the code. */
export const MAX_CLOSE_REASON_BYTES: number = MAX_CONTROL_PAYLOAD - 2;

/** A close frame's content. */
export interface ClosePayload {
  /** Status code; 1005 ("no status") when the payload was empty. */
  readonly code: number;
  /** Reason text, `""` when absent. */
  readonly reason: string;
}

/** What {@linkcode decodeClosePayload} found: the payload, or the violation to fail with. */
export type CloseDecodeResult =
  | { readonly type: "close"; readonly close: ClosePayload }
  | { readonly type: "error"; readonly error: ProtocolError };

/**
 * Tells whether a close code may be sent on the wire (see the module table).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidCloseCode } from "./close.ts";
 * assert(isValidCloseCode(1000) && isValidCloseCode(4999));
 * assert(!isValidCloseCode(1005) && !isValidCloseCode(2000));
 * ```
 *
 * @param code Any number.
 * @returns `true` for 1000–1003, 1007–1014 and 3000–4999.
 */
export function isValidCloseCode(code: number): boolean {
  return Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
      (code >= 3000 && code <= 4999));
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const NO_STATUS: CloseDecodeResult = {
  type: "close",
  close: { code: CLOSE_NO_STATUS, reason: "" },
};

/**
 * Decodes a received close payload, validating it as RFC 6455 §5.5.1 and §7.4 require.
 *
 * @example A normal closure with a reason
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeClosePayload } from "./close.ts";
 * const result = decodeClosePayload(new Uint8Array([0x03, 0xe8, 0x62, 0x79, 0x65]));
 * assert(result.type === "close" && result.close.code === 1000 && result.close.reason === "bye");
 * ```
 *
 * @example A forbidden code
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeClosePayload } from "./close.ts";
 * const result = decodeClosePayload(new Uint8Array([0x03, 0xed])); // 1005
 * assert(result.type === "error" && result.error.closeCode === 1002);
 * ```
 *
 * @param payload The unmasked payload of a close frame (at most 125 bytes).
 * @returns `{type: "close"}` with code 1005 for an empty payload; `{type: "error"}` with
 * close code 1002 for a 1-byte payload or a code not allowed on the wire, 1007 for a reason
 * that is not UTF-8.
 */
export function decodeClosePayload(payload: Uint8Array): CloseDecodeResult {
  if (payload.length === 0) return NO_STATUS;
  if (payload.length === 1) {
    // RFC 6455 §5.5.1: a body MUST start with a 2-byte status code.
    return {
      type: "error",
      error: protocolError(
        "WS_ERR_INVALID_CLOSE_PAYLOAD",
        CLOSE_PROTOCOL_ERROR,
        "Cannot decode close frame: a 1-byte payload has no room for the status code",
      ),
    };
  }
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidCloseCode(code)) {
    return {
      type: "error",
      error: protocolError(
        "WS_ERR_INVALID_CLOSE_CODE",
        CLOSE_PROTOCOL_ERROR,
        `Cannot decode close frame: status code ${code} is not allowed on the wire`,
      ),
    };
  }
  const reason = payload.length === 2 ? "" : decodeUtf8(payload.subarray(2));
  if (reason === undefined) {
    // RFC 6455 §5.5.1: the reason is UTF-8; §8.1: invalid UTF-8 fails the connection (1007).
    return {
      type: "error",
      error: protocolError(
        "WS_ERR_INVALID_UTF8",
        CLOSE_INVALID_PAYLOAD,
        "Cannot decode close frame: the reason is not valid UTF-8",
      ),
    };
  }
  return { type: "close", close: { code, reason } };
}

/**
 * Encodes a close payload to send.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeClosePayload } from "./close.ts";
 * const payload = encodeClosePayload(1001, "restart");
 * assert(payload.length === 9 && payload[0] === 0x03 && payload[1] === 0xe9);
 * assert(encodeClosePayload().length === 0);
 * ```
 *
 * @param code Status code; omit it (and the reason) for an empty payload.
 * @param reason Reason text, at most {@linkcode MAX_CLOSE_REASON_BYTES} bytes of UTF-8.
 * @returns The payload bytes.
 * @throws {RangeError} If the code may not be sent (1004–1006, 1015, outside 1000–4999, ...)
 * or the reason is longer than 123 bytes.
 * @throws {TypeError} If a reason is given without a code.
 */
export function encodeClosePayload(code?: number, reason = ""): Uint8Array {
  if (code === undefined) {
    if (reason !== "") {
      throw new TypeError("Cannot encode close payload: a reason needs a status code");
    }
    return EMPTY;
  }
  if (!isValidCloseCode(code)) {
    throw new RangeError(
      `Cannot encode close payload: status code ${code} may not be sent (use 1000-1003, 1007-1014 or 3000-4999)`,
    );
  }
  // Every UTF-16 code unit takes at least one UTF-8 byte: a long string fails before encoding.
  if (reason.length > MAX_CLOSE_REASON_BYTES) throw reasonTooLong();
  const buffer = new Uint8Array(2 + reason.length * 3);
  const { written } = encoder.encodeInto(reason, buffer.subarray(2));
  if (written > MAX_CLOSE_REASON_BYTES) throw reasonTooLong();
  buffer[0] = code >> 8;
  buffer[1] = code & 0xff;
  return buffer.subarray(0, 2 + written);
}

function reasonTooLong(): RangeError {
  return new RangeError(
    `Cannot encode close payload: the reason is longer than ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`,
  );
}
