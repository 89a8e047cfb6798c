/**
 * The bounded history of one channel: a pure core (no clock, no timers; time passed in).
 * Bounded by count, bytes and age; pruned lazily when touched.
 *
 * @module
 */
import type { Message } from "./message.ts";

/** Default most messages kept per channel. */
export const DEFAULT_HISTORY_MAX_MESSAGES = 1000;
/** Default most bytes (UTF-8 JSON of the messages) kept per channel: 4 MiB. */
export const DEFAULT_HISTORY_MAX_BYTES: number = 4 * 1024 * 1024;
/** Default oldest message kept: 1 hour, in milliseconds. */
export const DEFAULT_HISTORY_MAX_AGE_MS: number = 60 * 60 * 1000;

/** Limits of one channel's history. The newest message is always kept, whatever its size. */
export interface HistoryLimits {
  /**
   * Most messages kept.
   * @default {1000}
   */
  readonly maxMessages?: number;
  /**
   * Most bytes kept (sum of each message's UTF-8 JSON size).
   * @default {4194304}
   */
  readonly maxBytes?: number;
  /**
   * Messages older than this many milliseconds are dropped.
   * @default {3600000}
   */
  readonly maxAgeMs?: number;
}

/** One retained message with its broker sequence number and size. */
export interface HistoryEntry {
  /** Broker sequence number: strictly increasing within the channel. */
  readonly seq: number;
  /** The message. */
  readonly message: Message;
  /** Its size in bytes. */
  readonly bytes: number;
}

function positiveLimit(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value > 0)) {
    throw new RangeError(`Cannot create history: ${name} must be > 0, got ${value}`);
  }
  return value;
}

/**
 * The retained messages of one channel, oldest first, with the sequence number of the newest
 * dropped one (`floor`), so a reader behind it is told it lost data.
 *
 * @example Keep the last two messages
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChannelHistory } from "./channel_history.ts";
 * const history = new ChannelHistory({ maxMessages: 2 });
 * for (let seq = 1; seq <= 3; seq++) {
 *   history.append({ seq, bytes: 10, message: { id: `${seq}`, channel: "c", data: seq, time: 0 } });
 * }
 * assert.ok(history.length === 2 && history.floor === 1);
 * assert.ok(history.after(2).length === 1);
 * ```
 */
export class ChannelHistory {
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  #entries: HistoryEntry[] = [];
  #head = 0;
  #bytes = 0;
  #floor: number;

  /**
   * Creates an empty history.
   *
   * @param limits count, byte and age bounds
   * @param floor sequence number of the newest message already dropped (0: none)
   */
  constructor(limits: HistoryLimits = {}, floor = 0) {
    this.#maxMessages = positiveLimit(
      limits.maxMessages,
      DEFAULT_HISTORY_MAX_MESSAGES,
      "maxMessages",
    );
    this.#maxBytes = positiveLimit(limits.maxBytes, DEFAULT_HISTORY_MAX_BYTES, "maxBytes");
    this.#maxAgeMs = positiveLimit(limits.maxAgeMs, DEFAULT_HISTORY_MAX_AGE_MS, "maxAgeMs");
    this.#floor = floor;
  }

  /** Number of retained messages. */
  get length(): number {
    return this.#entries.length - this.#head;
  }

  /** Total bytes of the retained messages. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Sequence number of the newest dropped message (0 when nothing was ever dropped). */
  get floor(): number {
    return this.#floor;
  }

  /** The newest retained entry, if any. */
  get last(): HistoryEntry | undefined {
    return this.length > 0 ? this.#entries[this.#entries.length - 1] : undefined;
  }

  /**
   * Appends an entry (its `seq` must be above every retained one) and enforces the count and
   * byte bounds. Returns how many entries were dropped.
   */
  append(entry: HistoryEntry): number {
    const last = this.last;
    if (last !== undefined && entry.seq <= last.seq) {
      throw new RangeError(
        `Cannot append to history: seq ${entry.seq} is not above the newest ${last.seq}`,
      );
    }
    this.#entries.push(entry);
    this.#bytes += entry.bytes;
    let dropped = 0;
    while (
      this.length > 1 && (this.length > this.#maxMessages || this.#bytes > this.#maxBytes)
    ) {
      this.#dropOldest();
      dropped++;
    }
    this.#compact();
    return dropped;
  }

  /** Drops every entry older than the age bound at `now` (ms). Returns how many. */
  prune(now: number): number {
    const oldest = now - this.#maxAgeMs;
    let dropped = 0;
    while (this.length > 0 && this.#entries[this.#head]!.message.time < oldest) {
      this.#dropOldest();
      dropped++;
    }
    this.#compact();
    return dropped;
  }

  /** The retained messages with a sequence number above `seq`, oldest first. */
  after(seq: number): Message[] {
    const entries = this.#entries;
    let low = this.#head;
    let high = entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (entries[mid]!.seq <= seq) low = mid + 1;
      else high = mid;
    }
    const out = new Array<Message>(entries.length - low);
    for (let i = low; i < entries.length; i++) out[i - low] = entries[i]!.message;
    return out;
  }

  /** Every retained message, oldest first. */
  all(): Message[] {
    return this.after(-Infinity);
  }

  #dropOldest(): void {
    const entry = this.#entries[this.#head]!;
    this.#entries[this.#head] = undefined as unknown as HistoryEntry; // release for GC
    this.#head++;
    this.#bytes -= entry.bytes;
    this.#floor = entry.seq;
  }

  #compact(): void {
    // Amortized O(1): shift the array only when the dropped prefix is the larger half.
    if (this.#head > 64 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    } else if (this.#head === this.#entries.length) {
      this.#entries = [];
      this.#head = 0;
    }
  }
}
