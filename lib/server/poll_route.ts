/**
 * Short and long polling.
 *
 * - `GET /channels/{ch}?after=ID`: answers at once with the retained messages after `ID`;
 *   without `after` (or `after=`), with every retained message.
 * - `GET /channels/{ch}/longpoll?after=ID&timeout=S`: answers as soon as at least one message
 *   after `ID` exists (everything after it in one batch), or with `messages: []` after `S`
 *   seconds (default 25; a longer wait is cut to the maximum, 60; a decimal is allowed;
 *   anything that is not a number of seconds is 400). Without `after`, waits for the next
 *   message published.
 *
 * Both answer `{"messages":[...],"cursor":ID,"reset"?:true}`; a malformed cursor is 400.
 *
 * @module
 */
import { hubError } from "../hub/hub_error.ts";
import type { ChannelRouteContext } from "./route_context.ts";
import { errorResponse, jsonResponse, pollJson } from "./_response.ts";

function afterOf(url: URL): string | undefined {
  const after = url.searchParams.get("after");
  return after === null || after === "" ? undefined : after;
}

/**
 * `GET /channels/{ch}?after=ID`.
 *
 * @example Read the history
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import { Metrics } from "./metrics.ts";
 * import { shortPollRoute } from "./poll_route.ts";
 * import { resolveSettings } from "./hub_handler.ts";
 * const hub = new Hub();
 * await hub.publish("news", "a");
 * const url = new URL("http://hub/channels/news");
 * const response = await shortPollRoute(new Request(url), {
 *   hub, metrics: new Metrics(hub), channel: "news", url, headers: new Headers(),
 *   settings: resolveSettings(), claims: undefined, authorize: () => undefined,
 * });
 * assert.ok((await response.json()).messages.length === 1);
 * await hub.close();
 * ```
 */
export async function shortPollRoute(
  _request: Request,
  context: ChannelRouteContext,
): Promise<Response> {
  const denied = context.authorize("subscribe");
  if (denied !== undefined) return errorResponse(denied, context.headers);
  const result = await context.hub.read(context.channel, afterOf(context.url));
  if (result.type === "error") return errorResponse(result, context.headers);
  context.metrics.addDelivered(result.messages.length);
  return jsonResponse(200, pollJson(result), context.headers);
}

/**
 * Parses `?timeout=S` into milliseconds, cut to `maxMs` (a client asking for a longer wait
 * gets the longest the hub holds); undefined when `text` is not a number of seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTimeout } from "./poll_route.ts";
 * assert.ok(parseTimeout("2.5", 60_000) === 2500);
 * assert.ok(parseTimeout("61", 60_000) === 60_000);
 * assert.ok(parseTimeout("abc", 60_000) === undefined);
 * ```
 */
export function parseTimeout(text: string, maxMs: number): number | undefined {
  // Up to 12 integer digits (a wait over the maximum is cut to it); longer is refused.
  if (!/^[0-9]{1,12}(?:\.[0-9]{1,3})?$/.test(text)) return undefined;
  return Math.min(Math.round(Number(text) * 1000), maxMs);
}

/**
 * `GET /channels/{ch}/longpoll?after=ID&timeout=S`. The waiter is removed as soon as the
 * client goes away (`request.signal`).
 *
 * @example Time out with no message
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import { Metrics } from "./metrics.ts";
 * import { longPollRoute } from "./poll_route.ts";
 * import { resolveSettings } from "./hub_handler.ts";
 * const hub = new Hub();
 * const url = new URL("http://hub/channels/news/longpoll?timeout=0.01");
 * const response = await longPollRoute(new Request(url), {
 *   hub, metrics: new Metrics(hub), channel: "news", url, headers: new Headers(),
 *   settings: resolveSettings(), claims: undefined, authorize: () => undefined,
 * });
 * assert.ok((await response.json()).messages.length === 0);
 * await hub.close();
 * ```
 */
export async function longPollRoute(
  request: Request,
  context: ChannelRouteContext,
): Promise<Response> {
  const { hub, channel, url, headers, metrics, settings } = context;
  const denied = context.authorize("subscribe");
  if (denied !== undefined) return errorResponse(denied, headers);
  const timeoutParam = url.searchParams.get("timeout");
  let timeoutMs = settings.longPollTimeoutMs;
  if (timeoutParam !== null) {
    const parsed = parseTimeout(timeoutParam, settings.longPollMaxTimeoutMs);
    if (parsed === undefined) {
      return errorResponse(
        hubError(
          "HUB_ERR_INVALID_TIMEOUT",
          400,
          `Cannot long-poll: timeout must be a non-negative number of seconds, got "${
            timeoutParam.slice(0, 40)
          }"`,
        ),
        headers,
      );
    }
    timeoutMs = parsed;
  }
  metrics.connectionOpened("longpoll");
  let result;
  try {
    result = await hub.wait(channel, afterOf(url), { timeoutMs, signal: request.signal });
  } finally {
    metrics.connectionClosed("longpoll");
  }
  if (result.type === "error") return errorResponse(result, headers);
  if (!request.signal.aborted) metrics.addDelivered(result.messages.length);
  return jsonResponse(200, pollJson(result), headers);
}
