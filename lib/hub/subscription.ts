/**
 * A live subscription to one channel: what every streaming transport (SSE, iframe,
 * WebSocket, socket relay) iterates.
 *
 * @module
 */
import type { Message } from "./message.ts";

/**
 * What a subscription yields: first, when the resume cursor was behind history, one `reset`
 * (messages were lost; `cursor` is where the retained messages that follow end), then messages
 * in id order.
 */
export type SubscriptionEvent =
  | { readonly type: "reset"; readonly cursor: string }
  | { readonly type: "message"; readonly message: Message };

/**
 * Why a subscription ended: `closed` by its consumer (or its abort signal), `slow_consumer`
 * when its queue overflowed (see `SubscriberQueue`), `hub_closed` when the hub shut down,
 * `gap` when the broker could not prove that no message of the channel was skipped (a Redis
 * restart without persistence, or a node cut off while history was trimmed past it). After
 * `slow_consumer` and `gap` what was already queued is still yielded; in every case `cursor`
 * resumes exactly, and a resume from it starts with `reset` when messages were lost.
 */
export type SubscriptionCloseReason = "closed" | "slow_consumer" | "hub_closed" | "gap";

/** Most events one {@linkcode Subscription.takeQueued} call returns. */
export const MAX_TAKE_QUEUED = 1024;

/**
 * A live subscription. Iterate it with `for await`; the loop ends when the subscription
 * closes. `cursor` is always the resume point: the id of the last message handed out (or the
 * starting cursor before any).
 */
export interface Subscription extends AsyncIterableIterator<SubscriptionEvent> {
  /** Discriminant against `HubError`. */
  readonly type: "subscription";
  /** The channel. */
  readonly channel: string;
  /** Resume cursor: reconnect with it to continue exactly after what was consumed. */
  readonly cursor: string;
  /** Why it ended; undefined while open. */
  readonly closeReason: SubscriptionCloseReason | undefined;
  /**
   * Takes, without waiting, the events already available, in the order `next()` would yield
   * them (a pending `reset` first, then messages): at most `max`, and never more than
   * {@linkcode MAX_TAKE_QUEUED}. Each one is consumed exactly as if `next()` had handed it
   * out: `cursor` moves to the last message taken and its room in the bounded queue is freed.
   * Empty when nothing is queued, before the history backlog is read, and after `close()`.
   * It never ends the iteration: after a `slow_consumer` or `gap` end, what was queued is
   * still taken here or from `next()`, and `next()` then reports done.
   *
   * @example Drain what is queued in one turn after each awaited event
   * ```ts
   * import assert from "node:assert/strict";
   * import { Hub } from "./hub.ts";
   * const hub = new Hub();
   * const subscription = await hub.subscribe("news");
   * assert.ok(subscription.type === "subscription");
   * for (const data of ["a", "b", "c"]) await hub.publish("news", data);
   * const first = await subscription.next();
   * const rest = subscription.takeQueued(100);
   * assert.ok(!first.done && first.value.type === "message" && rest.length === 2);
   * assert.ok(rest[1]?.type === "message" && subscription.cursor === rest[1].message.id);
   * await hub.close();
   * ```
   */
  takeQueued(max?: number): SubscriptionEvent[];
  /**
   * Resolves once the current turn of the event loop is over, or sooner when the queue is
   * half full (of either bound) or the subscription ends: a consumer that awaits it after an
   * event, then calls `takeQueued`, handles the messages published in the same turn together
   * instead of waking once per message, and the queue keeps half its room for a burst.
   */
  waitForBatch(): Promise<void>;
  /** Stops the subscription and releases its queue at once. Idempotent. */
  close(): void;
}
