/**
 * `POST /channels/{ch}[?event=NAME]`: publish a text (`text/*`) or JSON body.
 * `201 {"id","channel"}`; 400 bad event name, invalid JSON or text not valid in its charset;
 * 413 over the body limit; 415 any other content type.
 *
 * @module
 */
import { isEventName } from "../hub/channel_name.ts";
import { type HubError, hubError } from "../hub/hub_error.ts";
import { readBody } from "./read_body.ts";
import type { ChannelRouteContext } from "./route_context.ts";
import { errorResponse, jsonResponse } from "./_response.ts";

/** A parsed `Content-Type`: which decoding a body gets. */
export interface BodyType {
  /** `text` for `text/*`, `json` for `application/json` and `*\/*+json`. */
  readonly kind: "text" | "json";
  /** The charset label (`utf-8` when absent). */
  readonly charset: string;
}

/**
 * Classifies a `Content-Type` header value; undefined when it is neither text nor JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodyTypeOf } from "./publish_route.ts";
 * assert.ok(bodyTypeOf("application/json; charset=UTF-8")?.kind === "json");
 * assert.ok(bodyTypeOf("text/plain")?.charset === "utf-8");
 * assert.ok(bodyTypeOf("image/png") === undefined);
 * ```
 */
export function bodyTypeOf(contentType: string | null): BodyType | undefined {
  if (contentType === null) return undefined;
  const [essence = "", ...params] = contentType.split(";");
  const type = essence.trim().toLowerCase();
  let charset = "utf-8";
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq === -1) continue;
    if (param.slice(0, eq).trim().toLowerCase() === "charset") {
      charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1").toLowerCase();
    }
  }
  if (/^text\/[a-z0-9!#$&^_.+-]+$/.test(type)) return { kind: "text", charset };
  if (type === "application/json" || /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.-]+\+json$/.test(type)) {
    return { kind: "json", charset };
  }
  return undefined;
}

function decodeBody(bytes: Uint8Array, type: BodyType): string | HubError {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(type.charset, { fatal: true });
  } catch {
    return hubError(
      "HUB_ERR_UNSUPPORTED_MEDIA_TYPE",
      415,
      `Cannot publish: charset "${type.charset}" is not supported`,
    );
  }
  try {
    return decoder.decode(bytes);
  } catch {
    return hubError(
      "HUB_ERR_INVALID_BODY",
      400,
      `Cannot publish: the body is not valid ${type.charset}`,
    );
  }
}

/**
 * Handles a publish request (the router has validated the channel and CORS).
 *
 * @example Publish JSON
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import { Metrics } from "./metrics.ts";
 * import { publishRoute } from "./publish_route.ts";
 * import { resolveSettings } from "./hub_handler.ts";
 * const hub = new Hub();
 * const url = new URL("http://hub/channels/news");
 * const response = await publishRoute(
 *   new Request(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"a":1}' }),
 *   { hub, metrics: new Metrics(hub), channel: "news", url, headers: new Headers(), settings: resolveSettings(), claims: undefined, authorize: () => undefined },
 * );
 * assert.ok(response.status === 201);
 * await hub.close();
 * ```
 */
export async function publishRoute(
  request: Request,
  context: ChannelRouteContext,
): Promise<Response> {
  const { hub, channel, url, headers } = context;
  const denied = context.authorize("publish");
  if (denied !== undefined) {
    await request.body?.cancel().catch(() => {});
    return errorResponse(denied, headers);
  }
  const event = url.searchParams.get("event") ?? undefined;
  if (event !== undefined && !isEventName(event)) {
    await request.body?.cancel().catch(() => {});
    return errorResponse(
      hubError(
        "HUB_ERR_INVALID_EVENT",
        400,
        `Cannot publish: event name "${
          event.slice(0, 80)
        }" does not match [A-Za-z0-9_.:-]{1,64} or is reserved (reset)`,
      ),
      headers,
    );
  }
  const type = bodyTypeOf(request.headers.get("Content-Type"));
  if (type === undefined) {
    await request.body?.cancel().catch(() => {});
    return errorResponse(
      hubError(
        "HUB_ERR_UNSUPPORTED_MEDIA_TYPE",
        415,
        "Cannot publish: the body must be text/* or application/json",
      ),
      headers,
      { Accept: "text/plain, application/json" },
    );
  }
  const bytes = await readBody(request, context.settings.maxBodyBytes);
  if (!(bytes instanceof Uint8Array)) return errorResponse(bytes, headers);
  const text = decodeBody(bytes, type);
  if (typeof text !== "string") return errorResponse(text, headers);
  let data: unknown = text;
  if (type.kind === "json") {
    try {
      data = JSON.parse(text);
    } catch {
      return errorResponse(
        hubError("HUB_ERR_INVALID_JSON", 400, "Cannot publish: the body is not valid JSON"),
        headers,
      );
    }
  }
  const message = await hub.publish(channel, data, event === undefined ? {} : { event });
  return jsonResponse(
    201,
    JSON.stringify({ id: message.id, channel: message.channel }),
    headers,
  );
}
