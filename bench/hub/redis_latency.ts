// Publish -> deliver latency across two nodes on Redis, and messages/s through Redis, against
// the in-memory broker in the same run. Each node is a Hub with its own RedisBroker (its own two
// connections) on one redis-server started for the run; the memory baseline is one hub
// publishing to its own subscriber (a single node: the best case the embedded broker offers).
//
// Latency: one message at a time, from the publish call on node A until node B's subscription
// yields it (p50/p99 of `messages` samples after 100 warm-up rounds). Throughput: batches of 200
// concurrent publishes on A, timed until B's subscriber got all of them.
//
// A script, not `Deno.bench`: deno's per-iteration timing of these async cross-connection
// rounds gave impossible figures (a p75 below a loopback round trip), so the percentiles are
// computed here from `performance.now()`.
//
//   deno run -A bench/hub/redis_latency.ts [messages=3000]
import { Hub } from "../../lib/hub/hub.ts";
import { RedisBroker } from "../../lib/hub/redis_broker.ts";
import type { Subscription } from "../../lib/hub/subscription.ts";
import { startRedis } from "../../tests/_redis.ts";

const BATCH = 200;
const redis = await startRedis();
function publish(hub: Hub, data: unknown): Promise<{ id: string }> {
  return hub.publish("bench", data);
}

const publisherNode = new Hub({ broker: await RedisBroker.connect({ url: redis.url }) });
const subscriberNode = new Hub({ broker: await RedisBroker.connect({ url: redis.url }) });
const memoryNode = new Hub();

async function subscribe(hub: Hub, channel: string): Promise<Subscription> {
  // Unbounded enough that a bench burst never trips the slow-consumer limit.
  const subscription = await hub.subscribe(channel, {
    queue: { maxMessages: 1_000_000, maxBytes: 1 << 30 },
  });
  if (subscription.type === "error") throw new Error(subscription.message);
  return subscription;
}

const redisSub = await subscribe(subscriberNode, "bench");
const memorySub = await subscribe(memoryNode, "bench");

/** Publishes one message and resolves when `subscription` yields it. */
async function roundTrip(publisher: Hub, subscription: Subscription): Promise<void> {
  const published = publish(publisher, "x");
  const next = await subscription.next();
  if (next.done || next.value.type !== "message") {
    throw new Error(`subscription ended: ${subscription.closeReason} ${publisher === memoryNode}`);
  }
  // Exactly the message just published, not a leftover: the timing is honest.
  const message = await published;
  if (next.value.message.id !== message.id) {
    throw new Error("out of step");
  }
}

/** Publishes BATCH messages at once; resolves when `subscription` yielded all of them. */
async function batch(publisher: Hub, subscription: Subscription): Promise<void> {
  const published: Promise<unknown>[] = [];
  for (let i = 0; i < BATCH; i++) published.push(publish(publisher, i));
  for (let i = 0; i < BATCH; i++) {
    const next = await subscription.next();
    if (next.done || next.value.type !== "message") {
      throw new Error(
        `subscription ended: ${subscription.closeReason} ${publisher === memoryNode}`,
      );
    }
  }
  await Promise.all(published);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const messages = Number(Deno.args[0] ?? 3000);
const ROUNDS = 3; // the two brokers alternate round by round, so they share the machine's noise
const cases = [
  { name: "memory (one node)", publisher: memoryNode, subscription: memorySub },
  { name: "redis (node A -> node B)", publisher: publisherNode, subscription: redisSub },
];
const latencies = new Map<string, number[]>(cases.map((c) => [c.name, []]));
const throughput = new Map<string, { messages: number; seconds: number }>(
  cases.map((c) => [c.name, { messages: 0, seconds: 0 }]),
);
try {
  for (const { publisher, subscription } of cases) {
    for (let i = 0; i < 100; i++) await roundTrip(publisher, subscription); // warm up
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const { name, publisher, subscription } of cases) {
      const samples = latencies.get(name)!;
      for (let i = 0; i < messages / ROUNDS; i++) {
        const start = performance.now();
        await roundTrip(publisher, subscription);
        samples.push(performance.now() - start);
      }
      const batches = Math.max(1, Math.floor(messages / ROUNDS / BATCH));
      const start = performance.now();
      for (let i = 0; i < batches; i++) await batch(publisher, subscription);
      const total = throughput.get(name)!;
      total.messages += batches * BATCH;
      total.seconds += (performance.now() - start) / 1000;
    }
  }
  const rows: Record<string, Record<string, string>> = {};
  for (const { name } of cases) {
    const sorted = latencies.get(name)!.sort((x, y) => x - y);
    const total = throughput.get(name)!;
    rows[name] = {
      "p50 ms": percentile(sorted, 0.5).toFixed(3),
      "p99 ms": percentile(sorted, 0.99).toFixed(3),
      "messages/s": Math.round(total.messages / total.seconds).toString(),
    };
  }
  console.table(rows);
} finally {
  await publisherNode.close();
  await subscriberNode.close();
  await memoryNode.close();
  await redis.stop();
}
