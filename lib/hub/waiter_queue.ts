/**
 * The long-poll waiter queue: a pure core (no timers; time passed in). Waiters are indexed two
 * ways: by channel, so a publish releases all of a channel's waiters at once, and in a binary
 * min-heap by deadline, so one timer (the earliest deadline) serves every waiter. Each waiter
 * is one small object holding its own heap index, so removal (a client gone away) is
 * O(log n) and immediate.
 *
 * @module
 */

/** What the queue needs of a waiter. `heapIndex` is the queue's own bookkeeping. */
export interface QueuedWaiter {
  /** Channel waited on. */
  readonly channel: string;
  /** When to give up, in the same unit as the `now` passed to `expire` (ms). */
  readonly deadline: number;
  /** Position in the deadline heap; -1 when not queued. Managed by the queue. */
  heapIndex: number;
}

/**
 * Waiters by channel and by deadline.
 *
 * @example Release by publish, expire by deadline
 * ```ts
 * import assert from "node:assert/strict";
 * import { WaiterQueue } from "./waiter_queue.ts";
 * const queue = new WaiterQueue();
 * const a = { channel: "news", deadline: 1000, heapIndex: -1 };
 * const b = { channel: "chat", deadline: 500, heapIndex: -1 };
 * queue.add(a);
 * queue.add(b);
 * assert.ok(queue.nextDeadline() === 500);
 * assert.ok(queue.takeChannel("news")[0] === a);
 * assert.ok(queue.expire(600)[0] === b && queue.size === 0);
 * ```
 */
export class WaiterQueue<W extends QueuedWaiter = QueuedWaiter> {
  readonly #byChannel = new Map<string, Set<W>>();
  readonly #heap: W[] = [];

  /** Number of waiters queued. */
  get size(): number {
    return this.#heap.length;
  }

  /** Number of waiters on `channel`. */
  countFor(channel: string): number {
    return this.#byChannel.get(channel)?.size ?? 0;
  }

  /** The earliest deadline, or undefined when empty. */
  nextDeadline(): number | undefined {
    return this.#heap[0]?.deadline;
  }

  /** Queues a waiter (not already queued). */
  add(waiter: W): void {
    if (waiter.heapIndex !== -1) throw new TypeError("Cannot add waiter: already queued");
    let set = this.#byChannel.get(waiter.channel);
    if (set === undefined) {
      set = new Set();
      this.#byChannel.set(waiter.channel, set);
    }
    set.add(waiter);
    waiter.heapIndex = this.#heap.length;
    this.#heap.push(waiter);
    this.#up(waiter.heapIndex);
  }

  /** Removes a waiter; returns false when it was not queued. */
  remove(waiter: W): boolean {
    if (waiter.heapIndex === -1) return false;
    this.#removeFromHeap(waiter);
    const set = this.#byChannel.get(waiter.channel);
    if (set !== undefined) {
      set.delete(waiter);
      if (set.size === 0) this.#byChannel.delete(waiter.channel);
    }
    return true;
  }

  /** Removes and returns every waiter on `channel`. */
  takeChannel(channel: string): W[] {
    const set = this.#byChannel.get(channel);
    if (set === undefined) return [];
    this.#byChannel.delete(channel);
    const out = [...set];
    for (const waiter of out) this.#removeFromHeap(waiter);
    return out;
  }

  /** Removes and returns every waiter whose deadline is at or before `now`. */
  expire(now: number): W[] {
    const out: W[] = [];
    while (this.#heap.length > 0 && this.#heap[0]!.deadline <= now) {
      const waiter = this.#heap[0]!;
      this.remove(waiter);
      out.push(waiter);
    }
    return out;
  }

  /** Removes and returns every waiter. */
  clear(): W[] {
    const out = [...this.#heap];
    for (const waiter of out) waiter.heapIndex = -1;
    this.#heap.length = 0;
    this.#byChannel.clear();
    return out;
  }

  #removeFromHeap(waiter: W): void {
    const heap = this.#heap;
    const index = waiter.heapIndex;
    const last = heap.pop()!;
    waiter.heapIndex = -1;
    if (last === waiter) return;
    heap[index] = last;
    last.heapIndex = index;
    this.#down(index);
    this.#up(last.heapIndex);
  }

  #up(index: number): void {
    const heap = this.#heap;
    const item = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (parent.deadline <= item.deadline) break;
      heap[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    heap[index] = item;
    item.heapIndex = index;
  }

  #down(index: number): void {
    const heap = this.#heap;
    const item = heap[index]!;
    const length = heap.length;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      const right = child + 1;
      if (right < length && heap[right]!.deadline < heap[child]!.deadline) child = right;
      if (heap[child]!.deadline >= item.deadline) break;
      heap[index] = heap[child]!;
      heap[index]!.heapIndex = index;
      index = child;
    }
    heap[index] = item;
    item.heapIndex = index;
  }
}
