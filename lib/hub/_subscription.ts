// The hub's Subscription implementation: a history backlog followed by a bounded live queue.
import { setImmediate } from "node:timers";
import type { Message } from "./message.ts";
import { messageSize } from "./message.ts";
import { SubscriberQueue, type SubscriberQueueLimits } from "./subscriber_queue.ts";
import {
  MAX_TAKE_QUEUED,
  type Subscription,
  type SubscriptionCloseReason,
  type SubscriptionEvent,
} from "./subscription.ts";

/** Hub-side callbacks of one subscription. */
export interface SubscriptionHooks {
  /** Orders two ids (the broker's). */
  compareIds(a: string, b: string): number;
  /** Called once when the subscription stops receiving live messages. */
  detach(subscription: SubscriptionImpl): void;
}

const DONE: IteratorResult<SubscriptionEvent> = { done: true, value: undefined };

// Callbacks run once the current turn of the event loop is over: one setImmediate for all.
let afterTurn: (() => void)[] = [];
function runAfterTurn(): void {
  const callbacks = afterTurn;
  afterTurn = [];
  for (const callback of callbacks) callback();
}

export class SubscriptionImpl implements Subscription {
  readonly type = "subscription";
  readonly channel: string;
  readonly #hooks: SubscriptionHooks;
  readonly #queue: SubscriberQueue;
  #cursor: string;
  #pendingReset: string | undefined;
  #backlog: readonly Message[] = [];
  #backlogIndex = 0;
  #started = false;
  #detached = false;
  #closeReason: SubscriptionCloseReason | undefined;
  #wake: (() => void) | undefined;
  #waiting: Promise<void> | undefined;
  #batchWake: (() => void) | undefined;
  #batchWaiting: Promise<void> | undefined;

  constructor(
    channel: string,
    cursor: string,
    limits: SubscriberQueueLimits,
    hooks: SubscriptionHooks,
  ) {
    this.channel = channel;
    this.#cursor = cursor;
    this.#queue = new SubscriberQueue(limits);
    this.#hooks = hooks;
  }

  get cursor(): string {
    return this.#cursor;
  }

  get closeReason(): SubscriptionCloseReason | undefined {
    return this.#closeReason;
  }

  /** Messages waiting in the live queue (for tests and metrics). */
  get queued(): number {
    return this.#queue.length;
  }

  /** Fan-out entry point. Returns false when the queue overflowed (the message is dropped). */
  push(message: Message): boolean {
    if (this.#closeReason !== undefined) return false;
    if (!this.#queue.push(message, messageSize(message))) {
      this.end("slow_consumer");
      return false;
    }
    if (this.#started) this.#notify();
    if (this.#batchWake !== undefined && this.#queue.halfFull) this.#releaseBatch();
    return true;
  }

  /**
   * Sets the history backlog read after the live listener was attached. Live messages already
   * queued that the backlog covers (id <= `cursor`) are dropped, so none is delivered twice.
   */
  start(backlog: readonly Message[], cursor: string, reset: boolean): void {
    this.#backlog = backlog;
    if (reset) this.#pendingReset = cursor;
    else if (backlog.length === 0) this.#cursor = cursor;
    const compare = this.#hooks.compareIds;
    this.#queue.dropWhile((message) => compare(message.id, cursor) <= 0);
    this.#started = true;
    this.#notify();
  }

  /**
   * Stops live delivery with `reason`; what is already queued is still handed out (it precedes
   * whatever was missed, so the cursor stays exact), then the iteration ends.
   */
  end(reason: SubscriptionCloseReason): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    this.#detach();
    this.#notify();
    this.#releaseBatch();
  }

  close(reason: SubscriptionCloseReason = "closed"): void {
    if (this.#closeReason === undefined) this.#closeReason = reason;
    this.#queue.clear();
    this.#backlog = [];
    this.#backlogIndex = 0;
    this.#pendingReset = undefined;
    this.#detach();
    this.#notify();
    this.#releaseBatch();
  }

  async next(): Promise<IteratorResult<SubscriptionEvent>> {
    for (;;) {
      if (this.#started) {
        const event = this.#take();
        if (event !== undefined) return { done: false, value: event };
      }
      if (this.#closeReason !== undefined) {
        this.#detach();
        return DONE;
      }
      this.#waiting ??= new Promise<void>((resolve) => this.#wake = resolve);
      await this.#waiting;
    }
  }

  takeQueued(max: number = MAX_TAKE_QUEUED): SubscriptionEvent[] {
    const events: SubscriptionEvent[] = [];
    if (!this.#started) return events;
    const limit = Math.min(Math.floor(max), MAX_TAKE_QUEUED);
    while (events.length < limit) {
      const event = this.#take();
      if (event === undefined) break;
      events.push(event);
    }
    return events;
  }

  waitForBatch(): Promise<void> {
    if (this.#closeReason !== undefined || this.#queue.halfFull) return Promise.resolve();
    if (this.#batchWaiting === undefined) {
      this.#batchWaiting = new Promise<void>((resolve) => this.#batchWake = resolve);
      if (afterTurn.push(() => this.#releaseBatch()) === 1) setImmediate(runAfterTurn);
    }
    return this.#batchWaiting;
  }

  return(): Promise<IteratorResult<SubscriptionEvent>> {
    this.close();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<SubscriptionEvent> {
    return this;
  }

  #take(): SubscriptionEvent | undefined {
    if (this.#pendingReset !== undefined) {
      const cursor = this.#pendingReset;
      this.#pendingReset = undefined;
      return { type: "reset", cursor };
    }
    let message: Message | undefined;
    if (this.#backlogIndex < this.#backlog.length) {
      message = this.#backlog[this.#backlogIndex++]!;
      if (this.#backlogIndex === this.#backlog.length) {
        this.#backlog = [];
        this.#backlogIndex = 0;
      }
    } else {
      message = this.#queue.shift();
    }
    if (message === undefined) return undefined;
    this.#cursor = message.id;
    return { type: "message", message };
  }

  #detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    this.#hooks.detach(this);
  }

  #releaseBatch(): void {
    const wake = this.#batchWake;
    if (wake === undefined) return;
    this.#batchWake = undefined;
    this.#batchWaiting = undefined;
    wake();
  }

  #notify(): void {
    const wake = this.#wake;
    if (wake === undefined) return;
    this.#wake = undefined;
    this.#waiting = undefined;
    wake();
  }
}
