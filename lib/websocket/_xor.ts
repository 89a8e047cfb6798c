// The masking loops behind `mask.ts`, the decoder and the encoder. Private: the public,
// validated entry points are `mask` and `maskCopy`.
//
// RFC 6455 §5.3: byte i of the payload is XORed with byte (i mod 4) of the masking key.
// The key is passed as four numbers (k0 = the key byte for the first byte of the range, then
// k1, k2, k3) so callers holding a key inside a header or a random pool need no 4-byte view.
//
// Speed: from SIMD_THRESHOLD bytes on, the WebAssembly SIMD kernel in `_simd.ts` does the
// work where it is available (16 bytes per instruction, even counting the copies into and out
// of its memory). Below that, or without it: from WORD_THRESHOLD bytes on, the loop works on
// 32-bit words through an Int32Array over the 4-aligned middle (unrolled by 8, top down), with
// the key rotated to the first word's phase; the unaligned head and the tail go byte by byte.
// Shorter ranges take the byte loop only, since creating a word view (tens of nanoseconds)
// costs more than it saves there.

import { simdXorInto, simdXorRange } from "./_simd.ts";

/** Ranges shorter than this take the byte loop only. */
const WORD_THRESHOLD = 64;
/**
 * From these lengths the SIMD kernel takes over (in place, and masking into another buffer).
 * Below them its fixed cost (two `set` calls, a view, the call into wasm: 50 to 60 ns) is more
 * than the word loop's time; the masked copy's word loop is slower, so it breaks even sooner.
 */
export const SIMD_THRESHOLD = 1024;
export const SIMD_COPY_THRESHOLD = 512;
/**
 * From this length `xorInto` masks while copying (one pass, two word views); below it copies
 * with `set` (a memcpy) and then masks in place, which needs one word view fewer.
 */
const ONE_PASS_THRESHOLD = 2048;

// Scratch for turning four key bytes into one host-endian word, so the code is correct on
// either byte order without checking which one this machine has.
const keyBytes = new Uint8Array(4);
const keyWord = new Int32Array(keyBytes.buffer);

/** Returns the host-endian 32-bit word whose bytes, in memory order, are a, b, c, d. */
function wordOf(a: number, b: number, c: number, d: number): number {
  keyBytes[0] = a;
  keyBytes[1] = b;
  keyBytes[2] = c;
  keyBytes[3] = d;
  return keyWord[0]!;
}

/**
 * XORs `data[start..end)` in place, `data[start]` with k0, the next byte with k1, and so on.
 *
 * `words`, if given, must be an Int32Array over the whole of `data.buffer` from byte 0; callers
 * that mask many ranges of one buffer (the encoder's slab) pass it to save creating a view.
 */
export function xorRange(
  data: Uint8Array,
  start: number,
  end: number,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
  words?: Int32Array,
): void {
  if (end - start < WORD_THRESHOLD) {
    xorBytes(data, start, end, k0, k1, k2, k3);
    return;
  }
  if (end - start >= SIMD_THRESHOLD && simdXorRange(data, start, end, k0, k1, k2, k3)) return;
  // Bytes before the first 4-aligned address take k0, k1, k2 in turn.
  const head = -(data.byteOffset + start) & 3;
  if (head > 0) {
    data[start]! ^= k0;
    if (head > 1) {
      data[start + 1]! ^= k1;
      if (head > 2) data[start + 2]! ^= k2;
    }
  }
  // The word loop and the tail start at key position `head`: rotate the key once.
  let r0 = k0, r1 = k1, r2 = k2, r3 = k3;
  if (head === 1) {
    r0 = k1, r1 = k2, r2 = k3, r3 = k0;
  } else if (head === 2) {
    r0 = k2, r1 = k3, r2 = k0, r3 = k1;
  } else if (head === 3) {
    r0 = k3, r1 = k0, r2 = k1, r3 = k2;
  }
  const from = start + head;
  const count = (end - from) >>> 2;
  const kw = wordOf(r0, r1, r2, r3);
  if (words === undefined) {
    xorWords(new Int32Array(data.buffer, data.byteOffset + from, count), 0, count, kw);
  } else {
    const first = (data.byteOffset + from) >>> 2;
    xorWords(words, first, first + count, kw);
  }
  xorBytes(data, from + (count << 2), end, r0, r1, r2, r3);
}

/** XORs `data[from..end)` byte by byte, `data[from]` with k0; four per iteration. */
function xorBytes(
  data: Uint8Array,
  from: number,
  end: number,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
): void {
  let i = from;
  for (const last = end - 3; i < last; i += 4) {
    data[i]! ^= k0;
    data[i + 1]! ^= k1;
    data[i + 2]! ^= k2;
    data[i + 3]! ^= k3;
  }
  if (i < end) {
    data[i]! ^= k0;
    if (i + 1 < end) {
      data[i + 1]! ^= k1;
      if (i + 2 < end) data[i + 2]! ^= k2;
    }
  }
}

// The word loops run from the top down: the first access of each block is its highest index,
// so once it passed its bounds check V8 can drop the checks of the seven below it. Measured on
// 64 KiB: about 2× faster in place than the same loop running upwards, 3× for the copy.

/** XORs `w[from..end)` in place with `kw`, eight words per iteration. */
function xorWords(w: Int32Array, from: number, end: number, kw: number): void {
  for (let i = end - 1; i >= from + 7; i -= 8) {
    w[i]! ^= kw;
    w[i - 1]! ^= kw;
    w[i - 2]! ^= kw;
    w[i - 3]! ^= kw;
    w[i - 4]! ^= kw;
    w[i - 5]! ^= kw;
    w[i - 6]! ^= kw;
    w[i - 7]! ^= kw;
  }
  // The (end - from) mod 8 words left at the bottom.
  for (let i = from, stop = from + ((end - from) & 7); i < stop; i++) w[i]! ^= kw;
}

/** Writes `s[i] ^ kw` into `t[i]` for `n` words, eight per iteration (top down, as above). */
function xorWordsInto(s: Int32Array, t: Int32Array, n: number, kw: number): void {
  for (let i = n - 1; i >= 7; i -= 8) {
    t[i] = s[i]! ^ kw;
    t[i - 1] = s[i - 1]! ^ kw;
    t[i - 2] = s[i - 2]! ^ kw;
    t[i - 3] = s[i - 3]! ^ kw;
    t[i - 4] = s[i - 4]! ^ kw;
    t[i - 5] = s[i - 5]! ^ kw;
    t[i - 6] = s[i - 6]! ^ kw;
    t[i - 7] = s[i - 7]! ^ kw;
  }
  for (let i = 0, stop = n & 7; i < stop; i++) t[i] = s[i]! ^ kw;
}

/** Writes `source[from..end)` XOR the key into `target` from `at`, byte by byte (k0 first). */
function xorBytesInto(
  source: Uint8Array,
  from: number,
  end: number,
  target: Uint8Array,
  at: number,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
): void {
  let i = from;
  let t = at;
  for (const last = end - 3; i < last; i += 4, t += 4) {
    target[t] = source[i]! ^ k0;
    target[t + 1] = source[i + 1]! ^ k1;
    target[t + 2] = source[i + 2]! ^ k2;
    target[t + 3] = source[i + 3]! ^ k3;
  }
  if (i < end) {
    target[t] = source[i]! ^ k0;
    if (i + 1 < end) {
      target[t + 1] = source[i + 1]! ^ k1;
      if (i + 2 < end) target[t + 2] = source[i + 2]! ^ k2;
    }
  }
}

/**
 * Writes `source` XOR the key into `target` from `targetOffset` (`source[0]` with k0). The
 * caller has checked that the range fits and that it does not overlap `source` (comparing
 * `.buffer`s costs tens of nanoseconds, so the encoder, whose target is always fresh, skips
 * it). `words` is passed on to {@linkcode xorRange}.
 */
export function xorInto(
  source: Uint8Array,
  target: Uint8Array,
  targetOffset: number,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
  words?: Int32Array,
): void {
  const length = source.length;
  if (length < WORD_THRESHOLD) {
    // Short: one pass byte by byte beats even calling set().
    xorBytesInto(source, 0, length, target, targetOffset, k0, k1, k2, k3);
    return;
  }
  if (length >= SIMD_COPY_THRESHOLD && simdXorInto(source, target, targetOffset, k0, k1, k2, k3)) {
    return;
  }
  const sourceAt = source.byteOffset;
  const targetAt = target.byteOffset + targetOffset;
  if (length < ONE_PASS_THRESHOLD || ((sourceAt - targetAt) & 3) !== 0) {
    // Two fast passes (memcpy, then words in place) when the input is small or when the sides
    // differ in alignment (word views need the same). Either beats one pass byte by byte.
    target.set(source, targetOffset);
    xorRange(target, targetOffset, targetOffset + length, k0, k1, k2, k3, words);
    return;
  }
  const head = -sourceAt & 3;
  xorBytesInto(source, 0, head, target, targetOffset, k0, k1, k2, k3);
  let r0 = k0, r1 = k1, r2 = k2, r3 = k3;
  if (head === 1) {
    r0 = k1, r1 = k2, r2 = k3, r3 = k0;
  } else if (head === 2) {
    r0 = k2, r1 = k3, r2 = k0, r3 = k1;
  } else if (head === 3) {
    r0 = k3, r1 = k0, r2 = k1, r3 = k2;
  }
  const count = (length - head) >>> 2;
  xorWordsInto(
    new Int32Array(source.buffer, sourceAt + head, count),
    new Int32Array(target.buffer, targetAt + head, count),
    count,
    wordOf(r0, r1, r2, r3),
  );
  const done = head + (count << 2);
  xorBytesInto(source, done, length, target, targetOffset + done, r0, r1, r2, r3);
}
