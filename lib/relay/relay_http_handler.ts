/**
 * The relay's HTTP surface as a fetch handler the hub server mounts under `/relay/`:
 *
 * | request | answer |
 * | --- | --- |
 * | `POST /relay/{id}/channels/{ch}?after=ID` | `200 {"id","channel","cursor"}`; history after `ID` (if given, after a `<reset/>` when some was lost) then live messages follow on the socket |
 * | `DELETE /relay/{id}/channels/{ch}` (or `POST ...?_method=DELETE`) | `204` |
 * | `GET /relay/{id}` | `200 {"id","state":"open"/"closed","reason"?,"channels":{ch: cursor}}`: where each channel stands; kept after a close |
 *
 * Refusals are `{"error": TEXT, "code": CODE}` (the shape of every hub error) with the status listed for each
 * `RelayRequestErrorCode`; an unknown id is `404 RELAY_ERR_UNKNOWN_ID`.
 *
 * @module
 */
import type { Relay } from "./relay.ts";
import { isRelayId } from "./relay_id.ts";
import { type RelayRequestError, relayRequestError } from "./relay_request_error.ts";

/** Options of {@linkcode createRelayHandler}. */
export interface RelayHandlerOptions {
  /** The clock, in ms. @default Date.now */
  readonly clock?: () => number;
  /**
   * Decides whether a request may subscribe to or leave `channel` (e.g. checks a token);
   * false answers `403 RELAY_ERR_FORBIDDEN`. @default every request allowed
   */
  readonly authorize?: (request: Request, channel: string) => boolean | Promise<boolean>;
}

const ROUTE = /^\/relay\/([^/]+)(?:\/channels\/([^/]+))?\/?$/;
const HEADERS = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: HEADERS });
}

function refuse(error: RelayRequestError, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify({ error: error.message, code: error.code }), {
    status: error.status,
    headers: { ...HEADERS, ...headers },
  });
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Creates the fetch handler for the relay's HTTP routes (every path under `/relay/`).
 *
 * @example Mount it beside other routes
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import { Relay } from "./relay.ts";
 * import { createRelayHandler } from "./relay_http_handler.ts";
 *
 * const hub = new Hub();
 * const relay = new Relay({ source: hub });
 * const relayHandler = createRelayHandler(relay);
 * const handler = (request: Request): Promise<Response> | Response =>
 *   new URL(request.url).pathname.startsWith("/relay/")
 *     ? relayHandler(request)
 *     : new Response("not found", { status: 404 });
 * const response = await handler(new Request("http://x/relay/AAAAAAAAAAAAAAAAAAAAAA/channels/news", { method: "POST" }));
 * assert(response.status === 404); // no connection has that id
 * await hub.close();
 * ```
 */
export function createRelayHandler(
  relay: Relay,
  options: RelayHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const clock = options.clock ?? Date.now;
  const authorize = options.authorize;
  return async (request) => {
    const url = new URL(request.url);
    const match = ROUTE.exec(url.pathname);
    if (match === null) {
      return refuse(relayRequestError("RELAY_ERR_NOT_FOUND", 404, "No relay route has this path"));
    }
    const id = decode(match[1]!) ?? "";
    const rawChannel = match[2];
    if (rawChannel === undefined) {
      if (request.method !== "GET" && request.method !== "HEAD") {
        return refuse(
          relayRequestError("RELAY_ERR_METHOD", 405, "Use GET"),
          { allow: "GET, HEAD" },
        );
      }
      const status = isRelayId(id) ? relay.status(id, clock()) : undefined;
      if (status === undefined) {
        return refuse(
          relayRequestError("RELAY_ERR_UNKNOWN_ID", 404, "No relay connection has this id"),
        );
      }
      return json(200, status);
    }
    // Flash's URLLoader can only GET and POST: `POST ...?_method=DELETE` leaves a channel too.
    const method = request.method === "POST" && url.searchParams.get("_method") === "DELETE"
      ? "DELETE"
      : request.method;
    if (method !== "POST" && method !== "DELETE") {
      return refuse(
        relayRequestError("RELAY_ERR_METHOD", 405, "Use POST to subscribe, DELETE to leave"),
        { allow: "POST, DELETE" },
      );
    }
    const channel = decode(rawChannel) ?? "";
    if (!isRelayId(id)) {
      return refuse(
        relayRequestError("RELAY_ERR_UNKNOWN_ID", 404, "No open relay connection has this id"),
      );
    }
    // The body is never read: a subscription is all in the URL.
    await request.body?.cancel();
    if (authorize !== undefined && !(await authorize(request, channel))) {
      return refuse(relayRequestError("RELAY_ERR_FORBIDDEN", 403, "Not allowed on this channel"));
    }
    if (method === "DELETE") {
      const result = relay.unsubscribe(id, channel, clock());
      return result.type === "error" ? refuse(result) : new Response(null, { status: 204 });
    }
    const after = url.searchParams.get("after") || undefined;
    const result = await relay.subscribe(id, channel, after, clock());
    if (result.type === "error") return refuse(result);
    return json(200, { id, channel, cursor: result.cursor });
  };
}
