/**
 * The multi-node broker: each channel's history is a Redis Stream, so every pushwire node
 * behind a load balancer sees the same messages, ids and cursors, and a client resumes on any
 * node.
 *
 * - **Publish**: `XADD key MAXLEN ~ maxMessages * ...` (plus `XTRIM MINID ~` and `PEXPIRE` for
 *   the age limit, pipelined). The stream id is the message id; `time` is its millisecond part
 *   (the Redis clock). A publish resolves only after Redis stored it, and rejects (the HTTP
 *   layer answers 503) when Redis is unreachable: never an acknowledgement of what was not
 *   stored. A publish whose reply is lost may still be stored (at-least-once on retry).
 * - **Fan-out**: one dedicated connection per node runs `XREAD BLOCK` over the channels that
 *   have local listeners, each from the last id delivered on this node, plus a private wake
 *   stream that a new subscription appends to so the blocked read is re-issued at once. No
 *   polling: an idle node issues one `XREAD` per `blockMs`. After a Redis restart or outage the
 *   loop reconnects and reads on from the last delivered ids: per-channel order, each message
 *   once, nothing skipped that Redis still holds.
 * - **Gaps**: before reading on after a reconnect or a failed read (and before delivering a
 *   batch so full that trimming may have overtaken this node), the loop checks with the read
 *   script that the stream still holds everything after each channel's last delivered id. When
 *   it cannot (Redis restarted without persistence, or more than `maxMessages` were published
 *   while this node was cut off), it calls the channel's `onGap` before delivering anything
 *   newer, and goes on from the stream's newest id.
 * - **Read**: one Lua script reads the stream's metadata and the entries after a cursor
 *   atomically. `reset` is set when the cursor precedes the first retained entry and entries
 *   were trimmed or the stream was re-created (conservative at the exact trim boundary: a
 *   spurious `reset`, never a silent loss), when the cursor is ahead of the stream, or when the
 *   stream is gone.
 *
 * Limits: `MAXLEN ~` keeps at least `maxMessages` (Redis trims whole nodes, ~100 entries);
 * age is enforced at publish time and by key expiry (an idle channel vanishes `maxAgeMs` after
 * its last publish); a byte limit is not expressible with Streams: the HTTP body limit times
 * `maxMessages` bounds a channel.
 *
 * @module
 */
import { Redis } from "npm:ioredis@5.11.1";
import { createHash } from "node:crypto";
import type { Broker, GapListener, MessageListener, PublishInput, ReadResult } from "./broker.ts";
import { type HubError, hubError } from "./hub_error.ts";
import type { Message } from "./message.ts";
import { compareStreamIds, isStreamId, streamIdTime, ZERO_ID } from "./_redis_id.ts";
import {
  decodeStreamState,
  isLostAfter,
  type RawEntry,
  READ_SCRIPT,
  type StreamState,
} from "./_redis_script.ts";

// This file is its own entry point (the Redis client stays out of `hub/mod.ts`): the types
// its API names are re-exported so the entry documents completely.
export type { Broker, GapListener, MessageListener, PublishInput, ReadResult } from "./broker.ts";
export type { HubError, HubErrorCode } from "./hub_error.ts";
export type { Message } from "./message.ts";

/** Default URL of the Redis server. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** Options of {@linkcode RedisBroker}. */
export interface RedisBrokerOptions {
  /**
   * `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS).
   * @default {"redis://127.0.0.1:6379"}
   */
  readonly url?: string;
  /**
   * Prefix of every key this broker writes; nodes sharing channels use the same one.
   * @default {"pushwire:"}
   */
  readonly keyPrefix?: string;
  /**
   * Messages kept per channel, at least (`XADD MAXLEN ~`).
   * @default {1000}
   */
  readonly maxMessages?: number;
  /**
   * Age after which messages may be trimmed, and an idle channel's key expires.
   * @default {3600000}
   */
  readonly maxAgeMs?: number;
  /**
   * Longest a fan-out `XREAD` blocks before it is re-issued (also bounds how stale the channel
   * set of a wedged connection can get).
   * @default {5000}
   */
  readonly blockMs?: number;
  /**
   * Most entries per channel one `XREAD` or history read returns.
   * @default {1000}
   */
  readonly maxBatch?: number;
  /**
   * Timeout of each command (and of the connection attempt).
   * @default {5000}
   */
  readonly commandTimeoutMs?: number;
  /**
   * Longest `publish` waits for this node's listeners to be called with the new message.
   * @default {2000}
   */
  readonly deliveryWaitMs?: number;
}

interface Listener {
  readonly message: MessageListener;
  readonly gap: GapListener | undefined;
}

interface ChannelState {
  /** Id of the last entry delivered to this node's listeners. */
  last: string;
  /** False until `last` is known (the stream's newest id at subscribe time). */
  started: boolean;
  /**
   * The fan-out connection's incarnation on which the stream was seen to hold everything after
   * `last`; -1 when unproven. The loop reads only channels proven on its current connection.
   */
  proven: number;
  ready: Promise<void>;
  readonly listeners: Set<Listener>;
  /** Publishes of this node waiting for their message to reach the listeners. */
  readonly pending: { id: string; resolve: () => void }[];
}

/** Most channels whose maintenance time is remembered (then forgotten at once: a re-trim). */
const MAX_MAINTAINED = 10_000;

const SCRIPT_SHA = createHash("sha1").update(READ_SCRIPT).digest("hex");

function positiveOption(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result <= 0) {
    throw new RangeError(`Cannot create broker: ${name} must be a positive integer, got ${result}`);
  }
  return result;
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Decodes one stream entry into a message; undefined when it is not one of ours. */
function decodeEntry(channel: string, entry: RawEntry): Message | undefined {
  const [id, fields] = entry;
  let event: string | undefined;
  let json: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === "d") json = fields[i + 1];
    else if (fields[i] === "e") event = fields[i + 1];
  }
  if (json === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return undefined;
  }
  const time = streamIdTime(id);
  return event === undefined ? { id, channel, data, time } : { id, channel, event, data, time };
}

function decodeEntries(channel: string, entries: readonly RawEntry[]): Message[] {
  const messages: Message[] = [];
  for (const entry of entries) {
    const message = decodeEntry(channel, entry);
    if (message !== undefined) messages.push(message);
  }
  return messages;
}

function result(messages: Message[], cursor: string, reset: boolean): ReadResult {
  return {
    type: "messages",
    messages,
    cursor: messages.length > 0 ? messages[messages.length - 1]!.id : cursor,
    reset,
  };
}

/**
 * A {@linkcode Broker} on Redis Streams (Redis 7+), for several nodes sharing channels.
 *
 * @example Ids are stream ids, ordered numerically
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisBroker } from "./redis_broker.ts";
 * const broker = new RedisBroker({ url: "redis://127.0.0.1:6379" }); // connects in the background
 * assert.ok(broker.compareIds("1700000000000-10", "1700000000000-9") > 0);
 * await broker.close();
 * ```
 *
 * @example A hub on Redis (needs a running Redis server, so not run as a test)
 * ```ts ignore
 * import { RedisBroker } from "./redis_broker.ts";
 * import { Hub } from "./hub.ts";
 * const broker = await RedisBroker.connect({ url: "redis://127.0.0.1:6379" });
 * const hub = new Hub({ broker });
 * const message = await hub.publish("news", "hello");
 * console.log(message.id); // e.g. "1700000000000-0"
 * await hub.close(); // closes the broker too
 * ```
 */
export class RedisBroker implements Broker {
  readonly #prefix: string;
  readonly #maxMessages: number;
  readonly #maxAgeMs: number;
  readonly #blockMs: number;
  readonly #maxBatch: number;
  readonly #deliveryWaitMs: number;
  readonly #commands: Redis;
  readonly #blocking: Redis;
  readonly #wakeKey: string;
  #wakeLast = ZERO_ID;
  readonly #channels = new Map<string, ChannelState>();
  /** Per channel: when its age trim and expiry are next due. */
  readonly #maintained = new Map<string, number>();
  readonly #maintainMs: number;
  #closed = false;
  /** Counts the fan-out connection's (re)connects: a new one may face a restarted Redis. */
  #incarnation = 0;
  #loop: Promise<void> | undefined;
  readonly #pauses = new Set<() => void>();
  #lastError: Error | undefined;

  /**
   * Creates a broker and starts connecting; commands fail until Redis is reachable (see
   * {@linkcode RedisBroker.connect} to wait for it).
   */
  constructor(options: RedisBrokerOptions = {}) {
    this.#prefix = options.keyPrefix ?? "pushwire:";
    this.#maxMessages = positiveOption("maxMessages", options.maxMessages, 1000);
    this.#maxAgeMs = positiveOption("maxAgeMs", options.maxAgeMs, 60 * 60 * 1000);
    this.#blockMs = positiveOption("blockMs", options.blockMs, 5000);
    this.#maxBatch = positiveOption("maxBatch", options.maxBatch, 1000);
    // The expiry refresh must come well before the key expires.
    this.#maintainMs = Math.min(60_000, Math.ceil(this.#maxAgeMs / 10));
    const timeout = positiveOption("commandTimeoutMs", options.commandTimeoutMs, 5000);
    this.#deliveryWaitMs = positiveOption("deliveryWaitMs", options.deliveryWaitMs, 2000);
    const url = options.url ?? DEFAULT_REDIS_URL;
    if (!/^rediss?:\/\//.test(url)) {
      throw new TypeError(`Cannot create broker: "${truncate(url)}" is not a redis:// URL`);
    }
    const common = {
      lazyConnect: true,
      // Fail fast while disconnected: a publish must reject, not wait in a client-side queue.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: timeout,
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
    };
    // Auto-pipelining: commands issued in one tick (concurrent publishes) share one write.
    this.#commands = new Redis(url, {
      ...common,
      commandTimeout: timeout,
      enableAutoPipelining: true,
    });
    // A blocked XREAD holds its connection: fan-out gets its own.
    this.#blocking = new Redis(url, { ...common, commandTimeout: this.#blockMs + timeout });
    for (const connection of [this.#commands, this.#blocking]) {
      connection.on("error", (error: Error) => this.#lastError = error);
      connection.connect().catch(() => {}); // retried by retryStrategy
    }
    this.#blocking.on("ready", () => {
      this.#incarnation++;
      this.#endPauses();
    });
    this.#wakeKey = `${this.#prefix}wake:${crypto.randomUUID()}`;
  }

  /**
   * Creates a broker and waits until both its connections are ready; rejects (after closing
   * it) when Redis cannot be reached within `commandTimeoutMs`.
   */
  static async connect(options: RedisBrokerOptions = {}): Promise<RedisBroker> {
    const broker = new RedisBroker(options);
    try {
      await broker.#waitReady(options.commandTimeoutMs ?? 5000);
    } catch (error) {
      await broker.close();
      throw error;
    }
    return broker;
  }

  /** The last connection error seen (for logs), if any. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Appends a message to the channel's stream; rejects when Redis did not store it. */
  async publish(input: PublishInput): Promise<Message> {
    this.#checkOpen("publish");
    const json = JSON.stringify(input.data) ?? "null";
    const fields = input.event === undefined ? ["d", json] : ["e", input.event, "d", json];
    const key = this.#prefix + input.channel;
    const now = Date.now();
    const maintain = !(now < (this.#maintained.get(input.channel) ?? 0));
    if (maintain) {
      // Age trim and key expiry refresh: at most once per maintenance interval per channel;
      // best effort (the next interval retries), never a reason to fail the publish.
      if (this.#maintained.size >= MAX_MAINTAINED) this.#maintained.clear();
      this.#maintained.set(input.channel, now + this.#maintainMs);
      this.#commands
        .call("XTRIM", key, "MINID", "~", String(Math.max(0, now - this.#maxAgeMs)))
        .catch(() => this.#maintained.delete(input.channel));
    }
    let id: unknown;
    try {
      id = await this.#commands.call(
        "XADD",
        key,
        "MAXLEN",
        "~",
        String(this.#maxMessages),
        "*",
        ...fields,
      );
    } catch (error) {
      throw new Error(`Cannot publish on "${input.channel}": Redis did not store it`, {
        cause: error,
      });
    }
    if (typeof id !== "string") {
      throw new Error(`Cannot publish on "${input.channel}": unexpected XADD reply`);
    }
    if (maintain) {
      // After the XADD, so the key exists to expire.
      this.#commands.call("PEXPIRE", key, String(this.#maxAgeMs)).catch(() => {});
    }
    const message: Message = input.event === undefined
      ? { id, channel: input.channel, data: input.data, time: streamIdTime(id) }
      : {
        id,
        channel: input.channel,
        event: input.event,
        data: input.data,
        time: streamIdTime(id),
      };
    const state = this.#channels.get(input.channel);
    if (state !== undefined && state.started && compareStreamIds(id, state.last) > 0) {
      await this.#delivered(state, id);
    }
    return message;
  }

  /** Reads retained messages after `after`; see {@linkcode ReadResult}. */
  async read(channel: string, after?: string): Promise<ReadResult | HubError> {
    this.#checkOpen("read");
    if (after !== undefined && !isStreamId(after)) {
      return hubError(
        "HUB_ERR_INVALID_CURSOR",
        400,
        `Cannot read channel "${channel}": cursor "${truncate(after)}" is malformed`,
      );
    }
    const state = await this.#state(channel, after === undefined ? "-" : `(${after}`);
    if (!state.exists) {
      // Never written, expired, or lost with a Redis that kept no data.
      return result([], ZERO_ID, after !== undefined && after !== ZERO_ID);
    }
    if (after !== undefined && compareStreamIds(after, state.lastId) > 0) {
      // Ahead of the stream: an id of a stream that was lost. Start over from what is there.
      const all = await this.#state(channel, "-");
      if (!all.exists) return result([], ZERO_ID, true);
      await this.#catchUp(channel, undefined, all);
      return result(decodeEntries(channel, all.entries), all.lastId, true);
    }
    await this.#catchUp(channel, after, state);
    const messages = decodeEntries(channel, state.entries);
    if (after === undefined) return result(messages, state.lastId, false);
    // Before the first retained entry: trimmed, or a re-created stream (expired, or a Redis
    // without persistence restarted).
    const lost = isLostAfter(state, after);
    return result(messages, lost ? state.lastId : after, lost);
  }

  /** The cursor right after the channel's newest message (`0-0` for a channel never used). */
  async position(channel: string): Promise<string> {
    this.#checkOpen("read");
    const last = await this.#lastId(channel);
    const local = this.#channels.get(channel);
    if (local?.started && compareStreamIds(last, local.last) > 0) {
      await this.#delivered(local, last);
    }
    return last;
  }

  /**
   * Calls `listener` with every message of `channel` added after this call resolves, from any
   * node, and `onGap` before the first message after a stretch this node cannot prove it
   * received (see {@linkcode GapListener}); rejects when Redis is unreachable.
   */
  async subscribe(
    channel: string,
    listener: MessageListener,
    onGap?: GapListener,
  ): Promise<() => void> {
    this.#checkOpen("subscribe");
    let state = this.#channels.get(channel);
    if (state === undefined) {
      const created: ChannelState = {
        last: ZERO_ID,
        started: false,
        proven: -1,
        ready: Promise.resolve(),
        listeners: new Set(),
        pending: [],
      };
      // The starting id needs no proof, but it must come from the Redis the loop reads: it
      // does unless the fan-out connection was down or reconnected around the request.
      const incarnation = this.#blocking.status === "ready" ? this.#incarnation : -1;
      created.ready = this.#lastId(channel).then((last) => {
        created.last = last;
        created.proven = incarnation === this.#incarnation ? incarnation : -1;
        created.started = true;
        this.#wake();
      });
      state = created;
      this.#channels.set(channel, state);
      this.#loop ??= this.#readLoop();
    }
    const entry: Listener = { message: listener, gap: onGap };
    state.listeners.add(entry);
    const remove = () => {
      state.listeners.delete(entry);
      if (state.listeners.size > 0 || this.#channels.get(channel) !== state) return;
      this.#channels.delete(channel);
      for (const pending of state.pending.splice(0)) pending.resolve();
    };
    try {
      await state.ready;
    } catch (error) {
      remove();
      throw error;
    }
    return remove;
  }

  /** Orders two stream ids numerically; throws a `TypeError` for a malformed one. */
  compareIds(a: string, b: string): number {
    if (!isStreamId(a) || !isStreamId(b)) {
      throw new TypeError(`Cannot compare ids "${truncate(a)}" and "${truncate(b)}": malformed`);
    }
    return compareStreamIds(a, b);
  }

  /** Stops fan-out and closes both connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const state of this.#channels.values()) {
      for (const pending of state.pending.splice(0)) pending.resolve();
    }
    this.#channels.clear();
    this.#endPauses();
    const ended = [this.#commands, this.#blocking].map((connection) => {
      const done = new Promise<void>((resolve) => connection.once("end", () => resolve()));
      connection.disconnect();
      // Between reconnect attempts there is no socket: disconnecting cancels the retry and
      // emits no "end" event.
      return connection.status === "end" || connection.status === "reconnecting"
        ? Promise.resolve()
        : done;
    });
    await Promise.all(ended);
    await this.#loop;
  }

  #checkOpen(action: string): void {
    if (this.#closed) throw new TypeError(`Cannot ${action}: broker is closed`);
  }

  async #waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#commands.status !== "ready" || this.#blocking.status !== "ready") {
      if (this.#closed) throw new TypeError("Cannot connect: broker is closed");
      if (Date.now() >= deadline) {
        throw new Error(`Cannot connect to Redis within ${timeoutMs} ms`, {
          cause: this.#lastError,
        });
      }
      await this.#pause(20);
    }
  }

  /** Runs the read script; `start` is an XRANGE start, or "" for metadata only. */
  async #state(channel: string, start: string): Promise<StreamState> {
    const args = [1, this.#prefix + channel, start, String(this.#maxBatch)];
    let reply: unknown;
    try {
      reply = await this.#commands.call("EVALSHA", SCRIPT_SHA, ...args);
    } catch (error) {
      // After a Redis restart the script cache is empty.
      if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
      reply = await this.#commands.call("EVAL", READ_SCRIPT, ...args);
    }
    return decodeStreamState(reply);
  }

  async #lastId(channel: string): Promise<string> {
    const state = await this.#state(channel, "");
    return state.exists ? state.lastId : ZERO_ID;
  }

  /**
   * Keeps the memory broker's invariant that a read never shows an entry this node's listeners
   * have not been called with: otherwise the hub, having read history up to X, would get the
   * live copy of X later and deliver it twice. Entries read contiguously from the listeners'
   * position are delivered at once; otherwise this waits for the fan-out loop (which also
   * decides about a gap: entries after a hole must not reach listeners unannounced).
   */
  async #catchUp(
    channel: string,
    after: string | undefined,
    state: StreamState,
  ): Promise<void> {
    const local = this.#channels.get(channel);
    const entries = state.exists ? state.entries : [];
    const newest = entries[entries.length - 1]?.[0];
    if (local === undefined || !local.started || newest === undefined) return;
    if (compareStreamIds(newest, local.last) <= 0) return;
    if (
      after !== undefined && compareStreamIds(after, local.last) <= 0 &&
      !isLostAfter(state, local.last)
    ) {
      this.#deliver(channel, entries); // contiguous from `after`: skips what was delivered
      return;
    }
    await this.#delivered(local, newest);
  }

  /** Resolves once `state.last` reaches `id` (or after `deliveryWaitMs`, or on close). */
  #delivered(state: ChannelState, id: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.#deliveryWaitMs);
      const entry = { id, resolve: done };
      function done(): void {
        clearTimeout(timer);
        const index = state.pending.indexOf(entry);
        if (index !== -1) state.pending.splice(index, 1);
        resolve();
      }
      state.pending.push(entry);
    });
  }

  /** Makes the blocked XREAD return so it is re-issued with the current channel set. */
  #wake(): void {
    if (this.#closed) return;
    this.#commands.pipeline()
      .call("XADD", this.#wakeKey, "MAXLEN", "1", "*", "w", "1")
      .call("PEXPIRE", this.#wakeKey, String(this.#blockMs * 4))
      .exec()
      .catch(() => {}); // the loop re-issues within blockMs anyway
  }

  /** Waits `ms`, or less when the blocking connection becomes ready or the broker closes. */
  #pause(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#pauses.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#pauses.add(done);
    });
  }

  #endPauses(): void {
    for (const done of [...this.#pauses]) done();
  }

  async #readLoop(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      if (this.#blocking.status !== "ready") {
        await this.#pause(1000); // ends early on reconnect
        continue;
      }
      const incarnation = this.#incarnation;
      const unproven = [...this.#channels].filter(([, state]) =>
        state.started && state.proven !== incarnation
      );
      if (unproven.length > 0 && !await this.#prove(unproven, incarnation)) {
        failures++;
        await this.#pause(Math.min(1000, 25 * 2 ** Math.min(failures, 6)));
        continue;
      }
      const keys = [this.#wakeKey];
      const ids = [this.#wakeLast];
      for (const [channel, state] of this.#channels) {
        if (!state.started || state.proven !== incarnation) continue; // proven next turn
        keys.push(this.#prefix + channel);
        ids.push(state.last);
      }
      let reply: unknown;
      try {
        reply = await this.#blocking.call(
          "XREAD",
          "COUNT",
          String(this.#maxBatch),
          "BLOCK",
          String(this.#blockMs),
          "STREAMS",
          ...keys,
          ...ids,
        );
        failures = 0;
      } catch {
        if (this.#closed) break;
        // Disconnected or timed out: whatever happened meanwhile (a restart, trimming) is
        // checked before reading on from the last delivered ids.
        for (const state of this.#channels.values()) state.proven = -1;
        failures++;
        await this.#pause(Math.min(1000, 25 * 2 ** Math.min(failures, 6)));
        continue;
      }
      if (!Array.isArray(reply) || this.#incarnation !== incarnation) continue;
      const batches: [string, RawEntry[]][] = [];
      for (const [key, entries] of reply as [string, RawEntry[]][]) {
        if (key === this.#wakeKey) {
          const last = entries[entries.length - 1];
          if (last !== undefined) this.#wakeLast = last[0];
        } else {
          batches.push([key.slice(this.#prefix.length), entries]);
        }
      }
      // At least `maxMessages` new entries: this node is so far behind that trimming may have
      // passed its position, and XREAD would resume from the oldest retained entry unnoticed.
      const behind = Math.min(this.#maxBatch, this.#maxMessages);
      const suspect: [string, ChannelState][] = [];
      for (const [channel, entries] of batches) {
        const state = this.#channels.get(channel);
        if (state !== undefined && entries.length >= behind) suspect.push([channel, state]);
      }
      if (suspect.length > 0 && !await this.#prove(suspect, incarnation)) continue;
      // After a gap `last` is the stream's newest id: #deliver skips the batch read before it.
      for (const [channel, entries] of batches) {
        if (this.#channels.get(channel)?.proven === incarnation) this.#deliver(channel, entries);
      }
    }
  }

  /**
   * Checks with the read script that each stream still holds everything after the channel's
   * last delivered id, and reports a gap where it cannot. False when Redis did not answer, or
   * the fan-out connection reconnected meanwhile (the caller tries again).
   */
  async #prove(channels: [string, ChannelState][], incarnation: number): Promise<boolean> {
    const from = channels.map(([, state]) => state.last);
    let streams: StreamState[];
    try {
      // Concurrent calls share one pipelined write.
      streams = await Promise.all(channels.map(([channel]) => this.#state(channel, "")));
    } catch {
      return false;
    }
    if (this.#closed || this.#incarnation !== incarnation) return false;
    for (let i = 0; i < channels.length; i++) {
      const [channel, state] = channels[i]!;
      if (this.#channels.get(channel) !== state) continue; // unsubscribed meanwhile
      if (state.last !== from[i]) {
        state.proven = -1; // a read delivered meanwhile: this reply may be older, check again
        continue;
      }
      const stream = streams[i]!;
      if (isLostAfter(stream, state.last)) {
        this.#gap(state, stream.exists ? stream.lastId : ZERO_ID);
      }
      state.proven = incarnation;
    }
    return true;
  }

  /** Reports a gap to the channel's listeners; fan-out goes on after `newest`. */
  #gap(state: ChannelState, newest: string): void {
    state.last = newest;
    // What these publishes waited for will not be delivered as such: the listeners hear of
    // the gap instead.
    for (const pending of state.pending.splice(0)) pending.resolve();
    for (const listener of [...state.listeners]) {
      try {
        listener.gap?.();
      } catch {
        // A listener must not throw (see GapListener); one that does cannot stop the others.
      }
    }
  }

  #deliver(channel: string, entries: readonly RawEntry[]): void {
    const state = this.#channels.get(channel);
    if (state === undefined || !state.started) return;
    for (const entry of entries) {
      const id = entry[0];
      if (compareStreamIds(id, state.last) <= 0) continue; // already delivered on this node
      state.last = id;
      const message = decodeEntry(channel, entry);
      if (message === undefined) continue;
      for (const listener of state.listeners) {
        try {
          listener.message(message);
        } catch {
          // A listener must not throw (see MessageListener); one that does cannot stop the others.
        }
      }
    }
    if (state.pending.length === 0) return;
    for (const pending of [...state.pending]) {
      if (compareStreamIds(pending.id, state.last) <= 0) pending.resolve();
    }
  }
}
