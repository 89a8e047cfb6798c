/**
 * The relay's runtime-agnostic heart: the registry of relay ids, per-connection
 * subscriptions pulled from a {@linkcode RelaySource} (the hub), and the cursors of closed
 * connections. It owns no socket and no timer: a TCP adapter opens and releases
 * connections and calls {@linkcode Relay.tick}; an HTTP handler calls
 * {@linkcode Relay.subscribe} and friends.
 *
 * Each subscription is a feed pulled into the connection's queue while that queue is less
 * than half full; a client that stops reading stops the pulling, its feed falls behind,
 * and the source ends it (`slow_consumer`), which disconnects the client as a slow reader
 * with its cursors kept. A feed the source ends with a gap (messages lost after its cursor)
 * is replaced by a new feed from that cursor, which starts with a `<reset/>`. A message is
 * encoded once, however many connections receive it.
 *
 * @module
 */
import {
  CHANNEL_NAME,
  DEFAULT_MAX_CHANNELS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_RETAINED,
  DEFAULT_RETAIN_MS,
  MAX_CURSOR_LENGTH,
} from "./_constants.ts";
import { encodePolicyFile, type PolicyFileOptions } from "./policy_file.ts";
import type { RelayCloseCode } from "./relay_close.ts";
import { RelayConnection, type RelayConnectionOptions } from "./relay_connection.ts";
import { generateRelayId } from "./relay_id.ts";
import { encodeRelayMessage, encodeReset, type RelayMessage } from "./relay_message.ts";
import { type RelayRequestError, relayRequestError } from "./relay_request_error.ts";
import type { RelayFeed, RelayFeedEvent, RelaySource, RelaySourceError } from "./relay_source.ts";
import { isXmlText } from "./xml_escape.ts";

/**
 * Where the relay reports its numbers; the hub server's `Metrics` fits as is. The
 * transport name passed is always `"relay"`.
 */
export interface RelayMetrics {
  /** A relay connection opened. */
  connectionOpened(transport: string): void;
  /** A relay connection closed. */
  connectionClosed(transport: string): void;
  /** `count` messages were written to a client. */
  addDelivered(count: number): void;
  /** `count` queued messages were dropped when a slow reader was disconnected. */
  addDropped(count: number): void;
}

/** Configuration of a {@linkcode Relay}; connection limits apply to every connection. */
export interface RelayOptions
  extends Omit<RelayConnectionOptions, "policyFile" | "onDelivered" | "onDropped"> {
  /** Where messages come from: the hub. */
  readonly source: RelaySource;
  /** Origins and ports the Flash policy file grants. @default nothing granted */
  readonly policy?: PolicyFileOptions;
  /** Open connections at most; more are turned away. @default 10000 */
  readonly maxConnections?: number;
  /** Channels one connection may subscribe to. @default 64 */
  readonly maxChannels?: number;
  /** How long a closed connection's cursors stay readable, in ms. @default 300000 */
  readonly retainMs?: number;
  /** Closed connections whose cursors are kept at most (oldest forgotten first). @default 10000 */
  readonly maxRetained?: number;
  /** Makes relay ids. @default generateRelayId (128 random bits, base64url) */
  readonly generateId?: () => string;
  /** Receives connection and message counts. @default none */
  readonly metrics?: RelayMetrics;
}

/** A successful subscription. */
export interface RelaySubscribed {
  /** Discriminant. */
  readonly type: "subscribed";
  /** The channel subscribed to. */
  readonly channel: string;
  /** Where the subscription starts: `after` when resuming, else the channel's position. */
  readonly cursor: string;
}

/** A channel left (`removed` false when it was not subscribed). */
export interface RelayUnsubscribed {
  /** Discriminant. */
  readonly type: "unsubscribed";
  /** The channel. */
  readonly channel: string;
  /** Whether the connection was subscribed to it. */
  readonly removed: boolean;
}

/** What the relay knows about one id: open, or closed with its cursors kept. */
export interface RelayStatus {
  /** The relay id. */
  readonly id: string;
  /** Whether the connection is still open. */
  readonly state: "open" | "closed";
  /** Why it closed (closed connections only). */
  readonly reason?: RelayCloseCode;
  /** Channel → id of the last message written to the socket (`null` when unknown). */
  readonly channels: Readonly<Record<string, string | null>>;
}

/** Counters for metrics. */
export interface RelayStats {
  /** Open connections. */
  readonly connections: number;
  /** Closed connections whose cursors are kept. */
  readonly retained: number;
  /** Open subscriptions (connection × channel). */
  readonly subscriptions: number;
  /** Documents queued on connections (messages and resets). */
  readonly queued: number;
  /** Connections closed as slow readers (fell behind, queue over limit or write timeout). */
  readonly slowReaders: number;
}

interface Subscription {
  feed: RelayFeed | undefined;
  readonly ready: Promise<void>;
}

interface Retained {
  readonly closedAt: number;
  readonly reason: RelayCloseCode;
  readonly channels: ReadonlyMap<string, string | undefined>;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) {
    throw new RangeError(`Cannot create relay: ${name} must be a number >= 0, got ${v}`);
  }
  return v;
}

function toRecord(
  channels: ReadonlyMap<string, string | undefined>,
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [channel, cursor] of channels) out[channel] = cursor ?? null;
  return out;
}

/**
 * The socket relay's core. See the module docs.
 *
 * @example Open a connection and subscribe it to a hub channel
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import { Relay } from "./relay.ts";
 *
 * const hub = new Hub();
 * const relay = new Relay({ source: hub, policyWindowMs: 0 });
 * const conn = relay.open(0)!;
 * const result = await relay.subscribe(conn.id, "news", undefined, 0);
 * assert.equal(result.type, "subscribed");
 * await hub.publish("news", "hello");
 * // Let the feed be pulled: the greeting, then the message, are queued.
 * for (let i = 0; i < 1000 && conn.pendingMessages < 2; i++) {
 *   await new Promise((resolve) => setTimeout(resolve, 1));
 * }
 * const text = new TextDecoder().decode(conn.takeOutgoing(0));
 * assert.match(text, /<message channel="news" id="[^"]+">"hello"<\/message>\0$/);
 * conn.writeDone(1);
 * relay.release(conn, 1); // the socket closed
 * assert.equal(relay.status(conn.id, 1)?.state, "closed");
 * await hub.close();
 * ```
 */
export class Relay {
  readonly #source: RelaySource;
  readonly #connectionOptions: RelayConnectionOptions;
  readonly #maxConnections: number;
  readonly #maxChannels: number;
  readonly #retainMs: number;
  readonly #maxRetained: number;
  readonly #generateId: () => string;
  readonly #metrics: RelayMetrics | undefined;
  readonly #open = new Map<string, RelayConnection>();
  readonly #retained = new Map<string, Retained>();
  readonly #subs = new Map<RelayConnection, Map<string, Subscription>>();
  readonly #encoded = new WeakMap<RelayMessage, Uint8Array>();
  #subscriptions = 0;
  #queued = 0;
  #slowReaders = 0;

  /**
   * Creates a relay over `options.source`; builds the policy file once.
   *
   * @throws {RangeError} when a limit is out of range.
   * @throws {TypeError} when the policy options name an unusable origin.
   */
  constructor(options: RelayOptions) {
    this.#source = options.source;
    const policyFile = options.policy ? encodePolicyFile(options.policy) : undefined;
    const metrics = options.metrics;
    this.#metrics = metrics;
    this.#connectionOptions = {
      ...options,
      policyFile,
      onDelivered: metrics && ((count) => metrics.addDelivered(count)),
      onDropped: metrics && ((count) => metrics.addDropped(count)),
    };
    this.#maxConnections = positive(
      "maxConnections",
      options.maxConnections,
      DEFAULT_MAX_CONNECTIONS,
    );
    this.#maxChannels = positive("maxChannels", options.maxChannels, DEFAULT_MAX_CHANNELS);
    this.#retainMs = positive("retainMs", options.retainMs, DEFAULT_RETAIN_MS);
    this.#maxRetained = positive("maxRetained", options.maxRetained, DEFAULT_MAX_RETAINED);
    this.#generateId = options.generateId ?? generateRelayId;
    // Validate the connection limits once, here, rather than on the first connect.
    new RelayConnection("validation", 0, this.#connectionOptions);
  }

  /** The limits and timeouts every connection is created with. */
  get connectionOptions(): RelayConnectionOptions {
    return this.#connectionOptions;
  }

  /**
   * Registers a new connection with a fresh id, or returns `undefined` when the relay is at
   * `maxConnections` (the adapter then writes `encodeRelayError("RELAY_ERR_TOO_MANY_CONNECTIONS")`
   * and closes).
   */
  open(now: number): RelayConnection | undefined {
    if (this.#open.size >= this.#maxConnections) return undefined;
    let id = this.#generateId();
    while (this.#open.has(id) || this.#retained.has(id)) id = this.#generateId();
    const conn = new RelayConnection(id, now, this.#connectionOptions);
    this.#open.set(id, conn);
    this.#metrics?.connectionOpened("relay");
    return conn;
  }

  /** The open connection with this id, if any. */
  get(id: string): RelayConnection | undefined {
    return this.#open.get(id);
  }

  /**
   * Forgets a connection whose socket is closed: ends its feeds and, if it was ever
   * greeted, keeps its cursors for `retainMs` so a client can learn where it was.
   */
  release(conn: RelayConnection, now: number): void {
    if (this.#open.get(conn.id) !== conn) return;
    if (conn.state !== "closed") conn.finish();
    this.#open.delete(conn.id);
    this.#metrics?.connectionClosed("relay");
    const subs = this.#subs.get(conn);
    this.#subs.delete(conn);
    for (const sub of subs?.values() ?? []) this.#end(sub);
    const reason = conn.closeReason!.code;
    if (reason === "RELAY_ERR_SLOW_READER" || reason === "RELAY_ERR_WRITE_TIMEOUT") {
      this.#slowReaders++;
    }
    if (conn.greeted && this.#maxRetained > 0) {
      this.#retained.set(conn.id, { closedAt: now, reason, channels: new Map(conn.channels) });
      if (this.#retained.size > this.#maxRetained) {
        this.#retained.delete(this.#retained.keys().next().value!);
      }
    }
  }

  /**
   * Subscribes connection `id` to `channel`, resuming after `after` when given: history is
   * queued first (after a `<reset/>` when some was lost), then live messages, each once and
   * in order. Subscribing again to a channel already subscribed changes nothing.
   */
  async subscribe(
    id: string,
    channel: string,
    after: string | undefined,
    now: number,
  ): Promise<RelaySubscribed | RelayRequestError> {
    if (!CHANNEL_NAME.test(channel)) return badChannel();
    if (
      after !== undefined &&
      (after.length === 0 || after.length > MAX_CURSOR_LENGTH || !isXmlText(after))
    ) {
      return relayRequestError("RELAY_ERR_BAD_CURSOR", 400, "Cursor must be 1 to 256 characters");
    }
    const conn = this.#open.get(id);
    if (conn === undefined || conn.state !== "open") return unknownId();
    let subs = this.#subs.get(conn);
    if (subs === undefined) this.#subs.set(conn, subs = new Map());
    const existing = subs.get(channel);
    if (existing !== undefined) {
      await existing.ready;
      const cursor = conn.channels.get(channel);
      if (conn.state !== "open" || subs.get(channel) !== existing || cursor === undefined) {
        return conflict();
      }
      return { type: "subscribed", channel, cursor };
    }
    if (conn.channels.size >= this.#maxChannels) {
      return relayRequestError(
        "RELAY_ERR_TOO_MANY_CHANNELS",
        409,
        `A relay connection may subscribe to ${this.#maxChannels} channels`,
      );
    }
    let ready!: () => void;
    const sub: Subscription = { feed: undefined, ready: new Promise<void>((r) => ready = r) };
    subs.set(channel, sub);
    conn.subscribe(channel, after);
    let result: RelayFeed | RelaySourceError;
    try {
      result = await this.#source.subscribe(channel, { after });
    } catch (error) {
      result = { type: "error", code: "SOURCE_FAILED", status: 503, message: String(error) };
    } finally {
      ready();
    }
    const current = subs.get(channel) === sub && conn.state === "open";
    if (result.type === "error") {
      if (current) {
        subs.delete(channel);
        conn.unsubscribe(channel, now);
      }
      return result.status === 400
        ? relayRequestError("RELAY_ERR_BAD_CURSOR", 400, result.message)
        : relayRequestError("RELAY_ERR_SOURCE", result.status, `${result.code}: ${result.message}`);
    }
    if (!current) {
      result.close();
      return conn.state === "open" ? conflict() : unknownId();
    }
    sub.feed = result;
    this.#subscriptions++;
    // Read before pumping: pulling the first message moves the feed's cursor.
    const cursor = result.cursor;
    conn.setCursor(channel, cursor);
    void this.#pump(conn, channel, sub, result);
    return { type: "subscribed", channel, cursor };
  }

  /** Unsubscribes connection `id` from `channel`. */
  unsubscribe(id: string, channel: string, now: number): RelayUnsubscribed | RelayRequestError {
    if (!CHANNEL_NAME.test(channel)) return badChannel();
    const conn = this.#open.get(id);
    if (conn === undefined || conn.state !== "open") return unknownId();
    const subs = this.#subs.get(conn);
    const sub = subs?.get(channel);
    if (sub !== undefined) {
      subs!.delete(channel);
      this.#end(sub);
    }
    const removed = conn.unsubscribe(channel, now);
    return { type: "unsubscribed", channel, removed };
  }

  /** What the relay knows about `id`: open, closed (cursors kept), or `undefined`. */
  status(id: string, now: number): RelayStatus | undefined {
    const conn = this.#open.get(id);
    if (conn !== undefined) {
      if (!conn.greeted) return undefined;
      return { id, state: "open", channels: toRecord(conn.channels) };
    }
    const kept = this.#retained.get(id);
    if (kept === undefined || now - kept.closedAt >= this.#retainMs) return undefined;
    return { id, state: "closed", reason: kept.reason, channels: toRecord(kept.channels) };
  }

  /** Checks every connection's timeouts and forgets expired cursors. Call it about once a second. */
  tick(now: number): void {
    for (const conn of this.#open.values()) {
      conn.tick(now);
      // A pump waiting for room does not see its feed end: a feed the source cut off for
      // falling behind means the client reads too slowly.
      for (const [channel, sub] of this.#subs.get(conn) ?? []) {
        if (sub.feed?.closeReason === "slow_consumer" && conn.state === "open") {
          conn.close("RELAY_ERR_SLOW_READER", `Fell too far behind channel ${channel}`);
        }
      }
    }
    for (const [id, kept] of this.#retained) {
      if (now - kept.closedAt < this.#retainMs) break;
      this.#retained.delete(id);
    }
  }

  /** Asks every open connection to close with `RELAY_SHUTDOWN`; the adapter releases them. */
  closeAll(): void {
    for (const conn of this.#open.values()) conn.close();
  }

  /** Counters for metrics. */
  stats(): RelayStats {
    return {
      connections: this.#open.size,
      retained: this.#retained.size,
      subscriptions: this.#subscriptions,
      queued: this.#queued,
      slowReaders: this.#slowReaders,
    };
  }

  #end(sub: Subscription): void {
    if (sub.feed === undefined) return;
    sub.feed.close();
    sub.feed = undefined;
    this.#subscriptions--;
  }

  #encode(message: RelayMessage): Uint8Array | undefined {
    let bytes = this.#encoded.get(message);
    if (bytes === undefined) {
      try {
        bytes = encodeRelayMessage(message);
      } catch {
        // Unencodable (a character XML forbids in an id or event): skipped, not fatal.
        return undefined;
      }
      this.#encoded.set(message, bytes);
    }
    return bytes;
  }

  // Queues one event's document; false when the connection refused it (it is closing).
  #enqueueEvent(conn: RelayConnection, channel: string, event: RelayFeedEvent): boolean {
    const bytes = event.type === "reset" ? encodeReset(channel) : this.#encode(event.message);
    if (bytes === undefined) return true;
    if (!conn.enqueue(bytes, channel, event.type === "message" ? event.message.id : undefined)) {
      return false;
    }
    this.#queued++;
    return true;
  }

  // Pulls one feed into one connection, pausing while the connection's queue is half full.
  async #pump(
    conn: RelayConnection,
    channel: string,
    sub: Subscription,
    feed: RelayFeed,
  ): Promise<void> {
    try {
      pull: for await (const first of feed) {
        if (sub.feed !== feed || conn.state !== "open") break;
        if (feed.waitForBatch !== undefined && feed.takeQueued !== undefined) {
          // Let the rest of this turn's messages gather: they then go with this one.
          await feed.waitForBatch();
          if (sub.feed !== feed || conn.state !== "open") break;
        }
        // What the feed already holds goes in the same turn, one event at a time so the
        // room check stays exact (nothing is taken that would not have been pulled).
        let event: RelayFeedEvent | undefined = first;
        while (event !== undefined) {
          if (!this.#enqueueEvent(conn, channel, event)) break pull;
          event = conn.hasRoom ? feed.takeQueued?.(1)[0] : undefined;
        }
        if (!conn.hasRoom) await conn.waitForRoom();
      }
    } catch {
      // A failing feed ends like a closed one.
    }
    const reason = feed.closeReason;
    feed.close();
    if (sub.feed !== feed || conn.state !== "open") return;
    // The feed ended on its own while the client still wants it.
    if (reason === "gap" && await this.#resume(conn, channel, sub, feed)) return;
    if (sub.feed !== feed || conn.state !== "open") return;
    if (reason === "slow_consumer") {
      conn.close("RELAY_ERR_SLOW_READER", `Fell too far behind channel ${channel}`);
    } else {
      conn.close("RELAY_SHUTDOWN", `The feed of channel ${channel} ended`);
    }
  }

  // The source lost messages after the feed's cursor (e.g. a Redis restart without
  // persistence): a new feed from that cursor starts with a reset, so the client gets
  // `<reset/>` and what is retained, and its other channels go on. False: it could not.
  async #resume(
    conn: RelayConnection,
    channel: string,
    sub: Subscription,
    ended: RelayFeed,
  ): Promise<boolean> {
    let result: RelayFeed | RelaySourceError;
    try {
      result = await this.#source.subscribe(channel, { after: ended.cursor });
    } catch {
      return false;
    }
    if (result.type === "error") return false;
    if (sub.feed !== ended || conn.state !== "open") {
      // Left or closed meanwhile: nothing to resume.
      result.close();
      return true;
    }
    sub.feed = result;
    void this.#pump(conn, channel, sub, result);
    return true;
  }
}

function unknownId(): RelayRequestError {
  return relayRequestError("RELAY_ERR_UNKNOWN_ID", 404, "No open relay connection has this id");
}

function badChannel(): RelayRequestError {
  return relayRequestError(
    "RELAY_ERR_BAD_CHANNEL",
    400,
    "Channel must match [A-Za-z0-9_.:-]{1,128}",
  );
}

function conflict(): RelayRequestError {
  return relayRequestError("RELAY_ERR_CONFLICT", 409, "The channel was left while joining");
}
