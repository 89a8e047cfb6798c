/**
 * Both WebSocket routes of the hub behind one {@linkcode WebSocketRouter}:
 * `/channels/:channel/ws` ({@linkcode channelSocketEndpoint}) and `/ws`
 * ({@linkcode muxSocketEndpoint}, subprotocol `pushwire.v1`). Mount them on the one-port
 * server (`upgrade: routes.server.handleUpgrade`) or, on `Deno.serve`, in the hub handler
 * (`channelRoutes: { ws: routes.channelRoute }, routes: { "/ws": routes.wsRoute }`).
 *
 * @module
 */
import type { Hub } from "../../hub/hub.ts";
import { hubError } from "../../hub/hub_error.ts";
import type { SubscriberQueueLimits } from "../../hub/subscriber_queue.ts";
import { DenoServeAdapter } from "../../websocket_io/deno_serve_adapter.ts";
import { WebSocketRouter } from "../../websocket_io/router.ts";
import { WebSocketServer, type WebSocketServerOptions } from "../../websocket_io/server.ts";
import { importTokenKey, type TokenClaims } from "../auth.ts";
import type { RouteHandler } from "../hub_handler.ts";
import { Metrics } from "../metrics.ts";
import type { ChannelRoute, ChannelRouteContext } from "../route_context.ts";
import { errorResponse } from "../_response.ts";
import { channelSocketEndpoint } from "./channel_socket.ts";
import type { ErrorBudgetOptions } from "./error_budget.ts";
import { muxSocketEndpoint } from "./mux_socket.ts";

/** Options of {@linkcode createWebSocketRoutes}. */
export interface WebSocketRoutesOptions {
  /** Where connections (`transport="ws"`), deliveries and drops are counted; a new one by default. */
  readonly metrics?: Metrics;
  /** When set, every socket needs an HS256 token signed with it (checked before the `101`). */
  readonly secret?: string;
  /**
   * Origins browsers may connect from; any other `Origin` gets 403 before the handshake.
   * @default {"*"} (any origin)
   */
  readonly allowOrigins?: "*" | readonly string[];
  /**
   * Largest publish, in bytes (the HTTP body limit).
   * @default {1048576}
   */
  readonly maxBodyBytes?: number;
  /**
   * Channels one `/ws` socket may subscribe to.
   * @default {100}
   */
  readonly maxChannelsPerSocket?: number;
  /** Error replies a `/ws` client may provoke before it is closed with 1008. */
  readonly errorBudget?: ErrorBudgetOptions;
  /** Bounds of each socket subscription's hub queue; the hub's by default. */
  readonly subscriberQueue?: SubscriberQueueLimits;
  /** Handshake, session and slow-consumer limits of the server (not its origin list). */
  readonly server?: Omit<WebSocketServerOptions, "allowedOrigins">;
  /**
   * Clock for token expiry and error budgets, ms.
   * @default {Date.now}
   */
  readonly now?: () => number;
}

/** The WebSocket routes, ready to mount. */
export interface WebSocketRoutes {
  /** The two routes. */
  readonly router: WebSocketRouter;
  /** The server over raw sockets: its `handleUpgrade` is the one-port server's `upgrade`. */
  readonly server: WebSocketServer;
  /** `/channels/{ch}/ws` for the hub handler's `channelRoutes.ws` on `Deno.serve`. */
  readonly channelRoute: ChannelRoute;
  /** `/ws` for the hub handler's `routes["/ws"]` on `Deno.serve`. */
  readonly wsRoute: RouteHandler;
  /**
   * Closes every WebSocket session with 1001 (going away) and waits for them, up to
   * `timeout` ms; new upgrades get 503.
   */
  shutdown(timeout?: number): Promise<void>;
}

/**
 * Creates both WebSocket routes of `hub`.
 *
 * @example On the one-port server, beside the hub's HTTP transports
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../../hub/hub.ts";
 * import { serveOnePort } from "../../net/one_port_server.ts";
 * import { connect } from "../../websocket_io/client.ts";
 * import { createHubHandler } from "../hub_handler.ts";
 * import { createWebSocketRoutes } from "./websocket_routes.ts";
 * const hub = new Hub();
 * const ws = createWebSocketRoutes(hub);
 * const server = serveOnePort({ hostname: "127.0.0.1", port: 0 }, {
 *   fetch: createHubHandler(hub, { channelRoutes: { ws: ws.channelRoute } }),
 *   upgrade: ws.server.handleUpgrade,
 * });
 * const base = `127.0.0.1:${server.addr.port}`;
 * const client = await connect(`ws://${base}/channels/news/ws`);
 * const posted = await fetch(`http://${base}/channels/news`, {
 *   method: "POST", headers: { "Content-Type": "text/plain" }, body: "hi",
 * });
 * await posted.body?.cancel();
 * for await (const frame of client) {
 *   assert.equal(JSON.parse(frame as string).data, "hi");
 *   break;
 * }
 * client.close(1000);
 * await client.closed;
 * await ws.shutdown();
 * await server.shutdown();
 * await hub.close();
 * ```
 */
export function createWebSocketRoutes(
  hub: Hub,
  options: WebSocketRoutesOptions = {},
): WebSocketRoutes {
  const metrics = options.metrics ?? new Metrics(hub);
  const key = options.secret === undefined ? undefined : importTokenKey(options.secret);
  const allow = options.allowOrigins ?? "*";
  const allowedOrigins = allow === "*" || allow.length === 0 ? undefined : allow;
  const common = {
    metrics,
    key,
    trustedOrigins: allowedOrigins,
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    ...(options.subscriberQueue === undefined ? {} : { subscriberQueue: options.subscriberQueue }),
    ...(options.now === undefined ? {} : { now: options.now }),
  };
  const router = new WebSocketRouter();
  router.route("/channels/:channel/ws", channelSocketEndpoint(hub, common));
  router.route(
    "/ws",
    muxSocketEndpoint(hub, {
      ...common,
      ...(options.maxChannelsPerSocket === undefined
        ? {}
        : { maxChannels: options.maxChannelsPerSocket }),
      ...(options.errorBudget === undefined ? {} : { errorBudget: options.errorBudget }),
    }),
  );
  const serverOptions = options.server ?? {};
  const server = new WebSocketServer(router, {
    ...serverOptions,
    ...(allowedOrigins === undefined ? {} : { allowedOrigins }),
  });
  let adapter: DenoServeAdapter | undefined;
  const adapterOf = (): DenoServeAdapter =>
    adapter ??= new DenoServeAdapter(router, {
      ...(allowedOrigins === undefined ? {} : { allowedOrigins }),
      ...(serverOptions.maxConnections === undefined
        ? {}
        : { maxConnections: serverOptions.maxConnections }),
      ...(serverOptions.highWaterMark === undefined
        ? {}
        : { highWaterMark: serverOptions.highWaterMark }),
      ...(serverOptions.maxBufferedAmount === undefined
        ? {}
        : { maxBufferedAmount: serverOptions.maxBufferedAmount }),
    });
  const viaAdapter = (request: Request, info?: unknown): Promise<Response> =>
    adapterOf().handle(request, info as Deno.ServeHandlerInfo | undefined);
  return {
    router,
    server,
    channelRoute: (request) => viaAdapter(request),
    wsRoute: viaAdapter,
    async shutdown(timeout?: number): Promise<void> {
      await Promise.all([
        server.shutdown(timeout === undefined ? {} : { timeout }),
        adapter?.shutdown(timeout),
      ]);
    },
  };
}

interface StandaloneRoute {
  readonly adapter: DenoServeAdapter;
  /** The claims the hub handler verified, handed to the endpoint by the request's headers. */
  readonly claims: WeakMap<Headers, TokenClaims | undefined>;
}

const standalone = new WeakMap<Hub, StandaloneRoute>();

function standaloneOf(context: ChannelRouteContext): StandaloneRoute {
  let route = standalone.get(context.hub);
  if (route === undefined) {
    const claims = new WeakMap<Headers, TokenClaims | undefined>();
    const router = new WebSocketRouter();
    router.route(
      "/channels/:channel/ws",
      channelSocketEndpoint(context.hub, {
        metrics: context.metrics,
        maxBodyBytes: context.settings.maxBodyBytes,
        claimsOf: (request) => claims.get(request.headers),
      }),
    );
    route = { adapter: new DenoServeAdapter(router), claims };
    standalone.set(context.hub, route);
  }
  return route;
}

/**
 * `/channels/{ch}/ws` as a plain channel route of the hub handler on `Deno.serve`
 * (`channelRoutes: { ws: websocketChannelRoute }`), with no setup: it uses the handler's
 * hub, metrics, token decision and origin policy (an `Origin` the handler's CORS policy does
 * not allow gets 403). Its sessions end when the hub closes (1001). For `/ws`, the
 * one-port server or an explicit shutdown, use {@linkcode createWebSocketRoutes}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../../hub/hub.ts";
 * import { createHubHandler } from "../hub_handler.ts";
 * import { websocketChannelRoute } from "./websocket_routes.ts";
 * const hub = new Hub();
 * const handler = createHubHandler(hub, { channelRoutes: { ws: websocketChannelRoute } });
 * const response = await handler(new Request("http://hub/channels/news/ws"));
 * assert.equal(response.status, 400); // not an upgrade request
 * await response.body?.cancel();
 * await hub.close();
 * ```
 */
export function websocketChannelRoute(
  request: Request,
  context: ChannelRouteContext,
): Response | Promise<Response> {
  const denied = context.authorize("subscribe");
  if (denied !== undefined) return errorResponse(denied, context.headers);
  if (
    request.headers.has("Origin") && !context.headers.has("Access-Control-Allow-Origin")
  ) {
    return errorResponse(
      hubError("HUB_ERR_FORBIDDEN", 403, "Cannot upgrade: this origin is not allowed"),
      context.headers,
    );
  }
  const route = standaloneOf(context);
  route.claims.set(request.headers, context.claims);
  return route.adapter.handle(request);
}
