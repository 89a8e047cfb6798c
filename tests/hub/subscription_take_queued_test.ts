import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { Hub } from "../../lib/hub/hub.ts";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import type { HubError } from "../../lib/hub/hub_error.ts";
import { type Message, messageSize } from "../../lib/hub/message.ts";
import { SubscriptionImpl } from "../../lib/hub/_subscription.ts";
import {
  MAX_TAKE_QUEUED,
  type Subscription,
  type SubscriptionEvent,
} from "../../lib/hub/subscription.ts";
import { GapBroker } from "../_gap_broker.ts";

function sub(result: Subscription | HubError): Subscription {
  assert.equal(result.type, "subscription", JSON.stringify(result));
  return result as Subscription;
}

const dataOf = (events: readonly SubscriptionEvent[]) =>
  events.map((e) => e.type === "message" ? e.message.data : `reset:${e.cursor}`);

function message(n: number): Message {
  return { id: String(n), channel: "c", data: n, time: 0 };
}

// A bare subscription, as the hub builds it: ids compare as numbers.
function bare(limits = {}): { subscription: SubscriptionImpl; detached: () => number } {
  let detached = 0;
  const subscription = new SubscriptionImpl("c", "0", limits, {
    compareIds: (a, b) => Number(a) - Number(b),
    detach: () => void detached++,
  });
  return { subscription, detached: () => detached };
}

Deno.test("takeQueued hands out the reset, then the backlog, then live messages, in order", async () => {
  const hub = new Hub({ broker: new MemoryBroker({ epoch: "k", history: { maxMessages: 2 } }) });
  const first = await hub.publish("c", 1);
  for (let i = 2; i <= 4; i++) await hub.publish("c", i);
  const subscription = sub(await hub.subscribe("c", { after: first.id }));
  await hub.publish("c", 5);
  const taken = subscription.takeQueued();
  assert.deepEqual(dataOf(taken), ["reset:k-4", 3, 4, 5]);
  assert.equal(subscription.cursor, "k-5");
  assert.deepEqual(subscription.takeQueued(), []);
  // Nothing taken is yielded again: the iteration goes on after it.
  const next = subscription.next();
  await hub.publish("c", 6);
  assert.deepEqual(dataOf([(await next).value as SubscriptionEvent]), [6]);
  subscription.close();
  await hub.close();
});

Deno.test("takeQueued returns at most max, never more than MAX_TAKE_QUEUED, and consumes nothing for max < 1", () => {
  const { subscription } = bare({ maxMessages: MAX_TAKE_QUEUED + 10 });
  subscription.start([], "0", false);
  for (let i = 1; i <= MAX_TAKE_QUEUED + 5; i++) assert.ok(subscription.push(message(i)));
  assert.deepEqual(subscription.takeQueued(0), []);
  assert.deepEqual(subscription.takeQueued(-3), []);
  assert.deepEqual(subscription.takeQueued(Number.NaN), []);
  assert.equal(subscription.cursor, "0");
  assert.deepEqual(dataOf(subscription.takeQueued(2.9)), [1, 2]);
  assert.equal(subscription.cursor, "2");
  const big = subscription.takeQueued(Number.POSITIVE_INFINITY);
  assert.equal(big.length, MAX_TAKE_QUEUED);
  assert.deepEqual(dataOf(big.slice(-1)), [MAX_TAKE_QUEUED + 2]);
  assert.deepEqual(dataOf(subscription.takeQueued()), [
    MAX_TAKE_QUEUED + 3,
    MAX_TAKE_QUEUED + 4,
    MAX_TAKE_QUEUED + 5,
  ]);
  assert.equal(subscription.queued, 0);
  assert.equal(subscription.cursor, String(MAX_TAKE_QUEUED + 5));
  subscription.close();
});

Deno.test("takeQueued frees the queue's message and byte room", () => {
  const counted = bare({ maxMessages: 2 });
  counted.subscription.start([], "0", false);
  assert.ok(counted.subscription.push(message(1)));
  assert.ok(counted.subscription.push(message(2)));
  assert.equal(counted.subscription.takeQueued().length, 2);
  assert.ok(counted.subscription.push(message(3)));
  assert.ok(counted.subscription.push(message(4)));
  assert.equal(counted.subscription.closeReason, undefined);
  counted.subscription.close();
  // Two messages fill the byte bound; taking them must give their bytes back.
  const sized = bare({ maxBytes: 2 * messageSize(message(1)) });
  sized.subscription.start([], "0", false);
  assert.ok(sized.subscription.push(message(1)));
  assert.ok(sized.subscription.push(message(2)));
  assert.equal(sized.subscription.takeQueued().length, 2);
  // Same size as 1 and 2 (one-digit ids and data): the bound is full again after 3 and 4.
  assert.ok(sized.subscription.push(message(3)));
  assert.ok(sized.subscription.push(message(4)));
  assert.deepEqual(dataOf(sized.subscription.takeQueued()), [3, 4]);
  assert.equal(sized.subscription.closeReason, undefined);
  sized.subscription.close();
});

Deno.test("takeQueued is empty before the backlog is read and drops the live messages it covers", () => {
  const { subscription } = bare();
  assert.ok(subscription.push(message(2)));
  assert.ok(subscription.push(message(3)));
  assert.deepEqual(subscription.takeQueued(), []);
  assert.equal(subscription.cursor, "0");
  subscription.start([message(1), message(2)], "2", false);
  assert.deepEqual(dataOf(subscription.takeQueued()), [1, 2, 3]);
  assert.equal(subscription.cursor, "3");
  subscription.close();
});

Deno.test("takeQueued after an overflow hands out what was queued, then the iteration ends", async () => {
  const hub = new Hub({ subscriberQueue: { maxMessages: 2 } });
  const subscription = sub(await hub.subscribe("c"));
  const start = subscription.cursor;
  for (let i = 1; i <= 4; i++) await hub.publish("c", i);
  assert.equal(subscription.closeReason, "slow_consumer");
  assert.equal(subscription.cursor, start);
  assert.deepEqual(dataOf(subscription.takeQueued(1)), [1]);
  const second = await subscription.next();
  assert.deepEqual(dataOf([second.value as SubscriptionEvent]), [2]);
  assert.deepEqual(subscription.takeQueued(), []);
  assert.equal((await subscription.next()).done, true);
  assert.equal(subscription.closeReason, "slow_consumer");
  // The cursor is exact: a resume gets the rest from history, none twice.
  const resumed = sub(await hub.subscribe("c", { after: subscription.cursor }));
  assert.deepEqual(dataOf(resumed.takeQueued()), [3, 4]);
  resumed.close();
  await hub.close();
});

Deno.test("takeQueued after a broker gap hands out what preceded it, cursor intact", async () => {
  const broker = new GapBroker({ epoch: "g" });
  const hub = new Hub({ broker });
  const subscription = sub(await hub.subscribe("c"));
  await hub.publish("c", 1);
  await hub.publish("c", 2);
  broker.gap("c");
  await hub.publish("c", 3);
  assert.equal(subscription.closeReason, "gap");
  assert.deepEqual(dataOf(subscription.takeQueued()), [1, 2]);
  assert.equal(subscription.cursor, "g-2");
  assert.equal((await subscription.next()).done, true);
  assert.deepEqual(subscription.takeQueued(), []);
  await hub.close();
});

Deno.test("takeQueued is empty once closed, by close() or the abort signal", async () => {
  const hub = new Hub();
  const controller = new AbortController();
  const aborted = sub(await hub.subscribe("c", { signal: controller.signal }));
  const closed = sub(await hub.subscribe("c"));
  await hub.publish("c", 1);
  await hub.publish("c", 2);
  assert.deepEqual(dataOf(closed.takeQueued(1)), [1]);
  closed.close();
  assert.deepEqual(closed.takeQueued(), []);
  assert.equal((await closed.next()).done, true);
  controller.abort();
  assert.deepEqual(aborted.takeQueued(), []);
  assert.equal((await aborted.next()).done, true);
  assert.equal(aborted.closeReason, "closed");
  assert.equal(hub.stats.subscribers, 0);
  await hub.close();
});

Deno.test("takeQueued beside a pending next(): nothing lost, nothing twice", async () => {
  const { subscription, detached } = bare();
  subscription.start([], "0", false);
  const pending = subscription.next();
  subscription.push(message(1));
  subscription.push(message(2));
  // Taken before the pending next() resumes: it must wait for the next message instead.
  assert.deepEqual(dataOf(subscription.takeQueued()), [1, 2]);
  subscription.push(message(3));
  assert.deepEqual(dataOf([(await pending).value as SubscriptionEvent]), [3]);
  // An end while next() waits: the queued message still comes, then done.
  const again = subscription.next();
  subscription.push(message(4));
  subscription.end("hub_closed");
  assert.equal(detached(), 1);
  assert.deepEqual(dataOf([(await again).value as SubscriptionEvent]), [4]);
  assert.deepEqual(subscription.takeQueued(), []);
  assert.equal((await subscription.next()).done, true);
  assert.equal(subscription.cursor, "4");
  assert.equal(detached(), 1);
});

// The subscription defers its batch release with setImmediate; immediates run in order, so one
// queued now runs after it (a timer might run before it).
const afterTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

Deno.test("waitForBatch resolves once the turn is over, with the turn's messages gathered", async () => {
  const hub = new Hub();
  const subscription = sub(await hub.subscribe("c"));
  let released = false;
  const batch = subscription.waitForBatch().then(() => released = true);
  assert.equal(subscription.waitForBatch(), subscription.waitForBatch()); // one wait, shared
  for (let i = 1; i <= 5; i++) await hub.publish("c", i);
  assert.equal(released, false); // still the same turn
  await batch;
  assert.deepEqual(dataOf(subscription.takeQueued()), [1, 2, 3, 4, 5]);
  subscription.close();
  await hub.close();
});

Deno.test("waitForBatch resolves early at half the queue's room, so a burst does not overflow it", async () => {
  const hub = new Hub({ subscriberQueue: { maxMessages: 4 } });
  const subscription = sub(await hub.subscribe("c"));
  const seen: unknown[] = [];
  const consumer = (async () => {
    for await (const first of subscription) {
      await subscription.waitForBatch();
      seen.push(...dataOf([first, ...subscription.takeQueued()]));
      if (seen.length === 20) break;
    }
  })();
  // Twenty messages in one turn through a queue of four: the consumer keeps up.
  for (let i = 1; i <= 20; i++) await hub.publish("c", i);
  await consumer;
  assert.equal(subscription.closeReason, "closed");
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i + 1));
  await hub.close();
});

Deno.test("waitForBatch resolves at once when half full or ended, and when the subscription ends", async () => {
  const { subscription } = bare({ maxMessages: 4 });
  subscription.start([], "0", false);
  subscription.push(message(1));
  subscription.push(message(2));
  let early = false;
  await subscription.waitForBatch().then(() => early = true);
  assert.equal(early, true);
  assert.equal(subscription.takeQueued().length, 2);
  let ended = false;
  const waiting = subscription.waitForBatch().then(() => ended = true);
  subscription.end("gap");
  await Promise.resolve();
  assert.equal(ended, true);
  await waiting;
  let closed = false;
  await subscription.waitForBatch().then(() => closed = true);
  assert.equal(closed, true);
  await afterTurn(); // the turn's timer has run: nothing left pending
});
