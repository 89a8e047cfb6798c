/**
 * `GET /channels/{ch}/ws`: one channel per WebSocket. Every message of the channel is one
 * text frame holding the contract's message JSON (framed once per message for every
 * socket); a text frame from the client is published to the channel as a text message,
 * exactly like `POST /channels/{ch}` with `Content-Type: text/plain`.
 *
 * Resume with `?after=ID` (or `?lastEventId=ID`): retained messages after it first. When
 * history has moved past it, a `{"reset":true,"cursor":ID}` text frame comes first.
 * Refused before the `101`: bad channel (400), malformed cursor (400), missing or invalid
 * token (401), token not granting `subscribe` (403). Close codes: 1003 for a binary frame,
 * 1008 for a publish the token does not grant, 1009 for a frame over the publish limit,
 * 1013 when the client fell behind (resume with `?after=`), 1001 at shutdown.
 *
 * @module
 */
import { isChannelName } from "../../hub/channel_name.ts";
import type { Hub } from "../../hub/hub.ts";
import { type HubError, isHubError } from "../../hub/hub_error.ts";
import type { SubscriberQueueLimits } from "../../hub/subscriber_queue.ts";
import type { Subscription } from "../../hub/subscription.ts";
import { type Endpoint, reject, type WebSocketRequest } from "../../websocket_io/endpoint.ts";
import type { TokenClaims } from "../auth.ts";
import type { Metrics } from "../metrics.ts";
import { DEFAULT_MAX_BODY_BYTES } from "../read_body.ts";
import { pump } from "./_pump.ts";
import { channelFrameOf, claimsOf, grant, type SocketAuth } from "./_socket_access.ts";

/** Close codes of the WebSocket routes (RFC 6455 §7.4.1). */
const CLOSE_GOING_AWAY = 1001;
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_POLICY_VIOLATION = 1008;
const CLOSE_TRY_AGAIN_LATER = 1013;

/** Options of {@linkcode channelSocketEndpoint}. */
export interface ChannelSocketOptions {
  /** Where connections, deliveries and drops are counted. */
  readonly metrics: Metrics;
  /** A key for HS256 tokens; undefined: no token required. */
  readonly key?: Promise<CryptoKey> | undefined;
  /**
   * Origins of other sites whose pages may authenticate with the token cookie; a cookie
   * token from any other site is refused (403). Tokens in `?token=` are always accepted.
   * @default {[]}
   */
  readonly trustedOrigins?: readonly string[] | undefined;
  /**
   * Replaces the token check when the caller authenticated the request already (the hub
   * handler's router): returns its claims, or a `HubError` to refuse with.
   */
  readonly claimsOf?: (request: WebSocketRequest) => TokenClaims | HubError | undefined;
  /**
   * Largest frame a client may publish, in bytes (over it: close 1009).
   * @default {1048576}
   */
  readonly maxBodyBytes?: number;
  /** Bounds of each socket's hub subscription queue; the hub's by default. */
  readonly subscriberQueue?: SubscriberQueueLimits;
  /**
   * Milliseconds an accepted subscription may wait for its session to open before it is
   * released (a handshake that failed after the accept decision).
   * @default {20000}
   */
  readonly openTimeout?: number;
  /**
   * Clock for token expiry, ms.
   * @default {Date.now}
   */
  readonly now?: () => number;
}

/** Per-socket state of the channel endpoint. */
export interface ChannelSocketData {
  /** The channel. */
  readonly channel: string;
  /** The hub subscription, made in the accept decision so nothing is missed. */
  readonly subscription: Subscription;
  /** The token's claims, when a secret is configured. */
  readonly claims: TokenClaims | undefined;
  /** Set once the session opened (it is counted in metrics). */
  opened: boolean;
  /** Releases the subscription if the session never opens. */
  guard: ReturnType<typeof setTimeout> | undefined;
}

function afterOf(url: URL): string | undefined {
  const after = url.searchParams.get("after") ?? url.searchParams.get("lastEventId");
  return after === null || after === "" ? undefined : after;
}

/**
 * The endpoint of `/channels/:channel/ws`, for a `WebSocketRouter`.
 *
 * @example Mount it and receive a message
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../../hub/hub.ts";
 * import { connect } from "../../websocket_io/client.ts";
 * import { WebSocketRouter } from "../../websocket_io/router.ts";
 * import { WebSocketServer } from "../../websocket_io/server.ts";
 * import { Metrics } from "../metrics.ts";
 * import { channelSocketEndpoint } from "./channel_socket.ts";
 * const hub = new Hub();
 * const router = new WebSocketRouter();
 * router.route("/channels/:channel/ws", channelSocketEndpoint(hub, { metrics: new Metrics(hub) }));
 * const server = new WebSocketServer(router);
 * const { addr } = server.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await connect(`ws://127.0.0.1:${addr.port}/channels/news/ws`);
 * await hub.publish("news", "hello");
 * for await (const frame of client) {
 *   assert.equal(JSON.parse(frame as string).data, "hello");
 *   break;
 * }
 * client.close(1000);
 * await client.closed;
 * await server.shutdown();
 * await hub.close();
 * ```
 */
export function channelSocketEndpoint(
  hub: Hub,
  options: ChannelSocketOptions,
): Endpoint<string | Uint8Array, string | Uint8Array, ChannelSocketData> {
  const { metrics } = options;
  const auth: SocketAuth = {
    key: options.key,
    now: options.now ?? Date.now,
    trustedOrigins: options.trustedOrigins,
  };
  const openTimeout = options.openTimeout ?? 20_000;
  const queue = options.subscriberQueue;
  const framing = {
    frameOf: channelFrameOf,
    resetText: (cursor: string) => JSON.stringify({ reset: true, cursor }),
  };
  return {
    maxMessageSize: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    async accept(request) {
      const channel = request.params.channel ?? "";
      if (!isChannelName(channel)) {
        return reject(
          400,
          `Cannot upgrade: channel name "${
            channel.slice(0, 140)
          }" does not match [A-Za-z0-9_.:-]{1,128}`,
        );
      }
      const claims = options.claimsOf?.(request) ?? await claimsOf(request, auth);
      if (isHubError(claims)) return reject(claims.status, claims.message);
      const denied = grant(claims as TokenClaims | undefined, "subscribe", channel, auth.now());
      if (denied !== undefined) return reject(denied.status, denied.message);
      let subscription;
      try {
        subscription = await hub.subscribe(channel, {
          after: afterOf(request.url),
          ...(queue === undefined ? {} : { queue }),
        });
      } catch {
        return reject(503, "Cannot upgrade: the broker is unavailable", { "Retry-After": "1" });
      }
      if (subscription.type === "error") return reject(subscription.status, subscription.message);
      const data: ChannelSocketData = {
        channel,
        subscription,
        claims: claims as TokenClaims | undefined,
        opened: false,
        guard: undefined,
      };
      data.guard = setTimeout(() => {
        if (!data.opened) subscription.close();
      }, openTimeout);
      return { type: "accept", data };
    },
    open(session) {
      const data = session.data;
      clearTimeout(data.guard);
      data.opened = true;
      metrics.connectionOpened("ws");
      const subscription = data.subscription;
      pump(session, subscription, framing, metrics, () => true).then(() => {
        if (session.state !== "open") return;
        if (subscription.closeReason === "slow_consumer") {
          session.close(CLOSE_TRY_AGAIN_LATER, "slow consumer: reconnect with ?after=");
        } else if (subscription.closeReason === "gap") {
          session.close(CLOSE_TRY_AGAIN_LATER, "gap: resume from your cursor");
        } else if (subscription.closeReason === "hub_closed") {
          session.close(CLOSE_GOING_AWAY, "hub closed");
        }
      });
    },
    async message(session, message) {
      if (typeof message !== "string") {
        session.close(CLOSE_UNSUPPORTED_DATA, "binary frames are not supported");
        return;
      }
      const data = session.data;
      const denied = grant(data.claims, "publish", data.channel, auth.now());
      if (denied !== undefined) {
        session.close(CLOSE_POLICY_VIOLATION, denied.message.slice(0, 120));
        return;
      }
      try {
        await hub.publish(data.channel, message);
      } catch {
        session.close(CLOSE_TRY_AGAIN_LATER, "the broker is unavailable");
      }
    },
    close(session, event) {
      const data = session.data;
      clearTimeout(data.guard);
      data.subscription.close();
      if (!data.opened) return;
      data.opened = false;
      metrics.connectionClosed("ws");
      if (event.error?.code === "WS_ERR_SLOW_CONSUMER") metrics.addDropped(1);
    },
  };
}
