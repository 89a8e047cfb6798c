/**
 * The bounded queue between the hub's fan-out and one subscriber: a pure core.
 *
 * Slow-consumer policy: a subscriber that falls behind by more than `maxMessages` messages or
 * `maxBytes` bytes is disconnected, not buffered without end. The queue refuses the message
 * that would overflow it and becomes `overflowed`; what it already holds is still delivered
 * (those messages are consecutive), then the subscriber ends with its resume cursor intact:
 * the id of the last message it consumed. Reconnecting with that cursor catches up from
 * history (or is told `reset` if history has moved past it).
 *
 * @module
 */
import type { Message } from "./message.ts";

/** Default most messages queued for one subscriber. */
export const DEFAULT_SUBSCRIBER_MAX_MESSAGES = 1000;
/** Default most bytes queued for one subscriber: 1 MiB. */
export const DEFAULT_SUBSCRIBER_MAX_BYTES: number = 1024 * 1024;

/** Bounds of a {@linkcode SubscriberQueue}. */
export interface SubscriberQueueLimits {
  /**
   * Most messages waiting.
   * @default {1000}
   */
  readonly maxMessages?: number;
  /**
   * Most bytes waiting (sum of `messageSize`).
   * @default {1048576}
   */
  readonly maxBytes?: number;
}

/**
 * A FIFO of messages with count and byte bounds.
 *
 * @example Overflow disconnects instead of growing
 * ```ts
 * import assert from "node:assert/strict";
 * import { SubscriberQueue } from "./subscriber_queue.ts";
 * const queue = new SubscriberQueue({ maxMessages: 1 });
 * assert.ok(queue.push({ id: "1", channel: "c", data: 1, time: 0 }, 10));
 * assert.ok(!queue.push({ id: "2", channel: "c", data: 2, time: 0 }, 10));
 * assert.ok(queue.overflowed && queue.shift()?.id === "1");
 * ```
 */
export class SubscriberQueue {
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  #items: { message: Message; bytes: number }[] = [];
  #head = 0;
  #bytes = 0;
  #overflowed = false;

  /** Creates an empty queue. */
  constructor(limits: SubscriberQueueLimits = {}) {
    this.#maxMessages = limits.maxMessages ?? DEFAULT_SUBSCRIBER_MAX_MESSAGES;
    this.#maxBytes = limits.maxBytes ?? DEFAULT_SUBSCRIBER_MAX_BYTES;
    if (!(this.#maxMessages >= 1) || !(this.#maxBytes >= 1)) {
      throw new RangeError("Cannot create subscriber queue: limits must be >= 1");
    }
  }

  /** Messages waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True once half of either bound is used: a consumer that lets messages gather should take them. */
  get halfFull(): boolean {
    return this.length * 2 >= this.#maxMessages || this.#bytes * 2 >= this.#maxBytes;
  }

  /** True once a push was refused: the subscriber must be disconnected. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /**
   * Appends a message of `bytes` bytes. Returns false (and refuses it, now and for every later
   * push) when it would exceed a bound; a lone message larger than `maxBytes` is accepted into
   * an empty queue so one big message cannot wedge a subscriber.
   */
  push(message: Message, bytes: number): boolean {
    if (this.#overflowed) return false;
    const length = this.length;
    if (length >= this.#maxMessages || (length > 0 && this.#bytes + bytes > this.#maxBytes)) {
      this.#overflowed = true;
      return false;
    }
    this.#items.push({ message, bytes });
    this.#bytes += bytes;
    return true;
  }

  /** Removes and returns the oldest message. */
  shift(): Message | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head] = undefined as unknown as { message: Message; bytes: number };
    this.#head++;
    this.#bytes -= item.bytes;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 64 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item.message;
  }

  /** Removes queued messages from the front while `drop(message)` is true. */
  dropWhile(drop: (message: Message) => boolean): void {
    while (this.length > 0 && drop(this.#items[this.#head]!.message)) this.shift();
  }

  /** Removes every message. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
