import assert from "node:assert/strict";
import { Hub } from "../../lib/hub/hub.ts";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import type { ReadResult } from "../../lib/hub/broker.ts";
import { GapBroker } from "../_gap_broker.ts";
import { until } from "../_wait.ts";
import type { HubError } from "../../lib/hub/hub_error.ts";
import type { Subscription, SubscriptionEvent } from "../../lib/hub/subscription.ts";

function sub(result: Subscription | HubError): Subscription {
  assert.equal(result.type, "subscription", JSON.stringify(result));
  return result as Subscription;
}

function ok(result: ReadResult | HubError): ReadResult {
  assert.equal(result.type, "messages", JSON.stringify(result));
  return result as ReadResult;
}

async function take(subscription: Subscription, count: number): Promise<SubscriptionEvent[]> {
  const out: SubscriptionEvent[] = [];
  while (out.length < count) {
    const next = await subscription.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

const dataOf = (events: SubscriptionEvent[]) =>
  events.map((e) => e.type === "message" ? e.message.data : `reset:${e.cursor}`);

Deno.test("Hub.publish throws a TypeError for an invalid channel or event name", async () => {
  const hub = new Hub();
  await assert.rejects(hub.publish("a/b", 1), TypeError);
  await assert.rejects(hub.publish("ok", 1, { event: "a\nb" }), TypeError);
  assert.equal(hub.stats.published, 0);
  await hub.close();
});

Deno.test("Hub.subscribe without a cursor delivers only new messages", async () => {
  const hub = new Hub();
  await hub.publish("c", "old");
  const subscription = sub(await hub.subscribe("c"));
  await hub.publish("c", "new");
  assert.deepEqual(dataOf(await take(subscription, 1)), ["new"]);
  subscription.close();
  assert.equal(hub.stats.subscribers, 0);
  assert.equal(hub.stats.channels, 0);
  await hub.close();
});

Deno.test("Hub.subscribe with a cursor delivers history then live, each message once", async () => {
  const hub = new Hub({ broker: new MemoryBroker({ epoch: "k" }) });
  const first = await hub.publish("c", 1);
  await hub.publish("c", 2);
  const pending = hub.subscribe("c", { after: first.id });
  const racing = hub.publish("c", 3); // published while the subscription reads history
  const subscription = sub(await pending);
  await racing;
  await hub.publish("c", 4);
  assert.deepEqual(dataOf(await take(subscription, 3)), [2, 3, 4]);
  assert.equal(subscription.cursor, "k-4");
  subscription.close();
  await hub.close();
});

Deno.test("Hub.subscribe announces a reset before the retained messages", async () => {
  const hub = new Hub({ broker: new MemoryBroker({ epoch: "k", history: { maxMessages: 2 } }) });
  const start = await hub.position("c");
  for (let i = 1; i <= 4; i++) await hub.publish("c", i);
  const subscription = sub(await hub.subscribe("c", { after: start }));
  assert.deepEqual(dataOf(await take(subscription, 3)), ["reset:k-4", 3, 4]);
  subscription.close();
  await hub.close();
});

Deno.test("Hub.subscribe and Hub.wait answer a malformed cursor with a 400 HubError", async () => {
  const hub = new Hub();
  const subscribed = await hub.subscribe("c", { after: "nope" });
  assert.equal(subscribed.type, "error");
  assert.equal((subscribed as HubError).status, 400);
  const waited = await hub.wait("c", "nope", { timeoutMs: 1000 });
  assert.equal((waited as HubError).code, "HUB_ERR_INVALID_CURSOR");
  assert.equal(hub.stats.subscribers, 0);
  assert.equal(hub.stats.channels, 0);
  await hub.close();
});

Deno.test("Hub disconnects a slow subscriber with its resume cursor intact", async () => {
  const hub = new Hub({ subscriberQueue: { maxMessages: 2 } });
  const subscription = sub(await hub.subscribe("c"));
  const start = subscription.cursor;
  for (let i = 1; i <= 5; i++) await hub.publish("c", i);
  assert.equal(subscription.closeReason, "slow_consumer");
  assert.equal(hub.stats.subscribers, 0); // out of the fan-out at once
  assert.equal(hub.stats.slowConsumers, 1);
  assert.equal(hub.stats.dropped, 1);
  assert.equal(subscription.cursor, start);
  // What was queued is still delivered, then the iteration ends.
  assert.deepEqual(dataOf(await take(subscription, 10)), [1, 2]);
  assert.equal((await subscription.next()).done, true);
  // Resuming from the cursor catches up from history: nothing lost.
  const resumed = sub(await hub.subscribe("c", { after: subscription.cursor }));
  assert.deepEqual(dataOf(await take(resumed, 3)), [3, 4, 5]);
  resumed.close();
  await hub.close();
});

Deno.test("Hub.subscribe closes on an aborted signal and with break in for await", async () => {
  const hub = new Hub();
  const controller = new AbortController();
  const subscription = sub(await hub.subscribe("c", { signal: controller.signal }));
  const next = subscription.next();
  controller.abort();
  assert.equal((await next).done, true);
  assert.equal(subscription.closeReason, "closed");
  const looped = sub(await hub.subscribe("c"));
  await hub.publish("c", 1);
  for await (const _ of looped) break;
  assert.equal(hub.stats.subscribers, 0);
  await hub.close();
});

Deno.test("Hub.wait is released by a publish with everything after the cursor in one batch", async () => {
  const hub = new Hub();
  const cursor = await hub.position("c");
  const waiting = hub.wait("c", cursor, { timeoutMs: 10_000 });
  await Promise.resolve();
  await hub.publish("c", 1);
  await hub.publish("c", 2); // published before the waiter's read: same batch
  const result = ok(await waiting);
  assert.ok(result.messages.length >= 1);
  assert.equal(result.cursor, result.messages.at(-1)!.id);
  const rest = ok(await hub.read("c", cursor));
  assert.deepEqual(rest.messages.map((m) => m.data), [1, 2]);
  assert.equal(hub.stats.waiters, 0);
  await hub.close();
});

Deno.test("Hub.wait answers at once when messages after the cursor exist", async () => {
  const hub = new Hub();
  const cursor = await hub.position("c");
  await hub.publish("c", "x");
  const result = ok(await hub.wait("c", cursor, { timeoutMs: 60_000 }));
  assert.deepEqual(result.messages.map((m) => m.data), ["x"]);
  await hub.close();
});

Deno.test("Hub.wait without a cursor waits for the next message", async () => {
  const hub = new Hub();
  await hub.publish("c", "old");
  const waiting = hub.wait("c", undefined, { timeoutMs: 10_000 });
  await until(() => hub.stats.waiters > 0, "the waiter");
  await hub.publish("c", "new");
  assert.deepEqual(ok(await waiting).messages.map((m) => m.data), ["new"]);
  await hub.close();
});

Deno.test("Hub.wait times out with no messages and the cursor unchanged", async () => {
  const hub = new Hub({ broker: new MemoryBroker({ epoch: "k" }) });
  await hub.publish("c", 1);
  const result = ok(await hub.wait("c", "k-1", { timeoutMs: 20 }));
  assert.deepEqual(result, { type: "messages", messages: [], cursor: "k-1", reset: false });
  assert.equal(hub.stats.waiters, 0);
  assert.equal(hub.stats.channels, 0);
  await hub.close();
});

Deno.test("Hub.wait removes a waiter at once when its signal aborts", async () => {
  const hub = new Hub();
  const controller = new AbortController();
  const waiting = hub.wait("c", undefined, { timeoutMs: 60_000, signal: controller.signal });
  await until(() => hub.stats.waiters > 0, "the waiter");
  controller.abort();
  assert.equal(hub.stats.waiters, 0); // synchronously
  assert.deepEqual(ok(await waiting).messages, []);
  assert.equal(hub.stats.channels, 0);
  await hub.close();
});

Deno.test("Hub releases many waiters on one cursor with one history read", async () => {
  const broker = new MemoryBroker();
  let reads = 0;
  const read = broker.read.bind(broker);
  broker.read = (channel, after) => {
    reads++;
    return read(channel, after);
  };
  const hub = new Hub({ broker });
  const cursor = await hub.position("c");
  const waiting = Array.from({ length: 500 }, () => hub.wait("c", cursor, { timeoutMs: 60_000 }));
  await until(() => hub.stats.waiters >= 500, "500 waiters");
  reads = 0;
  await hub.publish("c", "go");
  const results = await Promise.all(waiting);
  assert.ok(results.every((r) => ok(r).messages.length === 1));
  assert.equal(reads, 1);
  await hub.close();
});

Deno.test("Hub.close ends subscriptions and answers waiters", async () => {
  const hub = new Hub();
  const subscription = sub(await hub.subscribe("c"));
  const waiting = hub.wait("d", undefined, { timeoutMs: 60_000 });
  await until(() => hub.stats.waiters > 0, "the waiter");
  await hub.close();
  assert.equal(subscription.closeReason, "hub_closed");
  assert.deepEqual(ok(await waiting).messages, []);
  await assert.rejects(hub.publish("c", 1), TypeError);
});

Deno.test("Hub ends a channel's subscriptions on a broker gap, after what they queued, cursor intact", async () => {
  const broker = new GapBroker({ epoch: "g" });
  const hub = new Hub({ broker });
  const subscription = sub(await hub.subscribe("c"));
  const other = sub(await hub.subscribe("d"));
  await hub.publish("c", 1);
  await hub.publish("c", 2);
  broker.gap("c");
  assert.equal(subscription.closeReason, "gap");
  assert.equal(hub.stats.gaps, 1);
  assert.equal(hub.stats.subscribers, 1); // out of the fan-out at once
  await hub.publish("c", 3); // after the gap: not delivered live
  // The messages queued before the gap precede it: still delivered, then the iteration ends.
  assert.deepEqual(dataOf(await take(subscription, 10)), [1, 2]);
  assert.equal((await subscription.next()).done, true);
  assert.equal(subscription.cursor, "g-2");
  // Resuming from the cursor goes through history, which tells what was lost.
  const resumed = sub(await hub.subscribe("c", { after: subscription.cursor }));
  assert.deepEqual(dataOf(await take(resumed, 2)), ["reset:g-3", 3]);
  assert.equal(other.closeReason, undefined);
  resumed.close();
  other.close();
  await hub.close();
});

Deno.test("Hub answers long polls parked on a channel with a gap by reading again", async () => {
  const broker = new GapBroker({ epoch: "g" });
  const hub = new Hub({ broker });
  const cursor = await hub.position("c");
  const waiting = hub.wait("c", cursor, { timeoutMs: 60_000 });
  const elsewhere = hub.wait("d", cursor, { timeoutMs: 60_000 });
  await until(() => hub.stats.waiters >= 2, "2 waiters");
  broker.gap("c");
  const result = ok(await waiting);
  assert.equal(result.reset, true);
  assert.equal(hub.stats.waiters, 1); // the other channel's waiter stays
  await hub.close();
  assert.deepEqual(ok(await elsewhere).messages, []);
});

Deno.test("Hub parks a long poll again when the read after a gap finds nothing lost", async () => {
  const broker = new GapBroker({ epoch: "g" });
  const read = broker.read.bind(broker);
  broker.read = (channel, after) => read(channel, after).then((r) => ({ ...r, reset: false }));
  const hub = new Hub({ broker });
  const cursor = await hub.position("c");
  const waiting = hub.wait("c", cursor, { timeoutMs: 60_000 });
  await until(() => hub.stats.waiters > 0, "the waiter");
  broker.gap("c");
  await until(() => hub.stats.waiters > 0, "the waiter parked again");
  await hub.publish("c", "x");
  assert.deepEqual(ok(await waiting).messages.map((m) => m.data), ["x"]);
  await hub.close();
});
