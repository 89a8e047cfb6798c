import assert from "node:assert/strict";
import { Hub } from "../../lib/hub/hub.ts";
import { createHubHandler } from "../../lib/server/hub_handler.ts";
import { Metrics } from "../../lib/server/metrics.ts";
import { BodyReader, post, startHub, until } from "./_harness.ts";
import { within } from "../_wait.ts";

/** The ids of the messages in the `parent.cb(...)` scripts of `text`, in order. */
function scriptIds(text: string): string[] {
  return [...text.matchAll(/<script>parent\.cb\((.*?)\);<\/script>/g)].map((m) =>
    JSON.parse(m[1]!).id
  );
}

Deno.test("GET /channels/{ch}/iframe streams a padded prelude then one script per message", async () => {
  const t = startHub();
  try {
    const response = await fetch(`${t.base}/channels/c/iframe?callback=app.onMessage`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("Content-Type"), "text/html; charset=utf-8");
    assert.equal(response.headers.get("Cache-Control"), "no-cache, no-transform");
    assert.equal(response.headers.get("X-Accel-Buffering"), "no");
    const reader = new BodyReader(response);
    const prelude = await reader.waitFor((s) => s.includes("-->\n"));
    assert.ok(new TextEncoder().encode(prelude).length >= 4096);
    await until(() => t.hub.stats.subscribers === 1, "the subscriber");
    const published = await post(t.base, "/channels/c?event=e", '{"a":1}', "application/json");
    const id = (await published.json()).id;
    const text = await reader.waitFor((s) => s.includes("</script>"));
    const script = text.slice(text.indexOf("<script>"));
    const call = /^<script>parent\.app\.onMessage\((.*)\);<\/script>\n$/.exec(script);
    assert.ok(call, script);
    assert.deepEqual(JSON.parse(call[1]!), {
      id,
      channel: "c",
      event: "e",
      data: { a: 1 },
      time: JSON.parse(call[1]!).time,
    });
    await reader.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/iframe escapes data so no message can leave its script", async () => {
  const t = startHub();
  try {
    const reader = new BodyReader(await fetch(`${t.base}/channels/c/iframe?callback=cb`));
    await until(() => t.hub.stats.subscribers === 1, "the subscriber");
    const evil = "</script><script>alert(1)</script><!-- \u2028\u2029 & ]]>";
    const response = await post(t.base, "/channels/c", evil, "text/plain");
    await response.body?.cancel();
    const text = await reader.waitFor((s) => s.includes(");</script>"));
    const body = text.slice(text.indexOf("<script>parent.cb("));
    assert.equal(body.split("</script>").length, 2); // only the closing tag of the script itself
    assert.ok(!body.includes("\u2028") && !body.includes("\u2029"));
    assert.ok(!body.includes("<!--") && !body.includes("&"));
    const json = body.slice("<script>parent.cb(".length, body.indexOf(");</script>"));
    assert.equal(JSON.parse(json).data, evil);
    await reader.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/iframe answers 400 for an unsafe callback", async () => {
  const t = startHub();
  try {
    for (
      const callback of ["alert(1)", "a;b", "1abc", "a..b", "a.", "<x>", "a b", "x".repeat(129), ""]
    ) {
      const response = await fetch(
        `${t.base}/channels/c/iframe?callback=${encodeURIComponent(callback)}`,
      );
      assert.equal(response.status, 400, callback);
      assert.equal((await response.json()).code, "HUB_ERR_INVALID_CALLBACK");
    }
    assert.equal(t.hub.stats.subscribers, 0);
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/iframe resumes after ?after= and uses the default callback", async () => {
  const t = startHub();
  try {
    const ids: string[] = [];
    for (const body of ["a", "b"]) {
      ids.push((await (await post(t.base, "/channels/c", body)).json()).id);
    }
    const reader = new BodyReader(await fetch(`${t.base}/channels/c/iframe?after=${ids[0]}`));
    const text = await reader.waitFor((s) => s.includes("</script>"));
    assert.ok(text.includes(`parent.pushwireMessage({"id":"${ids[1]}"`));
    assert.ok(!text.includes(`"id":"${ids[0]}"`));
    await reader.cancel();
    const bad = await fetch(`${t.base}/channels/c/iframe?after=bogus`);
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/iframe releases the subscriber when the client disconnects", async () => {
  const t = startHub({ heartbeatIntervalMs: 20 });
  try {
    const reader = new BodyReader(await fetch(`${t.base}/channels/c/iframe?callback=cb`));
    await reader.waitFor((s) => s.includes("<!-- -->")); // a heartbeat
    assert.equal(t.metrics.connections("iframe"), 1);
    await reader.cancel();
    await until(() => t.hub.stats.subscribers === 0, "the subscriber's removal");
    await until(() => t.metrics.connections("iframe") === 0, "the connection count");
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/iframe ends after iframeMaxBytes so the page can reopen it", async () => {
  const t = startHub({ iframeMaxBytes: 1000 });
  try {
    const reader = new BodyReader(await fetch(`${t.base}/channels/c/iframe?callback=cb`));
    await until(() => t.hub.stats.subscribers === 1, "the subscriber");
    for (let i = 0; i < 5; i++) {
      await (await post(t.base, "/channels/c", "y".repeat(300))).body?.cancel();
    }
    const text = await reader.rest();
    assert.ok(text.split("<script>").length - 1 >= 3);
    await until(() => t.hub.stats.subscribers === 0, "the subscriber's removal");
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/iframe disconnects a client that does not read", async () => {
  const hub = new Hub();
  const metrics = new Metrics(hub);
  const handler = createHubHandler(hub, { metrics, maxQueuedBytes: 1024, heartbeatIntervalMs: 0 });
  const controller = new AbortController();
  const response = await handler(
    new Request("http://hub/channels/c/iframe?callback=cb", { signal: controller.signal }),
  );
  assert.equal(response.status, 200);
  for (let i = 0; i < 60; i++) await hub.publish("c", "x".repeat(200)); // nobody reads the body
  await until(() => hub.stats.subscribers === 0, "the slow subscriber's removal");
  await until(() => metrics.connections("iframe") === 0, "the connection count");
  assert.match(metrics.render(), /pushwire_messages_dropped_total [1-9]/);
  controller.abort();
  await response.body?.cancel().catch(() => {});
  await hub.close();
});

Deno.test("GET /channels/{ch}/iframe writes the messages of one turn as one chunk", async () => {
  const hub = new Hub();
  const handler = createHubHandler(hub, { heartbeatIntervalMs: 0 });
  const controller = new AbortController();
  const response = await handler(
    new Request("http://hub/channels/c/iframe?callback=cb", { signal: controller.signal }),
  );
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const prelude = decoder.decode((await within(reader.read(), "the prelude")).value);
  assert.ok(prelude.endsWith("-->\n"));
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await hub.publish("c", `m${i}`)).id); // one turn
  const chunk = decoder.decode((await within(reader.read(), "the burst")).value);
  const scripts = chunk.split("</script>\n").slice(0, -1);
  assert.equal(scripts.length, 5, chunk);
  assert.deepEqual(
    scripts.map((s) => JSON.parse(s.slice("<script>parent.cb(".length, -2)).id),
    ids,
  );
  await reader.cancel();
  controller.abort();
  await hub.close();
});

Deno.test("GET /channels/{ch}/iframe delivers a burst larger than the hub's queue, in order, once each", async () => {
  const t = startHub({}, { subscriberQueue: { maxMessages: 10 } });
  try {
    const reader = new BodyReader(await fetch(`${t.base}/channels/c/iframe?callback=cb`));
    await until(() => t.hub.stats.subscribers === 1, "the subscriber");
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await t.hub.publish("c", `m${i}`)).id); // one turn
    const text = await reader.waitFor((s) => s.includes(`"id":"${ids[49]}"`));
    assert.deepEqual(scriptIds(text), ids);
    assert.equal(t.hub.stats.slowConsumers, 0);
    assert.match(t.metrics.render(), /pushwire_messages_delivered_total 50\b/);
    await reader.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/iframe cut at iframeMaxBytes inside a burst loses nothing on reopening", async () => {
  const t = startHub({ iframeMaxBytes: 1000 });
  try {
    const reader = new BodyReader(await fetch(`${t.base}/channels/c/iframe?callback=cb`));
    await until(() => t.hub.stats.subscribers === 1, "the subscriber");
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await t.hub.publish("c", "y".repeat(300))).id); // one turn
    // Each script is about 380 bytes: the third reaches 1000, the other three stay unsent.
    const first = scriptIds(await reader.rest());
    assert.deepEqual(first, ids.slice(0, 3));
    // The page reopens after the last id it got and gets the rest of the burst.
    const again = new BodyReader(
      await fetch(`${t.base}/channels/c/iframe?callback=cb&after=${first.at(-1)}`),
    );
    const text = await again.waitFor((s) => s.includes(`"id":"${ids[5]}"`));
    assert.deepEqual(scriptIds(text), ids.slice(3));
    await again.cancel();
  } finally {
    await t.close();
  }
});
