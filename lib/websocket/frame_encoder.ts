/**
 * WebSocket frame encoding (RFC 6455 §5.2): server frames unmasked, client frames masked
 * with a fresh random key per frame, the payload masked a machine word at a time as it is
 * copied into the frame.
 *
 * @module
 */

import {
  MASK_KEY_LENGTH,
  MAX_CONTROL_PAYLOAD,
  MAX_PAYLOAD_LENGTH_16,
  PAYLOAD_LENGTH_16,
  PAYLOAD_LENGTH_64,
} from "./_constants.ts";
import { xorInto } from "./_xor.ts";

/** Options of {@linkcode encodeFrame} and {@linkcode encodeFrameHeader}. */
export interface EncodeFrameOptions {
  /**
   * FIN bit: this frame ends its message.
   * @default {true}
   */
  readonly fin?: boolean;
  /**
   * RSV1 bit (permessage-deflate sets it on the first frame of a compressed message).
   * @default {false}
   */
  readonly rsv1?: boolean;
  /**
   * Mask the frame with a fresh random key, as a client must (RFC 6455 §5.3).
   * @default {false}
   */
  readonly mask?: boolean;
  /** An explicit 4-byte masking key (for tests and fixtures); implies `mask`. */
  readonly maskKey?: Uint8Array;
}

// A new ArrayBuffer costs about a microsecond in Deno 2.9 (V8), far more than encoding a
// small frame, so small frames are cut from a shared slab, as Node's Buffer pool does. A slab
// stays alive until every frame cut from it is released, hence the small per-frame cap.
/** Size of one shared slab: 32 KiB. */
const SLAB_SIZE = 32 * 1024;
/** Frames up to this many bytes (header included) come from the slab; larger get their own. */
const MAX_SLAB_FRAME = 4 * 1024;
let slab: ArrayBuffer | undefined;
let slabOffset = SLAB_SIZE;
/** Word view over the whole current slab, so masking a small frame creates no view. */
let slabWords: Int32Array | undefined;

/**
 * Returns `length` fresh bytes starting at an address equal to `alignment` mod 4 (so a masked
 * payload can share its source's word alignment).
 */
function allocate(length: number, alignment: number): Uint8Array {
  if (length > MAX_SLAB_FRAME) {
    return alignment === 0
      ? new Uint8Array(length)
      : new Uint8Array(new ArrayBuffer(alignment + length), alignment, length);
  }
  let start = slabOffset + ((alignment - slabOffset) & 3);
  if (slab === undefined || start + length > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabWords = new Int32Array(slab);
    start = alignment;
  }
  // Keep the next frame 8-aligned, as Node's pool does.
  slabOffset = (start + length + 7) & ~7;
  return new Uint8Array(slab, start, length);
}

/** Payloads shorter than this are copied by a loop rather than `set()`. */
const SMALL_COPY = 32;

/** How many random bytes are drawn at once for masking keys: 2048 keys per refill. */
const RANDOM_POOL_SIZE = 8192;
let randomPool: Uint8Array | undefined;
let randomPoolOffset = RANDOM_POOL_SIZE;

/** Returns the offset in `randomPool` of 4 fresh random bytes, refilling the pool when spent. */
function nextRandomKey(): number {
  if (randomPoolOffset === RANDOM_POOL_SIZE) {
    randomPool ??= new Uint8Array(RANDOM_POOL_SIZE);
    // RFC 6455 §5.3: the key MUST be unpredictable, so it comes from a CSPRNG.
    crypto.getRandomValues(randomPool);
    randomPoolOffset = 0;
  }
  const at = randomPoolOffset;
  randomPoolOffset += MASK_KEY_LENGTH;
  return at;
}

/** Throws on caller misuse; returns the header length (without a masking key). */
function check(
  opcode: number,
  payloadLength: number,
  options: EncodeFrameOptions | undefined,
): number {
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xf) {
    throw new RangeError(`Cannot encode frame: opcode ${opcode} is not a 4-bit integer`);
  }
  if (opcode >= 0x8) {
    // RFC 6455 §5.5: control frames MUST have a payload of 125 bytes or less
    if (payloadLength > MAX_CONTROL_PAYLOAD) {
      throw new RangeError(
        `Cannot encode frame: control frame payload is ${payloadLength} bytes, at most ${MAX_CONTROL_PAYLOAD} allowed`,
      );
    }
    // RFC 6455 §5.5: control frames MUST NOT be fragmented
    if (options?.fin === false) {
      throw new RangeError("Cannot encode frame: a control frame cannot be fragmented");
    }
  }
  const maskKey = options?.maskKey;
  if (maskKey !== undefined) {
    if (!(maskKey instanceof Uint8Array)) {
      throw new TypeError("Cannot encode frame: maskKey must be a Uint8Array");
    }
    if (maskKey.length !== MASK_KEY_LENGTH) {
      throw new RangeError(`Cannot encode frame: maskKey must be 4 bytes, got ${maskKey.length}`);
    }
  }
  return payloadLength > MAX_PAYLOAD_LENGTH_16 ? 10 : payloadLength > MAX_CONTROL_PAYLOAD ? 4 : 2;
}

/** Writes the first two bytes and the extended length; the MASK bit is set by the caller. */
function writeHeader(
  out: Uint8Array,
  opcode: number,
  payloadLength: number,
  lengthBytes: number,
  options: EncodeFrameOptions | undefined,
): void {
  out[0] = (options?.fin === false ? 0 : 0x80) | (options?.rsv1 === true ? 0x40 : 0) | opcode;
  if (lengthBytes === 2) {
    out[1] = payloadLength;
  } else if (lengthBytes === 4) {
    out[1] = PAYLOAD_LENGTH_16;
    out[2] = payloadLength >>> 8;
    out[3] = payloadLength & 0xff;
  } else {
    out[1] = PAYLOAD_LENGTH_64;
    // Lengths past 2^32 cannot be split with 32-bit bitwise operators.
    const high = Math.floor(payloadLength / 0x100000000);
    out[2] = high >>> 24;
    out[3] = (high >>> 16) & 0xff;
    out[4] = (high >>> 8) & 0xff;
    out[5] = high & 0xff;
    out[6] = payloadLength >>> 24;
    out[7] = (payloadLength >>> 16) & 0xff;
    out[8] = (payloadLength >>> 8) & 0xff;
    out[9] = payloadLength & 0xff;
  }
}

/**
 * Encodes a whole frame into one contiguous buffer: header, masking key if masked, payload.
 *
 * Unmasked frames (what a server sends) copy the payload after the header. Masked frames (what
 * a client sends, RFC 6455 §5.1) take a fresh key from a pooled CSPRNG buffer and mask the
 * payload while copying it; the frame is placed so that the payload shares the source's word
 * alignment, so the masking runs a machine word at a time.
 *
 * The result is a view: frames up to 4 KiB are cut from a shared 32 KiB slab (as Node's
 * Buffer pool does) and a masked frame may start a few bytes into its buffer. Use the view,
 * never its `.buffer` (do not transfer it).
 *
 * The payload is not modified. To send a large unmasked payload without copying it, write
 * {@linkcode encodeFrameHeader} followed by the payload instead.
 *
 * @param opcode The 4-bit opcode (0x1 text, 0x2 binary, 0x8 close, 0x9 ping, ...).
 * @param payload The payload bytes (at most 125 for control opcodes 0x8..0xF).
 * @param options FIN, RSV1 and masking.
 * @returns The encoded frame.
 * @throws {RangeError} If the opcode is not 0..15, a control frame has more than 125 bytes
 * or FIN unset, or `maskKey` is not 4 bytes.
 * @throws {TypeError} If `payload` or `maskKey` is not a Uint8Array.
 *
 * @example Encode the RFC 6455 §5.7 examples
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrame } from "./frame_encoder.ts";
 * const hello = new TextEncoder().encode("Hello");
 * const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
 * assert.equal(toHex(encodeFrame(0x1, hello)), "810548656c6c6f");
 * const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
 * assert.equal(toHex(encodeFrame(0x1, hello, { maskKey: key })), "818537fa213d7f9f4d5158");
 * ```
 *
 * @example A client frame, masked with a random key
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrame } from "./frame_encoder.ts";
 * const frame = encodeFrame(0x2, new Uint8Array(300), { mask: true });
 * assert.equal(frame.length, 2 + 2 + 4 + 300);
 * assert.equal(frame[1], 0x80 | 126); // MASK bit, 16-bit length follows
 * ```
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array,
  options?: EncodeFrameOptions,
): Uint8Array {
  if (!(payload instanceof Uint8Array)) {
    throw new TypeError("Cannot encode frame: the payload must be a Uint8Array");
  }
  const length = payload.length;
  const lengthBytes = check(opcode, length, options);
  const maskKey = options?.maskKey;
  if (maskKey === undefined && options?.mask !== true) {
    const out = allocate(lengthBytes + length, 0);
    writeHeader(out, opcode, length, lengthBytes, options);
    if (length < SMALL_COPY) {
      // Cheaper than calling set() for a few bytes.
      for (let i = 0; i < length; i++) out[lengthBytes + i] = payload[i]!;
    } else {
      out.set(payload, lengthBytes);
    }
    return out;
  }
  const headerLength = lengthBytes + MASK_KEY_LENGTH;
  // Start the frame so that the payload lands at the same address mod 4 as the source: then
  // the one-pass masked copy can use word views on both sides.
  const out = allocate(headerLength + length, (payload.byteOffset - headerLength) & 3);
  writeHeader(out, opcode, length, lengthBytes, options);
  out[1]! |= 0x80;
  let k0: number, k1: number, k2: number, k3: number;
  if (maskKey !== undefined) {
    k0 = maskKey[0]!;
    k1 = maskKey[1]!;
    k2 = maskKey[2]!;
    k3 = maskKey[3]!;
  } else {
    const at = nextRandomKey();
    const pool = randomPool!;
    k0 = pool[at]!;
    k1 = pool[at + 1]!;
    k2 = pool[at + 2]!;
    k3 = pool[at + 3]!;
  }
  out[lengthBytes] = k0;
  out[lengthBytes + 1] = k1;
  out[lengthBytes + 2] = k2;
  out[lengthBytes + 3] = k3;
  // `allocate` cut the frame from the slab iff it fits MAX_SLAB_FRAME (cheaper than reading
  // `out.buffer`). The payload cannot overlap `out`, which is fresh.
  const words = headerLength + length <= MAX_SLAB_FRAME ? slabWords : undefined;
  xorInto(payload, out, headerLength, k0, k1, k2, k3, words);
  return out;
}

/**
 * Encodes only a frame header for a payload of `payloadLength` bytes, so a large payload can
 * be written right after it without being copied (for example one broadcast frame written to
 * many connections).
 *
 * This is meant for unmasked (server) frames. With an explicit `maskKey` the header carries
 * the MASK bit and that key, and the caller must mask the payload itself (see `mask.ts`);
 * `mask: true` without a key is refused, since the caller could not know the key.
 *
 * @param opcode The 4-bit opcode.
 * @param payloadLength The number of payload bytes that will follow (a non-negative integer).
 * @param options FIN, RSV1 and an optional explicit masking key.
 * @returns The encoded header (2 to 14 bytes), a view into a shared slab (see
 * {@linkcode encodeFrame}).
 * @throws {RangeError} If the opcode is not 0..15, the length is not a non-negative integer,
 * a control frame has more than 125 bytes or FIN unset, or `maskKey` is not 4 bytes.
 * @throws {TypeError} If `mask` is true without a `maskKey`, or `maskKey` is not a Uint8Array.
 *
 * @example Header of a 64 KiB binary frame
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrameHeader } from "./frame_encoder.ts";
 * const header = encodeFrameHeader(0x2, 65536);
 * assert.deepEqual(header, new Uint8Array([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]));
 * ```
 */
export function encodeFrameHeader(
  opcode: number,
  payloadLength: number,
  options?: EncodeFrameOptions,
): Uint8Array {
  if (!Number.isSafeInteger(payloadLength) || payloadLength < 0) {
    throw new RangeError(
      `Cannot encode frame header: payload length ${payloadLength} is not a non-negative integer`,
    );
  }
  const lengthBytes = check(opcode, payloadLength, options);
  const maskKey = options?.maskKey;
  if (maskKey === undefined) {
    if (options?.mask === true) {
      throw new TypeError(
        "Cannot encode frame header: mask: true needs an explicit maskKey to mask the payload with",
      );
    }
    const out = allocate(lengthBytes, 0);
    writeHeader(out, opcode, payloadLength, lengthBytes, options);
    return out;
  }
  const out = allocate(lengthBytes + MASK_KEY_LENGTH, 0);
  writeHeader(out, opcode, payloadLength, lengthBytes, options);
  out[1]! |= 0x80;
  out.set(maskKey, lengthBytes);
  return out;
}
