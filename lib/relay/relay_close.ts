/**
 * Why a relay connection ended, as data: a stable code for logs, tests and the
 * `GET /relay/{id}` status, and whether queued bytes are still flushed first.
 *
 * @module
 */

/**
 * Stable identifiers of every way a relay connection ends. Listed in docs/relay.md.
 *
 * - `RELAY_POLICY_SERVED`: a `<policy-file-request/>` was answered; closed as Flash expects.
 * - `RELAY_PEER_CLOSED`: the client closed the socket (or it failed).
 * - `RELAY_SHUTDOWN`: the relay is shutting down.
 * - `RELAY_ERR_JUNK`: the client sent bytes that are not a policy-file request; it gets an
 *   `<error/>` with this code.
 * - `RELAY_ERR_REQUEST_TIMEOUT`: a started policy-file request did not complete in time; it
 *   gets an `<error/>` with this code.
 * - `RELAY_ERR_IDLE`: the connection held no subscription for the idle timeout; it gets an
 *   `<error/>` with this code.
 * - `RELAY_ERR_SLOW_READER`: the outgoing queue went over its limit; cursors are kept.
 * - `RELAY_ERR_WRITE_TIMEOUT`: one write stayed pending too long; cursors are kept.
 * - `RELAY_ERR_TOO_MANY_CONNECTIONS`: the relay was full; the client got an `<error/>`.
 */
export type RelayCloseCode =
  | "RELAY_POLICY_SERVED"
  | "RELAY_PEER_CLOSED"
  | "RELAY_SHUTDOWN"
  | "RELAY_ERR_JUNK"
  | "RELAY_ERR_REQUEST_TIMEOUT"
  | "RELAY_ERR_IDLE"
  | "RELAY_ERR_SLOW_READER"
  | "RELAY_ERR_WRITE_TIMEOUT"
  | "RELAY_ERR_TOO_MANY_CONNECTIONS";

/** Why a relay connection ends. */
export interface RelayClose {
  /** Stable machine-readable identifier. */
  readonly code: RelayCloseCode;
  /** Whether queued bytes are written before the socket closes (false: close at once). */
  readonly flush: boolean;
  /** Human-readable explanation. */
  readonly message: string;
}

/**
 * Builds a {@linkcode RelayClose}.
 *
 * @example A slow reader is cut off at once
 * ```ts
 * import assert from "node:assert/strict";
 * import { relayClose } from "./relay_close.ts";
 * const close = relayClose("RELAY_ERR_SLOW_READER", false, "Outgoing queue over 1048576 bytes");
 * assert(!close.flush);
 * ```
 */
export function relayClose(code: RelayCloseCode, flush: boolean, message: string): RelayClose {
  return { code, flush, message };
}
