/**
 * One relay connection as a sans-I/O state machine: it decides what to write, when to
 * close and why, and which message ids the client has been sent, but never touches a
 * socket or a clock. The adapter feeds it inbound bytes and the time, takes batches of
 * bytes to write and reports when each write finished.
 *
 * Lifecycle: `sniffing` (waiting up to `policyWindowMs` for a Flash
 * `<policy-file-request/>`, so a policy answer is not spoiled by the greeting) →
 * `open` (greeting queued; messages flow) → `closing` (flushing or aborting) → `closed`.
 *
 * @module
 */
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_MAX_QUEUE_MESSAGES,
  DEFAULT_MAX_WRITE_BYTES,
  DEFAULT_POLICY_WINDOW_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_WRITE_TIMEOUT_MS,
  POLICY_FILE_REQUEST,
} from "./_constants.ts";
import { encodePolicyFile } from "./policy_file.ts";
import { type RelayClose, relayClose, type RelayCloseCode } from "./relay_close.ts";
import { encodeGreeting, encodeRelayError } from "./relay_message.ts";

/** Lifecycle of a relay connection. */
export type RelayConnectionState = "sniffing" | "open" | "closing" | "closed";

/** Limits and timeouts of one relay connection. */
export interface RelayConnectionOptions {
  /**
   * The policy document answered to a `<policy-file-request/>`, NUL included (see
   * `encodePolicyFile`). @default a policy that grants nothing
   */
  readonly policyFile?: Uint8Array;
  /**
   * How long a new connection waits for a `<policy-file-request/>` before the greeting is
   * queued, in ms. Flash sends its request as soon as it connects and reads the first
   * NUL-terminated document as the policy, so a greeting written first would spoil it.
   * 0 greets at once. @default 100
   */
  readonly policyWindowMs?: number;
  /** Time a started `<policy-file-request/>` has to complete, in ms. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** Time a connection may hold no subscription before it is closed, in ms. @default 60000 */
  readonly idleTimeoutMs?: number;
  /** Time one write may stay pending before the reader counts as stalled, in ms. @default 30000 */
  readonly writeTimeoutMs?: number;
  /**
   * Bytes queued or in flight before the reader counts as slow and is disconnected (its
   * cursors kept). Broadcast bytes are shared between connections, so this bounds what
   * one reader can pin, not a copy. @default 8388608 (8 MiB)
   */
  readonly maxQueueBytes?: number;
  /** Documents queued or in flight before the reader counts as slow. @default 1024 */
  readonly maxQueueMessages?: number;
  /** Largest batch of queued documents joined into one write, in bytes. @default 65536 */
  readonly maxWriteBytes?: number;
  /** Called with the number of messages in each finished write (for metrics). */
  readonly onDelivered?: (count: number) => void;
  /** Called with the number of queued messages a slow-reader disconnect dropped (for metrics). */
  readonly onDropped?: (count: number) => void;
}

interface Entry {
  readonly bytes: Uint8Array;
  readonly channel: string | undefined;
  readonly id: string | undefined;
}

// The last batch joined by any connection. A broadcast queues the same documents on every
// connection, so the others reuse these bytes rather than each join a copy; it pins at most
// one batch (`maxWriteBytes`) and the documents it was joined from.
let joinedFrom: readonly Entry[] = [];
let joined: Uint8Array = new Uint8Array(0);

function joinBatch(entries: readonly Entry[], size: number): Uint8Array {
  if (entries.length === joinedFrom.length && size === joined.length) {
    let same = true;
    for (let i = 0; i < entries.length && same; i++) {
      same = entries[i]!.bytes === joinedFrom[i]!.bytes;
    }
    if (same) return joined;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const entry of entries) {
    out.set(entry.bytes, offset);
    offset += entry.bytes.length;
  }
  joinedFrom = entries;
  joined = out;
  return out;
}

const NO_POLICY = /* @__PURE__ */ encodePolicyFile({ origins: [], ports: [] });

function limit(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) {
    throw new RangeError(`Cannot create relay connection: ${name} must be >= ${min}, got ${v}`);
  }
  return v;
}

/**
 * One relay connection's state: inbound policy-request detection (any other inbound byte
 * is junk, since the relay never reads data), the bounded outgoing queue with its
 * slow-reader policy, per-channel cursors (the id of the last message whose write
 * finished) and every timeout, driven by the `now` the caller passes in.
 *
 * @example Drive a connection by hand
 * ```ts
 * import assert from "node:assert/strict";
 * import { RelayConnection } from "./relay_connection.ts";
 * import { encodeRelayMessage } from "./relay_message.ts";
 *
 * const conn = new RelayConnection("AAAAAAAAAAAAAAAAAAAAAA", 0, { policyWindowMs: 0 });
 * conn.subscribe("news", "0");
 * conn.enqueue(encodeRelayMessage({ id: "1", channel: "news", data: 1, time: 0 }), "news", "1");
 * const bytes = conn.takeOutgoing(0)!; // the greeting and the message in one write
 * assert(new TextDecoder().decode(bytes).startsWith('<pushwire id="AAAA'));
 * conn.writeDone(1);
 * assert(conn.channels.get("news") === "1");
 * ```
 */
export class RelayConnection {
  /** The relay id this connection was greeted with. */
  readonly id: string;
  /**
   * Called when there is something new for the adapter to do: bytes to write or a close
   * to carry out. Set by the adapter; may fire spuriously.
   */
  onChange: (() => void) | undefined = undefined;

  #state: RelayConnectionState = "sniffing";
  #close: RelayClose | undefined = undefined;
  #greeted = false;
  readonly #policyFile: Uint8Array;
  readonly #requestTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #writeTimeoutMs: number;
  readonly #maxQueueBytes: number;
  readonly #maxQueueMessages: number;
  readonly #maxWriteBytes: number;
  readonly #onDelivered: ((count: number) => void) | undefined;
  readonly #onDropped: ((count: number) => void) | undefined;
  readonly #windowEndsAt: number;
  #matched = 0;
  #requestStartedAt = 0;
  #idleSince: number;
  readonly #channels = new Map<string, string | undefined>();
  #queue: Entry[] = [];
  #head = 0;
  #pendingBytes = 0;
  #inflight: Entry[] = [];
  #writeStartedAt = 0;
  #roomWaiting: Promise<void> | undefined = undefined;
  #roomWake: (() => void) | undefined = undefined;

  /**
   * Creates a connection in state `sniffing` (or `open` with the greeting queued when
   * `policyWindowMs` is 0).
   *
   * @param id the relay id (see `generateRelayId`)
   * @param now the current time in ms, e.g. `Date.now()`
   * @throws {RangeError} when a limit or timeout is not a number in range.
   */
  constructor(id: string, now: number, options: RelayConnectionOptions = {}) {
    this.id = id;
    this.#policyFile = options.policyFile ?? NO_POLICY;
    const windowMs = limit("policyWindowMs", options.policyWindowMs, DEFAULT_POLICY_WINDOW_MS, 0);
    this.#requestTimeoutMs = limit(
      "requestTimeoutMs",
      options.requestTimeoutMs,
      DEFAULT_REQUEST_TIMEOUT_MS,
      1,
    );
    this.#idleTimeoutMs = limit("idleTimeoutMs", options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, 1);
    this.#writeTimeoutMs = limit(
      "writeTimeoutMs",
      options.writeTimeoutMs,
      DEFAULT_WRITE_TIMEOUT_MS,
      1,
    );
    this.#maxQueueBytes = limit("maxQueueBytes", options.maxQueueBytes, DEFAULT_MAX_QUEUE_BYTES, 1);
    this.#maxQueueMessages = limit(
      "maxQueueMessages",
      options.maxQueueMessages,
      DEFAULT_MAX_QUEUE_MESSAGES,
      2,
    );
    this.#maxWriteBytes = limit("maxWriteBytes", options.maxWriteBytes, DEFAULT_MAX_WRITE_BYTES, 1);
    this.#onDelivered = options.onDelivered;
    this.#onDropped = options.onDropped;
    this.#windowEndsAt = now + windowMs;
    this.#idleSince = now;
    if (windowMs === 0) this.#greet();
  }

  /** Where the connection is in its lifecycle. */
  get state(): RelayConnectionState {
    return this.#state;
  }

  /** Why the connection is closing or closed; `undefined` while it is live. */
  get closeReason(): RelayClose | undefined {
    return this.#close;
  }

  /** Whether the greeting (and so the id) was ever queued for the client. */
  get greeted(): boolean {
    return this.#greeted;
  }

  /**
   * Subscribed channels and their cursors: the id of the last message of that channel
   * whose write finished (or the starting cursor; `undefined` while not yet known).
   */
  get channels(): ReadonlyMap<string, string | undefined> {
    return this.#channels;
  }

  /** Bytes queued or in flight, counted against `maxQueueBytes`. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Documents queued or in flight, counted against `maxQueueMessages`. */
  get pendingMessages(): number {
    return this.#queue.length - this.#head + this.#inflight.length;
  }

  /**
   * Starts tracking `channel` with `cursor` as its position (`undefined` until known).
   *
   * @throws {TypeError} when the connection is not open (check `state` first).
   */
  subscribe(channel: string, cursor: string | undefined): void {
    if (this.#state !== "open") {
      throw new TypeError(`Cannot subscribe relay connection: it is ${this.#state}`);
    }
    this.#channels.set(channel, cursor);
  }

  /** Sets the cursor of a subscribed channel; ignored for other channels. */
  setCursor(channel: string, cursor: string): void {
    if (this.#channels.has(channel)) this.#channels.set(channel, cursor);
  }

  /** Stops tracking `channel`; returns whether it was subscribed. */
  unsubscribe(channel: string, now: number): boolean {
    const had = this.#channels.delete(channel);
    if (had && this.#channels.size === 0) this.#idleSince = now;
    return had;
  }

  /**
   * Queues one document. `channel` and `id` name the message it carries, so the cursor of
   * `channel` moves to `id` once its write finished. Returns false when the document was
   * not queued: the connection is not open, or it went over a queue limit and is now
   * closing with `RELAY_ERR_SLOW_READER` (queued documents dropped, cursors kept). A single
   * document larger than `maxQueueBytes` is accepted into an empty queue.
   */
  enqueue(bytes: Uint8Array, channel?: string, id?: string): boolean {
    if (this.#state !== "open") return false;
    // A document larger than the byte limit still goes into an empty queue.
    if (
      (this.#pendingBytes > 0 && this.#pendingBytes + bytes.length > this.#maxQueueBytes) ||
      this.pendingMessages + 1 > this.#maxQueueMessages
    ) {
      this.#end(
        "RELAY_ERR_SLOW_READER",
        false,
        `Outgoing queue over its limit (${this.#maxQueueMessages} documents, ${this.#maxQueueBytes} bytes)`,
      );
      return false;
    }
    this.#push({ bytes, channel, id });
    return true;
  }

  /**
   * Whether a producer may queue more: fewer than half of `maxQueueMessages` documents and
   * of `maxQueueBytes` bytes are pending. Producers that pull (the relay's feeds) wait for
   * room with {@linkcode waitForRoom}, so the hard limits in {@linkcode enqueue} are only a
   * fail-safe.
   */
  get hasRoom(): boolean {
    return this.pendingMessages * 2 < this.#maxQueueMessages &&
      this.#pendingBytes * 2 < this.#maxQueueBytes;
  }

  /** Resolves once {@linkcode hasRoom} holds or the connection is no longer open. */
  waitForRoom(): Promise<void> {
    if (this.#state !== "open" || this.hasRoom) return Promise.resolve();
    this.#roomWaiting ??= new Promise<void>((resolve) => this.#roomWake = resolve);
    return this.#roomWaiting;
  }

  /**
   * Feeds bytes read from the socket. Only a complete `<policy-file-request/>` + NUL is
   * understood: it is answered with the policy file and the connection closes once that is
   * written. Any other byte is junk: queued messages are dropped, and the connection closes
   * once `<error code="RELAY_ERR_JUNK"/>` + NUL is written.
   */
  receive(bytes: Uint8Array, now: number): void {
    if (this.#state === "closing" || this.#state === "closed") return;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== POLICY_FILE_REQUEST[this.#matched]) {
        this.#dropQueue();
        this.#refuse("RELAY_ERR_JUNK", "Inbound bytes that are not a policy-file request");
        return;
      }
      if (this.#matched++ === 0) this.#requestStartedAt = now;
      if (this.#matched === POLICY_FILE_REQUEST.length) {
        // Adobe: "The server must send a null byte to terminate a policy file, and may
        // thereafter close the connection" — nothing else goes on this socket.
        this.#dropQueue();
        this.#state = "open";
        this.#push({ bytes: this.#policyFile, channel: undefined, id: undefined });
        this.#end("RELAY_POLICY_SERVED", true, "Policy file served");
        return;
      }
    }
  }

  /** Reports that the client closed the socket or it failed. */
  peerClosed(): void {
    this.#end("RELAY_PEER_CLOSED", false, "The client closed the connection");
  }

  /**
   * Closes the connection from the server side at once (`RELAY_SHUTDOWN` unless told
   * otherwise). A connection already closing by flushing stops flushing, keeping its close
   * reason: a reader that stalled mid-flush must not hold up a shutdown.
   */
  close(code: RelayCloseCode = "RELAY_SHUTDOWN", message = "The relay is shutting down"): void {
    if (this.#state === "closing" && this.#close?.flush) {
      this.#close = relayClose(this.#close.code, false, this.#close.message);
      this.#dropQueue();
      this.#notifyRoom();
      this.onChange?.();
      return;
    }
    this.#end(code, false, message);
  }

  /** Checks every timeout against `now`; call it periodically and when a timer fires. */
  tick(now: number): void {
    if (this.#state === "closed") return;
    if (this.#inflight.length > 0 && now - this.#writeStartedAt >= this.#writeTimeoutMs) {
      this.#end(
        "RELAY_ERR_WRITE_TIMEOUT",
        false,
        `A write stayed pending for ${this.#writeTimeoutMs} ms`,
      );
      return;
    }
    if (this.#state === "closing") return;
    if (this.#matched > 0) {
      if (now - this.#requestStartedAt >= this.#requestTimeoutMs) {
        this.#refuse("RELAY_ERR_REQUEST_TIMEOUT", "Policy-file request incomplete");
      }
      return;
    }
    if (this.#state === "sniffing") {
      if (now >= this.#windowEndsAt) this.#greet();
      return;
    }
    if (this.#channels.size === 0 && now - this.#idleSince >= this.#idleTimeoutMs) {
      this.#refuse("RELAY_ERR_IDLE", `No subscription for ${this.#idleTimeoutMs} ms`);
    }
  }

  /**
   * Returns the next bytes to write (queued documents joined up to `maxWriteBytes`), or
   * `undefined` when there is nothing to write, a write is still in flight, or the
   * connection is aborting. Call {@linkcode writeDone} once all of them were written. The
   * bytes may be shared with other connections: write them, never modify them.
   */
  takeOutgoing(now: number): Uint8Array | undefined {
    if (this.#inflight.length > 0 || this.#head === this.#queue.length) return undefined;
    if (this.#state === "closed" || (this.#close !== undefined && !this.#close.flush)) {
      return undefined;
    }
    let end = this.#head + 1;
    let size = this.#queue[this.#head]!.bytes.length;
    while (
      end < this.#queue.length && size + this.#queue[end]!.bytes.length <= this.#maxWriteBytes
    ) {
      size += this.#queue[end]!.bytes.length;
      end++;
    }
    if (this.#head === 0 && end === this.#queue.length) {
      // Everything queued goes: hand the array over rather than copy it.
      this.#inflight = this.#queue;
      this.#queue = [];
    } else {
      this.#inflight = this.#queue.slice(this.#head, end);
      this.#head = end;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
    }
    this.#writeStartedAt = now;
    if (this.#inflight.length === 1) return this.#inflight[0]!.bytes;
    return joinBatch(this.#inflight, size);
  }

  /** Reports that the bytes of the last {@linkcode takeOutgoing} were all written. */
  writeDone(_now: number): void {
    let messages = 0;
    for (const entry of this.#inflight) {
      this.#pendingBytes -= entry.bytes.length;
      if (entry.id === undefined) continue;
      messages++;
      if (this.#channels.has(entry.channel!)) this.#channels.set(entry.channel!, entry.id);
    }
    this.#inflight = [];
    if (messages > 0) this.#onDelivered?.(messages);
    this.#notifyRoom();
  }

  /** Reports that the socket is closed; the connection is `closed` from now on. */
  finish(): void {
    if (this.#close === undefined) {
      this.#close = relayClose("RELAY_PEER_CLOSED", false, "The connection was closed");
    }
    this.#dropQueue();
    this.#inflight = [];
    this.#pendingBytes = 0;
    this.#state = "closed";
    this.#notifyRoom();
  }

  #greet(): void {
    this.#state = "open";
    this.#greeted = true;
    this.#push({ bytes: encodeGreeting(this.id), channel: undefined, id: undefined });
  }

  // Closes once what is queued and `<error code="CODE"/>` are written, so a client that is
  // still reading learns why; the write timeout and `close()` bound a reader that is not.
  #refuse(code: RelayCloseCode, message: string): void {
    this.#push({ bytes: encodeRelayError(code), channel: undefined, id: undefined });
    this.#end(code, true, message);
  }

  #push(entry: Entry): void {
    this.#queue.push(entry);
    this.#pendingBytes += entry.bytes.length;
    if (this.#inflight.length === 0 && this.#queue.length - this.#head === 1) this.onChange?.();
  }

  // Drops what is queued (not what is in flight); returns the number of messages dropped.
  #dropQueue(): number {
    let messages = 0;
    for (let i = this.#head; i < this.#queue.length; i++) {
      const entry = this.#queue[i]!;
      this.#pendingBytes -= entry.bytes.length;
      if (entry.id !== undefined) messages++;
    }
    this.#queue = [];
    this.#head = 0;
    return messages;
  }

  #end(code: RelayCloseCode, flush: boolean, message: string): void {
    if (this.#state === "closing" || this.#state === "closed") return;
    this.#close = relayClose(code, flush, message);
    this.#state = "closing";
    // Queued messages are dropped unless flushing; the cursors stay at what was written.
    if (!flush) {
      let dropped = this.#dropQueue();
      if (code === "RELAY_ERR_SLOW_READER" || code === "RELAY_ERR_WRITE_TIMEOUT") {
        for (const entry of this.#inflight) if (entry.id !== undefined) dropped++;
        if (dropped > 0) this.#onDropped?.(dropped);
      }
    }
    this.#notifyRoom();
    this.onChange?.();
  }

  #notifyRoom(): void {
    const wake = this.#roomWake;
    if (wake === undefined || (this.#state === "open" && !this.hasRoom)) return;
    this.#roomWake = undefined;
    this.#roomWaiting = undefined;
    wake();
  }
}
