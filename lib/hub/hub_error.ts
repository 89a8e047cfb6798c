/**
 * A client's mistake, as data: a stable code for logs and tests, the HTTP status to answer
 * with, and a readable message. The hub returns these; it never throws them.
 *
 * @module
 */

/**
 * Stable identifiers of every client error the hub and its HTTP transports report.
 *
 * | code | status | when |
 * | --- | --- | --- |
 * | `HUB_ERR_INVALID_CHANNEL` | 400 | channel name does not match `[A-Za-z0-9_.:-]{1,128}` |
 * | `HUB_ERR_INVALID_EVENT` | 400 | `?event=` does not match `[A-Za-z0-9_.:-]{1,64}`, or is the reserved `reset` |
 * | `HUB_ERR_INVALID_CURSOR` | 400 | `after` / `Last-Event-ID` is not an id this broker can parse |
 * | `HUB_ERR_UNKNOWN_CURSOR` | 400 | the cursor has this broker's form but was never issued (ahead of every id) |
 * | `HUB_ERR_INVALID_JSON` | 400 | a JSON body does not parse |
 * | `HUB_ERR_INVALID_BODY` | 400 | a text body is not valid in its charset |
 * | `HUB_ERR_INVALID_TIMEOUT` | 400 | `?timeout=` is not a non-negative number of seconds (longer waits are cut to 60) |
 * | `HUB_ERR_INVALID_CALLBACK` | 400 | `?callback=` is not a safe JavaScript identifier path |
 * | `HUB_ERR_UNAUTHORIZED` | 401 | a token is required and missing, malformed, expired or forged |
 * | `HUB_ERR_FORBIDDEN` | 403 | the token does not grant this channel |
 * | `HUB_ERR_NOT_FOUND` | 404 | no such route |
 * | `HUB_ERR_METHOD_NOT_ALLOWED` | 405 | the route exists, the method does not |
 * | `HUB_ERR_BODY_TOO_LARGE` | 413 | the body is over the publish limit (default 1 MiB) |
 * | `HUB_ERR_UNSUPPORTED_MEDIA_TYPE` | 415 | the body is neither `text/*` nor JSON |
 * | `HUB_ERR_BROKER_UNAVAILABLE` | 503 | the broker failed (a networked broker is down) |
 */
export type HubErrorCode =
  | "HUB_ERR_INVALID_CHANNEL"
  | "HUB_ERR_INVALID_EVENT"
  | "HUB_ERR_INVALID_CURSOR"
  | "HUB_ERR_UNKNOWN_CURSOR"
  | "HUB_ERR_INVALID_JSON"
  | "HUB_ERR_INVALID_BODY"
  | "HUB_ERR_INVALID_TIMEOUT"
  | "HUB_ERR_INVALID_CALLBACK"
  | "HUB_ERR_UNAUTHORIZED"
  | "HUB_ERR_FORBIDDEN"
  | "HUB_ERR_NOT_FOUND"
  | "HUB_ERR_METHOD_NOT_ALLOWED"
  | "HUB_ERR_BODY_TOO_LARGE"
  | "HUB_ERR_UNSUPPORTED_MEDIA_TYPE"
  | "HUB_ERR_BROKER_UNAVAILABLE";

/** A client error: what went wrong and which HTTP status answers it. */
export interface HubError {
  /** Discriminant, so results can be `HubError | SomethingElse`. */
  readonly type: "error";
  /** Stable machine-readable identifier. */
  readonly code: HubErrorCode;
  /** The HTTP status to answer with. */
  readonly status: number;
  /** Human-readable explanation, e.g. "Cannot read channel: cursor \"x\" is malformed". */
  readonly message: string;
}

/**
 * Builds a {@linkcode HubError}.
 *
 * @example Report a malformed cursor
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubError } from "./hub_error.ts";
 * const error = hubError("HUB_ERR_INVALID_CURSOR", 400, "Cannot read channel: cursor \"x\" is malformed");
 * assert.ok(error.status === 400 && error.type === "error");
 * ```
 */
export function hubError(code: HubErrorCode, status: number, message: string): HubError {
  return { type: "error", code, status, message };
}

/**
 * Reports whether a result is a {@linkcode HubError}.
 *
 * @example Branch on a result
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubError, isHubError } from "./hub_error.ts";
 * assert.ok(isHubError(hubError("HUB_ERR_NOT_FOUND", 404, "no")));
 * assert.ok(!isHubError({ type: "messages" }));
 * ```
 */
export function isHubError(value: unknown): value is HubError {
  return typeof value === "object" && value !== null &&
    (value as { type?: unknown }).type === "error";
}
