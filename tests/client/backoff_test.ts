import assert from "node:assert/strict";
import { Backoff } from "../../lib/client/backoff.ts";
import { lcg } from "./_fake_env.ts";

Deno.test("Backoff doubles the ceiling per attempt up to the cap", () => {
  const backoff = new Backoff({ baseMs: 250, capMs: 3000 }, () => 0);
  const ceilings: number[] = [];
  for (let i = 0; i < 7; i++) {
    ceilings.push(backoff.ceiling());
    backoff.next();
  }
  assert.deepEqual(ceilings, [250, 500, 1000, 2000, 3000, 3000, 3000]);
  assert.equal(backoff.attempt, 7);
  backoff.reset();
  assert.equal(backoff.ceiling(), 250);
});

Deno.test("Backoff draws every delay from the full range [0, ceiling)", () => {
  assert.equal(new Backoff({ baseMs: 1000 }, () => 0).next(), 0);
  assert.equal(new Backoff({ baseMs: 1000 }, () => 0.25).next(), 250);
  const top = new Backoff({ baseMs: 1000 }, () => 0.999999).next();
  assert.ok(top < 1000 && top > 999, String(top));
});

Deno.test("Backoff stays finite after many attempts", () => {
  const backoff = new Backoff({ baseMs: 1, capMs: 60_000 }, () => 0.5);
  for (let i = 0; i < 10_000; i++) backoff.next();
  assert.equal(backoff.next(), 30_000);
});

Deno.test("Backoff spreads 10,000 first retries evenly over the window", () => {
  const random = lcg(42);
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 10_000; i++) {
    const delay = new Backoff({ baseMs: 1000 }, random).next();
    assert.ok(delay >= 0 && delay < 1000);
    buckets[Math.floor(delay / 100)]++;
  }
  // Uniform: each tenth of the window gets about 1,000 clients (no burst at any instant).
  for (const count of buckets) assert.ok(count > 850 && count < 1150, String(buckets));
});

Deno.test("Backoff refuses a base above the cap or not positive", () => {
  assert.throws(() => new Backoff({ baseMs: 2000, capMs: 1000 }), RangeError);
  assert.throws(() => new Backoff({ baseMs: 0 }), RangeError);
  assert.throws(() => new Backoff({ baseMs: NaN }), RangeError);
});
