/**
 * Payload masking (RFC 6455 §5.3): XOR with a 4-byte key, 16 bytes at a time with
 * WebAssembly SIMD where the runtime has it, else a machine word at a time. Masking and
 * unmasking are the same operation.
 *
 * @module
 */

import { MASK_KEY_LENGTH } from "./_constants.ts";
import { allocateKernelBytes, MAX_MASK_BUFFER_SIZE } from "./_simd.ts";
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
 * Works for any `byteOffset` and length. From 1 KiB on, where WebAssembly SIMD is available
 * (it is in Deno, Node, Bun and current browsers), a small built-in wasm kernel XORs 16 bytes
 * per instruction: directly on bytes from {@linkcode allocateMaskBuffer}, else through a
 * 16 KiB block of its own memory (copied in and back out). Otherwise, and for shorter data,
 * 32-bit words over the 4-aligned middle of `data`.
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

/**
 * Allocates `length` zeroed bytes that {@linkcode mask}, {@linkcode maskCopy} (as target) and
 * a `FrameDecoder` given views of them unmask in place with WebAssembly SIMD, with no copy
 * through the kernel's scratch block: about twice as fast as masking an ordinary
 * `Uint8Array` from 1 KiB on (64 KiB: ~1.1 µs instead of ~2.5 µs). Meant for the buffer a
 * transport reads into: a server reading client frames into it gets their payloads unmasked
 * where they lie, and handed out as views of it.
 *
 * Each call creates a `WebAssembly.Memory` of its own, a whole number of 64 KiB pages, fixed
 * in size (it never grows, so views of it never detach), and freed by the garbage collector
 * like any other buffer once no view of it is left. Nothing is pooled or reused, so bytes
 * handed out stay valid as long as they are referenced. A call costs 5 to 25 µs, about as
 * much as `new Uint8Array(512 * 1024)`: allocate read slabs of 64 KiB and more, not one buffer
 * per frame. Where WebAssembly SIMD is unavailable this returns `new Uint8Array(length)`.
 *
 * Unlike an ordinary buffer, the `ArrayBuffer` behind the result cannot be detached:
 * `ArrayBuffer.prototype.transfer`, `postMessage` transfer lists and BYOB stream readers
 * throw a `TypeError` on it. Reading from a `Deno.Conn` (`conn.read(view)`) works.
 *
 * @param length Number of bytes, at most 1 GiB.
 * @returns A `Uint8Array` of `length` zero bytes (`byteOffset` 0).
 * @throws {RangeError} If `length` is not an integer from 0 to 1 GiB (1073741824).
 *
 * @example Read into a mask buffer and decode a masked frame in place
 * ```ts
 * import assert from "node:assert/strict";
 * import { allocateMaskBuffer } from "./mask.ts";
 * import { encodeFrame } from "./frame_encoder.ts";
 * import { FrameDecoder } from "./frame_decoder.ts";
 * const slab = allocateMaskBuffer(64 * 1024);
 * const wire = encodeFrame(0x2, new Uint8Array(4096).fill(7), { mask: true });
 * slab.set(wire); // as `conn.read(slab)` would
 * const decoder = new FrameDecoder({ role: "server" });
 * decoder.receive(slab.subarray(0, wire.length));
 * const event = decoder.next();
 * if (event?.type !== "frame") throw new Error("expected a frame");
 * assert.equal(event.frame.payload.buffer, slab.buffer); // unmasked where it was read
 * assert.deepEqual(event.frame.payload, new Uint8Array(4096).fill(7));
 * ```
 */
export function allocateMaskBuffer(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > MAX_MASK_BUFFER_SIZE) {
    throw new RangeError(
      `Cannot allocate a mask buffer: length must be an integer from 0 to ${MAX_MASK_BUFFER_SIZE}, got ${length}`,
    );
  }
  return allocateKernelBytes(length);
}
