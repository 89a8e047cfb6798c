/**
 * The WebSocket frame (RFC 6455 §5.2) as data: what the decoder yields and the encoder writes.
 *
 * @module
 */

/**
 * Which end of the connection this endpoint is. It decides masking (RFC 6455 §5.1): a client
 * masks every frame it sends, a server never does, and each rejects frames that break the rule.
 */
export type Role = "server" | "client";

/**
 * One decoded WebSocket frame (RFC 6455 §5.2). Reserved bits and the opcode are reported as
 * they arrived: checking them against the negotiated extensions and the fragmentation sequence
 * is the connection's job, not the codec's.
 *
 * @example A frame as the decoder yields it
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Frame } from "./frame.ts";
 * const frame: Frame = {
 *   fin: true,
 *   rsv1: false,
 *   rsv2: false,
 *   rsv3: false,
 *   opcode: 0x1,
 *   payload: new TextEncoder().encode("Hello"),
 * };
 * assert.equal(new TextDecoder().decode(frame.payload), "Hello");
 * ```
 */
export interface Frame {
  /** FIN bit: this is the last frame of its message. */
  readonly fin: boolean;
  /** RSV1 bit (permessage-deflate marks compressed messages with it). */
  readonly rsv1: boolean;
  /** RSV2 bit (no extension here defines it). */
  readonly rsv2: boolean;
  /** RSV3 bit (no extension here defines it). */
  readonly rsv3: boolean;
  /** The raw 4-bit opcode (0x0 continuation, 0x1 text, 0x2 binary, 0x8 close, 0x9 ping, 0xA pong). */
  readonly opcode: number;
  /** Payload bytes, already unmasked. */
  readonly payload: Uint8Array;
}
