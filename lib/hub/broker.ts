/**
 * The broker interface: where messages are stored, ordered and announced. The hub sits on
 * one broker and owns fan-out to its local subscribers. Designed for a networked broker
 * (every call is async, ids and cursors belong to the broker): `MemoryBroker` is the
 * embedded default; a Redis Streams broker implements the same interface.
 *
 * @module
 */
import type { HubError } from "./hub_error.ts";
import type { Message } from "./message.ts";

/** What a publisher hands the broker; the broker adds `id` and `time`. */
export interface PublishInput {
  /** Channel name, already validated (see `isChannelName`). */
  readonly channel: string;
  /** Optional event name, already validated (see `isEventName`). */
  readonly event?: string;
  /** Any JSON-serializable value. */
  readonly data: unknown;
}

/** The answer to a history read: `{messages, cursor, reset}` as the HTTP API returns it. */
export interface ReadResult {
  /** Discriminant against {@linkcode HubError}. */
  readonly type: "messages";
  /** Retained messages after the cursor, oldest first. */
  readonly messages: readonly Message[];
  /**
   * The cursor to send back next time: the last message's id, or when `messages` is empty
   * the given cursor (or the channel's current position).
   */
  readonly cursor: string;
  /**
   * True when messages after the given cursor were already dropped from history (or the
   * cursor belongs to another broker incarnation, or a lost and re-created stream): `messages`
   * then holds everything still retained. Data lost is always said, never silent.
   */
  readonly reset: boolean;
}

/** Called by the broker with each new message of a channel, in id order. Must not throw. */
export type MessageListener = (message: Message) => void;

/**
 * Called by the broker when it cannot prove that the next message it hands a channel's
 * listeners directly follows the last one it handed them (a networked store restarted without
 * persistence, or trimmed messages this node had not received yet). Listeners then go on from
 * the channel's newest message; `read` from their last id tells what was lost (`reset`).
 * Must not throw.
 */
export type GapListener = () => void;

/**
 * A message store with ordered per-channel ids and change notification.
 *
 * Contract every implementation keeps:
 * - `publish` resolves with the stored message after every listener of the channel on this
 *   node has been called with it (so a waiter subscribed first never misses it);
 * - listeners see each channel's messages in id order, each once, none skipped unless the
 *   channel's `onGap` was called before the first message after the skip;
 * - `read` never throws on client input: a cursor it cannot parse is a `HubError`
 *   (`HUB_ERR_INVALID_CURSOR`, 400).
 */
export interface Broker {
  /** Stores a message, assigns its id and time, announces it to listeners. */
  publish(input: PublishInput): Promise<Message>;
  /**
   * Reads retained messages after `after` (every retained message when `after` is
   * undefined). See {@linkcode ReadResult} for `reset`.
   */
  read(channel: string, after?: string): Promise<ReadResult | HubError>;
  /** The cursor that resumes right after the channel's newest message. */
  position(channel: string): Promise<string>;
  /**
   * Calls `listener` with every message published on `channel` from now on, and `onGap` when
   * continuity is lost (see {@linkcode GapListener}). A broker that cannot lose continuity
   * (`MemoryBroker`) never calls `onGap`.
   */
  subscribe(channel: string, listener: MessageListener, onGap?: GapListener): Promise<() => void>;
  /**
   * Orders two ids of the same channel, both issued by this broker: negative when `a` comes
   * first, 0 when equal, positive when `a` comes later.
   */
  compareIds(a: string, b: string): number;
  /** Releases every resource; later calls reject with a `TypeError`. */
  close(): Promise<void>;
}
