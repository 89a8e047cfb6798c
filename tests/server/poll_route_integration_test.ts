import assert from "node:assert/strict";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import { post, startHub, until } from "./_harness.ts";

async function publish(base: string, channel: string, body: string): Promise<string> {
  const response = await post(base, `/channels/${channel}`, body);
  assert.equal(response.status, 201);
  return (await response.json()).id;
}

Deno.test("GET /channels/{ch} short-polls the history, then what follows a cursor", async () => {
  const t = startHub();
  try {
    const empty = await fetch(`${t.base}/channels/c`);
    assert.equal(empty.status, 200);
    assert.match(empty.headers.get("Content-Type")!, /^application\/json/);
    const first = await empty.json();
    assert.deepEqual(first.messages, []);
    assert.equal(typeof first.cursor, "string");
    assert.equal("reset" in first, false);
    const a = await publish(t.base, "c", "a");
    const b = await publish(t.base, "c", "b");
    const all = await (await fetch(`${t.base}/channels/c?after=${first.cursor}`)).json();
    assert.deepEqual(all.messages.map((m: { data: string }) => m.data), ["a", "b"]);
    assert.equal(all.cursor, b);
    const rest = await (await fetch(`${t.base}/channels/c?after=${a}`)).json();
    assert.deepEqual(rest.messages.map((m: { id: string }) => m.id), [b]);
    const none = await (await fetch(`${t.base}/channels/c?after=${b}`)).json();
    assert.deepEqual(none, { messages: [], cursor: b });
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch} says reset: true when messages after the cursor were dropped", async () => {
  const t = startHub({}, { broker: new MemoryBroker({ history: { maxMessages: 2 } }) });
  try {
    const start = (await (await fetch(`${t.base}/channels/c`)).json()).cursor;
    for (const body of ["1", "2", "3"]) await publish(t.base, "c", body);
    const result = await (await fetch(`${t.base}/channels/c?after=${start}`)).json();
    assert.equal(result.reset, true);
    assert.deepEqual(result.messages.map((m: { data: string }) => m.data), ["2", "3"]);
    // A cursor from a previous server incarnation is a reset too, never silent loss.
    const foreign = await (await fetch(`${t.base}/channels/c?after=zzzz-1`)).json();
    assert.equal(foreign.reset, true);
  } finally {
    await t.close();
  }
});

Deno.test("Poll routes answer 400 for a malformed cursor", async () => {
  const t = startHub();
  try {
    for (
      const path of [
        "/channels/c?after=%00",
        "/channels/c?after=abc",
        "/channels/c/longpoll?after=1.5",
      ]
    ) {
      const response = await fetch(`${t.base}${path}`);
      assert.equal(response.status, 400, path);
      assert.equal((await response.json()).code, "HUB_ERR_INVALID_CURSOR");
    }
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/longpoll is released by a publish", async () => {
  const t = startHub();
  try {
    const cursor = (await (await fetch(`${t.base}/channels/c`)).json()).cursor;
    const waiting = fetch(`${t.base}/channels/c/longpoll?after=${cursor}&timeout=30`);
    await until(() => t.hub.stats.waiters === 1, "the waiter");
    assert.equal(t.metrics.connections("longpoll"), 1);
    const id = await publish(t.base, "c", "wake");
    const result = await (await waiting).json();
    assert.deepEqual(result.messages.map((m: { data: string }) => m.data), ["wake"]);
    assert.equal(result.cursor, id);
    assert.equal(t.metrics.connections("longpoll"), 0);
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/longpoll without after waits for the next message", async () => {
  const t = startHub();
  try {
    await publish(t.base, "c", "old");
    const waiting = fetch(`${t.base}/channels/c/longpoll`);
    await until(() => t.hub.stats.waiters === 1, "the waiter");
    await publish(t.base, "c", "new");
    const result = await (await waiting).json();
    assert.deepEqual(result.messages.map((m: { data: string }) => m.data), ["new"]);
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/longpoll answers at once when messages exist after the cursor", async () => {
  const t = startHub();
  try {
    const cursor = (await (await fetch(`${t.base}/channels/c`)).json()).cursor;
    await publish(t.base, "c", "1");
    await publish(t.base, "c", "2");
    const result = await (await fetch(`${t.base}/channels/c/longpoll?after=${cursor}`)).json();
    assert.equal(result.messages.length, 2);
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/longpoll times out with messages: []", async () => {
  const t = startHub();
  try {
    const response = await fetch(`${t.base}/channels/c/longpoll?timeout=0.05`);
    assert.equal(response.status, 200);
    const result = await response.json();
    assert.deepEqual(result.messages, []);
    assert.equal(typeof result.cursor, "string");
    assert.equal(t.hub.stats.waiters, 0);
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/longpoll answers 400 for an invalid timeout", async () => {
  const t = startHub();
  try {
    for (const timeout of ["abc", "-1", "", "1e3", "Infinity", "60.5.1"]) {
      const response = await fetch(`${t.base}/channels/c/longpoll?timeout=${timeout}`);
      assert.equal(response.status, 400, timeout);
      assert.equal((await response.json()).code, "HUB_ERR_INVALID_TIMEOUT");
    }
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/longpoll waits the default without timeout, at most the maximum", async () => {
  // The maximum is far from the default, so a loaded machine's latency cannot blur the two.
  const t = startHub({ longPollTimeoutMs: 150, longPollMaxTimeoutMs: 3_000 });
  try {
    const waited = async (query: string) => {
      const started = Date.now();
      const response = await fetch(`${t.base}/channels/c/longpoll${query}`);
      assert.equal(response.status, 200, query);
      assert.deepEqual((await response.json()).messages, [], query);
      return Date.now() - started;
    };
    const byDefault = await waited("");
    assert.ok(byDefault >= 100 && byDefault < 2_500, `default: answered after ${byDefault} ms`);
    // 61 s asked for: answered at the 3 s maximum, neither at once nor after 61 s.
    const cut = await waited("?timeout=61");
    assert.ok(cut >= 2_950 && cut < 30_000, `timeout=61: answered after ${cut} ms`);
  } finally {
    await t.close();
  }
});

Deno.test("GET /channels/{ch}/longpoll drops the waiter when the client disconnects", async () => {
  const t = startHub();
  try {
    const controller = new AbortController();
    const waiting = fetch(`${t.base}/channels/c/longpoll?timeout=60`, {
      signal: controller.signal,
    });
    await until(() => t.hub.stats.waiters === 1, "the waiter");
    controller.abort();
    await assert.rejects(waiting);
    await until(() => t.hub.stats.waiters === 0, "the waiter's removal");
    await until(() => t.metrics.connections("longpoll") === 0, "the connection count");
    assert.equal(t.hub.stats.channels, 0);
  } finally {
    await t.close();
  }
});
