/**
 * `GET /channels/{ch}/iframe?callback=NAME&after=ID`: hidden-iframe streaming. `text/html`, a
 * prelude padded past old browsers' render buffering, then one
 * `<script>parent.NAME(message);</script>` per message (message JSON escaped by
 * `escapeJsonForScript`), `<!-- -->` heartbeats. `callback` defaults to `pushwireMessage`;
 * one that is not a dotted identifier path is 400. Without `after`, only new messages flow.
 * On a reset the callback first receives `{"reset":true,"cursor":ID}` (an object with no `id`).
 * The stream ends after `iframeMaxBytes` so the page's DOM stops growing; the page reopens it
 * with `?after=` the last id it saw. A client too slow to read is disconnected, as for SSE.
 *
 * @module
 */
import { hubError } from "../hub/hub_error.ts";
import { type Message, messageJson } from "../hub/message.ts";
import {
  DEFAULT_CALLBACK,
  escapeJsonForScript,
  IFRAME_HEARTBEAT,
  iframePrelude,
  isCallbackName,
} from "./iframe_script.ts";
import type { ChannelRouteContext } from "./route_context.ts";
import { errorResponse, streamingHeaders } from "./_response.ts";
import { createTextStream, type TextStream } from "./_text_stream.ts";
import { eventBatches } from "./_event_batches.ts";

const escaped = new WeakMap<Message, string>();

function escapedJsonOf(message: Message): string {
  let json = escaped.get(message);
  if (json === undefined) {
    json = escapeJsonForScript(messageJson(message));
    escaped.set(message, json);
  }
  return json;
}

/**
 * Handles an iframe subscription (the router has validated the channel and CORS).
 *
 * @example A bad callback is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import { Metrics } from "./metrics.ts";
 * import { iframeRoute } from "./iframe_route.ts";
 * import { resolveSettings } from "./hub_handler.ts";
 * const hub = new Hub();
 * const url = new URL("http://hub/channels/news/iframe?callback=alert(1)");
 * const response = await iframeRoute(new Request(url), {
 *   hub, metrics: new Metrics(hub), channel: "news", url, headers: new Headers(),
 *   settings: resolveSettings(), claims: undefined, authorize: () => undefined,
 * });
 * assert.ok(response.status === 400);
 * await response.body?.cancel();
 * await hub.close();
 * ```
 */
export async function iframeRoute(
  request: Request,
  context: ChannelRouteContext,
): Promise<Response> {
  const { hub, channel, url, headers, metrics, settings } = context;
  const denied = context.authorize("subscribe");
  if (denied !== undefined) return errorResponse(denied, headers);
  const callback = url.searchParams.get("callback") ?? DEFAULT_CALLBACK;
  if (!isCallbackName(callback)) {
    return errorResponse(
      hubError(
        "HUB_ERR_INVALID_CALLBACK",
        400,
        "Cannot stream: callback must be a dotted JavaScript identifier path of at most 128 characters",
      ),
      headers,
    );
  }
  const after = url.searchParams.get("after");
  const subscription = await hub.subscribe(channel, {
    after: after === null || after === "" ? undefined : after,
    signal: request.signal,
  });
  if (subscription.type === "error") return errorResponse(subscription, headers);
  const responseHeaders = streamingHeaders(headers, "text/html; charset=utf-8");
  responseHeaders.set("X-Content-Type-Options", "nosniff");
  // Room for the prelude on top of the messages' bound.
  const streamQueue = settings.maxQueuedBytes + 8192;
  const stream = createTextStream({
    maxQueuedBytes: streamQueue,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    heartbeat: IFRAME_HEARTBEAT,
    headers: responseHeaders,
    signal: request.signal,
  });
  metrics.connectionOpened("iframe");
  stream.write(iframePrelude());
  stream.closed.then((reason) => {
    if (reason === "overflow") metrics.addDropped(1);
    subscription.close();
  });
  const prefix = `<script>parent.${callback}(`;
  (async () => {
    let written = 0;
    try {
      // A turn's messages go out as one chunk. Once `iframeMaxBytes` is reached the rest of
      // the batch is left unsent: the page resumes after the last id it got.
      for await (const batch of eventBatches(subscription)) {
        const scripts: string[] = [];
        let messages = 0;
        let full = false;
        for (const event of batch) {
          const script = event.type === "reset"
            ? `${prefix}${
              escapeJsonForScript(JSON.stringify({ reset: true, cursor: event.cursor }))
            });</script>\n`
            : `${prefix}${escapedJsonOf(event.message)});</script>\n`;
          scripts.push(script);
          if (event.type === "message") messages++;
          written += script.length;
          if (written >= settings.iframeMaxBytes) {
            full = true;
            break;
          }
        }
        if (!writeScripts(stream, scripts, streamQueue)) break;
        metrics.addDelivered(messages);
        if (full) break;
      }
    } finally {
      subscription.close();
      stream.close();
      metrics.connectionClosed("iframe");
    }
  })();
  return stream.response;
}

// One chunk, unless it may be larger than the stream's whole queue (3 bytes per UTF-16 unit
// at most): an empty stream takes one oversized chunk, so those go one by one and overflow as
// the separate scripts would.
function writeScripts(
  stream: TextStream,
  scripts: readonly string[],
  maxQueuedBytes: number,
): boolean {
  if (scripts.length === 1) return stream.write(scripts[0]!);
  let units = 0;
  for (const script of scripts) units += script.length;
  if (units * 3 > maxQueuedBytes) {
    for (const script of scripts) if (!stream.write(script)) return false;
    return true;
  }
  return stream.write(scripts.join(""));
}
