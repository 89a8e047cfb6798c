/**
 * The TypeScript declaration of the browser module, served at `GET /pushwire.d.ts` (and named
 * by the `X-TypeScript-Types` header of `GET /pushwire.js`). A test type-checks the
 * implementation against it, so the two cannot drift apart.
 *
 * @module
 */

/**
 * The text of `pushwire.d.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PUSHWIRE_DTS } from "./pushwire_dts.ts";
 * assert.ok(PUSHWIRE_DTS.includes("export declare function subscribe("));
 * ```
 */
export const PUSHWIRE_DTS: string =
  `// Types of the pushwire browser client, the ES module the hub serves at /pushwire.js.

/** The transports, by name. */
export type TransportName = "websocket" | "sse" | "iframe" | "longpoll" | "shortpoll";

/** Every transport, fastest first: the default order. */
export declare const TRANSPORT_NAMES: readonly TransportName[];

/** The subprotocol of the multiplexed WebSocket at /ws. */
export declare const PUSHWIRE_SUBPROTOCOL: "pushwire.v1";

/** A message as every transport delivers it. */
export interface PushwireMessage {
  /** Broker-assigned id, strictly increasing within the channel; the resume point. */
  readonly id: string;
  readonly channel: string;
  readonly event?: string;
  /** The published value. Over SSE, text that parses as JSON arrives parsed. */
  readonly data: unknown;
  /** Publish time, ms since the epoch; absent over SSE. */
  readonly time?: number;
}

/** \`idle\`: no channel; \`connecting\`; \`open\`; \`reconnecting\` (waiting \`retryInMs\`); \`closed\`. */
export type ClientState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

export interface ClientStatus {
  readonly state: ClientState;
  readonly transport: TransportName | undefined;
  readonly reason?: string;
  readonly retryInMs?: number;
}

/** The hub had already dropped messages after the cursor; the retained ones follow. */
export interface ResetEvent {
  readonly channel: string;
  readonly cursor: string;
}

/** The hub refused the channel (bad name, no permission); the subscription is closed. */
export interface RefusalEvent {
  readonly channel: string;
  readonly status: number;
  readonly code: string | undefined;
  readonly message: string;
}

/** A string store such as localStorage. */
export interface TransportMemory {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface BackoffOptions {
  /** Upper bound of the first delay, ms. Default 1000. */
  readonly baseMs?: number;
  /** Upper bound of any delay, ms. Default 30000. */
  readonly capMs?: number;
}

export interface ClientOptions {
  /** Transports in order of preference. Default ["websocket","sse","iframe","longpoll","shortpoll"]. */
  readonly transports?: readonly TransportName[];
  /** Fall back when a transport has not connected within this, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Reconnection delays, full jitter. Default {baseMs: 1000, capMs: 30000}. */
  readonly backoff?: BackoffOptions;
  /** Short-poll interval, ms. Default 2000. */
  readonly shortPollIntervalMs?: number;
  /** Seconds a long poll waits on the hub (at most 60). Default 25. */
  readonly longPollTimeoutS?: number;
  /** A stream silent this long is dead, ms. Default 45000. */
  readonly idleTimeoutMs?: number;
  /** Time allowed to one plain request, ms. Default 10000. */
  readonly requestTimeoutMs?: number;
  /** How long the transport that worked is tried first, ms. Default 600000. */
  readonly rememberMs?: number;
  /** Where to remember it; null: nowhere. Default localStorage. */
  readonly memory?: TransportMemory | null;
  /** Token for a hub started with --secret. */
  readonly token?: string;
  readonly onStatus?: (status: ClientStatus) => void;
}

export interface SubscribeOptions {
  /** Every message, once, in order. */
  readonly onMessage: (message: PushwireMessage) => void;
  /** Messages were dropped before the retained ones that follow; once per gap. */
  readonly onReset?: (event: ResetEvent) => void;
  readonly onError?: (event: RefusalEvent) => void;
  readonly onStatus?: (status: ClientStatus) => void;
  /** Resume after this id; else start at the channel's present. */
  readonly after?: string;
  /** Without \`after\`: start with every retained message. Default false. */
  readonly history?: boolean;
}

export interface Subscription {
  readonly channel: string;
  /** The last id delivered (or the channel position): store it to resume later with \`after\`. */
  readonly lastId: string | undefined;
  readonly closed: boolean;
  close(): void;
}

export interface PublishOptions {
  readonly event?: string;
  readonly token?: string;
}

export type PublishResult =
  | { readonly type: "published"; readonly id: string; readonly channel: string }
  | {
    readonly type: "error";
    /** HTTP status; 0 when the hub could not be reached. */
    readonly status: number;
    readonly code: string | undefined;
    readonly message: string;
  };

/** A connection to one hub carrying any number of channels. */
export declare class PushwireClient {
  constructor(url: string | URL, options?: ClientOptions);
  readonly url: URL;
  readonly state: ClientState;
  readonly transport: TransportName | undefined;
  readonly channelCount: number;
  subscribe(channel: string, options: SubscribeOptions): Subscription;
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<PublishResult>;
  close(): void;
}

/** new PushwireClient(url, options). */
export declare function createClient(url: string | URL, options?: ClientOptions): PushwireClient;

/** Subscribes on a client shared by every subscription to this hub URL (made with the first
 * call's options; each call's onStatus is its subscription's). */
export declare function subscribe(
  url: string | URL,
  channel: string,
  options: SubscribeOptions & ClientOptions,
): Subscription;

/** POST /channels/{channel}: a string as text/plain, anything else as JSON. */
export declare function publish(
  url: string | URL,
  channel: string,
  data: unknown,
  options?: PublishOptions,
): Promise<PublishResult>;
`;
