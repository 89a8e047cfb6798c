import assert from "node:assert/strict";
import { Redis } from "npm:ioredis@5.11.1";
import { Hub } from "../../lib/hub/hub.ts";
import { RedisBroker } from "../../lib/hub/redis_broker.ts";
import type { Message } from "../../lib/hub/message.ts";
import type { Subscription, SubscriptionEvent } from "../../lib/hub/subscription.ts";
import { startRedis, startRedisProxy } from "../_redis.ts";
import { until, within } from "../_wait.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Bound on reconnecting to a restarted Redis: generous, the machine may be loaded. */
const RECONNECT_MS = 30_000;

/** Publishes, retrying while the broker is reconnecting (bounded). */
async function publishRetrying(broker: RedisBroker, channel: string, data: unknown) {
  const deadline = Date.now() + RECONNECT_MS;
  for (;;) {
    try {
      return await broker.publish({ channel, data });
    } catch (error) {
      if (Date.now() > deadline) throw new Error("publish kept failing", { cause: error });
      await sleep(20);
    }
  }
}

/** Every event until the subscription ends (bounded). */
async function drain(subscription: Subscription): Promise<SubscriptionEvent[]> {
  const events: SubscriptionEvent[] = [];
  for (;;) {
    const next = await within(subscription.next(), "the subscription to end");
    if (next.done) return events;
    events.push(next.value);
  }
}

Deno.test("RedisBroker publishes, reads back and notifies a listener", async () => {
  const redis = await startRedis();
  const broker = await RedisBroker.connect({ url: redis.url });
  try {
    const seen: Message[] = [];
    const off = await broker.subscribe("news", (m) => seen.push(m));
    const first = await broker.publish({ channel: "news", data: { n: 1 } });
    const second = await broker.publish({ channel: "news", event: "up", data: "two" });
    assert.deepEqual(seen.map((m) => m.id), [first.id, second.id]);
    assert.equal(seen[1]!.event, "up");
    const all = await broker.read("news");
    assert.ok(all.type === "messages");
    assert.deepEqual(all.messages.map((m) => m.data), [{ n: 1 }, "two"]);
    off();
  } finally {
    await broker.close();
    await redis.stop();
  }
});

Deno.test("RedisBroker answers cursors: malformed 400, unknown channel 0-0, ahead and trimmed reset", async () => {
  const redis = await startRedis();
  const broker = await RedisBroker.connect({ url: redis.url, maxMessages: 10 });
  try {
    const bad = await broker.read("c", "nope");
    assert.ok(bad.type === "error");
    assert.equal(bad.code, "HUB_ERR_INVALID_CURSOR");
    assert.equal(bad.status, 400);
    assert.equal(await broker.position("c"), "0-0");
    assert.deepEqual(await broker.read("c", "0-0"), {
      type: "messages",
      messages: [],
      cursor: "0-0",
      reset: false,
    });
    const gone = await broker.read("c", "5-0"); // a stream that no longer exists
    assert.ok(gone.type === "messages" && gone.reset);
    const ids: string[] = [];
    for (let i = 0; i < 250; i++) ids.push((await broker.publish({ channel: "c", data: i })).id);
    assert.equal(await broker.position("c"), ids[249]);
    // MAXLEN ~ trims whole nodes: at least 10 remain, the oldest are gone.
    const all = await broker.read("c");
    assert.ok(all.type === "messages" && !all.reset);
    const kept = all.messages.length;
    assert.ok(kept >= 10 && kept < 250, `kept ${kept}`);
    assert.equal(all.messages[kept - 1]!.id, ids[249]);
    const behind = await broker.read("c", ids[0]);
    assert.ok(behind.type === "messages" && behind.reset);
    assert.equal(behind.messages.length, kept);
    const fromZero = await broker.read("c", "0-0");
    assert.ok(fromZero.type === "messages" && fromZero.reset);
    const recent = await broker.read("c", ids[247]);
    assert.ok(recent.type === "messages" && !recent.reset);
    assert.deepEqual(recent.messages.map((m) => m.data), [248, 249]);
    assert.equal(recent.cursor, ids[249]);
    const current = await broker.read("c", ids[249]);
    assert.deepEqual(current, { type: "messages", messages: [], cursor: ids[249], reset: false });
    const ahead = await broker.read("c", "99999999999999-0");
    assert.ok(ahead.type === "messages" && ahead.reset);
    assert.equal(ahead.messages.length, kept);
    assert.equal(ahead.cursor, ids[249]);
  } finally {
    await broker.close();
    await redis.stop();
  }
});

Deno.test("RedisBroker orders ids numerically and rejects malformed ones", async () => {
  const broker = new RedisBroker({ url: "redis://127.0.0.1:1" });
  try {
    assert.ok(broker.compareIds("10-0", "9-5") > 0);
    assert.ok(broker.compareIds("9-10", "9-9") > 0);
    assert.ok(broker.compareIds("9-9", "10-0") < 0);
    assert.equal(broker.compareIds("7-3", "7-3"), 0);
    assert.throws(() => broker.compareIds("7", "7-3"), TypeError);
  } finally {
    await broker.close();
  }
});

Deno.test("RedisBroker delivers a message published on one node to listeners on another, once and in order", async () => {
  const redis = await startRedis();
  const a = await RedisBroker.connect({ url: redis.url });
  const b = await RedisBroker.connect({ url: redis.url });
  try {
    const seen: string[] = [];
    const off = await b.subscribe("room", (m) => seen.push(`${m.data}`));
    const other: string[] = [];
    const offOther = await b.subscribe("other", (m) => other.push(`${m.data}`));
    const published = [];
    for (let i = 0; i < 50; i++) {
      published.push(a.publish({ channel: i % 5 === 0 ? "other" : "room", data: i }));
    }
    await Promise.all(published);
    // Fan-out is asynchronous across nodes: wait (bounded) until everything arrived.
    await until(() => seen.length + other.length >= 50, "every message on node b");
    const expected = [...Array(50).keys()];
    assert.deepEqual(seen, expected.filter((i) => i % 5 !== 0).map(String));
    assert.deepEqual(other, expected.filter((i) => i % 5 === 0).map(String));
    off();
    offOther();
  } finally {
    await a.close();
    await b.close();
    await redis.stop();
  }
});

Deno.test("RedisBroker rejects publishes while Redis is down and catches up after a restart", async () => {
  const redis = await startRedis({ appendOnly: true });
  const a = await RedisBroker.connect({ url: redis.url });
  const b = await RedisBroker.connect({ url: redis.url });
  try {
    const seen: number[] = [];
    let gaps = 0;
    const off = await b.subscribe("s", (m) => seen.push(m.data as number), () => gaps++);
    const acknowledged: number[] = [];
    for (let i = 0; i < 5; i++) {
      await a.publish({ channel: "s", data: i });
      acknowledged.push(i);
    }
    await redis.kill();
    await assert.rejects(a.publish({ channel: "s", data: -1 }));
    await assert.rejects(a.read("s"));
    await redis.restart();
    // Publish as soon as the node has reconnected (bounded wait).
    for (let i = 5; i < 10; i++) {
      await publishRetrying(a, "s", i);
      acknowledged.push(i);
    }
    await until(() => seen.length >= acknowledged.length, "the catch-up on node b");
    assert.deepEqual(seen, acknowledged);
    assert.equal(gaps, 0, "with AOF nothing was lost: no gap");
    const history = await b.read("s");
    assert.ok(history.type === "messages");
    assert.deepEqual(history.messages.map((m) => m.data), acknowledged);
    off();
  } finally {
    await a.close();
    await b.close();
    await redis.stop();
  }
});

Deno.test("RedisBroker.connect rejects when Redis is unreachable, and a closed broker refuses calls", async () => {
  const redis = await startRedis();
  const url = redis.url;
  await redis.stop();
  await assert.rejects(RedisBroker.connect({ url, commandTimeoutMs: 300 }), /Cannot connect/);
  const broker = new RedisBroker({ url });
  await broker.close();
  await assert.rejects(broker.publish({ channel: "c", data: 1 }), TypeError);
  await assert.rejects(broker.read("c"), TypeError);
  await assert.rejects(broker.subscribe("c", () => {}), TypeError);
});

Deno.test("RedisBroker never lets a read show an entry this node's listeners have not seen", async () => {
  const redis = await startRedis();
  const a = await RedisBroker.connect({ url: redis.url });
  const b = await RedisBroker.connect({ url: redis.url });
  try {
    const seen = new Set<string>();
    const off = await b.subscribe("r", (m) => seen.add(m.id));
    for (let round = 0; round < 20; round++) {
      const published = await a.publish({ channel: "r", data: round });
      // Read on b right after a's publish: the listener must have the entry by now, or the
      // hub would deliver it from history and then again live.
      const read = await b.read("r", "0-0");
      assert.ok(read.type === "messages");
      for (const message of read.messages) assert.ok(seen.has(message.id), message.id);
      assert.ok(seen.has(published.id));
      const position = await b.position("r");
      assert.ok(seen.has(position));
    }
    off();
  } finally {
    await a.close();
    await b.close();
    await redis.stop();
  }
});

Deno.test("RedisBroker fan-out blocks instead of polling: an idle node sends about one XREAD per blockMs", async () => {
  const redis = await startRedis();
  const broker = await RedisBroker.connect({ url: redis.url, blockMs: 1000 });
  const probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await probe.connect();
    const off = await broker.subscribe("idle", () => {});
    await new Promise((resolve) => setTimeout(resolve, 100)); // the loop re-issues with the channel
    const xreadCalls = async () => {
      const info = await probe.info("commandstats");
      return Number(/cmdstat_xread:calls=(\d+)/.exec(info)?.[1] ?? 0);
    };
    const before = await xreadCalls();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const calls = (await xreadCalls()) - before;
    assert.ok(calls >= 1 && calls <= 3, `${calls} XREAD calls in 1.5 s`);
    off();
  } finally {
    probe.disconnect();
    await broker.close();
    await redis.stop();
  }
});

Deno.test("RedisBroker applies the age limit: old entries are trimmed, an idle channel expires", async () => {
  const redis = await startRedis();
  const broker = await RedisBroker.connect({ url: redis.url, maxAgeMs: 300 });
  try {
    const first = await broker.publish({ channel: "old", data: 0 });
    for (let i = 1; i < 150; i++) await broker.publish({ channel: "old", data: i });
    // Keep the channel active past maxAgeMs: a publish trims whole stream nodes older than it.
    let last = first;
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      last = await broker.publish({ channel: "old", data: `late ${i}` });
    }
    const read = await broker.read("old", first.id);
    assert.ok(read.type === "messages" && read.reset);
    assert.ok(read.messages.length <= 60, `${read.messages.length} kept`);
    assert.equal(read.messages[read.messages.length - 1]!.id, last.id);
    // Idle for longer than maxAgeMs: the key expired, a reader is told it may have missed some.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const expired = await broker.read("old", last.id);
    assert.deepEqual(expired, { type: "messages", messages: [], cursor: "0-0", reset: true });
    // Re-created by a new publish: a cursor from the old stream is before its first entry.
    const reborn = await broker.publish({ channel: "old", data: "again" });
    const again = await broker.read("old", last.id);
    assert.ok(again.type === "messages" && again.reset);
    assert.deepEqual(again.messages.map((m) => m.id), [reborn.id]);
    const fromZero = await broker.read("old", "0-0");
    assert.ok(fromZero.type === "messages" && !fromZero.reset);
  } finally {
    await broker.close();
    await redis.stop();
  }
});

Deno.test("RedisBroker reports a gap after a Redis restart without persistence, before any newer message", async () => {
  const redis = await startRedis();
  const a = await RedisBroker.connect({ url: redis.url });
  const b = await RedisBroker.connect({ url: redis.url, blockMs: 1000 });
  try {
    const events: string[] = [];
    let last = "";
    const off = await b.subscribe("g", (m) => {
      events.push(`${m.data}`);
      last = m.id;
    }, () => events.push("gap"));
    for (let i = 0; i < 3; i++) await a.publish({ channel: "g", data: i });
    await until(() => events.length === 3, "the first messages");
    const cursor = last;
    await redis.restart(); // SIGKILL, no AOF: the stream is gone
    // Published on the new, empty Redis as soon as a's connection is back: b must not hand it
    // over as if it followed message 2.
    await publishRetrying(a, "g", "early");
    await until(() => events.includes("gap"), "the gap", RECONNECT_MS);
    assert.deepEqual(events.slice(0, 4), ["0", "1", "2", "gap"]);
    // After the gap, fan-out goes on from the new stream.
    await a.publish({ channel: "g", data: "late" });
    await until(() => events.at(-1) === "late", "a message after the gap");
    assert.equal(events.filter((e) => e === "gap").length, 1);
    assert.ok(events.slice(4).every((e) => e === "early" || e === "late"), events.join());
    // The node's last delivered id before the gap reads as a reset, with what is retained.
    const resumed = await b.read("g", cursor);
    assert.ok(resumed.type === "messages" && resumed.reset);
    assert.deepEqual(resumed.messages.map((m) => m.data), ["early", "late"]);
    off();
  } finally {
    await a.close();
    await b.close();
    await redis.stop();
  }
});

/**
 * Node A on Redis directly and node B behind a TCP proxy a test can cut, both keeping
 * `maxMessages` per stream; disposing closes all four in order.
 */
async function cutOffPair(maxMessages: number) {
  const redis = await startRedis();
  const proxy = startRedisProxy(redis);
  const a = await RedisBroker.connect({ url: redis.url, maxMessages });
  const b = await RedisBroker.connect({ url: proxy.url, maxMessages, blockMs: 1000 });
  return {
    a,
    b,
    proxy,
    async [Symbol.asyncDispose]() {
      await a.close();
      await b.close();
      await proxy.stop();
      await redis.stop();
    },
  };
}

Deno.test("RedisBroker reports a gap when more than maxMessages were published while only this node was cut off", async () => {
  await using pair = await cutOffPair(10);
  const { a, b, proxy } = pair;
  const events: string[] = [];
  let last = "";
  const off = await b.subscribe("cut", (m) => {
    events.push(`${m.data}`);
    last = m.id;
  }, () => events.push("gap"));
  for (let i = 0; i < 3; i++) await a.publish({ channel: "cut", data: i });
  await until(() => events.length === 3, "the first messages");
  const cursor = last;
  await proxy.cut();
  for (let i = 3; i < 300; i++) await a.publish({ channel: "cut", data: i }); // trims past b
  proxy.heal();
  await until(() => events.includes("gap"), "the gap", RECONNECT_MS);
  assert.deepEqual(events, ["0", "1", "2", "gap"]); // nothing of the rest, as if contiguous
  await a.publish({ channel: "cut", data: "after" });
  await until(() => events.at(-1) === "after", "a message after the gap");
  assert.equal(events.length, 5);
  const resumed = await b.read("cut", cursor);
  assert.ok(resumed.type === "messages" && resumed.reset);
  assert.equal(resumed.messages.at(-1)?.data, "after");
  off();
});

Deno.test("RedisBroker catches a briefly cut-off node up exactly, with no gap, when history still covers it", async () => {
  await using pair = await cutOffPair(100);
  const { a, b, proxy } = pair;
  const seen: number[] = [];
  let gaps = 0;
  const off = await b.subscribe("brief", (m) => seen.push(m.data as number), () => gaps++);
  for (let i = 0; i < 3; i++) await a.publish({ channel: "brief", data: i });
  await until(() => seen.length === 3, "the first messages");
  await proxy.cut();
  for (let i = 3; i < 50; i++) await a.publish({ channel: "brief", data: i });
  proxy.heal();
  await until(() => seen.length === 50, "the catch-up", RECONNECT_MS);
  assert.deepEqual(seen, [...Array(50).keys()]);
  assert.equal(gaps, 0);
  off();
});

Deno.test("A hub on Redis ends a live subscription with gap on a restart without persistence; its cursor resumes with reset", async () => {
  const redis = await startRedis();
  const a = await RedisBroker.connect({ url: redis.url });
  const hub = new Hub({ broker: await RedisBroker.connect({ url: redis.url, blockMs: 1000 }) });
  try {
    const subscribed = await hub.subscribe("h");
    assert.ok(subscribed.type === "subscription");
    const subscription = subscribed;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await a.publish({ channel: "h", data: i })).id);
    for (let i = 0; i < 3; i++) {
      const next = await within(subscription.next(), "a live message");
      assert.ok(!next.done && next.value.type === "message");
    }
    // A long poll parked at the same position is answered as soon as the gap is known.
    const waiting = hub.wait("h", ids[2], { timeoutMs: 60_000 });
    await until(() => hub.stats.waiters === 1, "the parked long poll");
    await redis.restart();
    await publishRetrying(a, "h", "new");
    assert.deepEqual(await drain(subscription), []); // ends: does not go on silently
    assert.equal(subscription.closeReason, "gap");
    assert.equal(subscription.cursor, ids[2]);
    assert.equal(hub.stats.gaps, 1);
    const polled = await within(waiting, "the long poll");
    assert.ok(polled.type === "messages" && polled.reset);
    const read = await hub.read("h", subscription.cursor);
    assert.ok(read.type === "messages" && read.reset);
    assert.deepEqual(read.messages.map((m) => m.data), ["new"]);
    const resumed = await hub.subscribe("h", { after: subscription.cursor });
    assert.ok(resumed.type === "subscription");
    const first = await within(resumed.next(), "the reset");
    assert.ok(!first.done && first.value.type === "reset");
    const second = await within(resumed.next(), "the retained message");
    assert.ok(
      !second.done && second.value.type === "message" && second.value.message.data === "new",
    );
    resumed.close();
  } finally {
    await hub.close();
    await a.close();
    await redis.stop();
  }
});
