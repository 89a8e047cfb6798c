import assert from "node:assert/strict";
import { backoffDelay } from "../../lib/sse/backoff.ts";

Deno.test("backoffDelay without backoff is the reconnection time", () => {
  assert.equal(backoffDelay(3000, 0, undefined, () => 0.5), 3000);
  assert.equal(backoffDelay(3000, 7, undefined, () => 0.5), 3000);
});

Deno.test("backoffDelay grows by the multiplier and stops at maxDelay", () => {
  const delays = [0, 1, 2, 3, 4, 5].map((n) =>
    backoffDelay(1000, n, { multiplier: 3, maxDelay: 20_000, jitter: 0 }, () => 0.9)
  );
  assert.deepEqual(delays, [1000, 3000, 9000, 20_000, 20_000, 20_000]);
});

Deno.test("backoffDelay never goes below a server retry larger than maxDelay", () => {
  assert.equal(backoffDelay(60_000, 3, { maxDelay: 30_000, jitter: 0 }, Math.random), 60_000);
});

Deno.test("backoffDelay draws the jitter from [delay * (1 - jitter), delay]", () => {
  assert.equal(backoffDelay(1000, 1, { jitter: 0.5 }, () => 0), 2000);
  assert.equal(backoffDelay(1000, 1, { jitter: 0.5 }, () => 0.75), 1250);
  assert.equal(backoffDelay(1000, 0, { jitter: 7 }, () => 1), 0); // jitter clamped to 1
});
