/**
 * A token bucket for error replies: a client may make a burst of mistakes, then one per
 * refill interval; beyond that it is abusing the socket and gets cut off (close 1008).
 * Pure: the caller passes the time.
 *
 * @module
 */

/** Bounds of an {@linkcode ErrorBudget}. */
export interface ErrorBudgetOptions {
  /**
   * Errors allowed at once.
   * @default {10}
   */
  readonly burst?: number;
  /**
   * Errors regained per second.
   * @default {1}
   */
  readonly perSecond?: number;
}

/**
 * Counts errors against a refilling allowance.
 *
 * @example Ten mistakes are forgiven, the eleventh in the same second is not
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrorBudget } from "./error_budget.ts";
 * const budget = new ErrorBudget({ burst: 10, perSecond: 1 }, 0);
 * for (let i = 0; i < 10; i++) assert.ok(budget.spend(0));
 * assert.ok(!budget.spend(0));
 * assert.ok(budget.spend(1000)); // one regained after a second
 * ```
 */
export class ErrorBudget {
  readonly #burst: number;
  readonly #perMs: number;
  #tokens: number;
  #at: number;

  /**
   * A full budget at time `now` (milliseconds).
   *
   * @throws {RangeError} If `burst` is not >= 1 or `perSecond` is negative.
   */
  constructor(options: ErrorBudgetOptions = {}, now: number = 0) {
    this.#burst = options.burst ?? 10;
    const perSecond = options.perSecond ?? 1;
    if (!(this.#burst >= 1) || !(perSecond >= 0)) {
      throw new RangeError("Cannot create error budget: burst must be >= 1 and perSecond >= 0");
    }
    this.#perMs = perSecond / 1000;
    this.#tokens = this.#burst;
    this.#at = now;
  }

  /** Spends one error at time `now`; false when the budget is exhausted. */
  spend(now: number): boolean {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#perMs);
      this.#at = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }
}
