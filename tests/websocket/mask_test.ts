import assert from "node:assert/strict";
import { allocateMaskBuffer, mask, maskCopy } from "../../lib/websocket/mask.ts";
import { setSimdEnabled, simdAvailable } from "../../lib/websocket/_simd.ts";
import { randomBytes, seededRandom as random } from "../_random.ts";

/** The RFC 6455 §5.3 definition, byte by byte: the reference the fast loops must match. */
function naiveMask(data: Uint8Array, key: Uint8Array, offset = 0): Uint8Array {
  return data.map((byte, i) => byte ^ key[(offset + i) % 4]!);
}

const KEY = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
// Every length to 300 (the byte and word loops, their unrolling), then lengths around the
// SIMD thresholds (512 for copies, 1024 in place) and its 16 KiB scratch block, and larger.
const LENGTHS = [
  ...Array.from({ length: 301 }, (_, i) => i),
  511,
  512,
  513,
  1000,
  1023,
  1024,
  1025,
  1027,
  4099,
  16383,
  16384,
  16385,
  70001,
];
/** Both masking paths: the SIMD kernel (on by default here) and the word-loop fallback. */
const MODES = [["SIMD", true], ["the word-loop fallback", false]] as const;

/** Runs `fn` with the SIMD kernel on or off, restoring it even if `fn` throws. */
function withSimd(on: boolean, fn: () => void): void {
  setSimdEnabled(on);
  try {
    fn();
  } finally {
    setSimdEnabled(true);
  }
}

Deno.test("mask unmasks the RFC 6455 §5.7 masked Hello payload", () => {
  const payload = new Uint8Array([0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  mask(payload, KEY);
  assert.equal(new TextDecoder().decode(payload), "Hello");
});

for (const [mode, on] of MODES) {
  Deno.test(`mask with ${mode} matches the byte-by-byte reference for every alignment, key phase and length`, () => {
    withSimd(on, () => maskEveryAlignment(random(1)));
  });
  Deno.test(`maskCopy with ${mode} matches the reference for every source and target alignment`, () => {
    withSimd(on, () => maskCopyEveryAlignment(random(5)));
  });
  Deno.test(`mask with ${mode} matches the reference in a mask buffer for every alignment, key phase and length`, () => {
    // A buffer per case would create a wasm memory per case: one is shared by all.
    withSimd(on, () => {
      const pool = allocateMaskBuffer(LENGTHS.at(-1)! + 16);
      maskEveryAlignment(random(10), (n) => pool.subarray(0, n));
    });
  });
  Deno.test(`mask with ${mode} matches the reference on random inputs up to 1 MiB`, () => {
    withSimd(on, () => {
      const next = random(9);
      for (let run = 0; run < 40; run++) {
        const length = Math.floor(next() * next() * 1024 * 1024);
        const byteOffset = Math.floor(next() * 16);
        const offset = Math.floor(next() * 8);
        const key = randomBytes(next, 4);
        const data = randomBytes(next, byteOffset + length).subarray(byteOffset);
        const expected = naiveMask(data, key, offset);
        mask(data, key, offset);
        assert.deepEqual(data, expected, `run ${run}: ${length} bytes`);
      }
    });
  });
}

function maskEveryAlignment(
  next: () => number,
  allocate: (length: number) => Uint8Array = (n) => new Uint8Array(n),
): void {
  for (const length of LENGTHS) {
    for (let byteOffset = 0; byteOffset < 8; byteOffset++) {
      for (let offset = 0; offset < 4; offset++) {
        const key = randomBytes(next, 4);
        const backing = allocate(byteOffset + length + 8);
        backing.set(randomBytes(next, backing.length));
        const original = backing.slice();
        const data = backing.subarray(byteOffset, byteOffset + length);
        const expected = naiveMask(data, key, offset);
        mask(data, key, offset);
        assert.deepEqual(
          data,
          expected,
          `length ${length} byteOffset ${byteOffset} offset ${offset}`,
        );
        // Bytes around the view are untouched.
        assert.deepEqual(backing.subarray(0, byteOffset), original.subarray(0, byteOffset));
        assert.deepEqual(
          backing.subarray(byteOffset + length),
          original.subarray(byteOffset + length),
        );
      }
    }
  }
}

Deno.test("mask matches the reference on random inputs", () => {
  const next = random(2);
  for (let run = 0; run < 200; run++) {
    const length = Math.floor(next() * 3000);
    const byteOffset = Math.floor(next() * 16);
    const offset = Math.floor(next() * 8);
    const key = randomBytes(next, 4);
    const data = randomBytes(next, byteOffset + length).subarray(byteOffset);
    const expected = naiveMask(data, key, offset);
    mask(data, key, offset);
    assert.deepEqual(data, expected, `run ${run}`);
  }
});

Deno.test("mask applied twice restores the data", () => {
  const next = random(3);
  const data = randomBytes(next, 70_001).subarray(3);
  const original = data.slice();
  mask(data, KEY, 1);
  assert.notDeepEqual(data, original);
  mask(data, KEY, 1);
  assert.deepEqual(data, original);
});

Deno.test("mask unmasks a payload piece by piece with the key offset", () => {
  const next = random(4);
  const payload = randomBytes(next, 5000);
  const whole = naiveMask(payload, KEY);
  const pieces = payload.slice();
  for (const [start, end] of [[0, 3], [3, 100], [100, 101], [101, 4000], [4000, 5000]]) {
    mask(pieces.subarray(start, end), KEY, start);
  }
  assert.deepEqual(pieces, whole);
});

Deno.test("mask works on views of a SharedArrayBuffer", () => {
  const data = new Uint8Array(new SharedArrayBuffer(300), 5, 200);
  data.fill(0xaa);
  const expected = naiveMask(data, KEY, 2);
  mask(data, KEY, 2);
  assert.deepEqual(Array.from(data), Array.from(expected));
});

Deno.test("mask rejects a key that is not 4 bytes or not a Uint8Array", () => {
  const data = new Uint8Array(8);
  assert.throws(() => mask(data, new Uint8Array(3)), RangeError);
  assert.throws(() => mask(data, new Uint8Array(5)), RangeError);
  assert.throws(() => mask(data, [1, 2, 3, 4] as unknown as Uint8Array), TypeError);
  assert.throws(() => mask("data" as unknown as Uint8Array, KEY), TypeError);
});

function maskCopyEveryAlignment(next: () => number): void {
  for (const length of LENGTHS) {
    for (let sourceOffset = 0; sourceOffset < 4; sourceOffset++) {
      for (let targetOffset = 0; targetOffset < 4; targetOffset++) {
        for (let targetByteOffset = 0; targetByteOffset < 4; targetByteOffset++) {
          const key = randomBytes(next, 4);
          const source = randomBytes(next, sourceOffset + length).subarray(sourceOffset);
          const sourceBefore = source.slice();
          const backing = randomBytes(next, targetByteOffset + targetOffset + length + 4);
          const target = backing.subarray(targetByteOffset);
          const before = target.slice();
          maskCopy(source, key, target, targetOffset);
          const where =
            `length ${length} source@${sourceOffset} target@${targetByteOffset}+${targetOffset}`;
          assert.deepEqual(
            target.subarray(targetOffset, targetOffset + length),
            naiveMask(source, key),
            where,
          );
          assert.deepEqual(source, sourceBefore, `source changed: ${where}`);
          assert.deepEqual(target.subarray(0, targetOffset), before.subarray(0, targetOffset));
          assert.deepEqual(
            target.subarray(targetOffset + length),
            before.subarray(targetOffset + length),
          );
        }
      }
    }
  }
}

Deno.test("maskCopy handles a source and target that overlap in one buffer", () => {
  const next = random(6);
  for (const shift of [-5, -4, -1, 0, 1, 3, 4, 8]) {
    const backing = randomBytes(next, 400);
    const source = backing.subarray(20, 320);
    const expected = naiveMask(source, KEY);
    maskCopy(source, KEY, backing, 20 + shift);
    assert.deepEqual(backing.subarray(20 + shift, 320 + shift), expected, `shift ${shift}`);
  }
});

Deno.test("maskCopy rejects a target range that does not fit", () => {
  const source = new Uint8Array(10);
  assert.throws(() => maskCopy(source, KEY, new Uint8Array(10), 1), RangeError);
  assert.throws(() => maskCopy(source, KEY, new Uint8Array(20), -1), RangeError);
  assert.throws(() => maskCopy(source, KEY, new Uint8Array(20), 1.5), RangeError);
  assert.throws(() => maskCopy(source, new Uint8Array(2), new Uint8Array(20), 0), RangeError);
  assert.throws(
    () => maskCopy(source, KEY, new ArrayBuffer(20) as unknown as Uint8Array, 0),
    TypeError,
  );
});

Deno.test("allocateMaskBuffer returns zeroed bytes in wasm memory that mask works on in place", () => {
  assert.ok(simdAvailable());
  const bytes = allocateMaskBuffer(100_000);
  assert.equal(bytes.length, 100_000);
  assert.equal(bytes.byteOffset, 0);
  assert.ok(bytes.every((b) => b === 0));
  // A fixed wasm memory: two 64 KiB pages, not an ordinary 100,000-byte ArrayBuffer.
  assert.equal(bytes.buffer.byteLength, 2 * 65536);
  const buffer = bytes.buffer;
  const view = bytes.subarray(3, 99_001);
  view.set(randomBytes(random(11), view.length));
  const expected = naiveMask(view, KEY, 2);
  mask(view, KEY, 2);
  assert.deepEqual(view, expected);
  assert.equal(bytes.buffer, buffer, "the buffer is the same and still attached");
  assert.equal(bytes.length, 100_000);
});

Deno.test("maskCopy masks into a mask buffer target, and within one", () => {
  const next = random(12);
  for (const length of [0, 5, 511, 512, 4099, 70_001]) {
    const target = allocateMaskBuffer(length + 16);
    const source = randomBytes(next, length + 3).subarray(3);
    const before = source.slice();
    maskCopy(source, KEY, target, 7);
    assert.deepEqual(target.subarray(7, 7 + length), naiveMask(source, KEY), `length ${length}`);
    assert.deepEqual(source, before);
    assert.ok(target.subarray(0, 7).every((b) => b === 0));
    assert.ok(target.subarray(7 + length).every((b) => b === 0));
    // Source and target in the same mask buffer, overlapping.
    const shared = allocateMaskBuffer(length + 16);
    shared.set(before, 0);
    maskCopy(shared.subarray(0, length), KEY, shared, 5);
    assert.deepEqual(shared.subarray(5, 5 + length), naiveMask(before, KEY), `overlap ${length}`);
  }
});

Deno.test("A mask buffer stays correct when the SIMD kernel is turned off", () => {
  const bytes = allocateMaskBuffer(8192);
  bytes.set(randomBytes(random(13), 8192));
  const expected = naiveMask(bytes, KEY, 1);
  withSimd(false, () => {
    mask(bytes, KEY, 1);
    // Allocated while off: ordinary memory of the exact size.
    assert.equal(allocateMaskBuffer(10).buffer.byteLength, 10);
  });
  assert.deepEqual(bytes, expected);
});

Deno.test("allocateMaskBuffer rejects a length that is not an integer from 0 to 1 GiB", () => {
  for (const length of [-1, 1.5, NaN, Infinity, 2 ** 30 + 1, "10" as unknown as number]) {
    assert.throws(() => allocateMaskBuffer(length), RangeError, String(length));
  }
  assert.equal(allocateMaskBuffer(0).length, 0);
});
