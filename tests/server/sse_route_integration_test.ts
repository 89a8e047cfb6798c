import assert from "node:assert/strict";
import { Hub } from "../../lib/hub/hub.ts";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import { createHubHandler } from "../../lib/server/hub_handler.ts";
import { Metrics } from "../../lib/server/metrics.ts";
import { BodyReader, post, startHub, until } from "./_harness.ts";

async function publish(base: string, path: string, body: string, type = "text/plain") {
  const response = await post(base, path, body, type);
  assert.equal(response.status, 201);
  return (await response.json()).id as string;
}

Deno.test("GET /channels/{ch}/events streams messages as SSE with anti-buffering headers", async () => {
  const t = startHub();
  try {
    const response = await fetch(`${t.base}/channels/news/events`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("Content-Type"), "text/event-stream; charset=utf-8");
    assert.equal(response.headers.get("Cache-Control"), "no-cache, no-transform");
    assert.equal(response.headers.get("X-Accel-Buffering"), "no");
    assert.equal(response.headers.get("Access-Control-Allow-Origin"), "*");
    const reader = new BodyReader(response);
    await until(() => t.hub.stats.subscribers === 1, "the subscriber");
    const a = await publish(t.base, "/channels/news", "line1\nline2");
    const b = await publish(t.base, "/channels/news?event=update", '{"x":1}', "application/json");
    const text = await reader.waitFor((s) => s.includes(b));
    assert.ok(text.startsWith("retry: 3000\n\n"));
    assert.ok(text.includes(`id: ${a}\ndata: line1\ndata: line2\n\n`));
    assert.ok(text.includes(`id: ${b}\nevent: update\ndata: {"x":1}\n\n`));
    await reader.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/events resumes after Last-Event-ID or ?lastEventId=", async () => {
  const t = startHub();
  try {
    const a = await publish(t.base, "/channels/c", "a");
    const b = await publish(t.base, "/channels/c", "b");
    for (
      const init of [
        [`${t.base}/channels/c/events`, { headers: { "Last-Event-ID": a } }],
        [`${t.base}/channels/c/events?lastEventId=${a}`, {}],
      ] as const
    ) {
      const reader = new BodyReader(await fetch(init[0], init[1]));
      const text = await reader.waitFor((s) => s.includes(`id: ${b}`));
      assert.ok(!text.includes("data: a\n"));
      assert.ok(!text.includes("event: reset"));
      await reader.cancel();
    }
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/events sends event: reset before the retained messages", async () => {
  const t = startHub({}, { broker: new MemoryBroker({ history: { maxMessages: 1 } }) });
  try {
    const a = await publish(t.base, "/channels/c", "a");
    await publish(t.base, "/channels/c", "b");
    const c = await publish(t.base, "/channels/c", "c");
    const reader = new BodyReader(
      await fetch(`${t.base}/channels/c/events`, { headers: { "Last-Event-ID": a } }),
    );
    const text = await reader.waitFor((s) => s.includes(`id: ${c}`));
    assert.ok(text.includes(`event: reset\ndata: {"cursor":"${c}"}\n\nid: ${c}\ndata: c\n\n`));
    await reader.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/events gives a reset with nothing retained after it the cursor as its id", async () => {
  const t = startHub({}, { broker: new MemoryBroker({ history: { maxAgeMs: 1 } }) });
  try {
    const a = await publish(t.base, "/channels/c", "a");
    const b = await publish(t.base, "/channels/c", "b");
    await new Promise((resolve) => setTimeout(resolve, 20)); // both expire
    const reader = new BodyReader(
      await fetch(`${t.base}/channels/c/events`, { headers: { "Last-Event-ID": a } }),
    );
    const text = await reader.waitFor((s) => s.includes("event: reset"));
    // An EventSource takes the id as its last event id: reconnecting resumes after the loss.
    assert.ok(text.includes(`id: ${b}\nevent: reset\ndata: {"cursor":"${b}"}\n\n`), text);
    await reader.cancel();
    const again = new BodyReader(
      await fetch(`${t.base}/channels/c/events`, { headers: { "Last-Event-ID": b } }),
    );
    const c = await publish(t.base, "/channels/c", "c");
    const resumed = await again.waitFor((s) => s.includes(`id: ${c}`));
    assert.ok(!resumed.includes("event: reset"), resumed);
    await again.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/events answers 400 for a malformed Last-Event-ID", async () => {
  const t = startHub();
  try {
    const response = await fetch(`${t.base}/channels/c/events`, {
      headers: { "Last-Event-ID": "not-an-id" },
    });
    assert.equal(response.status, 400);
    assert.equal((await response.json()).code, "HUB_ERR_INVALID_CURSOR");
    assert.equal(t.hub.stats.subscribers, 0);
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/events sends comment heartbeats", async () => {
  const t = startHub({ heartbeatIntervalMs: 20 });
  try {
    const reader = new BodyReader(await fetch(`${t.base}/channels/c/events`));
    const text = await reader.waitFor((s) => /(^|\n):[^\n]*\n\n/.test(s));
    assert.ok(!text.includes("data:"));
    await reader.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/events releases the subscriber when the client disconnects", async () => {
  const t = startHub();
  try {
    const readers = await Promise.all(
      [1, 2, 3].map(async () => new BodyReader(await fetch(`${t.base}/channels/c/events`))),
    );
    await until(() => t.metrics.connections("sse") === 3, "three SSE connections");
    assert.equal(t.hub.stats.subscribers, 3);
    await publish(t.base, "/channels/c", "x");
    await readers[0]!.waitFor((s) => s.includes("data: x"));
    await readers[0]!.cancel();
    await until(() => t.hub.stats.subscribers === 2, "one subscriber released");
    await until(() => t.metrics.connections("sse") === 2, "one connection closed");
    await readers[1]!.cancel();
    await readers[2]!.cancel();
    await until(() => t.hub.stats.subscribers === 0, "all subscribers released");
    await until(() => t.metrics.connections("sse") === 0, "all connections closed");
    assert.equal(t.hub.stats.channels, 0);
    const metrics = await (await fetch(`${t.base}/metrics`)).text();
    assert.match(metrics, /pushwire_messages_delivered_total 3/);
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/events disconnects a client that does not read", async () => {
  const hub = new Hub();
  const metrics = new Metrics(hub);
  const handler = createHubHandler(hub, { metrics, maxQueuedBytes: 1024, heartbeatIntervalMs: 0 });
  const controller = new AbortController();
  const response = await handler(
    new Request("http://hub/channels/c/events", { signal: controller.signal }),
  );
  assert.equal(response.status, 200);
  assert.equal(hub.stats.subscribers, 1);
  for (let i = 0; i < 20; i++) await hub.publish("c", "x".repeat(200)); // nobody reads the body
  await until(() => hub.stats.subscribers === 0, "the slow subscriber's removal");
  await until(() => metrics.connections("sse") === 0, "the connection count");
  assert.match(metrics.render(), /pushwire_messages_dropped_total [1-9]/);
  controller.abort();
  await response.body?.cancel().catch(() => {});
  await hub.close();
});

Deno.test("GET /channels/{ch}/events delivers a burst larger than the hub's queue, in order, once each", async () => {
  const t = startHub({}, { subscriberQueue: { maxMessages: 10 } });
  try {
    const reader = new BodyReader(await fetch(`${t.base}/channels/c/events`));
    await until(() => t.hub.stats.subscribers === 1, "the subscriber");
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await t.hub.publish("c", `m${i}`)).id); // one turn
    const text = await reader.waitFor((s) => s.includes(`id: ${ids[49]}\n`));
    const seen = [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(seen, ids);
    assert.equal(t.hub.stats.slowConsumers, 0);
    assert.match(t.metrics.render(), /pushwire_messages_delivered_total 50\b/);
    await reader.cancel();
  } finally {
    await t.close();
  }
});
