/**
 * The embedded broker: history in process memory, ids `EPOCH-SEQ`.
 *
 * Ids: `EPOCH` is the broker's start time in base 36 (one per incarnation), `SEQ` a counter
 * shared by all channels, so ids grow strictly within a channel even when an idle channel is
 * freed and re-created. A cursor from another incarnation is answered with `reset: true` and
 * the whole retained history: never silent loss, and never a client waiting forever for ids
 * that will not come. A cursor of this incarnation ahead of every id it issued was never
 * given out: `HUB_ERR_UNKNOWN_CURSOR` (400).
 *
 * Memory: history is bounded per channel (see `HistoryLimits`) and pruned lazily when a channel
 * is touched, plus a sweep of two other channels per publish. A channel left with no message
 * is freed; it leaves a tombstone (name and newest dropped seq, at most `maxTombstones`) so a
 * reader behind it still gets `reset`. Evicted tombstones raise one broker-wide floor:
 * conservative (a spurious `reset` at worst), never lossy.
 *
 * @module
 */
import type { Broker, MessageListener, PublishInput, ReadResult } from "./broker.ts";
import { ChannelHistory, type HistoryLimits } from "./channel_history.ts";
import { type HubError, hubError } from "./hub_error.ts";
import { type Message, messageSize } from "./message.ts";
import { formatMemoryId, isEpoch, type MemoryId, parseMemoryId } from "./_memory_id.ts";

/** Default most tombstones of freed channels remembered. */
export const DEFAULT_MAX_TOMBSTONES = 100_000;

/** Options of {@linkcode MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** Per-channel history bounds. */
  readonly history?: HistoryLimits;
  /**
   * Clock in milliseconds since the Unix epoch (inject one in tests).
   * @default {Date.now}
   */
  readonly now?: () => number;
  /**
   * Incarnation prefix of every id, `[0-9a-z]{1,16}`.
   * @default {the start time in base 36}
   */
  readonly epoch?: string;
  /**
   * Most freed channels whose drop floor is remembered exactly.
   * @default {100000}
   */
  readonly maxTombstones?: number;
}

/**
 * An in-process {@linkcode Broker}.
 *
 * @example Publish and read back
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryBroker } from "./memory_broker.ts";
 * const broker = new MemoryBroker({ epoch: "a" });
 * const message = await broker.publish({ channel: "news", data: "hello" });
 * assert.ok(message.id === "a-1");
 * const result = await broker.read("news");
 * assert.ok(result.type === "messages" && result.messages.length === 1);
 * await broker.close();
 * ```
 */
export class MemoryBroker implements Broker {
  readonly #limits: HistoryLimits;
  readonly #now: () => number;
  readonly #epoch: string;
  readonly #maxTombstones: number;
  readonly #channels = new Map<string, ChannelHistory>();
  readonly #tombstones = new Map<string, number>();
  readonly #listeners = new Map<string, Set<MessageListener>>();
  #evictedFloor = 0;
  #seq = 0;
  #sweep: Iterator<string> | undefined;
  #closed = false;

  /** Creates a broker; `options.history` bounds each channel. */
  constructor(options: MemoryBrokerOptions = {}) {
    this.#limits = options.history ?? {};
    new ChannelHistory(this.#limits); // validates the limits now, not at first publish
    this.#now = options.now ?? Date.now;
    this.#epoch = options.epoch ?? Date.now().toString(36);
    if (!isEpoch(this.#epoch)) {
      throw new TypeError(`Cannot create broker: epoch "${this.#epoch}" is not [0-9a-z]{1,16}`);
    }
    this.#maxTombstones = options.maxTombstones ?? DEFAULT_MAX_TOMBSTONES;
  }

  /** The incarnation prefix of this broker's ids. */
  get epoch(): string {
    return this.#epoch;
  }

  /** Number of channels holding history (freed channels excluded). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Stores a message and calls the channel's listeners before resolving. */
  publish(input: PublishInput): Promise<Message> {
    if (this.#closed) return Promise.reject(new TypeError("Cannot publish: broker is closed"));
    const now = this.#now();
    const seq = ++this.#seq;
    const message: Message = input.event === undefined
      ? {
        id: formatMemoryId(this.#epoch, seq),
        channel: input.channel,
        data: input.data,
        time: now,
      }
      : {
        id: formatMemoryId(this.#epoch, seq),
        channel: input.channel,
        event: input.event,
        data: input.data,
        time: now,
      };
    let history = this.#channels.get(input.channel);
    if (history === undefined) {
      const floor = this.#tombstones.get(input.channel) ?? this.#evictedFloor;
      this.#tombstones.delete(input.channel);
      history = new ChannelHistory(this.#limits, floor);
      this.#channels.set(input.channel, history);
    } else {
      history.prune(now);
    }
    history.append({ seq, message, bytes: messageSize(message) });
    this.#sweepSome(now, input.channel, 2);
    const listeners = this.#listeners.get(input.channel);
    if (listeners !== undefined) {
      for (const listener of listeners) {
        try {
          listener(message);
        } catch {
          // A listener must not throw (see MessageListener); one that does cannot stop the others.
        }
      }
    }
    return Promise.resolve(message);
  }

  /** Reads retained messages after `after`; see {@linkcode ReadResult}. */
  read(channel: string, after?: string): Promise<ReadResult | HubError> {
    if (this.#closed) return Promise.reject(new TypeError("Cannot read: broker is closed"));
    return Promise.resolve(this.readNow(channel, after));
  }

  /** The synchronous body of {@linkcode MemoryBroker.read}. */
  readNow(channel: string, after?: string): ReadResult | HubError {
    const history = this.#touch(channel);
    if (after === undefined) {
      return {
        type: "messages",
        messages: history?.all() ?? [],
        cursor: this.#cursorOf(history),
        reset: false,
      };
    }
    const id = parseMemoryId(after);
    if (id === undefined) {
      return hubError(
        "HUB_ERR_INVALID_CURSOR",
        400,
        `Cannot read channel "${channel}": cursor "${truncate(after)}" is malformed`,
      );
    }
    if (id.epoch === this.#epoch && id.seq > this.#seq) {
      // Never issued by this incarnation: a forged or corrupted cursor, not lost history.
      return hubError(
        "HUB_ERR_UNKNOWN_CURSOR",
        400,
        `Cannot read channel "${channel}": cursor "${truncate(after)}" was never issued`,
      );
    }
    if (this.#isLost(channel, history, id)) {
      return {
        type: "messages",
        messages: history?.all() ?? [],
        cursor: this.#cursorOf(history),
        reset: true,
      };
    }
    const messages = history?.after(id.seq) ?? [];
    return {
      type: "messages",
      messages,
      cursor: messages.length > 0
        ? messages[messages.length - 1]!.id
        : formatMemoryId(this.#epoch, id.seq),
      reset: false,
    };
  }

  /** The cursor right after the channel's newest message. */
  position(channel: string): Promise<string> {
    if (this.#closed) return Promise.reject(new TypeError("Cannot read: broker is closed"));
    return Promise.resolve(this.#cursorOf(this.#touch(channel)));
  }

  /** Calls `listener` with each new message of `channel`, synchronously within `publish`. */
  subscribe(channel: string, listener: MessageListener): Promise<() => void> {
    if (this.#closed) return Promise.reject(new TypeError("Cannot subscribe: broker is closed"));
    let listeners = this.#listeners.get(channel);
    if (listeners === undefined) {
      listeners = new Set();
      this.#listeners.set(channel, listeners);
    }
    listeners.add(listener);
    return Promise.resolve(() => {
      const set = this.#listeners.get(channel);
      if (set === undefined) return;
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(channel);
    });
  }

  /** Orders two ids by sequence number (ids of one incarnation). */
  compareIds(a: string, b: string): number {
    const x = parseMemoryId(a);
    const y = parseMemoryId(b);
    if (x === undefined || y === undefined) {
      throw new TypeError(`Cannot compare ids "${truncate(a)}" and "${truncate(b)}": malformed`);
    }
    return x.seq - y.seq;
  }

  /** Drops all history and listeners. */
  close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
    this.#tombstones.clear();
    this.#listeners.clear();
    return Promise.resolve();
  }

  /** Whether messages after `id` may have been dropped (or `id` is not ours). */
  #isLost(channel: string, history: ChannelHistory | undefined, id: MemoryId): boolean {
    if (id.epoch !== this.#epoch) return true; // another incarnation: its history is gone
    const floor = history?.floor ?? this.#tombstones.get(channel) ?? this.#evictedFloor;
    return id.seq < floor;
  }

  #cursorOf(history: ChannelHistory | undefined): string {
    // An empty channel's position is the broker-wide counter: every later id is above it.
    return history?.last?.message.id ?? formatMemoryId(this.#epoch, this.#seq);
  }

  /** Prunes `channel` by age, freeing it when empty; returns its history if any. */
  #touch(channel: string): ChannelHistory | undefined {
    const history = this.#channels.get(channel);
    if (history === undefined) return undefined;
    history.prune(this.#now());
    if (history.length > 0) return history;
    this.#free(channel, history);
    return undefined;
  }

  #free(channel: string, history: ChannelHistory): void {
    this.#channels.delete(channel);
    if (history.floor <= this.#evictedFloor) return;
    this.#tombstones.set(channel, history.floor);
    if (this.#tombstones.size > this.#maxTombstones) {
      const [oldest, floor] = this.#tombstones.entries().next().value as [string, number];
      this.#tombstones.delete(oldest);
      if (floor > this.#evictedFloor) this.#evictedFloor = floor;
    }
  }

  /** Incremental sweep: prune up to `budget` channels other than `skip`, round robin. */
  #sweepSome(now: number, skip: string, budget: number): void {
    for (let tries = 0; budget > 0 && tries < budget + 1; tries++) {
      this.#sweep ??= this.#channels.keys();
      const next = this.#sweep.next();
      if (next.done) {
        this.#sweep = undefined;
        continue;
      }
      const channel = next.value;
      if (channel === skip) continue;
      budget--;
      const history = this.#channels.get(channel);
      if (history === undefined) continue;
      history.prune(now);
      if (history.length === 0) this.#free(channel, history);
    }
  }
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
