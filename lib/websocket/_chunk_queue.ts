// A FIFO of byte chunks whose bookkeeping stays proportional to the bytes it holds, however
// the peer slices them. Private module: used by the frame decoder (received bytes) and the
// connection (fragments of a message), both of which hold chunks whose count the peer
// controls (1-byte TCP segments, 1-byte fragments).
//
// Two rules keep that linear in time and bounded in memory:
// - The front is taken by moving an index: `Array.prototype.shift` moves every element of a
//   long array, which made one frame fed 1 byte at a time quadratic. The spent prefix is
//   dropped once it is half the array, so each slot is moved at most once more.
// - A chunk under `GATHER_BELOW` bytes is copied into a shared block rather than held as a
//   view (a view costs ~100 bytes of heap whatever its length); consecutive small chunks form
//   one run. So the queue holds at most one view per 1 KiB, plus one per block. Blocks grow
//   from 1 KiB to 16 KiB and are let go when the queue empties: an idle queue holds nothing.

const EMPTY = new Uint8Array(0);

/** Chunks shorter than this are copied into a block instead of being held as views. */
export const GATHER_BELOW = 1024;
/** Largest block small chunks are copied into; a run never spans blocks. */
const MAX_BLOCK_SIZE = 16 * 1024;
/** Compact no earlier than this many spent slots, so short queues never pay for it. */
const COMPACT_AFTER = 64;

/**
 * A FIFO of byte chunks: {@linkcode push} at the back, {@linkcode shift} or
 * {@linkcode takeAll} from the front, each O(1) amortized per chunk.
 *
 * A chunk of at least {@linkcode GATHER_BELOW} bytes comes out as the same view it went in
 * as; smaller ones come out copied, joined with their small neighbours. Bytes of a block
 * already handed out are never written again, so views returned stay valid.
 */
export class ChunkQueue {
  #chunks: Uint8Array[] = [];
  /** Index of the front chunk in `#chunks`; slots before it are spent. */
  #first = 0;
  #block: Uint8Array = EMPTY;
  /** Bytes of `#block` written so far. */
  #blockEnd = 0;
  #nextBlockSize = GATHER_BELOW;
  /** Start in `#block` of the open run of small chunks, which follows `#chunks`; -1: none. */
  #runStart = -1;

  /** How many chunks {@linkcode shift} would return: the bookkeeping held. */
  get length(): number {
    return this.#chunks.length - this.#first + (this.#runStart >= 0 ? 1 : 0);
  }

  /** Appends `chunk` (empty ones are ignored). */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (n >= GATHER_BELOW) {
      this.#closeRun();
      this.#chunks.push(chunk);
      return;
    }
    if (this.#block.length - this.#blockEnd < n) {
      this.#closeRun();
      const size = this.#nextBlockSize;
      this.#block = new Uint8Array(size);
      this.#blockEnd = 0;
      this.#nextBlockSize = Math.min(2 * size, MAX_BLOCK_SIZE);
    }
    if (this.#runStart < 0) this.#runStart = this.#blockEnd;
    this.#block.set(chunk, this.#blockEnd);
    this.#blockEnd += n;
  }

  /** Removes and returns the front chunk, or `undefined` when the queue is empty. */
  shift(): Uint8Array | undefined {
    const chunks = this.#chunks;
    const first = this.#first;
    if (first === chunks.length) {
      if (this.#runStart < 0) return undefined;
      const run = this.#block.subarray(this.#runStart, this.#blockEnd);
      this.#releaseBlock();
      return run;
    }
    const chunk = chunks[first]!;
    if (first + 1 === chunks.length) {
      chunks.length = 0;
      this.#first = 0;
      if (this.#runStart < 0) this.#releaseBlock();
    } else if (first + 1 >= COMPACT_AFTER && 2 * (first + 1) >= chunks.length) {
      // Moves fewer slots than were taken since the last compaction: amortized O(1).
      chunks.copyWithin(0, first + 1);
      chunks.length -= first + 1;
      this.#first = 0;
    } else {
      chunks[first] = EMPTY; // the caller owns it now; do not keep it alive
      this.#first = first + 1;
    }
    return chunk;
  }

  /**
   * Removes every chunk and returns their bytes as one array: the chunk itself when there
   * is only one, else one copy.
   *
   * @param size The total length of the chunks held.
   */
  takeAll(size: number): Uint8Array {
    const only = this.shift();
    if (only === undefined) return new Uint8Array(0);
    let next = this.shift();
    if (next === undefined) return only;
    const out = new Uint8Array(size);
    out.set(only, 0);
    let offset = only.length;
    do {
      out.set(next, offset);
      offset += next.length;
      next = this.shift();
    } while (next !== undefined);
    return out;
  }

  /** Drops every chunk. */
  clear(): void {
    this.#chunks = [];
    this.#first = 0;
    this.#releaseBlock();
  }

  /** Lets the block go (views handed out keep it alive as long as they need it). */
  #releaseBlock(): void {
    this.#block = EMPTY;
    this.#blockEnd = 0;
    this.#runStart = -1;
    this.#nextBlockSize = GATHER_BELOW;
  }

  #closeRun(): void {
    if (this.#runStart < 0) return;
    this.#chunks.push(this.#block.subarray(this.#runStart, this.#blockEnd));
    this.#runStart = -1;
  }
}
