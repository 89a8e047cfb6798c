// Masking (RFC 6455 §5.3): `mask` in place against a plain `Uint8Array.prototype.set` copy of
// the same bytes (the memory-bandwidth limit, baseline) and a naive byte loop (what ws runs
// without its native `bufferutil`). `mask` on an ordinary buffer goes through the SIMD
// kernel's scratch block (copy in, XOR, copy out); on bytes from `allocateMaskBuffer` it XORs
// in place; "word loop" is the JavaScript fallback where WebAssembly SIMD is missing.
import { setSimdEnabled } from "../../lib/websocket/_simd.ts";
import { allocateMaskBuffer, mask } from "../../lib/websocket/mask.ts";

const KEY = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

function naiveMask(data: Uint8Array, key: Uint8Array): void {
  for (let i = 0; i < data.length; i++) data[i]! ^= key[i & 3]!;
}

for (const [label, size] of [["1 KiB", 1024], ["64 KiB", 64 * 1024]] as const) {
  const group = `mask ${label}`;
  const data = new Uint8Array(size).map((_, i) => i & 0xff);
  const target = new Uint8Array(size);
  const naive = data.slice();
  const slab = allocateMaskBuffer(size);
  slab.set(data);

  Deno.bench({
    name: `Uint8Array.prototype.set: copy ${label}`,
    group,
    baseline: true,
    fn() {
      target.set(data);
    },
  });
  Deno.bench({
    name: `mask: unmask ${label} in place`,
    group,
    fn() {
      mask(data, KEY);
    },
  });
  Deno.bench({
    name: `mask: unmask ${label} in place in a mask buffer`,
    group,
    fn() {
      mask(slab, KEY);
    },
  });
  Deno.bench({
    name: `mask (word loop, SIMD off): unmask ${label} in place`,
    group,
    fn(b) {
      setSimdEnabled(false);
      b.start();
      mask(data, KEY);
      b.end();
      setSimdEnabled(true);
    },
  });
  Deno.bench({
    name: `naive byte loop: unmask ${label} in place`,
    group,
    fn() {
      naiveMask(naive, KEY);
    },
  });
}
