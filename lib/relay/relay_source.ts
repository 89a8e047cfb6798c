/**
 * What the relay needs from the hub: a per-channel feed that replays history after a
 * cursor and then follows live messages. The hub's `Hub` satisfies {@linkcode RelaySource}
 * as is (`hub.subscribe(channel, { after })`); any other source can with a few lines.
 *
 * @module
 */
import type { RelayMessage } from "./relay_message.ts";

/**
 * What a feed yields: first, when the resume cursor was behind history, one `reset`
 * (messages were lost), then messages in id order.
 */
export type RelayFeedEvent =
  | { readonly type: "reset"; readonly cursor: string }
  | { readonly type: "message"; readonly message: RelayMessage };

/**
 * One channel's subscription, pulled with `for await`. Pulling is the backpressure: the
 * relay stops pulling while a connection's queue is half full, and the source decides
 * what happens to a subscriber that falls too far behind (the hub ends the feed with
 * `closeReason` `"slow_consumer"`, and the relay then disconnects the client as slow).
 */
export interface RelayFeed extends AsyncIterable<RelayFeedEvent> {
  /** Discriminant against {@linkcode RelaySourceError}. */
  readonly type: "subscription";
  /** The resume point: the id of the last message pulled, or the starting cursor. */
  readonly cursor: string;
  /** Why the feed ended (`"slow_consumer"` for a subscriber that fell behind); undefined while open. */
  readonly closeReason: string | undefined;
  /**
   * Optional: takes, without waiting, up to `max` events already available, in the order
   * the iteration would yield them, each consumed as if pulled (the hub's `takeQueued`).
   * The relay uses it to queue what is already waiting in the same turn as the event it
   * awaited; a feed without it is pulled one event at a time.
   */
  takeQueued?(max: number): readonly RelayFeedEvent[];
  /**
   * Optional, with `takeQueued`: resolves once the messages published in the current turn
   * have gathered, or sooner when holding them any longer risks the feed's bound (the hub's
   * `waitForBatch`).
   */
  waitForBatch?(): Promise<void>;
  /** Stops the feed at once. Idempotent. */
  close(): void;
}

/** A refused subscription (the hub's `HubError`): e.g. a malformed cursor, status 400. */
export interface RelaySourceError {
  /** Discriminant. */
  readonly type: "error";
  /** The source's stable code, e.g. `HUB_ERR_INVALID_CURSOR`. */
  readonly code: string;
  /** The HTTP status to answer with. */
  readonly status: number;
  /** Human-readable explanation. */
  readonly message: string;
}

/**
 * A channel hub as the relay sees it.
 *
 * @example The hub is a source
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import type { RelaySource } from "./relay_source.ts";
 *
 * const hub = new Hub();
 * const source: RelaySource = hub;
 * const first = await hub.publish("news", "one");
 * await hub.publish("news", "two");
 * const feed = await source.subscribe("news", { after: first.id });
 * assert.ok(feed.type === "subscription");
 * for await (const event of feed) {
 *   assert.ok(event.type === "message" && event.message.data === "two");
 *   break;
 * }
 * await hub.close();
 * ```
 */
export interface RelaySource {
  /**
   * Subscribes to `channel`. With `after`, retained messages after it come first (after a
   * `reset` when some were dropped); without, only messages published from now on. The
   * feed's `cursor` is where it starts. Resolves with an error for a cursor the source
   * cannot parse.
   */
  subscribe(
    channel: string,
    options: { readonly after?: string },
  ): Promise<RelayFeed | RelaySourceError>;
}
