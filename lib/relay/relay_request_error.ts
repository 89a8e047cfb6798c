/**
 * A refused relay HTTP request, as data: a stable code and the HTTP status to answer with.
 *
 * @module
 */

/**
 * Stable identifiers of every refused relay request. Listed in docs/relay.md.
 *
 * - `RELAY_ERR_UNKNOWN_ID` (404): no open relay connection has this id.
 * - `RELAY_ERR_BAD_CHANNEL` (400): the channel name does not match `[A-Za-z0-9_.:-]{1,128}`.
 * - `RELAY_ERR_BAD_CURSOR` (400): `after` is empty, too long or not text.
 * - `RELAY_ERR_TOO_MANY_CHANNELS` (409): the connection is at its channel limit.
 * - `RELAY_ERR_CONFLICT` (409): the channel was left while the subscription was joining.
 * - `RELAY_ERR_FORBIDDEN` (403): the authorize hook refused the request.
 * - `RELAY_ERR_NOT_FOUND` (404): no relay route has this path.
 * - `RELAY_ERR_METHOD` (405): the route does not take this method.
 * - `RELAY_ERR_SOURCE` (500): the hub failed to read the channel's history.
 */
export type RelayRequestErrorCode =
  | "RELAY_ERR_UNKNOWN_ID"
  | "RELAY_ERR_BAD_CHANNEL"
  | "RELAY_ERR_BAD_CURSOR"
  | "RELAY_ERR_TOO_MANY_CHANNELS"
  | "RELAY_ERR_CONFLICT"
  | "RELAY_ERR_FORBIDDEN"
  | "RELAY_ERR_NOT_FOUND"
  | "RELAY_ERR_METHOD"
  | "RELAY_ERR_SOURCE";

/** A refused relay request: what went wrong and which HTTP status answers it. */
export interface RelayRequestError {
  /** Discriminant. */
  readonly type: "error";
  /** Stable machine-readable identifier. */
  readonly code: RelayRequestErrorCode;
  /** The HTTP status to answer with. */
  readonly status: number;
  /** Human-readable explanation. */
  readonly message: string;
}

/**
 * Builds a {@linkcode RelayRequestError}.
 *
 * @example An unknown id
 * ```ts
 * import assert from "node:assert/strict";
 * import { relayRequestError } from "./relay_request_error.ts";
 * const error = relayRequestError("RELAY_ERR_UNKNOWN_ID", 404, "No open relay connection");
 * assert(error.status === 404);
 * ```
 */
export function relayRequestError(
  code: RelayRequestErrorCode,
  status: number,
  message: string,
): RelayRequestError {
  return { type: "error", code, status, message };
}
