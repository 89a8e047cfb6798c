// A WebAssembly SIMD kernel for masking (RFC 6455 §5.3), used by `_xor.ts` for long ranges.
// Private. JavaScript has no SIMD: its widest portable step is one 32-bit word per load, XOR
// and store, a third of a memcpy's speed; the kernel XORs 16 bytes per instruction.
//
// Wasm code reads and writes only its own memory, so there are two ways in:
// - Bytes in an ordinary ArrayBuffer go through a scratch block in the kernel's memory:
//   copy in, XOR there, copy out (two memcpys and a SIMD pass instead of one word loop).
// - Bytes from `allocateMaskBuffer` already live in a wasm memory of their own, with a kernel
//   instance bound to it: XOR in place, no copy.
//
// The module is assembled below from named opcodes (WebAssembly 2.0, §5.4: instructions,
// §5.5: modules), about 250 bytes. In text format it is:
//
//   (module
//     (import "kernel" "memory" (memory 1))        ;; each instance gets its own memory
//     (func (export "xor") (param $p i32) (param $end i32) (param $key i32)
//       (local $k v128)
//       (local.set $k (i32x4.splat (local.get $key)))
//       ;; 128 bytes per iteration while p + 128 <= end, then 16, 4 and 1 bytes at a time
//       (block (loop
//         (br_if 1 (i32.gt_u (i32.add (local.get $p) (i32.const 128)) (local.get $end)))
//         (v128.store offset=0 (local.get $p)
//           (v128.xor (v128.load offset=0 (local.get $p)) (local.get $k)))
//         ...                                      ;; offsets 16, 32, ... 112
//         (local.set $p (i32.add (local.get $p) (i32.const 128)))
//         (br 0)))
//       ...                                        ;; the same with one v128 (16 bytes)
//       ...                                        ;; the same with i32.load / i32.store
//       (block (loop                               ;; the last 0 to 3 bytes
//         (br_if 1 (i32.gt_u (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
//         (i32.store8 (local.get $p) (i32.xor (i32.load8_u (local.get $p)) (local.get $key)))
//         (local.set $key (i32.shr_u (local.get $key) (i32.const 8)))
//         (local.set $p (i32.add (local.get $p) (i32.const 1)))
//         (br 0))))
//
// `xor(p, end, key)` XORs memory[p..end) with the little-endian key word: memory[p] takes the
// key's low byte. Wasm memory is little-endian on every host, so the word is built with
// shifts, not through a typed array.
//
// Every memory here is created with its maximum equal to its initial size, and the code has
// no `memory.grow`: a wasm memory's ArrayBuffer detaches when it grows, and views of these
// are handed out for good.

/**
 * Size in bytes of the scratch block ordinary bytes pass through (a multiple of 16). Of 8, 12,
 * 16, 24 and 32 KiB, 16 KiB (a third of L1) was fastest on 64 KiB: 2.5 µs in place against
 * 2.6 to 3.6 µs; smaller blocks pay the per-block calls more often, larger ones leave L1.
 */
export const SCRATCH_BLOCK = 16 * 1024;
/**
 * Where the block starts in the scratch memory. Large ArrayBuffers start on a 4 KiB page, and
 * copying between addresses equal mod 4 KiB stalls on false store-to-load dependencies (4K
 * aliasing): at offset 0 the 64 KiB round trip took 2.8 to 3.0 µs, at 2 KiB 2.6.
 */
const SCRATCH_OFFSET = 2048;
/** Bytes per wasm page (WebAssembly 2.0 §2.5.1). */
export const PAGE_SIZE = 64 * 1024;
/** Largest `allocateMaskBuffer` request: keeps every pointer far from i32 overflow. */
export const MAX_MASK_BUFFER_SIZE = 1024 * 1024 * 1024;

// Opcodes (WebAssembly 2.0 §5.4).
const BLOCK = 0x02;
const LOOP = 0x03;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const VOID = 0x40;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_LOAD = 0x28;
const I32_LOAD8_U = 0x2d;
const I32_STORE = 0x36;
const I32_STORE8 = 0x3a;
const I32_CONST = 0x41;
const I32_GT_U = 0x4b;
const I32_ADD = 0x6a;
const I32_XOR = 0x73;
const I32_SHR_U = 0x76;
/** Prefix of the vector instructions; the sub-opcode follows as a LEB128 number. */
const SIMD = 0xfd;
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const I32X4_SPLAT = 0x11;
const V128_XOR = 0x51;
const I32 = 0x7f;
const V128 = 0x7b;

// Locals of `xor`: the three parameters, then the splatted key.
const P = 0;
const END_P = 1;
const KEY = 2;
const K = 3;

/** Unsigned LEB128 (§5.2.2), for counts, sizes, indices and memory offsets. */
function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128, for `i32.const` (an unsigned encoding of 64..127 would read as negative). */
function s32(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A vector (§5.1.3): its length, then its items. */
function vec(items: number[][]): number[] {
  return [...u32(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...u32(content.length), ...content];
}

function name(text: string): number[] {
  return vec(Array.from(text, (c) => [c.charCodeAt(0)]));
}

/** Memory access immediates: alignment hint 0 (no promise: ranges start anywhere), offset. */
function memarg(offset: number): number[] {
  return [0, ...u32(offset)];
}

/** `memory[p + offset .. +16) ^= k` */
function xor16(offset: number): number[] {
  return [
    LOCAL_GET,
    P,
    LOCAL_GET,
    P,
    SIMD,
    ...u32(V128_LOAD),
    ...memarg(offset),
    LOCAL_GET,
    K,
    SIMD,
    ...u32(V128_XOR),
    SIMD,
    ...u32(V128_STORE),
    ...memarg(offset),
  ]; // deno-fmt-ignore
}

/** Runs `body` while `p + step <= end`, adding `step` to `p` after each pass. */
function stride(step: number, body: number[]): number[] {
  return [
    BLOCK,
    VOID,
    LOOP,
    VOID,
    LOCAL_GET,
    P,
    I32_CONST,
    ...s32(step),
    I32_ADD,
    LOCAL_GET,
    END_P,
    I32_GT_U,
    BR_IF,
    1,
    ...body,
    LOCAL_GET,
    P,
    I32_CONST,
    ...s32(step),
    I32_ADD,
    LOCAL_SET,
    P,
    BR,
    0,
    END,
    END,
  ]; // deno-fmt-ignore
}

/** memory[p] = load(memory[p]) XOR key, for an i32 `load` / `store` pair (a word or a byte). */
function xorScalar(load: number, store: number): number[] {
  return [
    LOCAL_GET,
    P,
    LOCAL_GET,
    P,
    load,
    ...memarg(0),
    LOCAL_GET,
    KEY,
    I32_XOR,
    store,
    ...memarg(0),
  ]; // deno-fmt-ignore
}

/** The module's bytes. Exported for the tests, which check them against the text above. */
export function assemble(): Uint8Array<ArrayBuffer> {
  const unrolled: number[] = [];
  for (let offset = 0; offset < 128; offset += 16) unrolled.push(...xor16(offset));
  const body = [
    LOCAL_GET,
    KEY,
    SIMD,
    ...u32(I32X4_SPLAT),
    LOCAL_SET,
    K,
    ...stride(128, unrolled),
    ...stride(16, xor16(0)),
    ...stride(4, xorScalar(I32_LOAD, I32_STORE)),
    ...stride(1, [
      ...xorScalar(I32_LOAD8_U, I32_STORE8),
      // The next byte takes the next key byte; at most three are left, so no rotation.
      LOCAL_GET,
      KEY,
      I32_CONST,
      ...s32(8),
      I32_SHR_U,
      LOCAL_SET,
      KEY,
    ]),
    END,
  ]; // deno-fmt-ignore
  const code = [...vec([[1, V128]]), ...body]; // one v128 local
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // "\0asm", version 1
    // Type section: type 0 is (i32, i32, i32) -> ().
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), ...vec([])]])),
    // Import section: "kernel" "memory", a memory (0x02) of at least 1 page (limits 0x00).
    ...section(2, vec([[...name("kernel"), ...name("memory"), 0x02, 0x00, ...u32(1)]])),
    // Function section: function 0 has type 0.
    ...section(3, vec([u32(0)])),
    // Export section: function 0 (0x00) as "xor".
    ...section(7, vec([[...name("xor"), 0x00, ...u32(0)]])),
    // Code section: the body of function 0.
    ...section(10, vec([[...u32(code.length), ...code]])),
  ]); // deno-fmt-ignore
}

type Xor = (p: number, end: number, key: number) => void;

/** undefined: not tried yet; null: unavailable (no WebAssembly, no SIMD, or refused). */
let module: WebAssembly.Module | null | undefined;
let enabled = true;
/** The kernel bound to the scratch memory, and the scratch block (a view of it). */
let scratchXor: Xor;
let scratch: Uint8Array;
/** The kernel bound to each memory from `allocateMaskBuffer`, by its ArrayBuffer. */
const owners = new WeakMap<ArrayBufferLike, Xor>();

function bind(memory: WebAssembly.Memory): Xor {
  const instance = new WebAssembly.Instance(module!, { kernel: { memory } });
  return instance.exports.xor as Xor;
}

/** Compiles the module and sets up the scratch block on first use; false if unavailable. */
function load(): boolean {
  if (module === undefined) {
    module = null;
    try {
      if (typeof WebAssembly === "object") {
        const bytes = assemble();
        // An engine without SIMD fails validation of the v128 instructions.
        if (WebAssembly.validate(bytes)) module = new WebAssembly.Module(bytes);
      }
      if (module !== null) {
        const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
        scratchXor = bind(memory);
        scratch = new Uint8Array(memory.buffer, SCRATCH_OFFSET, SCRATCH_BLOCK);
      }
    } catch {
      // Compilation can be refused (a page's CSP without 'wasm-unsafe-eval', V8's --jitless).
      module = null;
    }
  }
  return module !== null;
}

/** Whether the SIMD kernel is in use: WebAssembly SIMD is available and not turned off. */
export function simdAvailable(): boolean {
  return enabled && (module === undefined ? load() : module !== null);
}

/**
 * Turns the kernel off (the JavaScript word loops take over) or back on. For tests and
 * benches of the fallback; buffers from `allocateMaskBuffer` stay valid either way.
 */
export function setSimdEnabled(on: boolean): void {
  enabled = on;
}

/** The key bytes as the little-endian word the kernel takes (k0 for the first byte). */
function keyWord(k0: number, k1: number, k2: number, k3: number): number {
  return k0 | (k1 << 8) | (k2 << 16) | (k3 << 24);
}

/**
 * `length` zero bytes in a fixed-size wasm memory of their own, with a kernel bound to it;
 * `new Uint8Array(length)` where the kernel is unavailable. The caller checked `length`.
 */
export function allocateKernelBytes(length: number): Uint8Array {
  if (!simdAvailable()) return new Uint8Array(length);
  const pages = Math.max(1, Math.ceil(length / PAGE_SIZE));
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  owners.set(memory.buffer, bind(memory));
  return new Uint8Array(memory.buffer, 0, length);
}

/**
 * XORs `data[start..end)` in place, `data[start]` with k0, through the kernel: in place if
 * `data` lies in kernel memory, else through the scratch block. False if the kernel is off.
 */
export function simdXorRange(
  data: Uint8Array,
  start: number,
  end: number,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
): boolean {
  if (!simdAvailable()) return false;
  const key = keyWord(k0, k1, k2, k3);
  const own = owners.get(data.buffer);
  if (own !== undefined) {
    own(data.byteOffset + start, data.byteOffset + end, key);
    return true;
  }
  // Blocks are a multiple of 4 bytes long, so every block starts at key byte k0.
  for (let at = start; at < end; at += SCRATCH_BLOCK) {
    const n = Math.min(SCRATCH_BLOCK, end - at);
    scratch.set(n === data.length ? data : data.subarray(at, at + n));
    scratchXor(SCRATCH_OFFSET, SCRATCH_OFFSET + n, key);
    data.set(n === SCRATCH_BLOCK ? scratch : scratch.subarray(0, n), at);
  }
  return true;
}

/**
 * Writes `source` XOR the key into `target` from `targetOffset` (`source[0]` with k0), through
 * the kernel; `source` is not changed and must not overlap the target range. False if the
 * kernel is off.
 */
export function simdXorInto(
  source: Uint8Array,
  target: Uint8Array,
  targetOffset: number,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
): boolean {
  if (!simdAvailable()) return false;
  const key = keyWord(k0, k1, k2, k3);
  const length = source.length;
  const own = owners.get(target.buffer);
  if (own !== undefined) {
    // The target is kernel memory: one copy, then XOR in place there.
    target.set(source, targetOffset);
    const from = target.byteOffset + targetOffset;
    own(from, from + length, key);
    return true;
  }
  for (let at = 0; at < length; at += SCRATCH_BLOCK) {
    const n = Math.min(SCRATCH_BLOCK, length - at);
    scratch.set(n === length ? source : source.subarray(at, at + n));
    scratchXor(SCRATCH_OFFSET, SCRATCH_OFFSET + n, key);
    target.set(n === SCRATCH_BLOCK ? scratch : scratch.subarray(0, n), targetOffset + at);
  }
  return true;
}

// Gathering: one payload assembled from pieces (the decoder's chunks) in the scratch block,
// unmasked there a block at a time and copied out, so a payload in many small pieces costs
// one `set` per piece plus one kernel call and one copy out per block, not a call per piece.
// Module state, as the scratch block is: a gather runs start to finish inside one
// synchronous call (`FrameDecoder.next`), so two never interleave.
const EMPTY = new Uint8Array(0);
let gatherTarget: Uint8Array = EMPTY;
let gatherKey = 0;
/** Bytes of `gatherTarget` written so far, and bytes waiting in the scratch block. */
let gatherDone = 0;
let gatherUsed = 0;

/**
 * Starts unmasking a payload into `target` (target[0] takes k0). False if the kernel is off;
 * otherwise feed every byte with `gatherPush`, then call `gatherEnd`.
 */
export function gatherStart(
  target: Uint8Array,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
): boolean {
  if (!simdAvailable()) return false;
  gatherTarget = target;
  gatherKey = keyWord(k0, k1, k2, k3);
  gatherDone = 0;
  gatherUsed = 0;
  return true;
}

/** Adds the next piece of the payload. */
export function gatherPush(piece: Uint8Array): void {
  const length = piece.length;
  let at = 0;
  while (at < length) {
    const n = Math.min(SCRATCH_BLOCK - gatherUsed, length - at);
    scratch.set(n === length ? piece : piece.subarray(at, at + n), gatherUsed);
    at += n;
    gatherUsed += n;
    if (gatherUsed === SCRATCH_BLOCK) {
      scratchXor(SCRATCH_OFFSET, SCRATCH_OFFSET + SCRATCH_BLOCK, gatherKey);
      gatherTarget.set(scratch, gatherDone);
      gatherDone += SCRATCH_BLOCK;
      gatherUsed = 0;
    }
  }
}

/** Unmasks and copies out what is left in the scratch block, and lets go of the target. */
export function gatherEnd(): void {
  if (gatherUsed > 0) {
    scratchXor(SCRATCH_OFFSET, SCRATCH_OFFSET + gatherUsed, gatherKey);
    gatherTarget.set(scratch.subarray(0, gatherUsed), gatherDone);
  }
  gatherTarget = EMPTY;
}
