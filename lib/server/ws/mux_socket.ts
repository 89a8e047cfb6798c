/**
 * `GET /ws` with subprotocol `pushwire.v1`: many channels on one WebSocket, with the JSON
 * requests and replies of `mux_protocol.ts` (specified in docs/PROTOCOL-ws.md).
 *
 * A request that does not offer `pushwire.v1` is refused with HTTP 400 before the `101`
 * (RFC 6455 §4.2.2 lets a server refuse a handshake with an HTTP error; a `101` without a
 * subprotocol would leave the client to fail the connection with no reason it can read).
 * Requests are handled one at a time, in order, so replies come in request order and a
 * `subscribed` reply always precedes the channel's first message. Each client mistake gets
 * an `error` reply; a client that keeps making them (past its {@linkcode ErrorBudget}) is
 * closed with 1008. A binary frame closes with 1003.
 *
 * @module
 */
import type { Hub } from "../../hub/hub.ts";
import { isHubError } from "../../hub/hub_error.ts";
import type { SubscriberQueueLimits } from "../../hub/subscriber_queue.ts";
import type { Subscription } from "../../hub/subscription.ts";
import { type Endpoint, type EndpointSession, reject } from "../../websocket_io/endpoint.ts";
import type { TokenClaims } from "../auth.ts";
import type { Metrics } from "../metrics.ts";
import { DEFAULT_MAX_BODY_BYTES } from "../read_body.ts";
import { ErrorBudget, type ErrorBudgetOptions } from "./error_budget.ts";
import {
  encodeMuxReply,
  MUX_SUBPROTOCOL,
  type MuxError,
  muxError,
  type MuxReply,
  type MuxRequest,
  parseMuxRequest,
} from "./mux_protocol.ts";
import { pump } from "./_pump.ts";
import { claimsOf, grant, muxFrameOf, type SocketAuth } from "./_socket_access.ts";

const CLOSE_GOING_AWAY = 1001;
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_POLICY_VIOLATION = 1008;

/** Room left in a frame for the envelope around a publish's data. */
const ENVELOPE_BYTES = 64 * 1024;

/** Options of {@linkcode muxSocketEndpoint}. */
export interface MuxSocketOptions {
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
   * The publish limit, in bytes; frames may be this plus 64 KiB (over it: close 1009).
   * @default {1048576}
   */
  readonly maxBodyBytes?: number;
  /**
   * Channels one socket may subscribe to at once.
   * @default {100}
   */
  readonly maxChannels?: number;
  /** Error replies allowed before closing with 1008 (burst 10, 1 per second by default). */
  readonly errorBudget?: ErrorBudgetOptions;
  /** Bounds of each subscription's hub queue; the hub's by default. */
  readonly subscriberQueue?: SubscriberQueueLimits;
  /**
   * Clock for token expiry and the error budget, ms.
   * @default {Date.now}
   */
  readonly now?: () => number;
}

/** One channel a `/ws` socket receives. */
export interface MuxChannelState {
  /** Its hub subscription. */
  readonly subscription: Subscription;
  /** False once unsubscribed: nothing more of it may be sent. */
  active: boolean;
}

/** Per-socket state of the multiplexed endpoint. */
export interface MuxSocketData {
  /** The token's claims, when a secret is configured. */
  readonly claims: TokenClaims | undefined;
  /** Error replies left. */
  readonly budget: ErrorBudget;
  /** Subscribed channels (internal). */
  readonly channels: Map<string, MuxChannelState>;
  /** Set once the session opened (it is counted in metrics). */
  opened: boolean;
}

type MuxSession = EndpointSession<string | Uint8Array, MuxSocketData>;

/**
 * The endpoint of `/ws` (subprotocol `pushwire.v1`), for a `WebSocketRouter`.
 *
 * @example Subscribe, publish, receive
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../../hub/hub.ts";
 * import { connect } from "../../websocket_io/client.ts";
 * import { WebSocketRouter } from "../../websocket_io/router.ts";
 * import { WebSocketServer } from "../../websocket_io/server.ts";
 * import { Metrics } from "../metrics.ts";
 * import { muxSocketEndpoint } from "./mux_socket.ts";
 * const hub = new Hub();
 * const router = new WebSocketRouter();
 * router.route("/ws", muxSocketEndpoint(hub, { metrics: new Metrics(hub) }));
 * const server = new WebSocketServer(router);
 * const { addr } = server.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await connect(`ws://127.0.0.1:${addr.port}/ws`, { protocols: ["pushwire.v1"] });
 * client.send('{"type":"subscribe","channel":"news","id":1}');
 * const types: string[] = [];
 * for await (const frame of client) {
 *   const reply = JSON.parse(frame as string);
 *   types.push(reply.type);
 *   if (reply.type === "subscribed") client.send('{"type":"publish","channel":"news","data":1}');
 *   if (reply.type === "message") break;
 * }
 * assert.deepEqual(types, ["subscribed", "message"]);
 * client.close(1000);
 * await client.closed;
 * await server.shutdown();
 * await hub.close();
 * ```
 */
export function muxSocketEndpoint(
  hub: Hub,
  options: MuxSocketOptions,
): Endpoint<string | Uint8Array, string | Uint8Array, MuxSocketData> {
  const { metrics } = options;
  const now = options.now ?? Date.now;
  const auth: SocketAuth = { key: options.key, now, trustedOrigins: options.trustedOrigins };
  const maxChannels = options.maxChannels ?? 100;
  if (!Number.isSafeInteger(maxChannels) || maxChannels < 1) {
    throw new RangeError("Cannot create /ws endpoint: maxChannels must be a positive integer");
  }
  new ErrorBudget(options.errorBudget); // validates the options now (RangeError)
  const queue = options.subscriberQueue;

  function send(session: MuxSession, reply: MuxReply): void {
    session.send(encodeMuxReply(reply));
  }

  /** Replies with an error; closes with 1008 once the client has made too many. */
  function fail(session: MuxSession, error: MuxError): void {
    send(session, error);
    if (!session.data.budget.spend(now())) {
      session.close(CLOSE_POLICY_VIOLATION, "too many invalid requests");
    }
  }

  function hubFailure(
    request: MuxRequest & { channel: string },
    code: "HUB_ERR_BROKER_UNAVAILABLE",
  ): MuxError {
    return muxError(
      code,
      `Cannot ${request.type}: the broker is unavailable`,
      request.id,
      request.channel,
    );
  }

  async function subscribe(
    session: MuxSession,
    request: Extract<MuxRequest, { type: "subscribe" }>,
  ): Promise<void> {
    const { channel, id } = request;
    const state = session.data;
    if (state.channels.has(channel)) {
      return fail(
        session,
        muxError(
          "MUX_ERR_ALREADY_SUBSCRIBED",
          `Cannot subscribe: already subscribed to "${channel}" (unsubscribe first)`,
          id,
          channel,
        ),
      );
    }
    if (state.channels.size >= maxChannels) {
      return fail(
        session,
        muxError(
          "MUX_ERR_TOO_MANY_CHANNELS",
          `Cannot subscribe: a socket may subscribe to at most ${maxChannels} channels`,
          id,
          channel,
        ),
      );
    }
    const denied = grant(state.claims, "subscribe", channel, now());
    if (denied !== undefined) {
      return fail(session, muxError(denied.code, denied.message, id, channel));
    }
    let subscription;
    try {
      subscription = await hub.subscribe(channel, {
        after: request.after,
        ...(queue === undefined ? {} : { queue }),
      });
    } catch {
      return fail(session, hubFailure(request, "HUB_ERR_BROKER_UNAVAILABLE"));
    }
    if (subscription.type === "error") {
      return fail(session, muxError(subscription.code, subscription.message, id, channel));
    }
    if (session.state !== "open") {
      subscription.close();
      return;
    }
    const entry: MuxChannelState = { subscription, active: true };
    state.channels.set(channel, entry);
    send(session, { type: "subscribed", channel, cursor: subscription.cursor, id });
    const framing = {
      frameOf: muxFrameOf,
      resetText: (cursor: string) => encodeMuxReply({ type: "reset", channel, cursor }),
    };
    pump(session, subscription, framing, metrics, () => entry.active).then(() => {
      if (state.channels.get(channel) !== entry) return; // unsubscribed by the client
      state.channels.delete(channel);
      entry.active = false;
      if (session.state !== "open") return;
      const reason = subscription.closeReason;
      if (reason === "slow_consumer" || reason === "gap") {
        // This channel only: the client resubscribes from the cursor, the others go on.
        send(session, {
          type: "unsubscribed",
          channel,
          id: undefined,
          reason,
          cursor: subscription.cursor,
        });
      } else if (subscription.closeReason === "hub_closed") {
        session.close(CLOSE_GOING_AWAY, "hub closed");
      }
    });
  }

  async function publish(
    session: MuxSession,
    request: Extract<MuxRequest, { type: "publish" }>,
  ): Promise<void> {
    const { channel, id } = request;
    const denied = grant(session.data.claims, "publish", channel, now());
    if (denied !== undefined) {
      return fail(session, muxError(denied.code, denied.message, id, channel));
    }
    let message;
    try {
      message = await hub.publish(
        channel,
        request.data,
        request.event === undefined ? {} : { event: request.event },
      );
    } catch {
      return fail(session, hubFailure(request, "HUB_ERR_BROKER_UNAVAILABLE"));
    }
    if (id !== undefined && session.state === "open") {
      send(session, { type: "published", id, channel, messageId: message.id });
    }
  }

  return {
    protocols: [MUX_SUBPROTOCOL],
    maxMessageSize: (options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES) + ENVELOPE_BYTES,
    async accept(request) {
      if (!request.protocols.includes(MUX_SUBPROTOCOL)) {
        return reject(
          400,
          `Cannot upgrade: /ws speaks the subprotocol ${MUX_SUBPROTOCOL}; offer it in Sec-WebSocket-Protocol`,
        );
      }
      const claims = await claimsOf(request, auth);
      if (isHubError(claims)) return reject(claims.status, claims.message);
      const data: MuxSocketData = {
        claims: claims as TokenClaims | undefined,
        budget: new ErrorBudget(options.errorBudget, now()),
        channels: new Map(),
        opened: false,
      };
      return { type: "accept", protocol: MUX_SUBPROTOCOL, data };
    },
    open(session) {
      session.data.opened = true;
      metrics.connectionOpened("ws");
    },
    async message(session, frame) {
      if (typeof frame !== "string") {
        session.close(CLOSE_UNSUPPORTED_DATA, "binary frames are not supported");
        return;
      }
      const request = parseMuxRequest(frame);
      switch (request.type) {
        case "error":
          return fail(session, request);
        case "ping":
          return send(session, { type: "pong", id: request.id });
        case "subscribe":
          return await subscribe(session, request);
        case "publish":
          return await publish(session, request);
        case "unsubscribe": {
          const entry = session.data.channels.get(request.channel);
          if (entry === undefined) {
            return fail(
              session,
              muxError(
                "MUX_ERR_NOT_SUBSCRIBED",
                `Cannot unsubscribe: not subscribed to "${request.channel}"`,
                request.id,
                request.channel,
              ),
            );
          }
          session.data.channels.delete(request.channel);
          entry.active = false;
          entry.subscription.close();
          return send(session, { type: "unsubscribed", channel: request.channel, id: request.id });
        }
      }
    },
    close(session, event) {
      const state = session.data;
      for (const entry of state.channels.values()) {
        entry.active = false;
        entry.subscription.close();
      }
      state.channels.clear();
      if (!state.opened) return;
      state.opened = false;
      metrics.connectionClosed("ws");
      if (event.error?.code === "WS_ERR_SLOW_CONSUMER") metrics.addDropped(1);
    },
  };
}
