/**
 * The browser client of the pushwire hub: subscribe to and publish on channels through the
 * best transport the network allows, hiding which one carries the data. Runs unchanged in a
 * browser (served as the ES module `GET /pushwire.js`) and in Deno (its transports use only
 * `fetch`, streams, timers and, in a page, the DOM).
 *
 * - Transports: WebSocket (multiplexed `pushwire.v1`), SSE, hidden iframe, long poll, short
 *   poll; tried in the configured order, falling back when one fails to connect within
 *   `connectTimeoutMs` while the hub is reachable; the one that worked is remembered
 *   (`localStorage`) for `rememberMs` and tried first.
 * - Reconnection: exponential backoff with full jitter, capped; at once when the browser comes
 *   back online.
 * - Resume: the last id of every channel; every transport resumes after it, and a bounded
 *   memory of recent ids drops duplicates, so a message is delivered once and in order. A reset
 *   (messages dropped from history) reaches `onReset`, never swallowed.
 *
 * @example Subscribe, publish, close
 * ```ts ignore
 * import { publish, subscribe } from "./pushwire.js"; // served by the hub at /pushwire.js
 * const sub = subscribe("https://hub.example", "news", {
 *   onMessage: (message) => console.log(message.id, message.data),
 *   onReset: ({ channel }) => console.warn(channel, "lost messages: reload its state"),
 * });
 * await publish("https://hub.example", "news", { headline: "hi" });
 * sub.close();
 * ```
 *
 * @module
 */
import { Backoff, type BackoffOptions } from "./backoff.ts";
import { ChannelCursor } from "./channel_cursor.ts";
import { IframeTransport } from "./iframe_transport.ts";
import { LongPollTransport, ShortPollTransport } from "./poll_transports.ts";
import { SseTransport } from "./sse_transport.ts";
import type {
  ChannelRefusal,
  PushwireMessage,
  Transport,
  TransportFactory,
  TransportHost,
  TransportSettings,
} from "./transport.ts";
import {
  TRANSPORT_NAMES,
  type TransportMemory,
  type TransportName,
  TransportSelector,
} from "./transport_selector.ts";
import { WebSocketTransport } from "./websocket_transport.ts";
import { callApp, isChannelName, positive } from "./_util.ts";
import { SubscriptionImpl } from "./_subscription.ts";

export type { BackoffOptions, ChannelRefusal, PushwireMessage, TransportMemory, TransportName };
export { TRANSPORT_NAMES };

/** Where the client stands. */
export type ClientState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** A change of the client's connection, as `onStatus` receives it. */
export interface ClientStatus {
  /** `idle`: no channel; `connecting`: trying `transport`; `open`: carried by `transport`;
   * `reconnecting`: waiting `retryInMs` after `reason`; `closed`: for good. */
  readonly state: ClientState;
  /** The transport being tried or in use. */
  readonly transport: TransportName | undefined;
  /** Why the last connection ended, when it did. */
  readonly reason?: string;
  /** When `reconnecting`: the delay before the next attempt, ms. */
  readonly retryInMs?: number;
}

/** A reset: the hub had already dropped messages after this subscription's cursor. */
export interface ResetEvent {
  /** The channel. */
  readonly channel: string;
  /** The hub's cursor at the reset; every message still retained follows. */
  readonly cursor: string;
}

/** A channel the hub refused; the subscription is closed. */
export interface RefusalEvent extends ChannelRefusal {
  /** The channel. */
  readonly channel: string;
}

/** Options of {@linkcode PushwireClient}. */
export interface ClientOptions {
  /**
   * Transports to use, in order of preference.
   * @default {["websocket", "sse", "iframe", "longpoll", "shortpoll"]}
   */
  readonly transports?: readonly TransportName[];
  /**
   * A transport that has not connected within this time is dropped for the next one, ms.
   * @default {5000}
   */
  readonly connectTimeoutMs?: number;
  /** Reconnection delays: full jitter in `[0, min(capMs, baseMs * 2^n))`. @default {{baseMs: 1000, capMs: 30000}} */
  readonly backoff?: BackoffOptions;
  /**
   * Interval of short polling, ms.
   * @default {2000}
   */
  readonly shortPollIntervalMs?: number;
  /**
   * Seconds a long poll waits on the hub (the hub allows at most 60).
   * @default {25}
   */
  readonly longPollTimeoutS?: number;
  /**
   * A stream silent this long is considered dead, ms (the hub sends a heartbeat every 15 s).
   * @default {45000}
   */
  readonly idleTimeoutMs?: number;
  /**
   * Time allowed to one plain request, ms.
   * @default {10000}
   */
  readonly requestTimeoutMs?: number;
  /**
   * How long a transport that worked is tried first, ms.
   * @default {600000}
   */
  readonly rememberMs?: number;
  /**
   * Where to remember it; `null`: nowhere.
   * @default {localStorage in a page, else null}
   */
  readonly memory?: TransportMemory | null;
  /** Token for a hub started with `--secret` (sent as `?token=` / `Authorization`). */
  readonly token?: string;
  /** Called on every change of {@linkcode ClientStatus}. */
  readonly onStatus?: (status: ClientStatus) => void;
}

/** Options of {@linkcode PushwireClient.subscribe}. */
export interface SubscribeOptions {
  /** Called with every message, once, in order. */
  readonly onMessage: (message: PushwireMessage) => void;
  /**
   * Called when the hub says messages were dropped before the retained ones that follow. Once
   * per gap: a reconnect before the next message arrived hears the reset again, unreported.
   */
  readonly onReset?: (event: ResetEvent) => void;
  /** Called when the hub refuses the channel (bad name, no permission); the subscription ends. */
  readonly onError?: (event: RefusalEvent) => void;
  /** Called on every change of the connection. */
  readonly onStatus?: (status: ClientStatus) => void;
  /** Resume after this id (e.g. one the app stored); else start at the channel's present. */
  readonly after?: string;
  /**
   * Without `after`: start with every message the hub still retains.
   * @default {false}
   */
  readonly history?: boolean;
}

/** A live subscription. */
export interface Subscription {
  /** The channel. */
  readonly channel: string;
  /** The id of the last message delivered (or the channel position), to resume from later. */
  readonly lastId: string | undefined;
  /** Whether {@linkcode Subscription.close} was called or the channel was refused. */
  readonly closed: boolean;
  /** Stops the subscription. Idempotent. */
  close(): void;
}

/** Options of {@linkcode PushwireClient.publish}. */
export interface PublishOptions {
  /** An event name (`[A-Za-z0-9_.:-]{1,64}`-style, as the hub allows). */
  readonly event?: string;
  /** Token for a hub started with `--secret`; the client's by default. */
  readonly token?: string;
}

/** What {@linkcode PushwireClient.publish} resolves with: a peer error is data, not thrown. */
export type PublishResult =
  | { readonly type: "published"; readonly id: string; readonly channel: string }
  | {
    readonly type: "error";
    /** HTTP status, 0 when the hub could not be reached. */
    readonly status: number;
    readonly code: string | undefined;
    readonly message: string;
  };

/** The client's I/O: the browser's by default, fakes in tests. */
export interface ClientEnvironment {
  /** Clock, ms. */
  now(): number;
  /** Numbers in `[0, 1)` for jitter. */
  random(): number;
  /** Runs `fn` after `ms`; returns a handle. */
  setTimer(fn: () => void, ms: number): unknown;
  /** Cancels a handle of `setTimer`. */
  clearTimer(handle: unknown): void;
  /** `fetch`, for publishing and the reachability probe. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** Transport factories by name. */
  readonly transports: Readonly<Partial<Record<TransportName, TransportFactory>>>;
  /** Calls `listener` when the browser goes online (true) or offline (false); returns the remover. */
  listenNetwork(listener: (online: boolean) => void): () => void;
}

/**
 * The environment of a page (or Deno): real timers, `fetch`, `online`/`offline` events.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { browserEnvironment } from "./pushwire_client.ts";
 * assert.deepEqual(Object.keys(browserEnvironment().transports).sort(),
 *   ["iframe", "longpoll", "shortpoll", "sse", "websocket"]);
 * ```
 */
export function browserEnvironment(): ClientEnvironment {
  return {
    now: () => Date.now(),
    random: () => Math.random(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (handle) => clearTimeout(handle as number),
    fetch: (url, init) => fetch(url, init),
    transports: {
      websocket: (host) => new WebSocketTransport(host),
      sse: (host) => new SseTransport(host),
      iframe: (host) => new IframeTransport(host),
      longpoll: (host) => new LongPollTransport(host),
      shortpoll: (host) => new ShortPollTransport(host),
    },
    listenNetwork(listener) {
      const g = globalThis as { document?: unknown };
      if (g.document === undefined) return () => {}; // no page, no online/offline events
      const online = () => listener(true);
      const offline = () => listener(false);
      globalThis.addEventListener("online", online);
      globalThis.addEventListener("offline", offline);
      return () => {
        globalThis.removeEventListener("online", online);
        globalThis.removeEventListener("offline", offline);
      };
    },
  };
}

interface ChannelEntry {
  readonly cursor: ChannelCursor;
  readonly history: boolean;
  readonly subscriptions: Set<SubscriptionImpl>;
}

interface Connection {
  readonly name: TransportName;
  transport: Transport | undefined;
  alive: boolean;
  opened: boolean;
  openedAt: number;
  timer: unknown;
}

/**
 * A connection to one hub, carrying any number of channel subscriptions (over one multiplexed
 * WebSocket, or one HTTP stream or poll loop per channel).
 *
 * @example Two channels on one client, with fake transports in Deno
 * ```ts
 * import assert from "node:assert/strict";
 * import { browserEnvironment, PushwireClient } from "./pushwire_client.ts";
 * const client = new PushwireClient("http://hub.test", { transports: ["sse"], memory: null }, {
 *   ...browserEnvironment(),
 *   transports: {
 *     sse: (host) => ({
 *       name: "sse",
 *       add(channel) {
 *         host.opened();
 *         host.message(channel, { id: "e-1", channel, data: channel });
 *       },
 *       remove() {},
 *       close() {},
 *     }),
 *   },
 * });
 * const seen: unknown[] = [];
 * client.subscribe("a", { onMessage: (m) => seen.push(m.data), after: "e-0" });
 * client.subscribe("b", { onMessage: (m) => seen.push(m.data), after: "e-0" });
 * assert.deepEqual(seen, ["a", "b"]);
 * assert.equal(client.state, "open");
 * client.close();
 * ```
 */
export class PushwireClient {
  /** The hub's base URL. */
  readonly url: URL;
  #env: ClientEnvironment;
  #options: ClientOptions;
  #settings: TransportSettings;
  #connectTimeoutMs: number;
  #selector: TransportSelector;
  #backoff: Backoff;
  #channels = new Map<string, ChannelEntry>();
  #state: ClientState = "idle";
  #transport: TransportName | undefined;
  #current: Connection | undefined;
  #plan: TransportName[] = [];
  #planIndex = 0;
  #retryTimer: unknown;
  #waiting = false;
  #stopListening: () => void;

  /**
   * Creates the instance.
   *
   * @param url The hub's base URL (relative URLs resolve against the page).
   * @param options Transports, timeouts, backoff, memory.
   * @param env The I/O to use. @default {browserEnvironment()}
   */
  constructor(
    url: string | URL,
    options: ClientOptions = {},
    env: ClientEnvironment = browserEnvironment(),
  ) {
    const page = (globalThis as { location?: { href: string } }).location?.href;
    this.url = new URL(url, page);
    if (this.url.protocol !== "http:" && this.url.protocol !== "https:") {
      throw new TypeError(`Cannot create client: ${this.url.href} is not an http(s) URL`);
    }
    this.#env = env;
    this.#options = options;
    this.#connectTimeoutMs = positive("connectTimeoutMs", options.connectTimeoutMs, 5000);
    const longPollTimeoutS = positive("longPollTimeoutS", options.longPollTimeoutS, 25);
    if (longPollTimeoutS > 60) {
      throw new RangeError("Cannot create client: longPollTimeoutS must be at most 60");
    }
    this.#settings = {
      longPollTimeoutS,
      shortPollIntervalMs: positive("shortPollIntervalMs", options.shortPollIntervalMs, 2000),
      idleTimeoutMs: positive("idleTimeoutMs", options.idleTimeoutMs, 45_000),
      requestTimeoutMs: positive("requestTimeoutMs", options.requestTimeoutMs, 10_000),
    };
    const g = globalThis as { document?: unknown; localStorage?: TransportMemory };
    const memory = options.memory === undefined
      ? (g.document !== undefined ? g.localStorage : undefined)
      : options.memory ?? undefined;
    this.#selector = new TransportSelector(options.transports ?? TRANSPORT_NAMES, {
      memory,
      key: `pushwire.transport ${this.url.origin}${this.url.pathname}`,
      rememberMs: positive("rememberMs", options.rememberMs, 600_000),
    });
    for (const name of this.#selector.order) {
      if (env.transports[name] === undefined) {
        throw new TypeError(`Cannot create client: no transport "${name}" in this environment`);
      }
    }
    this.#backoff = new Backoff(options.backoff ?? {}, () => env.random());
    this.#stopListening = env.listenNetwork((online) => this.#network(online));
  }

  /** Where the client stands. */
  get state(): ClientState {
    return this.#state;
  }

  /** The transport being tried or in use. */
  get transport(): TransportName | undefined {
    return this.#transport;
  }

  /** Channels subscribed to. */
  get channelCount(): number {
    return this.#channels.size;
  }

  /**
   * Subscribes to `channel`. Several subscriptions to one channel share its connection and
   * cursor (the first one's `after` / `history` apply).
   *
   * @throws {TypeError} When the client is closed, the channel name is invalid or `onMessage`
   * is missing.
   */
  subscribe(channel: string, options: SubscribeOptions): Subscription {
    if (this.#state === "closed") throw new TypeError("Cannot subscribe: the client is closed");
    if (!isChannelName(channel)) {
      throw new TypeError(
        `Cannot subscribe: channel name "${channel}" does not match [A-Za-z0-9_.:-]{1,128}`,
      );
    }
    if (typeof options?.onMessage !== "function") {
      throw new TypeError("Cannot subscribe: onMessage must be a function");
    }
    let entry = this.#channels.get(channel);
    const created = entry === undefined;
    if (entry === undefined) {
      entry = {
        cursor: new ChannelCursor(options.after),
        history: options.history === true,
        subscriptions: new Set(),
      };
      this.#channels.set(channel, entry);
    }
    const cursor = entry.cursor;
    const subscription = new SubscriptionImpl(
      channel,
      options,
      () => cursor.lastId,
      (sub) => this.#detach(sub),
    );
    entry.subscriptions.add(subscription);
    if (created) {
      const current = this.#current;
      if (current !== undefined) current.transport?.add(channel);
      else if (!this.#waiting) this.#connect();
    }
    return subscription;
  }

  /**
   * Publishes `data` on `channel` with `POST /channels/{ch}` (a string as `text/plain`,
   * anything else as JSON).
   *
   * @throws {TypeError} When the channel name is invalid.
   */
  async publish(
    channel: string,
    data: unknown,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    if (!isChannelName(channel)) {
      throw new TypeError(
        `Cannot publish: channel name "${channel}" does not match [A-Za-z0-9_.:-]{1,128}`,
      );
    }
    const url = new URL(
      this.url.href.replace(/\/+$/, "") + "/channels/" + encodeURIComponent(channel),
    );
    if (options.event !== undefined) url.searchParams.set("event", options.event);
    const headers: Record<string, string> = {
      "Content-Type": typeof data === "string" ? "text/plain; charset=utf-8" : "application/json",
    };
    const token = options.token ?? this.#options.token;
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await this.#env.fetch(url.href, {
        method: "POST",
        headers,
        body: typeof data === "string" ? data : JSON.stringify(data),
      });
    } catch (error) {
      return { type: "error", status: 0, code: undefined, message: String(error) };
    }
    let body: { id?: unknown; channel?: unknown; error?: unknown; code?: unknown } = {};
    try {
      body = await response.json();
    } catch {
      // Not the hub's JSON.
    }
    if (response.status === 201 && typeof body.id === "string") {
      return { type: "published", id: body.id, channel };
    }
    return {
      type: "error",
      status: response.status,
      code: typeof body.code === "string" ? body.code : undefined,
      message: typeof body.error === "string" ? body.error : `HTTP ${response.status}`,
    };
  }

  /** Ends every subscription and connection. Idempotent. */
  close(): void {
    if (this.#state === "closed") return;
    this.#stopListening();
    this.#cancelRetry();
    this.#drop(undefined);
    const subscriptions = [...this.#channels.values()].flatMap((e) => [...e.subscriptions]);
    this.#channels.clear();
    for (const subscription of subscriptions) subscription.closed = true;
    this.#setState("closed", undefined);
  }

  #detach(subscription: SubscriptionImpl): void {
    const entry = this.#channels.get(subscription.channel);
    if (entry === undefined || !entry.subscriptions.delete(subscription)) return;
    if (entry.subscriptions.size > 0) return;
    this.#channels.delete(subscription.channel);
    this.#current?.transport?.remove(subscription.channel);
    if (this.#channels.size === 0) this.#idle();
  }

  #idle(): void {
    this.#cancelRetry();
    this.#drop(undefined);
    if (this.#state !== "closed") this.#setState("idle", undefined);
  }

  #setState(state: ClientState, transport: TransportName | undefined, extra: object = {}): void {
    this.#state = state;
    this.#transport = transport;
    const status: ClientStatus = { state, transport, ...extra };
    callApp(this.#options.onStatus, status);
    for (const entry of [...this.#channels.values()]) {
      for (const subscription of [...entry.subscriptions]) {
        callApp(subscription.options.onStatus, status);
      }
    }
  }

  #connect(): void {
    this.#plan = this.#selector.plan(this.#env.now());
    this.#planIndex = 0;
    this.#attempt();
  }

  #attempt(): void {
    if (this.#state === "closed" || this.#channels.size === 0) return;
    const name = this.#plan[this.#planIndex]!;
    const connection: Connection = {
      name,
      transport: undefined,
      alive: true,
      opened: false,
      openedAt: 0,
      timer: undefined,
    };
    this.#current = connection;
    this.#setState("connecting", name);
    connection.timer = this.#env.setTimer(
      () => this.#lost(connection, `${name} did not connect within ${this.#connectTimeoutMs} ms`),
      this.#connectTimeoutMs,
    );
    const transport = this.#env.transports[name]!(this.#hostFor(connection));
    connection.transport = transport;
    for (const channel of [...this.#channels.keys()]) {
      if (!connection.alive) break;
      transport.add(channel);
    }
  }

  /** Ends the current connection without reconnecting (unless it is `keep`). */
  #drop(keep: Connection | undefined): void {
    const connection = this.#current;
    if (connection === undefined || connection === keep) return;
    connection.alive = false;
    this.#env.clearTimer(connection.timer);
    this.#current = undefined;
    try {
      connection.transport?.close();
    } catch {
      // Already closed.
    }
  }

  /** `offline`: the browser's fault, not the transport's (no probe, no fallback). */
  #lost(connection: Connection, reason: string, offline = false): void {
    if (!connection.alive) return;
    this.#drop(undefined);
    if (this.#state === "closed" || this.#channels.size === 0) return;
    if (connection.opened || offline) {
      // Only a connection that lasted starts the backoff over: a hub that accepts and then
      // drops everyone (overloaded after a restart) keeps its clients backing off.
      const lasted = this.#env.now() - connection.openedAt >= this.#connectTimeoutMs;
      if (connection.opened && lasted) this.#backoff.reset();
      this.#wait(reason);
      return;
    }
    // Never opened: the transport is blocked, or the hub is down. Only the first is a reason
    // to fall back (and a hub restart must not demote the transport that worked).
    this.#probe().then((reachable) => {
      if (this.#state === "closed" || this.#channels.size === 0 || this.#current !== undefined) {
        return;
      }
      if (this.#waiting) return; // an online event already rescheduled
      if (reachable && ++this.#planIndex < this.#plan.length) this.#attempt();
      else this.#wait(reason);
    });
  }

  async #probe(): Promise<boolean> {
    let timer: unknown;
    try {
      const controller = new AbortController();
      timer = this.#env.setTimer(() => controller.abort(), this.#connectTimeoutMs);
      const response = await this.#env.fetch(
        this.url.href.replace(/\/+$/, "") + "/healthz",
        { cache: "no-store", signal: controller.signal },
      );
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    } finally {
      this.#env.clearTimer(timer);
    }
  }

  #wait(reason: string): void {
    const delay = this.#backoff.next();
    this.#waiting = true;
    this.#setState("reconnecting", this.#transport, { reason, retryInMs: delay });
    this.#retryTimer = this.#env.setTimer(() => {
      this.#waiting = false;
      this.#retryTimer = undefined;
      this.#connect();
    }, delay);
  }

  #cancelRetry(): void {
    if (this.#retryTimer !== undefined) this.#env.clearTimer(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#waiting = false;
  }

  #network(online: boolean): void {
    if (this.#state === "closed" || this.#channels.size === 0) return;
    if (online) {
      // Back online: retry at once instead of sitting out the backoff.
      if (this.#waiting) {
        this.#cancelRetry();
        this.#connect();
      }
    } else if (this.#current !== undefined) {
      this.#lost(this.#current, "the browser went offline", true);
    }
  }

  #hostFor(connection: Connection): TransportHost {
    const channels = this.#channels;
    const live = (channel: string): ChannelEntry | undefined =>
      connection.alive ? channels.get(channel) : undefined;
    return {
      base: this.url,
      token: this.#options.token,
      settings: this.#settings,
      cursorOf: (channel) => channels.get(channel)?.cursor.lastId,
      historyOf: (channel) => channels.get(channel)?.history === true,
      opened: () => {
        if (!connection.alive || connection.opened) return;
        connection.opened = true;
        connection.openedAt = this.#env.now();
        this.#env.clearTimer(connection.timer);
        this.#selector.succeeded(connection.name, this.#env.now());
        this.#setState("open", connection.name);
      },
      message: (channel, message) => {
        const entry = live(channel);
        if (entry === undefined || message === null || typeof message !== "object") return;
        if (typeof message.id !== "string" || !entry.cursor.accept(message.id)) return;
        for (const subscription of [...entry.subscriptions]) {
          if (!subscription.closed) callApp(subscription.options.onMessage, message);
        }
      },
      advance: (channel, cursor) => live(channel)?.cursor.advance(cursor),
      reset: (channel, cursor) => {
        const entry = live(channel);
        // A reconnect before the retained messages arrived hears the same reset again.
        if (entry === undefined || !entry.cursor.reset()) return;
        for (const subscription of [...entry.subscriptions]) {
          callApp(subscription.options.onReset, { channel, cursor });
        }
      },
      failed: (reason) => this.#lost(connection, `${connection.name}: ${reason}`),
      refused: (channel, refusal) => {
        const entry = live(channel);
        if (entry === undefined) return;
        for (const subscription of [...entry.subscriptions]) {
          subscription.close();
          callApp(subscription.options.onError, { channel, ...refusal });
        }
      },
    };
  }
}

const sharedClients = new Map<string, PushwireClient>();

/**
 * Creates a client of the hub at `url` (same as `new PushwireClient(url, options)`), for
 * several channels on one connection with options of its own.
 *
 * @example
 * ```ts ignore
 * import { createClient } from "./pushwire.js";
 * const client = createClient("/", { transports: ["sse", "longpoll"] });
 * client.subscribe("a", { onMessage: console.log });
 * client.subscribe("b", { onMessage: console.log });
 * ```
 */
export function createClient(url: string | URL, options: ClientOptions = {}): PushwireClient {
  return new PushwireClient(url, options);
}

/**
 * Subscribes to `channel` on the hub at `url`. Subscriptions to one hub share one client (one
 * WebSocket for every channel), created with the first call's options and closed with the last
 * subscription. Each call's `onStatus` is its subscription's: called once per change, while
 * that subscription is open.
 *
 * @example
 * ```ts ignore
 * import { subscribe } from "./pushwire.js";
 * const sub = subscribe("/", "news", { onMessage: (m) => console.log(m.data) });
 * ```
 */
export function subscribe(
  url: string | URL,
  channel: string,
  options: SubscribeOptions & ClientOptions,
): Subscription {
  const page = (globalThis as { location?: { href: string } }).location?.href;
  const key = new URL(url, page).href;
  let client = sharedClients.get(key);
  if (client === undefined || client.state === "closed") {
    // `onStatus` is each caller's, through its subscription: as a client option too it would
    // be called twice per change, and go on after this subscription closed.
    client = new PushwireClient(url, { ...options, onStatus: undefined });
    sharedClients.set(key, client);
  }
  const shared = client;
  const subscription = shared.subscribe(channel, options);
  return {
    channel,
    get lastId() {
      return subscription.lastId;
    },
    get closed() {
      return subscription.closed;
    },
    close() {
      subscription.close();
      if (shared.channelCount === 0 && sharedClients.get(key) === shared) {
        sharedClients.delete(key);
        shared.close();
      }
    },
  };
}

/**
 * Publishes `data` on `channel` of the hub at `url` (`POST /channels/{ch}`).
 *
 * @example
 * ```ts ignore
 * import { publish } from "./pushwire.js";
 * const result = await publish("/", "news", { headline: "hi" });
 * if (result.type === "error") console.warn(result.status, result.message);
 * ```
 */
export async function publish(
  url: string | URL,
  channel: string,
  data: unknown,
  options: PublishOptions = {},
): Promise<PublishResult> {
  const client = new PushwireClient(url, { memory: null });
  try {
    return await client.publish(channel, data, options);
  } finally {
    client.close();
  }
}
