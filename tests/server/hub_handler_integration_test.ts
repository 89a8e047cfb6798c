import assert from "node:assert/strict";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import { post, startHub } from "./_harness.ts";
import { Hub } from "../../lib/hub/hub.ts";
import { createHubHandler } from "../../lib/server/hub_handler.ts";

Deno.test("GET /healthz answers 200 ok", async () => {
  const t = startHub();
  try {
    const response = await fetch(`${t.base}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "ok");
  } finally {
    await t.close();
  }
});

Deno.test("GET /metrics exposes Prometheus text with HELP and TYPE lines", async () => {
  const t = startHub();
  try {
    await (await post(t.base, "/channels/c", "x")).body?.cancel();
    await (await fetch(`${t.base}/channels/c`)).body?.cancel();
    const response = await fetch(`${t.base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("Content-Type")!, /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    for (
      const [name, type] of [
        ["pushwire_connections", "gauge"],
        ["pushwire_messages_published_total", "counter"],
        ["pushwire_messages_delivered_total", "counter"],
        ["pushwire_messages_dropped_total", "counter"],
      ]
    ) {
      assert.match(text, new RegExp(`^# HELP ${name} .+$`, "m"));
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, "m"));
    }
    assert.match(text, /^pushwire_connections\{transport="sse"\} 0$/m);
    assert.match(text, /^pushwire_messages_published_total 1$/m);
    assert.match(text, /^pushwire_messages_delivered_total 1$/m);
    // Every sample line is "name{labels} value" or "name value".
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      assert.match(line, /^[a-z_]+(\{[a-z_]+="[^"]*"\})? [0-9]+$/);
    }
  } finally {
    await t.close();
  }
});

Deno.test("OPTIONS answers a CORS preflight allowing Content-Type, Authorization and Last-Event-ID", async () => {
  const t = startHub();
  try {
    const response = await fetch(`${t.base}/channels/c/events`, {
      method: "OPTIONS",
      headers: {
        Origin: "http://app.test",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "last-event-id",
      },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get("Access-Control-Allow-Origin"), "*");
    const allowed = response.headers.get("Access-Control-Allow-Headers")!;
    for (const name of ["Content-Type", "Authorization", "Last-Event-ID"]) {
      assert.ok(allowed.includes(name), name);
    }
    assert.match(response.headers.get("Access-Control-Allow-Methods")!, /POST/);
    await response.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("CORS with allowed origins echoes a listed origin with credentials and ignores others", async () => {
  const t = startHub({ allowOrigins: ["http://app.test"] });
  try {
    const allowed = await fetch(`${t.base}/channels/c`, { headers: { Origin: "http://app.test" } });
    assert.equal(allowed.headers.get("Access-Control-Allow-Origin"), "http://app.test");
    assert.equal(allowed.headers.get("Access-Control-Allow-Credentials"), "true");
    assert.match(allowed.headers.get("Vary")!, /Origin/);
    await allowed.body?.cancel();
    const other = await post(t.base, "/channels/c", "x", "text/plain", {
      Origin: "http://evil.test",
    });
    assert.equal(other.headers.get("Access-Control-Allow-Origin"), null);
    await other.body?.cancel();
    const preflight = await fetch(`${t.base}/channels/c`, {
      method: "OPTIONS",
      headers: { Origin: "http://evil.test" },
    });
    assert.equal(preflight.headers.get("Access-Control-Allow-Origin"), null);
    await preflight.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("Unknown paths and channel subroutes answer 404 JSON", async () => {
  const t = startHub();
  try {
    for (const path of ["/nope", "/channels", "/channels/c/nope", "/channels/c/events/x"]) {
      const response = await fetch(`${t.base}${path}`);
      assert.equal(response.status, 404, path);
      assert.equal((await response.json()).code, "HUB_ERR_NOT_FOUND");
    }
  } finally {
    await t.close();
  }
});

Deno.test("routes, channelRoutes and fallback mount other modules' handlers", async () => {
  const t = startHub({
    routes: { "/": () => new Response("demo"), "/pushwire.js": () => new Response("client") },
    channelRoutes: {
      ws: (_request, context) =>
        new Response(`ws ${context.channel} ${context.hub.stats.subscribers}`),
    },
    fallback: (request) =>
      new Response(`fallback ${new URL(request.url).pathname}`, { status: 418 }),
  });
  try {
    assert.equal(await (await fetch(`${t.base}/`)).text(), "demo");
    assert.equal(await (await fetch(`${t.base}/pushwire.js`)).text(), "client");
    assert.equal(await (await fetch(`${t.base}/channels/room/ws`)).text(), "ws room 0");
    const bad = await fetch(`${t.base}/channels/a%2Fb/ws`);
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    const other = await fetch(`${t.base}/elsewhere`);
    assert.equal(other.status, 418);
    assert.equal(await other.text(), "fallback /elsewhere");
  } finally {
    await t.close();
  }
});

Deno.test("A failing broker answers 503 with Retry-After, not a crash", async () => {
  const broker = new MemoryBroker();
  broker.publish = () => Promise.reject(new Error("connection refused"));
  broker.read = () => Promise.reject(new Error("connection refused"));
  const t = startHub({}, { broker });
  try {
    const published = await post(t.base, "/channels/c", "x");
    assert.equal(published.status, 503);
    assert.equal(published.headers.get("Retry-After"), "1");
    assert.equal((await published.json()).code, "HUB_ERR_BROKER_UNAVAILABLE");
    const polled = await fetch(`${t.base}/channels/c?after=${await broker.position("c")}`);
    assert.equal(polled.status, 503);
    await polled.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("createHubHandler adds its CORS headers to what a mounted fallback answers", async () => {
  const hub = new Hub();
  try {
    const handler = createHubHandler(hub, {
      fallback: () => Promise.resolve(new Response("mine", { status: 404 })),
    });
    const response = await handler(
      new Request("http://hub/relay/x", { headers: { Origin: "http://a.test" } }),
    );
    assert.equal(response.status, 404);
    assert.equal(await response.text(), "mine");
    assert.equal(response.headers.get("Access-Control-Allow-Origin"), "*");
  } finally {
    await hub.close();
  }
});
