/**
 * What the hub's router hands every channel route, built-in or mounted (a WebSocket route, a
 * relay): the hub, metrics, the validated channel, CORS headers and the auth decision.
 *
 * @module
 */
import type { Hub } from "../hub/hub.ts";
import type { HubError } from "../hub/hub_error.ts";
import type { TokenAction, TokenClaims } from "./auth.ts";
import type { Metrics } from "./metrics.ts";

/** Transport limits and timings, every one with its default filled in. */
export interface TransportSettings {
  /** Largest publish body in bytes. @default {1048576} */
  readonly maxBodyBytes: number;
  /** Interval of heartbeats on streaming responses, ms (below common 30–60 s proxy idle timeouts). @default {15000} */
  readonly heartbeatIntervalMs: number;
  /** Long-poll wait when `?timeout=` is absent, ms. @default {25000} */
  readonly longPollTimeoutMs: number;
  /** Longest long-poll wait, ms: a larger `?timeout=` is cut to it. @default {60000} */
  readonly longPollMaxTimeoutMs: number;
  /** `retry:` sent first on SSE streams, ms; undefined sends none. @default {3000} */
  readonly sseRetryMs: number | undefined;
  /** Bytes a streaming response may queue for a client that does not read. @default {1048576} */
  readonly maxQueuedBytes: number;
  /** Bytes an iframe stream writes before ending (the page reopens it with `?after=`). @default {1048576} */
  readonly iframeMaxBytes: number;
}

/** The context of one request to a channel route. */
export interface ChannelRouteContext {
  /** The hub. */
  readonly hub: Hub;
  /** Metrics to count connections and deliveries in. */
  readonly metrics: Metrics;
  /** The channel, already validated. */
  readonly channel: string;
  /** The parsed request URL. */
  readonly url: URL;
  /** CORS headers to put on the response. Shared between requests: copy, never mutate. */
  readonly headers: Headers;
  /** Limits and timings. */
  readonly settings: TransportSettings;
  /** The verified token claims, when a secret is configured and a valid token was sent. */
  readonly claims: TokenClaims | undefined;
  /**
   * Checks access: undefined when allowed (or no secret is configured), else a 401 error (no
   * or bad token) or a 403 error (token does not grant the channel).
   */
  authorize(action: TokenAction): HubError | undefined;
}

/** A route mounted on `/channels/{ch}/{name}` (e.g. the WebSocket transport on `ws`). */
export type ChannelRoute = (
  request: Request,
  context: ChannelRouteContext,
) => Response | Promise<Response>;
