// The error budget of /ws sockets (lib/server/ws/error_budget.ts).
import assert from "node:assert/strict";
import { ErrorBudget } from "../../lib/server/ws/error_budget.ts";

Deno.test("ErrorBudget allows a burst, then refills at the given rate up to the burst", () => {
  const budget = new ErrorBudget({ burst: 2, perSecond: 2 }, 1000);
  assert.ok(budget.spend(1000));
  assert.ok(budget.spend(1000));
  assert.ok(!budget.spend(1000));
  assert.ok(budget.spend(1500)); // one regained in 500 ms
  assert.ok(!budget.spend(1500));
  assert.ok(budget.spend(60_000) && budget.spend(60_000)); // capped at the burst
  assert.ok(!budget.spend(60_000));
});

Deno.test("ErrorBudget ignores a clock going backwards and never refills at rate 0", () => {
  const budget = new ErrorBudget({ burst: 1, perSecond: 0 }, 500);
  assert.ok(budget.spend(500));
  assert.ok(!budget.spend(100));
  assert.ok(!budget.spend(1e9));
});

Deno.test("ErrorBudget refuses bounds that make no sense", () => {
  assert.throws(() => new ErrorBudget({ burst: 0 }), RangeError);
  assert.throws(() => new ErrorBudget({ perSecond: -1 }), RangeError);
  assert.throws(() => new ErrorBudget({ burst: NaN }), RangeError);
});
