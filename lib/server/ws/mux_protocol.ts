/**
 * The `pushwire.v1` multiplexed protocol of `GET /ws`, as a pure core: parsing client
 * requests and building server replies, no sockets, no timers. docs/PROTOCOL-ws.md is the
 * specification; this file is its code.
 *
 * Every frame either way is one JSON object with a string `type`. Client errors are data
 * ({@linkcode MuxError}), never thrown.
 *
 * @module
 */
import { isChannelName, isEventName } from "../../hub/channel_name.ts";
import type { HubErrorCode } from "../../hub/hub_error.ts";
import { messageJson } from "../../hub/message.ts";
import type { Message } from "../../hub/message.ts";

/** The subprotocol a `GET /ws` client must offer. */
export const MUX_SUBPROTOCOL = "pushwire.v1";

/** Longest string request `id` echoed back. */
export const MAX_REQUEST_ID_LENGTH = 128;

/**
 * Stable identifiers of `error` replies: the protocol's own (`MUX_ERR_*`) and the hub's
 * client errors passed through.
 *
 * | code | when |
 * | --- | --- |
 * | `MUX_ERR_INVALID_JSON` | the frame is not valid JSON |
 * | `MUX_ERR_INVALID_REQUEST` | not an object, a field missing or of the wrong type, a bad `id` |
 * | `MUX_ERR_UNKNOWN_TYPE` | `type` is not `subscribe`, `unsubscribe`, `publish` or `ping` |
 * | `MUX_ERR_TOO_MANY_CHANNELS` | subscribe beyond the per-socket channel limit |
 * | `MUX_ERR_ALREADY_SUBSCRIBED` | subscribe to a channel the socket already receives |
 * | `MUX_ERR_NOT_SUBSCRIBED` | unsubscribe from a channel the socket does not receive |
 * | `HUB_ERR_*` | as in `HubErrorCode` (invalid channel, event or cursor; unauthorized; forbidden; broker unavailable) |
 */
export type MuxErrorCode =
  | "MUX_ERR_INVALID_JSON"
  | "MUX_ERR_INVALID_REQUEST"
  | "MUX_ERR_UNKNOWN_TYPE"
  | "MUX_ERR_TOO_MANY_CHANNELS"
  | "MUX_ERR_ALREADY_SUBSCRIBED"
  | "MUX_ERR_NOT_SUBSCRIBED"
  | HubErrorCode;

/** A request `id`: echoed in the reply to the request. */
export type RequestId = string | number;

/** A client request, parsed and validated. */
export type MuxRequest =
  | {
    readonly type: "subscribe";
    readonly channel: string;
    readonly after: string | undefined;
    readonly id: RequestId | undefined;
  }
  | { readonly type: "unsubscribe"; readonly channel: string; readonly id: RequestId | undefined }
  | {
    readonly type: "publish";
    readonly channel: string;
    readonly data: unknown;
    readonly event: string | undefined;
    readonly id: RequestId | undefined;
  }
  | { readonly type: "ping"; readonly id: RequestId | undefined };

/** A request the server refuses: answered with an `error` reply. */
export interface MuxError {
  /** Discriminant. */
  readonly type: "error";
  /** Stable identifier. */
  readonly code: MuxErrorCode;
  /** Human-readable explanation. */
  readonly message: string;
  /** The request's `id`, when it had a valid one. */
  readonly id: RequestId | undefined;
  /** The request's channel, when it named one. */
  readonly channel: string | undefined;
}

/**
 * Builds a {@linkcode MuxError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { muxError } from "./mux_protocol.ts";
 * const error = muxError("MUX_ERR_NOT_SUBSCRIBED", "Cannot unsubscribe: not subscribed", 7, "news");
 * assert.ok(error.type === "error" && error.id === 7);
 * ```
 */
export function muxError(
  code: MuxErrorCode,
  message: string,
  id?: RequestId,
  channel?: string,
): MuxError {
  return { type: "error", code, message, id, channel };
}

function isRequestId(value: unknown): value is RequestId {
  return (typeof value === "string" && value.length <= MAX_REQUEST_ID_LENGTH) ||
    (typeof value === "number" && Number.isFinite(value));
}

function preview(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}...` : value;
}

/**
 * Parses one client text frame. Never throws: a frame that is not a valid request is a
 * {@linkcode MuxError} to reply with. Unknown keys are ignored.
 *
 * @example A subscribe, and two mistakes
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMuxRequest } from "./mux_protocol.ts";
 * const request = parseMuxRequest('{"type":"subscribe","channel":"news","after":"a-1","id":1}');
 * assert.deepEqual(request, { type: "subscribe", channel: "news", after: "a-1", id: 1 });
 * const bad = parseMuxRequest("{not json");
 * assert.ok(bad.type === "error" && bad.code === "MUX_ERR_INVALID_JSON");
 * const unknown = parseMuxRequest('{"type":"shout","id":"q"}');
 * assert.ok(unknown.type === "error" && unknown.code === "MUX_ERR_UNKNOWN_TYPE" && unknown.id === "q");
 * ```
 */
export function parseMuxRequest(text: string): MuxRequest | MuxError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return muxError("MUX_ERR_INVALID_JSON", "Cannot parse request: the frame is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return muxError("MUX_ERR_INVALID_REQUEST", "Cannot parse request: it must be a JSON object");
  }
  const fields = value as Record<string, unknown>;
  const rawId = fields.id;
  if (rawId !== undefined && !isRequestId(rawId)) {
    return muxError(
      "MUX_ERR_INVALID_REQUEST",
      `Cannot parse request: "id" must be a string of at most ${MAX_REQUEST_ID_LENGTH} characters or a number`,
    );
  }
  const id = rawId as RequestId | undefined;
  const type = fields.type;
  if (typeof type !== "string") {
    return muxError("MUX_ERR_INVALID_REQUEST", 'Cannot parse request: "type" must be a string', id);
  }
  if (type === "ping") return { type, id };
  if (type !== "subscribe" && type !== "unsubscribe" && type !== "publish") {
    return muxError(
      "MUX_ERR_UNKNOWN_TYPE",
      `Cannot parse request: unknown type "${
        preview(type)
      }" (subscribe, unsubscribe, publish, ping)`,
      id,
    );
  }
  const channel = fields.channel;
  if (typeof channel !== "string") {
    return muxError(
      "MUX_ERR_INVALID_REQUEST",
      `Cannot ${type}: "channel" must be a string`,
      id,
    );
  }
  if (!isChannelName(channel)) {
    return muxError(
      "HUB_ERR_INVALID_CHANNEL",
      `Cannot ${type}: channel name "${preview(channel)}" does not match [A-Za-z0-9_.:-]{1,128}`,
      id,
      channel.slice(0, 128),
    );
  }
  if (type === "unsubscribe") return { type, channel, id };
  if (type === "subscribe") {
    const after = fields.after;
    if (after !== undefined && typeof after !== "string") {
      return muxError(
        "MUX_ERR_INVALID_REQUEST",
        'Cannot subscribe: "after" must be a string',
        id,
        channel,
      );
    }
    return { type, channel, after, id };
  }
  if (!("data" in fields)) {
    return muxError("MUX_ERR_INVALID_REQUEST", 'Cannot publish: "data" is missing', id, channel);
  }
  const event = fields.event;
  if (event !== undefined && (typeof event !== "string" || !isEventName(event))) {
    return muxError(
      "HUB_ERR_INVALID_EVENT",
      "Cannot publish: event name does not match [A-Za-z0-9_.:-]{1,64} or is reserved (reset)",
      id,
      channel,
    );
  }
  return { type, channel, data: fields.data, event, id };
}

/** A server reply other than `message` (which is framed once per message, see below). */
export type MuxReply =
  | {
    readonly type: "subscribed";
    readonly channel: string;
    readonly cursor: string;
    readonly id: RequestId | undefined;
  }
  | { readonly type: "reset"; readonly channel: string; readonly cursor: string }
  | {
    readonly type: "unsubscribed";
    readonly channel: string;
    readonly id: RequestId | undefined;
    /**
     * Set when the server ended the subscription: the client fell behind (`slow_consumer`) or
     * the broker lost continuity (`gap`). Resubscribe with `after: cursor`.
     */
    readonly reason?: "slow_consumer" | "gap";
    readonly cursor?: string;
  }
  | {
    readonly type: "published";
    readonly id: RequestId;
    readonly channel: string;
    readonly messageId: string;
  }
  | { readonly type: "pong"; readonly id: RequestId | undefined }
  | MuxError;

/**
 * The JSON text of a reply (keys with an undefined value are left out; `messageId` is
 * written `message_id`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeMuxReply } from "./mux_protocol.ts";
 * assert.equal(
 *   encodeMuxReply({ type: "subscribed", channel: "news", cursor: "a-3", id: undefined }),
 *   '{"type":"subscribed","channel":"news","cursor":"a-3"}',
 * );
 * assert.equal(
 *   encodeMuxReply({ type: "published", id: 2, channel: "news", messageId: "a-4" }),
 *   '{"type":"published","id":2,"channel":"news","message_id":"a-4"}',
 * );
 * ```
 */
export function encodeMuxReply(reply: MuxReply): string {
  switch (reply.type) {
    case "published":
      return JSON.stringify({
        type: reply.type,
        id: reply.id,
        channel: reply.channel,
        message_id: reply.messageId,
      });
    case "error":
      return JSON.stringify({
        type: reply.type,
        code: reply.code,
        message: reply.message,
        id: reply.id,
        channel: reply.channel,
      });
    default:
      return JSON.stringify(reply);
  }
}

/**
 * The text of a `message` frame: `{"type":"message","message":` + the message JSON + `}`.
 * The message JSON is the same cached string every transport sends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { muxMessageText } from "./mux_protocol.ts";
 * assert.equal(
 *   muxMessageText({ id: "a-1", channel: "c", data: "hi", time: 5 }),
 *   '{"type":"message","message":{"id":"a-1","channel":"c","data":"hi","time":5}}',
 * );
 * ```
 */
export function muxMessageText(message: Message): string {
  return `{"type":"message","message":${messageJson(message)}}`;
}
