/**
 * `GET /channels/{ch}/events`: Server-Sent Events over the SSE module's `createEventStream`.
 * Each message is one event: `id:` its id, `event:` its event name if any, `data:` its data
 * (JSON-encoded unless a string), encoded once per message and written to every subscriber.
 * Resumes after `Last-Event-ID` (or `?lastEventId=`); without one, only new messages flow.
 * When messages after that id were already dropped, an `event: reset` with data
 * `{"cursor":ID}` comes first, then every retained message; when none is retained, the reset
 * also carries `id: ID`, so a reconnecting EventSource resumes after the loss. A client too slow to read is
 * disconnected (stream queue over `maxQueuedBytes`, or hub queue overflow) and resumes by id.
 *
 * @module
 */
import type { Message } from "../hub/message.ts";
import { dataText } from "../hub/message.ts";
import { encodeServerSentEvent } from "../sse/encoder.ts";
import { createEventStream, type EventStream, lastEventIdOf } from "../sse/server.ts";
import type { SubscriptionEvent } from "../hub/subscription.ts";
import type { ChannelRouteContext } from "./route_context.ts";
import { errorResponse } from "./_response.ts";
import { eventBatches } from "./_event_batches.ts";

const encoded = new WeakMap<Message, Uint8Array>();

/**
 * The SSE bytes of `message`, encoded once and cached.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseBytesOf } from "./sse_route.ts";
 * const bytes = sseBytesOf({ id: "a-1", channel: "c", event: "up", data: { n: 1 }, time: 0 });
 * assert.ok(new TextDecoder().decode(bytes) === 'id: a-1\nevent: up\ndata: {"n":1}\n\n');
 * ```
 */
export function sseBytesOf(message: Message): Uint8Array {
  let bytes = encoded.get(message);
  if (bytes === undefined) {
    bytes = encodeServerSentEvent(
      message.event === undefined
        ? { id: message.id, data: dataText(message) }
        : { id: message.id, event: message.event, data: dataText(message) },
    );
    encoded.set(message, bytes);
  }
  return bytes;
}

/**
 * Handles an SSE subscription (the router has validated the channel and CORS).
 *
 * @example Subscribe, then cancel
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import { Metrics } from "./metrics.ts";
 * import { sseRoute } from "./sse_route.ts";
 * import { resolveSettings } from "./hub_handler.ts";
 * const hub = new Hub();
 * const url = new URL("http://hub/channels/news/events");
 * const response = await sseRoute(new Request(url), {
 *   hub, metrics: new Metrics(hub), channel: "news", url, headers: new Headers(),
 *   settings: resolveSettings({ heartbeatIntervalMs: 0 }), claims: undefined, authorize: () => undefined,
 * });
 * assert.ok(response.headers.get("Content-Type") === "text/event-stream; charset=utf-8");
 * await response.body?.cancel();
 * await hub.close();
 * ```
 */
export async function sseRoute(request: Request, context: ChannelRouteContext): Promise<Response> {
  const { hub, channel, headers, metrics, settings } = context;
  const denied = context.authorize("subscribe");
  if (denied !== undefined) return errorResponse(denied, headers);
  const after = lastEventIdOf(request) ?? undefined;
  const subscription = await hub.subscribe(channel, { after, signal: request.signal });
  if (subscription.type === "error") return errorResponse(subscription, headers);
  const stream = createEventStream({
    retry: settings.sseRetryMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    maxQueuedBytes: settings.maxQueuedBytes,
    headers,
    signal: request.signal,
  });
  metrics.connectionOpened("sse");
  // Client gone or stream overflowed: end the subscription, which ends the loop below.
  stream.closed.then((reason) => {
    if (reason === "overflow") metrics.addDropped(1);
    subscription.close();
  });
  (async () => {
    try {
      for await (const batch of eventBatches(subscription)) {
        if (batch.length === 1) {
          // A reset with no retained message after it carries the cursor as its id, so a
          // client that reconnects before the next message is not told the same loss twice.
          // (With retained messages, their ids follow in the same chunk.)
          const event = batch[0]!;
          const bytes = event.type === "reset"
            ? sseBytesOfReset(event.cursor, true)
            : sseBytesOfEvent(event);
          if (!stream.write(bytes)) break;
          if (event.type === "message") metrics.addDelivered(1);
          continue;
        }
        const chunks: Uint8Array[] = [];
        let size = 0;
        let messages = 0;
        for (const event of batch) {
          const bytes = sseBytesOfEvent(event);
          chunks.push(bytes);
          size += bytes.byteLength;
          if (event.type === "message") messages++;
        }
        if (!writeAll(stream, chunks, size, settings.maxQueuedBytes)) break;
        metrics.addDelivered(messages);
      }
    } finally {
      subscription.close();
      stream.close(); // after a slow-consumer overflow: ends cleanly, the client resumes by id
      metrics.connectionClosed("sse");
    }
  })();
  return stream.response;
}

function sseBytesOfEvent(event: SubscriptionEvent): Uint8Array {
  return event.type === "reset" ? sseBytesOfReset(event.cursor, false) : sseBytesOf(event.message);
}

function sseBytesOfReset(cursor: string, withId: boolean): Uint8Array {
  const data = JSON.stringify({ cursor });
  return encodeServerSentEvent(
    withId ? { event: "reset", id: cursor, data } : { event: "reset", data },
  );
}

// One chunk, unless it is larger than the stream's whole queue: an empty stream takes one
// oversized chunk, so those go one by one and overflow as the separate events would.
function writeAll(
  stream: EventStream,
  chunks: readonly Uint8Array[],
  size: number,
  maxQueuedBytes: number,
): boolean {
  if (size > maxQueuedBytes) {
    for (const chunk of chunks) if (!stream.write(chunk)) return false;
    return true;
  }
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return stream.write(joined);
}
