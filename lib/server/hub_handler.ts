/**
 * The hub's HTTP router: one `(request, info) => Response` handler for every transport,
 * mountable in `Deno.serve` or any Fetch-API server.
 *
 * | route | handler |
 * | --- | --- |
 * | `OPTIONS *` | CORS preflight (`cors.ts`) |
 * | `POST /channels/{ch}` | publish (`publish_route.ts`) |
 * | `GET /channels/{ch}` | short poll (`poll_route.ts`) |
 * | `GET /channels/{ch}/longpoll` | long poll (`poll_route.ts`) |
 * | `GET /channels/{ch}/events` | SSE (`sse_route.ts`) |
 * | `GET /channels/{ch}/iframe` | hidden-iframe streaming (`iframe_route.ts`) |
 * | `/channels/{ch}/{name}` | `options.channelRoutes[name]` (e.g. `ws`) |
 * | `GET /metrics`, `GET /healthz` | Prometheus text, `200 ok` |
 * | any other path | `options.routes[path]` (e.g. `/`, `/pushwire.js`, `/ws`), else `options.fallback`, else 404 |
 *
 * Errors are JSON `{"error": message, "code": HUB_ERR_...}` with the status of the code.
 *
 * @module
 */
import { isChannelName } from "../hub/channel_name.ts";
import type { Hub } from "../hub/hub.ts";
import { type HubError, hubError } from "../hub/hub_error.ts";
import {
  crossSiteCookieError,
  importTokenKey,
  isAllowed,
  type TokenAction,
  type TokenClaims,
  tokenOf,
  verifyToken,
} from "./auth.ts";
import { corsHeaders, type CorsOptions, preflightResponse } from "./cors.ts";
import { iframeRoute } from "./iframe_route.ts";
import { Metrics, METRICS_CONTENT_TYPE } from "./metrics.ts";
import { longPollRoute, shortPollRoute } from "./poll_route.ts";
import { publishRoute } from "./publish_route.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./read_body.ts";
import type { ChannelRoute, ChannelRouteContext, TransportSettings } from "./route_context.ts";
import { sseRoute } from "./sse_route.ts";
import { errorResponse } from "./_response.ts";

/** A plain route handler (`info` is whatever the server passes, e.g. `Deno.ServeHandlerInfo`). */
export type RouteHandler = (request: Request, info?: unknown) => Response | Promise<Response>;

/** The handler {@linkcode createHubHandler} returns. */
export type HubHandler = (request: Request, info?: unknown) => Promise<Response>;

/** Options of {@linkcode createHubHandler}. */
export interface HubHandlerOptions extends CorsOptions, Partial<TransportSettings> {
  /** When set, every channel route needs an HS256 token signed with it (see `auth.ts`). */
  readonly secret?: string;
  /** Where to count connections and deliveries; a new one by default. */
  readonly metrics?: Metrics;
  /** Exact paths served by other modules: `{"/": demoPage, "/pushwire.js": client, "/ws": ws}`. */
  readonly routes?: Readonly<Record<string, RouteHandler>>;
  /** Extra channel routes by name: `{ws: websocketRoute}` serves `/channels/{ch}/ws`. */
  readonly channelRoutes?: Readonly<Record<string, ChannelRoute>>;
  /** Called for any path no route serves. @default {a 404 JSON error} */
  readonly fallback?: RouteHandler;
  /** Clock for token `exp`/`nbf`, ms. @default {Date.now} */
  readonly now?: () => number;
}

/**
 * Fills in every default of {@linkcode TransportSettings}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveSettings } from "./hub_handler.ts";
 * assert.ok(resolveSettings().longPollTimeoutMs === 25_000);
 * ```
 */
export function resolveSettings(options: Partial<TransportSettings> = {}): TransportSettings {
  const settings: TransportSettings = {
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 15_000,
    longPollTimeoutMs: options.longPollTimeoutMs ?? 25_000,
    longPollMaxTimeoutMs: options.longPollMaxTimeoutMs ?? 60_000,
    sseRetryMs: "sseRetryMs" in options ? options.sseRetryMs : 3_000,
    maxQueuedBytes: options.maxQueuedBytes ?? 1024 * 1024,
    iframeMaxBytes: options.iframeMaxBytes ?? 1024 * 1024,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (value !== undefined && !(typeof value === "number" && value >= 0)) {
      throw new RangeError(`Cannot create hub handler: ${name} must be a number >= 0`);
    }
  }
  if (settings.longPollTimeoutMs > settings.longPollMaxTimeoutMs) {
    throw new RangeError(
      "Cannot create hub handler: longPollTimeoutMs is over longPollMaxTimeoutMs",
    );
  }
  return settings;
}

const BUILT_IN: Readonly<Record<string, ChannelRoute>> = {
  longpoll: longPollRoute,
  events: sseRoute,
  iframe: iframeRoute,
};

const CHANNEL_PATH = /^\/channels\/([^/]+)(?:\/([^/]+))?$/;

function notFound(path: string): HubError {
  return hubError("HUB_ERR_NOT_FOUND", 404, `Cannot route: no route for ${path.slice(0, 200)}`);
}

function methodNotAllowed(method: string, allow: string): HubError {
  return hubError("HUB_ERR_METHOD_NOT_ALLOWED", 405, `Cannot route: ${method} is not ${allow}`);
}

/** Adds the CORS headers a mounted handler did not set itself, so every answer carries them. */
function withCors(response: Response, cors: Headers): Response {
  try {
    for (const [name, value] of cors) {
      if (!response.headers.has(name)) response.headers.set(name, value);
    }
  } catch {
    // Immutable headers (a response passed through from fetch): left as they are.
  }
  return response;
}

/**
 * Creates the router of every hub transport.
 *
 * @example Serve the hub
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import { createHubHandler } from "./hub_handler.ts";
 * const hub = new Hub();
 * const handler = createHubHandler(hub, { allowOrigins: ["https://app.example"] });
 * const response = await handler(new Request("http://hub/channels/news", {
 *   method: "POST",
 *   headers: { "Content-Type": "text/plain" },
 *   body: "hello",
 * }));
 * assert.ok(response.status === 201);
 * // Deno.serve({ hostname: "127.0.0.1", port: 8000 }, handler);
 * await hub.close();
 * ```
 */
export function createHubHandler(hub: Hub, options: HubHandlerOptions = {}): HubHandler {
  const settings = resolveSettings(options);
  const metrics = options.metrics ?? new Metrics(hub);
  const cors: CorsOptions = {
    ...(options.allowOrigins === undefined ? {} : { allowOrigins: options.allowOrigins }),
    ...(options.maxAge === undefined ? {} : { maxAge: options.maxAge }),
  };
  // With any origin allowed the CORS headers do not depend on the request: build them once
  // (a long-poll release answers thousands of requests at once).
  const sharedCors = (cors.allowOrigins ?? "*") === "*"
    ? corsHeaders(new Request("http://hub/"), cors)
    : undefined;
  const routes = options.routes ?? {};
  const channelRoutes = options.channelRoutes ?? {};
  const now = options.now ?? Date.now;
  const secret = options.secret;
  let key: Promise<CryptoKey> | undefined;
  if (secret !== undefined) key = importTokenKey(secret);

  async function authOf(request: Request, url: URL): Promise<TokenClaims | HubError | undefined> {
    if (key === undefined) return undefined;
    const token = tokenOf(request, url);
    if (token === undefined) {
      return hubError("HUB_ERR_UNAUTHORIZED", 401, "Cannot authenticate: a token is required");
    }
    const forged = crossSiteCookieError(request, url, cors.allowOrigins);
    if (forged !== undefined) return forged;
    return await verifyToken(token, await key, now());
  }

  async function channelRoute(
    request: Request,
    url: URL,
    headers: Headers,
    match: RegExpExecArray,
  ): Promise<Response> {
    let channel: string;
    try {
      channel = decodeURIComponent(match[1]!);
    } catch {
      channel = "";
    }
    if (!isChannelName(channel)) {
      await request.body?.cancel().catch(() => {});
      return errorResponse(
        hubError(
          "HUB_ERR_INVALID_CHANNEL",
          400,
          `Cannot route: channel name "${
            channel.slice(0, 140)
          }" does not match [A-Za-z0-9_.:-]{1,128}`,
        ),
        headers,
      );
    }
    const name = match[2];
    let route: ChannelRoute | undefined;
    if (name === undefined) {
      if (request.method === "POST") route = publishRoute;
      else if (request.method === "GET") route = shortPollRoute;
      else {
        return errorResponse(methodNotAllowed(request.method, "GET or POST"), headers, {
          Allow: "GET, POST, OPTIONS",
        });
      }
    } else if (Object.hasOwn(BUILT_IN, name)) {
      if (request.method !== "GET") {
        await request.body?.cancel().catch(() => {});
        return errorResponse(methodNotAllowed(request.method, "GET"), headers, {
          Allow: "GET, OPTIONS",
        });
      }
      route = BUILT_IN[name]!;
    } else if (Object.hasOwn(channelRoutes, name)) {
      route = channelRoutes[name]!;
    } else {
      await request.body?.cancel().catch(() => {});
      return errorResponse(notFound(url.pathname), headers);
    }
    const auth = await authOf(request, url);
    const context: ChannelRouteContext = {
      hub,
      metrics,
      channel,
      url,
      headers,
      settings,
      claims: auth === undefined || auth.type === "error" ? undefined : auth as TokenClaims,
      authorize(action: TokenAction): HubError | undefined {
        if (auth === undefined) return undefined;
        if ((auth as HubError).type === "error") return auth as HubError;
        if (isAllowed(auth as TokenClaims, action, channel)) return undefined;
        return hubError(
          "HUB_ERR_FORBIDDEN",
          403,
          `Cannot ${action}: the token does not grant channel "${channel}"`,
        );
      },
    };
    return await route(request, context);
  }

  return async function hubHandler(request: Request, info?: unknown): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    if (Object.hasOwn(routes, path)) return await routes[path]!(request, info);
    if (request.method === "OPTIONS") return preflightResponse(request, cors);
    const headers = sharedCors ?? corsHeaders(request, cors);
    try {
      const match = CHANNEL_PATH.exec(path);
      if (match !== null) return await channelRoute(request, url, headers, match);
      if (path === "/healthz" || path === "/metrics") {
        if (request.method !== "GET" && request.method !== "HEAD") {
          return errorResponse(methodNotAllowed(request.method, "GET"), headers, {
            Allow: "GET, HEAD",
          });
        }
        const out = new Headers(headers);
        out.set("Cache-Control", "no-store");
        out.set(
          "Content-Type",
          path === "/healthz" ? "text/plain; charset=utf-8" : METRICS_CONTENT_TYPE,
        );
        return new Response(path === "/healthz" ? "ok" : metrics.render(), { headers: out });
      }
      if (options.fallback !== undefined) {
        return withCors(await options.fallback(request, info), headers);
      }
      await request.body?.cancel().catch(() => {});
      return errorResponse(notFound(path), headers);
    } catch {
      // The broker failed (a networked broker is down) or the hub is closed.
      await request.body?.cancel().catch(() => {});
      return errorResponse(
        hubError("HUB_ERR_BROKER_UNAVAILABLE", 503, "Cannot serve: the broker is unavailable"),
        headers,
        { "Retry-After": "1" },
      );
    }
  };
}
