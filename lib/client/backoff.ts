/**
 * Reconnection delays: exponential backoff with full jitter, capped. Pure: the random source is
 * passed in, no timers.
 *
 * Full jitter draws each delay uniformly from `[0, min(capMs, baseMs * 2^attempt))`, so clients
 * dropped together by a server restart spread their reconnections over the whole window
 * instead of arriving in one burst.
 *
 * @module
 */

/** Settings of a {@linkcode Backoff}. */
export interface BackoffOptions {
  /**
   * Upper bound of the first delay, ms.
   * @default {1000}
   */
  readonly baseMs?: number;
  /**
   * Upper bound of any delay, ms.
   * @default {30000}
   */
  readonly capMs?: number;
}

/**
 * Exponential backoff with full jitter.
 *
 * @example Delays grow and are capped
 * ```ts
 * import assert from "node:assert/strict";
 * import { Backoff } from "./backoff.ts";
 * const backoff = new Backoff({ baseMs: 100, capMs: 1000 }, () => 0.999);
 * assert.deepEqual([1, 2, 3, 4, 5].map(() => Math.round(backoff.next())), [100, 200, 400, 799, 999]);
 * backoff.reset();
 * assert.equal(Math.round(backoff.next()), 100);
 * ```
 */
export class Backoff {
  /** Upper bound of the first delay, ms. */
  readonly baseMs: number;
  /** Upper bound of any delay, ms. */
  readonly capMs: number;
  #random: () => number;
  #attempt = 0;

  /**
   * Creates the instance.
   *
   * @param options Bounds of the delays.
   * @param random A source of numbers in `[0, 1)`, e.g. `Math.random`.
   */
  constructor(options: BackoffOptions = {}, random: () => number = Math.random) {
    const baseMs = options.baseMs ?? 1000;
    const capMs = options.capMs ?? 30_000;
    if (!(baseMs > 0) || !(capMs >= baseMs)) {
      throw new RangeError(
        `Cannot create backoff: need 0 < baseMs <= capMs, got ${baseMs} and ${capMs}`,
      );
    }
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.#random = random;
  }

  /** Consecutive delays handed out since the last {@linkcode Backoff.reset}. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The upper bound of the next delay: `min(capMs, baseMs * 2^attempt)`. */
  ceiling(): number {
    // 2^31 already exceeds any sane cap; stop growing the exponent to stay finite.
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.#attempt, 31));
  }

  /** The next delay in ms, drawn uniformly from `[0, ceiling())`; counts one attempt. */
  next(): number {
    const delay = this.#random() * this.ceiling();
    this.#attempt++;
    return delay;
  }

  /** Starts over from `baseMs` (after a connection that worked). */
  reset(): void {
    this.#attempt = 0;
  }
}
