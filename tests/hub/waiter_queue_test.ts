import assert from "node:assert/strict";
import { type QueuedWaiter, WaiterQueue } from "../../lib/hub/waiter_queue.ts";

const w = (channel: string, deadline: number): QueuedWaiter => ({
  channel,
  deadline,
  heapIndex: -1,
});

Deno.test("WaiterQueue expires waiters in deadline order whatever the insertion order", () => {
  const queue = new WaiterQueue();
  const deadlines = [50, 10, 40, 30, 20, 60, 5, 45];
  for (const d of deadlines) queue.add(w("c", d));
  assert.equal(queue.nextDeadline(), 5);
  assert.deepEqual(queue.expire(30).map((x) => x.deadline), [5, 10, 20, 30]);
  assert.equal(queue.size, 4);
  assert.equal(queue.countFor("c"), 4);
  assert.deepEqual(queue.expire(1000).map((x) => x.deadline), [40, 45, 50, 60]);
  assert.equal(queue.nextDeadline(), undefined);
});

Deno.test("WaiterQueue.remove takes a waiter out of both indexes at once", () => {
  const queue = new WaiterQueue();
  const waiters = Array.from({ length: 100 }, (_, i) => w(i % 2 ? "a" : "b", (i * 37) % 101));
  for (const waiter of waiters) queue.add(waiter);
  for (let i = 0; i < 100; i += 3) assert.ok(queue.remove(waiters[i]!));
  assert.equal(queue.remove(waiters[0]!), false);
  const kept = waiters.filter((_, i) => i % 3 !== 0).map((x) => x.deadline).sort((a, b) => a - b);
  assert.deepEqual(queue.expire(Infinity).map((x) => x.deadline), kept);
});

Deno.test("WaiterQueue.takeChannel releases only that channel's waiters", () => {
  const queue = new WaiterQueue();
  const a1 = w("a", 3), a2 = w("a", 1), b = w("b", 2);
  queue.add(a1);
  queue.add(a2);
  queue.add(b);
  assert.deepEqual(new Set(queue.takeChannel("a")), new Set([a1, a2]));
  assert.equal(queue.size, 1);
  assert.equal(queue.nextDeadline(), 2);
  assert.deepEqual(queue.takeChannel("a"), []);
  assert.equal(a1.heapIndex, -1);
});

Deno.test("WaiterQueue refuses a waiter queued twice", () => {
  const queue = new WaiterQueue();
  const waiter = w("a", 1);
  queue.add(waiter);
  assert.throws(() => queue.add(waiter), TypeError);
});
