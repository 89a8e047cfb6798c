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

/**
 * Writes the first two bytes and the extended length at `out[at]`; `maskBit` is 0x80 for a
 * masked frame (its key follows), else 0.
 */
function writeHeader(
  out: Uint8Array,
  at: number,
  opcode: number,
  payloadLength: number,
  lengthBytes: number,
  options: EncodeFrameOptions | undefined,
  maskBit: number,
): void {
  out[at] = (options?.fin === false ? 0 : 0x80) | (options?.rsv1 === true ? 0x40 : 0) | opcode;
  if (lengthBytes === 2) {
    out[at + 1] = maskBit | payloadLength;
  } else if (lengthBytes === 4) {
    out[at + 1] = maskBit | PAYLOAD_LENGTH_16;
    out[at + 2] = payloadLength >>> 8;
    out[at + 3] = payloadLength & 0xff;
  } else {
    out[at + 1] = maskBit | PAYLOAD_LENGTH_64;
    // Lengths past 2^32 cannot be split with 32-bit bitwise operators.
    const high = Math.floor(payloadLength / 0x100000000);
    out[at + 2] = high >>> 24;
    out[at + 3] = (high >>> 16) & 0xff;
    out[at + 4] = (high >>> 8) & 0xff;
    out[at + 5] = high & 0xff;
    out[at + 6] = payloadLength >>> 24;
    out[at + 7] = (payloadLength >>> 16) & 0xff;
    out[at + 8] = (payloadLength >>> 8) & 0xff;
    out[at + 9] = payloadLength & 0xff;
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
    writeHeader(out, 0, opcode, length, lengthBytes, options, 0);
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
  writeHeader(out, 0, opcode, length, lengthBytes, options, 0x80);
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
    writeHeader(out, 0, opcode, payloadLength, lengthBytes, options, 0);
    return out;
  }
  const out = allocate(lengthBytes + MASK_KEY_LENGTH, 0);
  writeHeader(out, 0, opcode, payloadLength, lengthBytes, options, 0x80);
  out.set(maskKey, lengthBytes);
  return out;
}

/**
 * Returns how many bytes a frame takes on the wire: header, masking key if masked, payload.
 * Use it to check that a frame fits before {@linkcode encodeFrameInto}.
 *
 * @param payloadLength The payload length (a non-negative integer).
 * @param masked Whether the frame carries a masking key (client frames).
 * @returns The frame length in bytes.
 * @throws {RangeError} If the length is not a non-negative integer.
 *
 * @example Room for a masked 300-byte frame
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodedFrameLength } from "./frame_encoder.ts";
 * assert.equal(encodedFrameLength(300, true), 2 + 2 + 4 + 300);
 * assert.equal(encodedFrameLength(5), 7);
 * ```
 */
export function encodedFrameLength(payloadLength: number, masked = false): number {
  if (!Number.isSafeInteger(payloadLength) || payloadLength < 0) {
    throw new RangeError(
      `Cannot measure frame: payload length ${payloadLength} is not a non-negative integer`,
    );
  }
  return payloadLength + (masked ? MASK_KEY_LENGTH : 0) +
    (payloadLength > MAX_PAYLOAD_LENGTH_16 ? 10 : payloadLength > MAX_CONTROL_PAYLOAD ? 4 : 2);
}

/** Throws unless `length` bytes fit in `target` from `offset`. */
function checkRoom(target: Uint8Array, offset: number, length: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > target.length) {
    throw new RangeError(
      `Cannot encode frame: ${length} bytes do not fit at offset ${offset} of a ${target.length}-byte target`,
    );
  }
}

/**
 * Encodes a whole frame straight into `target` at `offset`, as {@linkcode encodeFrame} does
 * into a buffer of its own: header, masking key if masked (a fresh random one unless
 * `maskKey` is given), payload (masked while it is copied). Allocates nothing, so an I/O
 * layer that joins small frames into one write can encode them right where they are sent
 * from.
 *
 * The payload is not modified, and must not overlap the bytes the frame takes in `target`
 * (this is not checked: comparing buffers costs more than encoding a small frame).
 *
 * @param target The buffer to write into.
 * @param offset Where the frame starts in `target`.
 * @param opcode The 4-bit opcode (0x1 text, 0x2 binary, 0x8 close, 0x9 ping, ...).
 * @param payload The payload bytes (at most 125 for control opcodes 0x8..0xF).
 * @param options FIN, RSV1 and masking.
 * @returns The number of bytes written ({@linkcode encodedFrameLength}).
 * @throws {RangeError} If the frame does not fit in `target` at `offset`, the opcode is not
 * 0..15, a control frame has more than 125 bytes or FIN unset, or `maskKey` is not 4 bytes.
 * @throws {TypeError} If `target`, `payload` or `maskKey` is not a Uint8Array.
 *
 * @example Two frames in one write buffer
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrameInto } from "./frame_encoder.ts";
 * const batch = new Uint8Array(64);
 * let end = encodeFrameInto(batch, 0, 0x1, new TextEncoder().encode("Hello"));
 * end += encodeFrameInto(batch, end, 0xa, new Uint8Array(0)); // a pong
 * assert.deepEqual(batch.subarray(0, end), new Uint8Array([0x81, 5, 72, 101, 108, 108, 111, 0x8a, 0]));
 * ```
 */
export function encodeFrameInto(
  target: Uint8Array,
  offset: number,
  opcode: number,
  payload: Uint8Array,
  options?: EncodeFrameOptions,
): number {
  if (!(payload instanceof Uint8Array) || !(target instanceof Uint8Array)) {
    throw new TypeError("Cannot encode frame: the target and payload must be Uint8Arrays");
  }
  const length = payload.length;
  const lengthBytes = check(opcode, length, options);
  const maskKey = options?.maskKey;
  if (maskKey === undefined && options?.mask !== true) {
    const total = lengthBytes + length;
    checkRoom(target, offset, total);
    writeHeader(target, offset, opcode, length, lengthBytes, options, 0);
    const at = offset + lengthBytes;
    if (length < SMALL_COPY) {
      for (let i = 0; i < length; i++) target[at + i] = payload[i]!;
    } else {
      target.set(payload, at);
    }
    return total;
  }
  const headerLength = lengthBytes + MASK_KEY_LENGTH;
  const total = headerLength + length;
  checkRoom(target, offset, total);
  writeHeader(target, offset, opcode, length, lengthBytes, options, 0x80);
  // The key choice repeats encodeFrame's on purpose: a shared helper measured 4-5 ns slower on
  // a 25 ns masked 2 B frame (2.1-2.3x ws's Sender.frame fell to 1.8-2.0x).
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
  const keyAt = offset + lengthBytes;
  target[keyAt] = k0;
  target[keyAt + 1] = k1;
  target[keyAt + 2] = k2;
  target[keyAt + 3] = k3;
  const at = offset + headerLength;
  if (length < SMALL_MASK) {
    // The loop xorInto would run, inlined: the call costs a fifth of a small frame's time.
    let i = 0;
    let t = at;
    for (const last = length - 3; i < last; i += 4, t += 4) {
      target[t] = payload[i]! ^ k0;
      target[t + 1] = payload[i + 1]! ^ k1;
      target[t + 2] = payload[i + 2]! ^ k2;
      target[t + 3] = payload[i + 3]! ^ k3;
    }
    if (i < length) {
      target[t] = payload[i]! ^ k0;
      if (i + 1 < length) {
        target[t + 1] = payload[i + 1]! ^ k1;
        if (i + 2 < length) target[t + 2] = payload[i + 2]! ^ k2;
      }
    }
  } else {
    const words = wordsOver(target);
    if (length < MID_MASK && words !== undefined) {
      maskCopyWords(payload, target, at, words, k0, k1, k2, k3);
    } else xorInto(payload, target, at, k0, k1, k2, k3, words);
  }
  return total;
}

/**
 * Below this payload length (and from SMALL_MASK) encodeFrameInto masks with a plain word loop
 * of its own over the cached view: xorInto's general path (alignment of both sides, unrolled
 * loops, the SIMD check) costs more than it saves on a few dozen words. 125 B: ~45 ns instead
 * of ~70 ns.
 */
const MID_MASK = 512;
/** Whether this machine stores the low byte of a word first (words are built from key bytes). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Copies `source` to `target[at..]` and XORs it there with the key (`source[0]` with k0):
 * bytes up to the first 4-aligned address, then whole words of `words` (a view of all of
 * `target.buffer`), then the last bytes.
 */
function maskCopyWords(
  source: Uint8Array,
  target: Uint8Array,
  at: number,
  words: Int32Array,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
): void {
  target.set(source, at);
  // `p` indexes `target`; `base` turns it into an index of the whole buffer, for the words.
  const base = target.byteOffset;
  let p = at;
  const stop = at + source.length;
  // Each byte takes the key byte at its position; the key turns by one per byte.
  while (((base + p) & 3) !== 0) {
    target[p++]! ^= k0;
    const k = k0;
    k0 = k1, k1 = k2, k2 = k3, k3 = k;
  }
  const kw = LITTLE_ENDIAN
    ? k0 | (k1 << 8) | (k2 << 16) | (k3 << 24)
    : (k0 << 24) | (k1 << 16) | (k2 << 8) | k3;
  let w = (base + p) >>> 2;
  for (const last = (base + stop) >>> 2; w < last; w++) words[w]! ^= kw;
  p = (w << 2) - base;
  while (p < stop) {
    target[p++]! ^= k0;
    const k = k0;
    k0 = k1, k1 = k2, k2 = k3, k3 = k;
  }
}

/** Payloads shorter than this are masked by a byte loop (xorInto's own limit for words). */
const SMALL_MASK = 64;
// The last target of encodeFrameInto and a word view over its whole buffer: an I/O layer
// fills one write buffer frame after frame, and creating the view each time would cost as
// much as masking a 125-byte payload. The cache holds that one buffer alive.
let wordsTarget: Uint8Array | undefined;
let targetWords: Int32Array | undefined;

/** A word view over all of `target.buffer` from byte 0, or `undefined` if it may shrink. */
function wordsOver(target: Uint8Array): Int32Array | undefined {
  if (target === wordsTarget) return targetWords;
  const buffer = target.buffer;
  wordsTarget = target;
  // A view of fixed length would no longer cover a resizable buffer once it shrank.
  targetWords = (buffer as ArrayBuffer).resizable === true
    ? undefined
    : new Int32Array(buffer, 0, buffer.byteLength >>> 2);
  return targetWords;
}

/**
 * Encodes only a frame header into `target` at `offset`, as {@linkcode encodeFrameHeader}
 * does into a buffer of its own: the payload is then written after it without a copy.
 *
 * @param target The buffer to write into.
 * @param offset Where the header starts in `target`.
 * @param opcode The 4-bit opcode.
 * @param payloadLength The number of payload bytes that will follow (a non-negative integer).
 * @param options FIN, RSV1 and an optional explicit masking key.
 * @returns The number of bytes written (2 to 14).
 * @throws {RangeError} As {@linkcode encodeFrameHeader}, and if the header does not fit in
 * `target` at `offset`.
 * @throws {TypeError} As {@linkcode encodeFrameHeader}, and if `target` is not a Uint8Array.
 *
 * @example The header of a 64 KiB binary frame, behind a byte already queued
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrameHeaderInto } from "./frame_encoder.ts";
 * const batch = new Uint8Array(16);
 * const n = encodeFrameHeaderInto(batch, 1, 0x2, 65536);
 * assert.deepEqual(batch.subarray(1, 1 + n), new Uint8Array([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]));
 * ```
 */
export function encodeFrameHeaderInto(
  target: Uint8Array,
  offset: number,
  opcode: number,
  payloadLength: number,
  options?: EncodeFrameOptions,
): number {
  if (!(target instanceof Uint8Array)) {
    throw new TypeError("Cannot encode frame header: the target must be a Uint8Array");
  }
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
    checkRoom(target, offset, lengthBytes);
    writeHeader(target, offset, opcode, payloadLength, lengthBytes, options, 0);
    return lengthBytes;
  }
  const total = lengthBytes + MASK_KEY_LENGTH;
  checkRoom(target, offset, total);
  writeHeader(target, offset, opcode, payloadLength, lengthBytes, options, 0x80);
  const keyAt = offset + lengthBytes;
  target[keyAt] = maskKey[0]!;
  target[keyAt + 1] = maskKey[1]!;
  target[keyAt + 2] = maskKey[2]!;
  target[keyAt + 3] = maskKey[3]!;
  return total;
}
