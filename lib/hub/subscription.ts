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
  /** Stops the subscription and releases its queue at once. Idempotent. */
  close(): void;
}
