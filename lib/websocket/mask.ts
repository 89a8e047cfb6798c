/**
 * Payload masking (RFC 6455 §5.3): XOR with a 4-byte key, a machine word at a time.
 * Masking and unmasking are the same operation.
 *
 * @module
 */

import { MASK_KEY_LENGTH } from "./_constants.ts";
import { xorInto, xorRange } from "./_xor.ts";

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array)) {
    throw new TypeError("Cannot mask: the key must be a Uint8Array");
  }
  if (key.length !== MASK_KEY_LENGTH) {
    throw new RangeError(`Cannot mask: the key must be 4 bytes, got ${key.length}`);
  }
}

/**
 * XORs `data` in place with the 4-byte masking `key` (RFC 6455 §5.3). Unmasking is the same
 * call. `offset` is the position in the key cycle of `data[0]` (only `offset mod 4` matters),
 * so a payload that arrives in pieces can be unmasked piece by piece.
 *
 * Works on 32-bit words over the 4-aligned middle of `data`, for any `byteOffset` and length.
 *
 * @param data The bytes to mask, changed in place.
 * @param key The 4-byte masking key.
 * @param offset Position of `data[0]` in the key cycle.
 * @default {0} offset
 * @throws {TypeError} If `data` or `key` is not a Uint8Array.
 * @throws {RangeError} If `key` is not 4 bytes long.
 *
 * @example Unmask the RFC 6455 §5.7 "Hello" example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mask } from "./mask.ts";
 * const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
 * const payload = new Uint8Array([0x7f, 0x9f, 0x4d, 0x51, 0x58]);
 * mask(payload, key);
 * assert.equal(new TextDecoder().decode(payload), "Hello");
 * ```
 *
 * @example Unmask a payload that arrived in two pieces
 * ```ts
 * import assert from "node:assert/strict";
 * import { mask } from "./mask.ts";
 * const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
 * const first = new Uint8Array([0x7f, 0x9f, 0x4d]);
 * const second = new Uint8Array([0x51, 0x58]);
 * mask(first, key);
 * mask(second, key, first.length);
 * assert.equal(new TextDecoder().decode(second), "lo");
 * ```
 */
export function mask(data: Uint8Array, key: Uint8Array, offset = 0): void {
  if (!(data instanceof Uint8Array)) {
    throw new TypeError("Cannot mask: the data must be a Uint8Array");
  }
  checkKey(key);
  const o = offset & 3;
  xorRange(data, 0, data.length, key[o]!, key[(o + 1) & 3]!, key[(o + 2) & 3]!, key[(o + 3) & 3]!);
}

/**
 * Writes `source` masked with `key` into `target` starting at `targetOffset`, in one pass
 * (RFC 6455 §5.3). `source` is left unchanged; `source[0]` takes key byte 0. Overlapping
 * `source` and `target` are handled as if `source` were copied first.
 *
 * @param source The bytes to mask.
 * @param key The 4-byte masking key.
 * @param target Where the masked bytes go.
 * @param targetOffset Index in `target` of the first masked byte.
 * @throws {TypeError} If an argument is not a Uint8Array.
 * @throws {RangeError} If `key` is not 4 bytes long, or `source` does not fit in `target`
 * at `targetOffset`.
 *
 * @example Build a masked frame payload after its header
 * ```ts
 * import assert from "node:assert/strict";
 * import { maskCopy } from "./mask.ts";
 * const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
 * const frame = new Uint8Array(2 + 4 + 5);
 * frame.set([0x81, 0x85, ...key]);
 * maskCopy(new TextEncoder().encode("Hello"), key, frame, 6);
 * assert.deepEqual(frame.subarray(6), new Uint8Array([0x7f, 0x9f, 0x4d, 0x51, 0x58]));
 * ```
 */
export function maskCopy(
  source: Uint8Array,
  key: Uint8Array,
  target: Uint8Array,
  targetOffset: number,
): void {
  if (!(source instanceof Uint8Array) || !(target instanceof Uint8Array)) {
    throw new TypeError("Cannot mask: the source and target must be Uint8Arrays");
  }
  checkKey(key);
  if (
    !Number.isInteger(targetOffset) || targetOffset < 0 ||
    targetOffset + source.length > target.length
  ) {
    throw new RangeError(
      `Cannot mask: ${source.length} bytes do not fit at offset ${targetOffset} of a ${target.length}-byte target`,
    );
  }
  if (source.buffer === target.buffer) {
    // The ranges may overlap: set() copies as if through a temporary, then mask in place.
    target.set(source, targetOffset);
    const end = targetOffset + source.length;
    xorRange(target, targetOffset, end, key[0]!, key[1]!, key[2]!, key[3]!);
  } else {
    xorInto(source, target, targetOffset, key[0]!, key[1]!, key[2]!, key[3]!);
  }
}
