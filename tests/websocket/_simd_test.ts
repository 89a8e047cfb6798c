import assert from "node:assert/strict";
import {
  allocateKernelBytes,
  assemble,
  gatherEnd,
  gatherPush,
  gatherStart,
  PAGE_SIZE,
  SCRATCH_BLOCK,
  setSimdEnabled,
  simdAvailable,
  simdXorInto,
  simdXorRange,
} from "../../lib/websocket/_simd.ts";
import { randomBytes, seededRandom as random } from "../_random.ts";

/** RFC 6455 §5.3 byte by byte; `data[0]` takes key byte `phase`. */
function naiveMask(data: Uint8Array, key: Uint8Array, phase = 0): Uint8Array {
  return data.map((byte, i) => byte ^ key[(phase + i) & 3]!);
}

/** The four key bytes starting at `phase`, as the kernel functions take them. */
function rotated(key: Uint8Array, phase: number): [number, number, number, number] {
  return [key[phase & 3]!, key[(phase + 1) & 3]!, key[(phase + 2) & 3]!, key[(phase + 3) & 3]!];
}

/** Runs `fn` with the kernel off, restoring it even if `fn` throws. */
function withoutSimd(fn: () => void): void {
  setSimdEnabled(false);
  try {
    fn();
  } finally {
    setSimdEnabled(true);
  }
}

Deno.test("The SIMD kernel module validates and this runtime uses it", () => {
  assert.ok(WebAssembly.validate(assemble()));
  assert.ok(simdAvailable(), "Deno has WebAssembly SIMD: the fast path must be on");
});

Deno.test("The SIMD kernel module exports only xor and imports one memory", () => {
  const module = new WebAssembly.Module(assemble());
  assert.deepEqual(WebAssembly.Module.exports(module), [{ name: "xor", kind: "function" }]);
  assert.deepEqual(WebAssembly.Module.imports(module), [
    { module: "kernel", name: "memory", kind: "memory" },
  ]);
});

for (
  const [where, backing] of [
    ["an ordinary buffer (through the scratch block)", (n: number) => new Uint8Array(n)],
    ["kernel memory (in place)", allocateKernelBytes],
  ] as const
) {
  Deno.test(`simdXorRange matches the byte loop on ${where}: every length 0..300, offset 0..7, key phase`, () => {
    const next = random(1);
    const key = randomBytes(next, 4);
    const memory = backing(16 + 300 + 16);
    for (let length = 0; length <= 300; length++) {
      for (let byteOffset = 0; byteOffset < 8; byteOffset++) {
        for (let phase = 0; phase < 4; phase++) {
          memory.set(randomBytes(next, memory.length));
          const before = memory.slice();
          const data = memory.subarray(byteOffset, byteOffset + length);
          const expected = naiveMask(data, key, phase);
          assert.ok(simdXorRange(data, 0, length, ...rotated(key, phase)));
          const at = `length ${length} offset ${byteOffset} phase ${phase}`;
          assert.deepEqual(data, expected, at);
          // Nothing outside the range changes, in the kernel's memory least of all.
          assert.deepEqual(memory.subarray(0, byteOffset), before.subarray(0, byteOffset), at);
          assert.deepEqual(
            memory.subarray(byteOffset + length),
            before.subarray(byteOffset + length),
            at,
          );
        }
      }
    }
  });

  Deno.test(`simdXorRange masks a range inside a larger view on ${where}`, () => {
    const next = random(2);
    const key = randomBytes(next, 4);
    const memory = backing(4096);
    memory.set(randomBytes(next, 4096));
    const before = memory.slice();
    const view = memory.subarray(5, 4000);
    simdXorRange(view, 100, 3001, ...rotated(key, 0));
    assert.deepEqual(view.subarray(100, 3001), naiveMask(before.subarray(105, 3006), key));
    assert.deepEqual(memory.subarray(0, 105), before.subarray(0, 105));
    assert.deepEqual(memory.subarray(3006), before.subarray(3006));
  });

  Deno.test(`simdXorInto matches the byte loop into ${where}: every length 0..300, offset 0..7, key phase`, () => {
    const next = random(3);
    const key = randomBytes(next, 4);
    const target = backing(16 + 300 + 16);
    for (let length = 0; length <= 300; length++) {
      for (let targetOffset = 0; targetOffset < 8; targetOffset++) {
        for (let phase = 0; phase < 4; phase++) {
          const source = randomBytes(next, length + 8).subarray(phase + 1, phase + 1 + length);
          const sourceBefore = source.slice();
          target.set(randomBytes(next, target.length));
          const before = target.slice();
          assert.ok(simdXorInto(source, target, targetOffset, ...rotated(key, phase)));
          const at = `length ${length} targetOffset ${targetOffset} phase ${phase}`;
          assert.deepEqual(
            target.subarray(targetOffset, targetOffset + length),
            naiveMask(source, key, phase),
            at,
          );
          assert.deepEqual(source, sourceBefore, at);
          assert.deepEqual(target.subarray(0, targetOffset), before.subarray(0, targetOffset), at);
          assert.deepEqual(
            target.subarray(targetOffset + length),
            before.subarray(targetOffset + length),
            at,
          );
        }
      }
    }
  });
}

Deno.test("simdXorRange and simdXorInto match the byte loop around and far past the scratch block", () => {
  const next = random(4);
  const key = randomBytes(next, 4);
  const sizes = [
    SCRATCH_BLOCK - 1,
    SCRATCH_BLOCK,
    SCRATCH_BLOCK + 1,
    2 * SCRATCH_BLOCK + 3,
    PAGE_SIZE + 7,
    1024 * 1024 + 5,
  ];
  for (const size of sizes) {
    for (const byteOffset of [0, 3]) {
      const phase = (size + byteOffset) & 3;
      for (const backing of [(n: number) => new Uint8Array(n), allocateKernelBytes]) {
        const data = backing(size + byteOffset).subarray(byteOffset);
        data.set(randomBytes(next, size));
        const expected = naiveMask(data, key, phase);
        const source = data.slice();
        simdXorRange(data, 0, size, ...rotated(key, phase));
        assert.deepEqual(data, expected, `in place ${size} @${byteOffset}`);
        const target = backing(size + 9);
        simdXorInto(source, target, byteOffset + 1, ...rotated(key, phase));
        assert.deepEqual(
          target.subarray(byteOffset + 1, byteOffset + 1 + size),
          expected,
          `into ${size} @${byteOffset}`,
        );
      }
    }
  }
});

Deno.test("gather unmasks a payload from pieces of every size, across block boundaries", () => {
  const next = random(5);
  const key = randomBytes(next, 4);
  for (
    const length of [1, 15, 16, 1024, SCRATCH_BLOCK, SCRATCH_BLOCK + 1, 3 * SCRATCH_BLOCK + 77]
  ) {
    for (let run = 0; run < 10; run++) {
      const masked = randomBytes(next, length);
      const target = new Uint8Array(length);
      assert.ok(gatherStart(target, key[0]!, key[1]!, key[2]!, key[3]!));
      // Pieces from 1 byte to over two blocks, as chunks arrive from a socket.
      const most = run < 5 ? 40 : 2 * SCRATCH_BLOCK + 100;
      for (let at = 0; at < length;) {
        const size = Math.min(length - at, 1 + Math.floor(next() * most));
        gatherPush(masked.subarray(at, at + size));
        at += size;
      }
      gatherEnd();
      assert.deepEqual(target, naiveMask(masked, key), `length ${length} run ${run}`);
    }
  }
});

Deno.test("Kernel memory has whole fixed pages, is zeroed and never detaches", () => {
  for (const length of [0, 1, PAGE_SIZE, PAGE_SIZE + 1, 5 * PAGE_SIZE - 3]) {
    const bytes = allocateKernelBytes(length);
    assert.equal(bytes.length, length);
    assert.equal(bytes.byteOffset, 0);
    assert.ok(bytes.every((b) => b === 0));
    const buffer = bytes.buffer;
    assert.equal(buffer.byteLength, Math.max(1, Math.ceil(length / PAGE_SIZE)) * PAGE_SIZE);
    // A wasm memory's buffer can be neither transferred nor grown from here.
    assert.throws(() => (buffer as ArrayBuffer).transfer(), TypeError);
    simdXorRange(bytes, 0, length, 1, 2, 3, 4);
    assert.equal(bytes.buffer, buffer);
    assert.equal(bytes.length, length);
  }
});

Deno.test("With the kernel turned off every entry point declines and allocation is ordinary", () => {
  withoutSimd(() => {
    assert.equal(simdAvailable(), false);
    const data = new Uint8Array(4096);
    assert.equal(simdXorRange(data, 0, 4096, 1, 2, 3, 4), false);
    assert.equal(simdXorInto(data, new Uint8Array(4096), 0, 1, 2, 3, 4), false);
    assert.equal(gatherStart(data, 1, 2, 3, 4), false);
    assert.ok(data.every((b) => b === 0), "nothing was masked");
    const bytes = allocateKernelBytes(100);
    assert.equal(bytes.buffer.byteLength, 100, "a plain ArrayBuffer, not a wasm page");
  });
  assert.ok(simdAvailable());
});
