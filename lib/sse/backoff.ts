/**
 * The client's optional reconnection backoff, as a pure function (randomness passed in).
 *
 * @module
 */
import { DEFAULT_MAX_BACKOFF } from "./_constants.ts";

/** Exponential backoff with jitter between reconnections (an extension the spec allows). */
export interface BackoffOptions {
  /**
   * Each consecutive failed attempt multiplies the delay by this.
   *
   * @default {2}
   */
  readonly multiplier?: number;
  /**
   * Ceiling of the delay in ms (never below the server's `retry:`).
   *
   * @default {30000}
   */
  readonly maxDelay?: number;
  /**
   * Fraction of the delay that is random, from 0 (none) to 1: the delay is drawn from
   * `[delay * (1 - jitter), delay]` so many clients do not reconnect in step.
   *
   * @default {0.5}
   */
  readonly jitter?: number;
}

/**
 * Returns how long to wait before the next reconnection. Without backoff it is the
 * reconnection time itself (WHATWG HTML §9.2.3: "Wait a delay equal to the reconnection time
 * of the event source"); with backoff the spec's "optionally, wait some more" grows it
 * exponentially with the number of consecutive attempts that delivered no event.
 *
 * @param reconnectionTime The event source's reconnection time (default or from `retry:`), ms.
 * @param failures Consecutive connection attempts that delivered no event (0 after a success).
 * @param backoff The backoff settings, or `undefined` for the plain spec behaviour.
 * @param random A source of numbers in `[0, 1)`, e.g. `Math.random`.
 * @returns The delay in ms.
 *
 * @example Grow, cap and randomize
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffDelay } from "./backoff.ts";
 * assert.equal(backoffDelay(1000, 3, undefined, Math.random), 1000);
 * assert.equal(backoffDelay(1000, 3, { jitter: 0 }, Math.random), 8000);
 * assert.equal(backoffDelay(1000, 9, { jitter: 0 }, Math.random), 30000);
 * assert.equal(backoffDelay(1000, 1, { jitter: 1 }, () => 0.5), 1000);
 * ```
 */
export function backoffDelay(
  reconnectionTime: number,
  failures: number,
  backoff: BackoffOptions | undefined,
  random: () => number,
): number {
  if (backoff === undefined) return reconnectionTime;
  const multiplier = backoff.multiplier ?? 2;
  const maxDelay = Math.max(backoff.maxDelay ?? DEFAULT_MAX_BACKOFF, reconnectionTime);
  const jitter = Math.min(Math.max(backoff.jitter ?? 0.5, 0), 1);
  const grown = Math.min(maxDelay, reconnectionTime * multiplier ** Math.max(failures, 0));
  return grown * (1 - jitter * random());
}
