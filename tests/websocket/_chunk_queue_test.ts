import assert from "node:assert/strict";
import { ChunkQueue, GATHER_BELOW } from "../../lib/websocket/_chunk_queue.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** Every chunk left in the queue, shifted out in order. */
function shiftAll(queue: ChunkQueue): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let chunk = queue.shift(); chunk !== undefined; chunk = queue.shift()) out.push(chunk);
  return out;
}

function bytesOf(chunks: Uint8Array[]): number[] {
  return chunks.flatMap((chunk) => Array.from(chunk));
}

Deno.test("ChunkQueue returns its bytes in order across small and large chunks", () => {
  const queue = new ChunkQueue();
  const pushed: Uint8Array[] = [];
  let value = 0;
  for (const size of [1, 2, 3, GATHER_BELOW, 5, GATHER_BELOW - 1, 0, 2 * GATHER_BELOW, 7]) {
    const chunk = Uint8Array.from({ length: size }, () => value++ & 0xff);
    pushed.push(chunk);
    queue.push(chunk);
  }
  assert.deepEqual(bytesOf(shiftAll(queue)), bytesOf(pushed));
  assert.equal(queue.length, 0);
  assert.equal(queue.shift(), undefined);
});

Deno.test("ChunkQueue hands a chunk of GATHER_BELOW bytes or more back as the same view", () => {
  const queue = new ChunkQueue();
  const big = new Uint8Array(GATHER_BELOW);
  queue.push(new Uint8Array([1, 2]));
  queue.push(big);
  queue.push(new Uint8Array([3]));
  const [small, same, last] = shiftAll(queue);
  assert.deepEqual(small, new Uint8Array([1, 2]));
  assert.equal(same, big);
  assert.deepEqual(last, new Uint8Array([3]));
});

Deno.test("ChunkQueue joins consecutive small chunks into one copy", () => {
  const queue = new ChunkQueue();
  const a = new Uint8Array([1, 2]);
  const b = new Uint8Array([3]);
  queue.push(a);
  queue.push(b);
  assert.equal(queue.length, 1);
  const [run] = shiftAll(queue);
  assert.deepEqual(run, new Uint8Array([1, 2, 3]));
  assert.notEqual(run!.buffer, a.buffer);
  // A copy: changing the source afterwards does not change what was queued.
  a[0] = 9;
  assert.equal(run![0], 1);
});

Deno.test("ChunkQueue holds 1 MiB pushed in 1-byte chunks as a few dozen chunks", () => {
  const queue = new ChunkQueue();
  const source = Uint8Array.from({ length: MiB }, (_, i) => (i * 7) & 0xff);
  for (let i = 0; i < MiB; i++) queue.push(source.subarray(i, i + 1));
  // Blocks grow 1, 2, 4, 8 then 16 KiB, each holding one run (less the byte that did not fit).
  assert.ok(queue.length <= MiB / (16 * KiB - GATHER_BELOW) + 5, `${queue.length} chunks`);
  assert.deepEqual(queue.takeAll(MiB), source);
});

Deno.test("ChunkQueue never writes over bytes it handed out", () => {
  const queue = new ChunkQueue();
  queue.push(new Uint8Array([1, 2, 3]));
  queue.push(new Uint8Array(GATHER_BELOW)); // ends the run; the block stays in use
  queue.push(new Uint8Array([4]));
  const first = queue.shift()!;
  assert.deepEqual(first, new Uint8Array([1, 2, 3]));
  for (let i = 0; i < 4 * KiB; i++) queue.push(new Uint8Array([0xee]));
  assert.deepEqual(first, new Uint8Array([1, 2, 3]));
  assert.equal(queue.shift()!.length, GATHER_BELOW);
  const rest = shiftAll(queue);
  assert.deepEqual(bytesOf(rest), [4, ...new Array(4 * KiB).fill(0xee)]);
  assert.deepEqual(first, new Uint8Array([1, 2, 3]));
});

Deno.test("ChunkQueue keeps FIFO order over a million queued views, in linear time", () => {
  // With `Array.prototype.shift` this takes minutes (each shift moves the rest of the array):
  // the test then fails by the suite's timeout. Taking from an index is linear.
  const count = 1_000_000;
  const backing = new Uint8Array(GATHER_BELOW + 4);
  const queue = new ChunkQueue();
  // Views of one buffer, told apart by their offset.
  const view = (i: number) => backing.subarray(i % 4, (i % 4) + GATHER_BELOW);
  for (let i = 0; i < count; i++) queue.push(view(i));
  // Take all but a few, so the spent prefix is compacted rather than reset.
  for (let i = 0; i < count - 10; i++) assert.equal(queue.shift()!.byteOffset, i % 4);
  for (let i = count; i < count + 10; i++) queue.push(view(i));
  assert.equal(queue.length, 20);
  for (let i = count - 10; i < count + 10; i++) assert.equal(queue.shift()!.byteOffset, i % 4);
  assert.equal(queue.shift(), undefined);
});

Deno.test("ChunkQueue takeAll returns the only chunk itself, else one joined copy", () => {
  const queue = new ChunkQueue();
  const big = new Uint8Array(2 * GATHER_BELOW).fill(1);
  queue.push(big);
  assert.equal(queue.takeAll(big.length), big);
  queue.push(big);
  queue.push(new Uint8Array([2]));
  const joined = queue.takeAll(big.length + 1);
  assert.equal(joined.length, big.length + 1);
  assert.equal(joined.at(-1), 2);
  assert.equal(queue.length, 0);
  const empty = queue.takeAll(0);
  assert.equal(empty.length, 0);
  assert.notEqual(empty, queue.takeAll(0), "a fresh empty array each time");
});

Deno.test("ChunkQueue clear drops every chunk", () => {
  const queue = new ChunkQueue();
  queue.push(new Uint8Array(2 * GATHER_BELOW));
  queue.push(new Uint8Array(3));
  queue.clear();
  assert.equal(queue.length, 0);
  assert.equal(queue.shift(), undefined);
  queue.push(new Uint8Array([5]));
  assert.deepEqual(shiftAll(queue), [new Uint8Array([5])]);
});
