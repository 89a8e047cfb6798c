import assert from "node:assert/strict";
import { SubscriberQueue } from "../../lib/hub/subscriber_queue.ts";
import type { Message } from "../../lib/hub/message.ts";

const m = (n: number): Message => ({ id: `e-${n}`, channel: "c", data: n, time: 0 });

Deno.test("SubscriberQueue overflows on count, then refuses every later push", () => {
  const queue = new SubscriberQueue({ maxMessages: 2 });
  assert.ok(queue.push(m(1), 1));
  assert.ok(queue.push(m(2), 1));
  assert.equal(queue.push(m(3), 1), false);
  assert.ok(queue.overflowed);
  assert.equal(queue.shift()?.id, "e-1");
  assert.equal(queue.push(m(4), 1), false); // room again, but the subscriber must go
  assert.equal(queue.shift()?.id, "e-2");
  assert.equal(queue.shift(), undefined);
});

Deno.test("SubscriberQueue overflows on bytes but accepts one big message into an empty queue", () => {
  const queue = new SubscriberQueue({ maxBytes: 100 });
  assert.ok(queue.push(m(1), 500));
  assert.equal(queue.bytes, 500);
  assert.equal(queue.push(m(2), 1), false);
});

Deno.test("SubscriberQueue.dropWhile removes a prefix", () => {
  const queue = new SubscriberQueue();
  for (let n = 1; n <= 5; n++) queue.push(m(n), 10);
  queue.dropWhile((message) => (message.data as number) <= 3);
  assert.equal(queue.length, 2);
  assert.equal(queue.bytes, 20);
  assert.equal(queue.shift()?.id, "e-4");
});

Deno.test("SubscriberQueue keeps FIFO order across compaction", () => {
  const queue = new SubscriberQueue({ maxMessages: 1000 });
  let next = 1;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 100; i++) queue.push(m(round * 100 + i + 1), 1);
    for (let i = 0; i < 90; i++) assert.equal(queue.shift()?.id, `e-${next++}`);
  }
  assert.equal(queue.length, 100);
});
