/**
 * The contract between the client and its transports. A transport carries any number of
 * channels (one HTTP connection each, or one multiplexed WebSocket) and reports back through
 * its {@linkcode TransportHost}; the client owns cursors, dedupe, ordering, timeouts,
 * reconnection and fallback, so a transport is only the wire.
 *
 * @module
 */
import type { TransportName } from "./transport_selector.ts";

/** A message as every transport delivers it to the app. */
export interface PushwireMessage {
  /** Broker-assigned id, strictly increasing within the channel; the resume point. */
  readonly id: string;
  /** The channel it was published on. */
  readonly channel: string;
  /** The event name it was published with, if any. */
  readonly event?: string;
  /**
   * The published value (text bodies as a string, JSON bodies as their value). Over SSE the
   * wire does not say which one it was: text that parses as JSON arrives parsed.
   */
  readonly data: unknown;
  /** Publish time (ms since the epoch); absent over SSE, which does not carry it. */
  readonly time?: number;
}

/** A channel the hub refused (4xx): it is not retried. */
export interface ChannelRefusal {
  /** HTTP status (or the WebSocket protocol's equivalent). */
  readonly status: number;
  /** The hub's stable error code (`HUB_ERR_...`), when it sent one. */
  readonly code: string | undefined;
  /** Human-readable reason. */
  readonly message: string;
}

/** Tunables every transport reads. */
export interface TransportSettings {
  /** Seconds a long poll may wait on the hub (1-60). */
  readonly longPollTimeoutS: number;
  /** Interval between short polls, ms. */
  readonly shortPollIntervalMs: number;
  /** A stream (SSE, iframe, WebSocket) silent this long is considered dead, ms. */
  readonly idleTimeoutMs: number;
  /** One HTTP request (except a stream) may take this long, ms. */
  readonly requestTimeoutMs: number;
}

/** What a transport calls; calls after the transport was dropped are ignored. */
export interface TransportHost {
  /** The hub's base URL (paths are appended to it). */
  readonly base: URL;
  /** Token sent with every request (`?token=` / `Authorization: Bearer`), if any. */
  readonly token: string | undefined;
  /** Tunables. */
  readonly settings: TransportSettings;
  /** The id to resume `channel` after; undefined until its position is known. */
  cursorOf(channel: string): string | undefined;
  /** Whether `channel` starts with the retained history (when it has no cursor yet). */
  historyOf(channel: string): boolean;
  /** The connection works (at least one channel is being carried). */
  opened(): void;
  /** A message arrived on `channel`. */
  message(channel: string, message: PushwireMessage): void;
  /** `channel`'s resume point moved without a message (poll `cursor`, channel position). */
  advance(channel: string, cursor: string): void;
  /** The hub dropped messages after the cursor of `channel` (history overflowed). */
  reset(channel: string, cursor: string): void;
  /** The connection could not be made or was lost; the client reconnects. */
  failed(reason: string): void;
  /** The hub refused `channel` for good (bad name, forbidden); the client stops it. */
  refused(channel: string, refusal: ChannelRefusal): void;
}

/** One connection attempt of one transport. */
export interface Transport {
  /** Which transport this is. */
  readonly name: TransportName;
  /** Starts carrying `channel` from `host.cursorOf(channel)`. */
  add(channel: string): void;
  /** Stops carrying `channel`. */
  remove(channel: string): void;
  /** Ends every connection; no host call follows. */
  close(): void;
}

/** Makes a transport for one connection attempt. */
export type TransportFactory = (host: TransportHost) => Transport;
