/**
 * The hub: channels over a {@linkcode Broker}, with local fan-out to subscriptions and the
 * long-poll waiter queue. Every transport (poll, long poll, SSE, iframe, WebSocket, socket
 * relay) talks to the hub, never to the broker.
 *
 * The hub subscribes to the broker once per channel that has local subscribers or waiters,
 * and unsubscribes when the last one leaves. When the broker reports a gap on a channel (it
 * cannot prove that no message was skipped), the hub ends that channel's subscriptions with
 * `gap`, their cursors intact, and has its long polls read again: every client then resumes
 * by cursor through the history read, which says `reset` when something was lost.
 *
 * It drives the pure cores (`WaiterQueue`, `SubscriberQueue`) with one timer: the earliest
 * long-poll deadline. No other timer, no `Deno.*`: the hub runs unchanged in any runtime with
 * `setTimeout`.
 *
 * @module
 */
import type { Broker, ReadResult } from "./broker.ts";
import { isChannelName, isEventName } from "./channel_name.ts";
import { type HubError, hubError, isHubError } from "./hub_error.ts";
import { MemoryBroker } from "./memory_broker.ts";
import type { Message } from "./message.ts";
import type { SubscriberQueueLimits } from "./subscriber_queue.ts";
import type { Subscription } from "./subscription.ts";
import { type QueuedWaiter, WaiterQueue } from "./waiter_queue.ts";
import { SubscriptionImpl } from "./_subscription.ts";

/** Options of {@linkcode Hub}. */
export interface HubOptions {
  /**
   * Where messages live. The hub owns it: `hub.close()` closes it.
   * @default {new MemoryBroker()}
   */
  readonly broker?: Broker;
  /**
   * Clock for long-poll deadlines, in milliseconds.
   * @default {Date.now}
   */
  readonly now?: () => number;
  /** Default bounds of each subscription's live queue (see `SubscriberQueue`). */
  readonly subscriberQueue?: SubscriberQueueLimits;
}

/** Options of {@linkcode Hub.publish}. */
export interface PublishOptions {
  /** Event name, `[A-Za-z0-9_.:-]{1,64}`. */
  readonly event?: string;
}

/** Options of {@linkcode Hub.wait}. */
export interface WaitOptions {
  /** Give up after this many milliseconds and answer with no messages. */
  readonly timeoutMs: number;
  /** Abort (the client went away): the waiter is removed at once. */
  readonly signal?: AbortSignal;
}

/** Options of {@linkcode Hub.subscribe}. */
export interface SubscribeOptions {
  /** Resume after this cursor (history first); undefined: only messages from now on. */
  readonly after?: string;
  /** Closes the subscription when aborted. */
  readonly signal?: AbortSignal;
  /** Bounds of this subscription's live queue; defaults to the hub's. */
  readonly queue?: SubscriberQueueLimits;
}

/** Counters and gauges of a hub. */
export interface HubStats {
  /** Messages published through this hub. */
  readonly published: number;
  /** Messages a subscriber queue refused (its subscriber was then disconnected). */
  readonly dropped: number;
  /** Subscriptions disconnected for falling behind. */
  readonly slowConsumers: number;
  /** Gaps the broker reported on a channel with local subscribers or waiters. */
  readonly gaps: number;
  /** Open subscriptions. */
  readonly subscribers: number;
  /** Waiting long-poll requests. */
  readonly waiters: number;
  /** Channels the hub is subscribed to at the broker. */
  readonly channels: number;
}

interface ChannelEntry {
  readonly channel: string;
  refs: number;
  version: number;
  ready: Promise<void>;
  unsubscribe: (() => void) | undefined;
  released: boolean;
  readonly subscribers: Set<SubscriptionImpl>;
}

interface Waiter extends QueuedWaiter {
  cursor: string;
  readonly resolve: (result: ReadResult | HubError) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  settled: boolean;
}

/** Waiters answered per event-loop turn when a publish releases many at once. */
const RELEASE_SLICE = 64;

function emptyResult(cursor: string): ReadResult {
  return { type: "messages", messages: [], cursor, reset: false };
}

function checkChannel(action: string, channel: string): void {
  if (!isChannelName(channel)) {
    throw new TypeError(
      `Cannot ${action}: channel name "${channel}" does not match [A-Za-z0-9_.:-]{1,128}`,
    );
  }
}

/**
 * Channels, history, fan-out and long-poll waiters over a broker.
 *
 * @example Publish, then resume from history
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "./hub.ts";
 * const hub = new Hub();
 * const first = await hub.publish("news", "hello");
 * await hub.publish("news", { n: 2 }, { event: "update" });
 * const result = await hub.read("news", first.id);
 * assert.ok(result.type === "messages" && result.messages.length === 1);
 * await hub.close();
 * ```
 *
 * @example Subscribe and iterate
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "./hub.ts";
 * const hub = new Hub();
 * const subscription = await hub.subscribe("chat");
 * if (subscription.type === "error") throw new Error(subscription.message);
 * await hub.publish("chat", "hi");
 * for await (const event of subscription) {
 *   if (event.type === "message") assert.ok(event.message.data === "hi");
 *   break; // ends the loop and closes the subscription
 * }
 * await hub.close();
 * ```
 */
export class Hub {
  /** The broker messages are stored in. */
  readonly broker: Broker;
  readonly #now: () => number;
  readonly #queueLimits: SubscriberQueueLimits;
  readonly #channels = new Map<string, ChannelEntry>();
  readonly #waiters = new WaiterQueue<Waiter>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #published = 0;
  #dropped = 0;
  #slowConsumers = 0;
  #gaps = 0;
  #subscribers = 0;
  #closed = false;

  /** Creates a hub on `options.broker` (a new `MemoryBroker` by default). */
  constructor(options: HubOptions = {}) {
    this.broker = options.broker ?? new MemoryBroker();
    this.#now = options.now ?? Date.now;
    this.#queueLimits = options.subscriberQueue ?? {};
  }

  /** Current counters and gauges. */
  get stats(): HubStats {
    return {
      published: this.#published,
      dropped: this.#dropped,
      slowConsumers: this.#slowConsumers,
      gaps: this.#gaps,
      subscribers: this.#subscribers,
      waiters: this.#waiters.size,
      channels: this.#channels.size,
    };
  }

  /**
   * Publishes `data` on `channel`; resolves with the stored message once every local
   * subscriber has it queued. Throws a `TypeError` for an invalid channel or event name
   * (validate client input first with `isChannelName` / `isEventName`).
   */
  async publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<Message> {
    checkChannel("publish", channel);
    const event = options.event;
    if (event !== undefined && !isEventName(event)) {
      throw new TypeError(
        `Cannot publish: event name "${event}" does not match [A-Za-z0-9_.:-]{1,64} or is reserved (reset)`,
      );
    }
    this.#checkOpen("publish");
    const message = await this.broker.publish(
      event === undefined ? { channel, data } : { channel, event, data },
    );
    this.#published++;
    return message;
  }

  /** Reads retained messages after `after` (all retained when undefined). */
  read(channel: string, after?: string): Promise<ReadResult | HubError> {
    checkChannel("read", channel);
    this.#checkOpen("read");
    return this.broker.read(channel, after);
  }

  /** The cursor right after the channel's newest message. */
  position(channel: string): Promise<string> {
    checkChannel("read", channel);
    this.#checkOpen("read");
    return this.broker.position(channel);
  }

  /**
   * Long poll: resolves as soon as at least one message after `after` exists (everything after
   * it, in one batch), with `reset` when the cursor is behind history, or with no messages
   * after `timeoutMs`. `after` undefined waits for the next message. An aborted `signal`
   * removes the waiter at once (the result is then empty).
   */
  async wait(
    channel: string,
    after: string | undefined,
    options: WaitOptions,
  ): Promise<ReadResult | HubError> {
    checkChannel("wait", channel);
    if (!(options.timeoutMs >= 0)) {
      throw new RangeError(`Cannot wait: timeoutMs must be >= 0, got ${options.timeoutMs}`);
    }
    this.#checkOpen("wait");
    const deadline = this.#now() + options.timeoutMs;
    const entry = this.#acquire(channel);
    try {
      await entry.ready;
      let cursor = after;
      for (;;) {
        const version = entry.version;
        const result = cursor === undefined
          ? emptyResult(await this.broker.position(channel))
          : await this.broker.read(channel, cursor);
        if (isHubError(result) || result.messages.length > 0 || result.reset) return result;
        if (entry.version !== version) {
          cursor = result.cursor; // a message arrived while reading: read again
          continue;
        }
        const signal = options.signal;
        if (signal?.aborted || options.timeoutMs === 0 || this.#closed) return result;
        return await new Promise<ReadResult | HubError>((resolve) => {
          const waiter: Waiter = {
            channel,
            deadline,
            heapIndex: -1,
            cursor: result.cursor,
            resolve,
            signal,
            onAbort: undefined,
            settled: false,
          };
          if (signal !== undefined) {
            waiter.onAbort = () => {
              this.#waiters.remove(waiter);
              this.#settle(waiter, emptyResult(waiter.cursor));
              this.#schedule();
            };
            signal.addEventListener("abort", waiter.onAbort, { once: true });
          }
          this.#waiters.add(waiter);
          this.#schedule();
        });
      }
    } finally {
      this.#release(entry);
    }
  }

  /**
   * Subscribes to `channel`. With `after`, retained messages after it come first (preceded by
   * a `reset` event when some were dropped); without, only messages published from now on.
   * Resolves with a `HubError` for a malformed cursor. It ends with `closeReason` `gap` when
   * the broker loses continuity on the channel: resume from its `cursor`.
   */
  async subscribe(
    channel: string,
    options: SubscribeOptions = {},
  ): Promise<Subscription | HubError> {
    checkChannel("subscribe", channel);
    this.#checkOpen("subscribe");
    const entry = this.#acquire(channel);
    const subscription = new SubscriptionImpl(
      channel,
      options.after ?? "",
      options.queue ?? this.#queueLimits,
      {
        compareIds: (a, b) => this.broker.compareIds(a, b),
        detach: (detached) => {
          entry.subscribers.delete(detached);
          this.#subscribers--;
          if (detached.closeReason === "slow_consumer") {
            this.#slowConsumers++;
            this.#dropped++;
          }
          this.#release(entry);
        },
      },
    );
    // Attach before reading history so nothing published meanwhile is missed; `start` drops
    // the live duplicates of what history returned.
    entry.subscribers.add(subscription);
    this.#subscribers++;
    try {
      await entry.ready;
      const after = options.after;
      const result = after === undefined
        ? emptyResult(await this.broker.position(channel))
        : await this.broker.read(channel, after);
      if (isHubError(result)) {
        subscription.close();
        return result;
      }
      subscription.start(result.messages, result.cursor, result.reset);
    } catch (error) {
      subscription.close();
      throw error;
    }
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) subscription.close();
      else signal.addEventListener("abort", () => subscription.close(), { once: true });
    }
    return subscription;
  }

  /** Closes every subscription and waiter, then the broker. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of [...this.#channels.values()]) {
      for (const subscription of [...entry.subscribers]) subscription.close("hub_closed");
    }
    for (const waiter of this.#waiters.clear()) this.#settle(waiter, emptyResult(waiter.cursor));
    this.#schedule();
    await this.broker.close();
  }

  #checkOpen(action: string): void {
    if (this.#closed) throw new TypeError(`Cannot ${action}: hub is closed`);
  }

  #acquire(channel: string): ChannelEntry {
    let entry = this.#channels.get(channel);
    if (entry === undefined) {
      const created: ChannelEntry = {
        channel,
        refs: 0,
        version: 0,
        ready: Promise.resolve(),
        unsubscribe: undefined,
        released: false,
        subscribers: new Set(),
      };
      created.ready = this.broker.subscribe(
        channel,
        (message) => this.#fanOut(created, message),
        () => this.#gap(created),
      )
        .then((unsubscribe) => {
          if (created.released) unsubscribe();
          else created.unsubscribe = unsubscribe;
        }, (error) => {
          if (this.#channels.get(channel) === created) this.#channels.delete(channel);
          created.released = true;
          throw error;
        });
      entry = created;
      this.#channels.set(channel, entry);
    }
    entry.refs++;
    return entry;
  }

  #release(entry: ChannelEntry): void {
    entry.refs--;
    if (entry.refs > 0 || entry.released) return;
    entry.released = true;
    if (this.#channels.get(entry.channel) === entry) this.#channels.delete(entry.channel);
    entry.unsubscribe?.();
    entry.unsubscribe = undefined;
  }

  #fanOut(entry: ChannelEntry, message: Message): void {
    entry.version++;
    for (const subscription of entry.subscribers) subscription.push(message);
    if (this.#waiters.countFor(entry.channel) > 0) {
      this.#wake(entry.channel, this.#waiters.takeChannel(entry.channel));
      this.#schedule();
    }
  }

  /**
   * The broker cannot vouch for what follows the last message it delivered: live subscriptions
   * end (after what they already queued, which precedes the gap), and waiters read again, so
   * every client goes through the history read, which reports any loss as `reset`.
   */
  #gap(entry: ChannelEntry): void {
    if (entry.released || this.#closed) return;
    this.#gaps++;
    entry.version++; // a `wait` between its read and parking reads again
    for (const subscription of [...entry.subscribers]) subscription.end("gap");
    if (this.#waiters.countFor(entry.channel) > 0) {
      this.#wake(entry.channel, this.#waiters.takeChannel(entry.channel));
      this.#schedule();
    }
  }

  /** Answers released waiters: one history read per distinct cursor, shared by its waiters. */
  #wake(channel: string, waiters: Waiter[]): void {
    const byCursor = new Map<string, Waiter[]>();
    for (const waiter of waiters) {
      const group = byCursor.get(waiter.cursor);
      if (group === undefined) byCursor.set(waiter.cursor, [waiter]);
      else group.push(waiter);
    }
    for (const [cursor, group] of byCursor) {
      this.broker.read(channel, cursor).then((result) => {
        if (!isHubError(result) && result.messages.length === 0 && !result.reset) {
          // Nothing visible yet (a networked broker may lag its notification): wait again.
          for (const waiter of group) {
            if (waiter.settled) continue;
            if (this.#closed || waiter.signal?.aborted) this.#settle(waiter, result);
            else this.#waiters.add(waiter);
          }
          this.#schedule();
          return;
        }
        this.#settleInSlices(group, result, 0);
      }, () => {
        const error = hubError(
          "HUB_ERR_BROKER_UNAVAILABLE",
          503,
          `Cannot read channel "${channel}": the broker failed`,
        );
        for (const waiter of group) this.#settle(waiter, error);
      });
    }
  }

  /**
   * Answers `waiters` RELEASE_SLICE at a time, yielding to the event loop between slices so
   * the first answers reach the wire while the rest are built (and other connections are
   * served during a release of thousands).
   *
   * The yield is a timer on purpose: under Deno a MessageChannel message or `setImmediate`
   * costs ~25 µs against ~2 ms, but neither lets sockets be polled, so a release would starve
   * every other connection. Larger slices trade the other way: releasing 10,000 parked HTTP
   * long polls, 1,024 per slice finished 10-50 % sooner than 64 but answered the first one and
   * other connections' requests 3-5× later.
   */
  #settleInSlices(waiters: Waiter[], result: ReadResult | HubError, from: number): void {
    const to = Math.min(waiters.length, from + RELEASE_SLICE);
    for (let i = from; i < to; i++) this.#settle(waiters[i]!, result);
    if (to < waiters.length) setTimeout(() => this.#settleInSlices(waiters, result, to), 0);
  }

  #settle(waiter: Waiter, result: ReadResult | HubError): void {
    if (waiter.settled) return;
    waiter.settled = true;
    if (waiter.onAbort !== undefined) {
      waiter.signal?.removeEventListener("abort", waiter.onAbort);
      waiter.onAbort = undefined;
    }
    waiter.resolve(result);
  }

  /** Keeps one timer armed for the earliest waiter deadline; none when no waiter. */
  #schedule(): void {
    const next = this.#waiters.nextDeadline();
    if (next === undefined) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= next) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      for (const waiter of this.#waiters.expire(this.#now())) {
        this.#settle(waiter, emptyResult(waiter.cursor));
      }
      this.#schedule();
    }, Math.max(0, next - this.#now()));
  }
}
