import assert from "node:assert/strict";
import {
  type ClientOptions,
  type ClientStatus,
  PushwireClient,
} from "../../lib/client/pushwire_client.ts";
import type { PushwireMessage } from "../../lib/client/transport.ts";
import type { TransportMemory } from "../../lib/client/transport_selector.ts";
import { FakeEnvironment, lcg, settle } from "./_fake_env.ts";

function memory(): TransportMemory {
  const store = new Map<string, string>();
  return { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) };
}

function client(env: FakeEnvironment, options: ClientOptions = {}): PushwireClient {
  return new PushwireClient("http://hub.test/", { memory: null, ...options }, env);
}

function message(channel: string, n: number): PushwireMessage {
  return { id: `e-${n}`, channel, data: n, time: n };
}

Deno.test("PushwireClient falls back when a transport fails and the hub answers, and remembers what worked", async () => {
  const env = new FakeEnvironment();
  env.behaviour.set("websocket", "fail");
  const shared = memory();
  const first = client(env, { memory: shared });
  first.subscribe("news", { onMessage() {} });
  await settle();
  assert.deepEqual(env.created.map((t) => t.name), ["websocket", "sse"]);
  assert.equal(first.state, "open");
  assert.equal(first.transport, "sse");
  assert.equal(env.created[0]!.closed, true);
  first.close();
  // The next client (next page load) starts with what worked.
  const second = client(env, { memory: shared });
  second.subscribe("news", { onMessage() {} });
  await settle();
  assert.deepEqual(env.created.map((t) => t.name), ["websocket", "sse", "sse"]);
  second.close();
});

Deno.test("PushwireClient falls back when a transport does not connect within connectTimeoutMs", async () => {
  const env = new FakeEnvironment();
  env.behaviour.set("websocket", "hang");
  const c = client(env, { connectTimeoutMs: 3000 });
  c.subscribe("news", { onMessage() {} });
  await env.advance(2999);
  assert.equal(c.transport, "websocket");
  assert.equal(c.state, "connecting");
  await env.advance(1);
  assert.equal(c.transport, "sse");
  assert.equal(c.state, "open");
  c.close();
});

Deno.test("PushwireClient does not fall back while the hub is unreachable", async () => {
  const env = new FakeEnvironment();
  env.behaviour.set("websocket", "fail");
  env.reachable = false;
  const statuses: ClientStatus[] = [];
  const c = client(env, { onStatus: (s) => statuses.push(s) });
  c.subscribe("news", { onMessage() {} });
  await settle();
  // The failure was the hub, not the transport: wait, then try websocket again.
  assert.deepEqual(env.created.map((t) => t.name), ["websocket"]);
  assert.equal(c.state, "reconnecting");
  assert.equal(statuses.at(-1)!.retryInMs, 500); // random 0.5 * base 1000
  env.reachable = true;
  env.behaviour.set("websocket", "open");
  await env.advance(500);
  assert.deepEqual(env.created.map((t) => t.name), ["websocket", "websocket"]);
  assert.equal(c.state, "open");
  c.close();
});

Deno.test("PushwireClient resumes every channel from its last id after a drop, once and in order", async () => {
  const env = new FakeEnvironment();
  const c = client(env, { transports: ["sse"] });
  const got: string[] = [];
  c.subscribe("a", { onMessage: (m) => got.push(`${m.channel}:${m.data}`), after: "e-0" });
  c.subscribe("b", { onMessage: (m) => got.push(`${m.channel}:${m.data}`), after: "e-0" });
  await settle();
  const first = env.last;
  assert.deepEqual([...first.channels], ["a", "b"]); // one transport carries both
  first.host.message("a", message("a", 1));
  first.host.message("b", message("b", 2));
  first.host.message("a", message("a", 3));
  first.host.failed("stream ended");
  first.host.message("a", message("a", 4)); // a dropped transport is ignored
  assert.equal(c.state, "reconnecting");
  await env.advance(1000);
  const second = env.last;
  assert.notEqual(second, first);
  assert.deepEqual(Object.fromEntries(second.addedAt), { a: "e-3", b: "e-2" });
  // The hub replays from the cursor; an overlap (e-3 again) is dropped.
  second.host.message("a", message("a", 3));
  second.host.message("a", message("a", 4));
  second.host.message("b", message("b", 5));
  assert.deepEqual(got, ["a:1", "b:2", "a:3", "a:4", "b:5"]);
  c.close();
});

Deno.test("PushwireClient backs off exponentially with full jitter while the hub stays down", async () => {
  const env = new FakeEnvironment();
  env.randomValue = () => 0.999;
  const statuses: ClientStatus[] = [];
  const c = client(env, {
    transports: ["sse"],
    backoff: { baseMs: 100, capMs: 1000 },
    onStatus: (s) => statuses.push(s),
  });
  c.subscribe("news", { onMessage() {}, after: "e-1" });
  await settle();
  env.behaviour.set("sse", "fail");
  env.reachable = false;
  env.last.host.failed("server went away");
  await env.advance(5000);
  const delays = statuses.filter((s) => s.state === "reconnecting").map((s) =>
    Math.round(s.retryInMs!)
  );
  assert.deepEqual(delays.slice(0, 6), [100, 200, 400, 799, 999, 999]);
  // A connection dropped as soon as it opened (an overloaded hub) keeps the backoff growing.
  env.reachable = true;
  env.behaviour.set("sse", "open");
  await env.advance(1000);
  assert.equal(c.state, "open");
  env.last.host.failed("dropped at once");
  assert.equal(Math.round(statuses.at(-1)!.retryInMs!), 999);
  // One that lasted connectTimeoutMs starts the backoff over.
  await env.advance(1000);
  assert.equal(c.state, "open");
  await env.advance(5000);
  env.last.host.failed("dropped after a while");
  assert.equal(Math.round(statuses.at(-1)!.retryInMs!), 100);
  c.close();
});

Deno.test("PushwireClient retries at once when the browser comes back online", async () => {
  const env = new FakeEnvironment();
  const c = client(env, { transports: ["sse"], backoff: { baseMs: 60_000, capMs: 60_000 } });
  c.subscribe("news", { onMessage() {}, after: "e-1" });
  await settle();
  env.network(false);
  assert.equal(c.state, "reconnecting");
  const made = env.created.length;
  env.network(true);
  await settle();
  assert.equal(env.created.length, made + 1);
  assert.equal(c.state, "open");
  c.close();
});

Deno.test("PushwireClient going offline before a connection opened keeps the backoff growing", async () => {
  const env = new FakeEnvironment();
  env.time = 60_000; // far past connectTimeoutMs since the clock's zero
  env.randomValue = () => 0.999;
  env.behaviour.set("sse", "fail");
  env.reachable = false;
  const statuses: ClientStatus[] = [];
  const c = client(env, {
    transports: ["sse"],
    backoff: { baseMs: 100, capMs: 10_000 },
    onStatus: (s) => statuses.push(s),
  });
  c.subscribe("news", { onMessage() {}, after: "e-1" });
  await env.advance(350); // fails at once, after 100 and after 300 ms
  env.behaviour.set("sse", "hang");
  env.reachable = true;
  await env.advance(400); // the fourth attempt hangs, never open
  assert.equal(c.state, "connecting");
  env.network(false);
  const delays = statuses.filter((s) => s.state === "reconnecting").map((s) =>
    Math.round(s.retryInMs!)
  );
  assert.deepEqual(delays, [100, 200, 400, 799]);
  assert.equal(env.probes, 3); // offline is not the transport's fault: no probe, no fallback
  env.network(true);
  await settle();
  assert.equal(c.state, "connecting");
  assert.equal(env.last.name, "sse");
  c.close();
});

Deno.test("PushwireClient surfaces a reset to onReset and keeps delivering", async () => {
  const env = new FakeEnvironment();
  const c = client(env, { transports: ["longpoll"] });
  const events: string[] = [];
  c.subscribe("news", {
    after: "e-1",
    onMessage: (m) => events.push(`message ${m.id}`),
    onReset: (r) => events.push(`reset ${r.channel} ${r.cursor}`),
  });
  await settle();
  env.last.host.reset("news", "e-50");
  env.last.host.message("news", message("news", 51));
  assert.deepEqual(events, ["reset news e-50", "message e-51"]);
  c.close();
});

Deno.test("PushwireClient reports a reset once across a reconnect and skips no retained message", async () => {
  const env = new FakeEnvironment();
  const c = client(env, { transports: ["sse"] });
  const events: string[] = [];
  const sub = c.subscribe("news", {
    after: "e-1",
    onMessage: (m) => events.push(`message ${m.id}`),
    onReset: (r) => events.push(`reset ${r.cursor}`),
  });
  await settle();
  env.last.host.reset("news", "e-50"); // e-48..e-50 retained, still on their way
  env.last.host.failed("stream cut before the retained messages");
  assert.equal(sub.lastId, "e-1");
  await env.advance(1000);
  // Resumed where it stood, not at the reset's cursor: e-48..e-50 are asked for again.
  assert.equal(env.last.addedAt.get("news"), "e-1");
  env.last.host.reset("news", "e-50"); // the same loss, heard again
  for (const n of [48, 49, 50]) env.last.host.message("news", message("news", n));
  assert.deepEqual(events, ["reset e-50", "message e-48", "message e-49", "message e-50"]);
  // Once a message was delivered, a reset is a new loss.
  env.last.host.failed("dropped again");
  await env.advance(1000);
  assert.equal(env.last.addedAt.get("news"), "e-50");
  env.last.host.reset("news", "e-80");
  assert.deepEqual(events.slice(4), ["reset e-80"]);
  c.close();
});

Deno.test("PushwireClient reports one reset per gap even when the hub moved on meanwhile", async () => {
  const env = new FakeEnvironment();
  const c = client(env, { transports: ["websocket"] });
  const events: string[] = [];
  c.subscribe("news", {
    after: "e-1",
    onMessage: (m) => events.push(`message ${m.id}`),
    onReset: (r) => events.push(`reset ${r.cursor}`),
  });
  await settle();
  env.last.host.reset("news", "e-50");
  env.last.host.failed("socket closed");
  await env.advance(1000);
  // More was published (and maybe dropped) while down: still the gap after e-1, told once.
  env.last.host.reset("news", "e-52");
  env.last.host.message("news", message("news", 51));
  env.last.host.message("news", message("news", 52));
  assert.deepEqual(events, ["reset e-50", "message e-51", "message e-52"]);
  c.close();
});

Deno.test("PushwireClient closes a refused subscription and reports it", async () => {
  const env = new FakeEnvironment();
  const c = client(env, { transports: ["sse"] });
  const errors: unknown[] = [];
  const sub = c.subscribe("secret", {
    onMessage() {},
    onError: (e) => errors.push(e),
  });
  await settle();
  env.last.host.refused("secret", { status: 403, code: "HUB_ERR_FORBIDDEN", message: "no" });
  assert.equal(sub.closed, true);
  assert.deepEqual(errors, [{
    channel: "secret",
    status: 403,
    code: "HUB_ERR_FORBIDDEN",
    message: "no",
  }]);
  assert.equal(c.state, "idle");
  assert.equal(env.last.closed, true);
  c.close();
});

Deno.test("PushwireClient shares a channel between subscriptions and lets go with the last", async () => {
  const env = new FakeEnvironment();
  const c = client(env, { transports: ["sse"] });
  const a: unknown[] = [];
  const b: unknown[] = [];
  const subA = c.subscribe("news", { onMessage: (m) => a.push(m.data), after: "e-0" });
  const subB = c.subscribe("news", { onMessage: (m) => b.push(m.data) });
  await settle();
  env.last.host.message("news", message("news", 1));
  subA.close();
  env.last.host.message("news", message("news", 2));
  assert.deepEqual([a, b], [[1], [1, 2]]);
  assert.equal(subB.lastId, "e-2");
  subB.close();
  assert.equal(c.state, "idle");
  assert.equal(env.pending, 0, "a timer is left");
  c.close();
  assert.equal(c.state, "closed");
  assert.throws(() => c.subscribe("news", { onMessage() {} }), TypeError);
});

Deno.test("PushwireClient rejects misuse with TypeError and RangeError", () => {
  const env = new FakeEnvironment();
  const c = client(env);
  assert.throws(() => c.subscribe("bad name", { onMessage() {} }), TypeError);
  // @ts-expect-error: onMessage is required
  assert.throws(() => c.subscribe("news", {}), TypeError);
  assert.throws(() => client(env, { connectTimeoutMs: -1 }), RangeError);
  assert.throws(() => client(env, { longPollTimeoutS: 61 }), RangeError);
  assert.throws(() => new PushwireClient("ftp://hub.test", {}, env), TypeError);
  c.close();
});

Deno.test("PushwireClient spreads the reconnections of 1,000 clients dropped together", async () => {
  const env = new FakeEnvironment();
  env.randomValue = lcg(7);
  const clients: PushwireClient[] = [];
  const reopenedAt: number[] = [];
  for (let i = 0; i < 1000; i++) {
    let dropped = false;
    const c = client(env, {
      transports: ["sse"],
      onStatus: (s) => {
        if (s.state === "reconnecting") dropped = true;
        if (s.state === "open" && dropped) reopenedAt.push(env.time);
      },
    });
    c.subscribe("news", { onMessage() {}, after: "e-1" });
    clients.push(c);
  }
  await settle();
  // The server restarts: every connection drops at t=0.
  for (const transport of [...env.created]) transport.host.failed("server restarted");
  await env.advance(1000);
  assert.equal(reopenedAt.length, 1000);
  const buckets = new Array(10).fill(0);
  for (const at of reopenedAt) buckets[Math.floor(at / 100)]++;
  // No instant takes more than its fair share: each 100 ms gets about 100 clients.
  for (const count of buckets) assert.ok(count > 60 && count < 140, String(buckets));
  for (const c of clients) c.close();
});
