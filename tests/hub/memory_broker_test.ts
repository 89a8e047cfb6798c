import assert from "node:assert/strict";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import type { ReadResult } from "../../lib/hub/broker.ts";
import type { HubError } from "../../lib/hub/hub_error.ts";
import type { Message } from "../../lib/hub/message.ts";

function ok(result: ReadResult | HubError): ReadResult {
  assert.equal(result.type, "messages", JSON.stringify(result));
  return result as ReadResult;
}

Deno.test("MemoryBroker ids grow strictly within a channel in publish order", async () => {
  const broker = new MemoryBroker({ epoch: "k" });
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    ids.push((await broker.publish({ channel: i % 2 ? "a" : "b", data: i })).id);
  }
  const a = ids.filter((_, i) => i % 2);
  for (let i = 1; i < a.length; i++) assert.ok(broker.compareIds(a[i]!, a[i - 1]!) > 0);
  assert.equal(ids[0], "k-1");
  await broker.close();
});

Deno.test("MemoryBroker.read after a cursor returns what follows it and the last id", async () => {
  const broker = new MemoryBroker({ epoch: "k" });
  const first = await broker.publish({ channel: "c", data: 1 });
  await broker.publish({ channel: "c", event: "e", data: 2 });
  const result = ok(await broker.read("c", first.id));
  assert.deepEqual(result.messages.map((m) => m.data), [2]);
  assert.equal(result.messages[0]!.event, "e");
  assert.equal(result.cursor, "k-2");
  assert.equal(result.reset, false);
  const empty = ok(await broker.read("c", "k-2"));
  assert.deepEqual(empty, { type: "messages", messages: [], cursor: "k-2", reset: false });
  await broker.close();
});

Deno.test("MemoryBroker.read without a cursor returns the retained history", async () => {
  const broker = new MemoryBroker({ epoch: "k" });
  assert.deepEqual(ok(await broker.read("c")), {
    type: "messages",
    messages: [],
    cursor: "k-0",
    reset: false,
  });
  await broker.publish({ channel: "c", data: "x" });
  const result = ok(await broker.read("c"));
  assert.equal(result.messages.length, 1);
  assert.equal(result.cursor, "k-1");
  await broker.close();
});

Deno.test("MemoryBroker answers a cursor behind the history with reset and every retained message", async () => {
  const broker = new MemoryBroker({ epoch: "k", history: { maxMessages: 2 } });
  const first = await broker.publish({ channel: "c", data: 1 });
  await broker.publish({ channel: "c", data: 2 });
  const behind = ok(await broker.read("c", first.id));
  assert.equal(behind.reset, false); // nothing after the cursor was dropped yet
  await broker.publish({ channel: "c", data: 3 }); // drops 1 (the cursor itself): still fine
  assert.equal(ok(await broker.read("c", first.id)).reset, false);
  await broker.publish({ channel: "c", data: 4 }); // drops 2: lost for a reader at 1
  const lost = ok(await broker.read("c", first.id));
  assert.equal(lost.reset, true);
  assert.deepEqual(lost.messages.map((m) => m.data), [3, 4]);
  assert.equal(lost.cursor, "k-4");
  await broker.close();
});

Deno.test("MemoryBroker treats a cursor of another incarnation as reset, one never issued as a 400", async () => {
  const old = new MemoryBroker({ epoch: "old" });
  const stale = (await old.publish({ channel: "c", data: "gone" })).id;
  await old.close();
  const broker = new MemoryBroker({ epoch: "new" });
  await broker.publish({ channel: "c", data: "fresh" });
  const foreign = ok(await broker.read("c", stale));
  assert.equal(foreign.reset, true);
  assert.deepEqual(foreign.messages.map((m) => m.data), ["fresh"]);
  const ahead = await broker.read("c", "new-99");
  assert.equal(ahead.type, "error");
  assert.equal((ahead as HubError).code, "HUB_ERR_UNKNOWN_CURSOR");
  assert.equal((ahead as HubError).status, 400);
  // The broker-wide counter is a valid cursor for any channel, even one that is behind it.
  assert.equal(ok(await broker.read("other", "new-1")).reset, false);
  await broker.close();
});

Deno.test("MemoryBroker answers malformed cursors with HUB_ERR_INVALID_CURSOR, never a throw", async () => {
  const broker = new MemoryBroker({ epoch: "k" });
  for (
    const cursor of ["", "x", "k-", "-1", "k-01", "k-1.5", "K-1", "k-99999999999999999", "k-1-2"]
  ) {
    const result = await broker.read("c", cursor);
    assert.equal(result.type, "error", cursor);
    assert.equal((result as HubError).code, "HUB_ERR_INVALID_CURSOR");
    assert.equal((result as HubError).status, 400);
  }
  await broker.close();
});

Deno.test("MemoryBroker prunes by age with an injected clock and frees the empty channel", async () => {
  let now = 1_000_000;
  const broker = new MemoryBroker({ epoch: "k", now: () => now, history: { maxAgeMs: 1000 } });
  const first = await broker.publish({ channel: "c", data: 1 });
  now += 500;
  await broker.publish({ channel: "c", data: 2 });
  now += 600; // first is 1100 ms old
  const result = ok(await broker.read("c", first.id));
  assert.deepEqual(result.messages.map((m) => m.data), [2]);
  assert.equal(result.reset, false);
  now += 1000; // everything aged out
  const lost = ok(await broker.read("c", first.id));
  assert.equal(lost.reset, true);
  assert.deepEqual(lost.messages, []);
  assert.equal(broker.channelCount, 0);
  // The tombstone keeps the drop floor: a reader behind it is still told, a current one is not.
  await broker.publish({ channel: "c", data: 3 });
  assert.equal(ok(await broker.read("c", first.id)).reset, true);
  assert.equal(ok(await broker.read("c", "k-2")).reset, false);
  await broker.close();
});

Deno.test("MemoryBroker sweeps idle channels on later publishes", async () => {
  let now = 0;
  const broker = new MemoryBroker({ epoch: "k", now: () => now, history: { maxAgeMs: 10 } });
  for (let i = 0; i < 10; i++) await broker.publish({ channel: `idle${i}`, data: i });
  assert.equal(broker.channelCount, 10);
  now = 100;
  for (let i = 0; i < 10; i++) await broker.publish({ channel: "busy", data: i });
  assert.equal(broker.channelCount, 1);
  await broker.close();
});

Deno.test("MemoryBroker evicts the oldest tombstone into a conservative global floor", async () => {
  let now = 0;
  const broker = new MemoryBroker({
    epoch: "k",
    now: () => now,
    maxTombstones: 1,
    history: { maxAgeMs: 10 },
  });
  const before = await broker.position("a");
  await broker.publish({ channel: "a", data: 1 });
  await broker.publish({ channel: "b", data: 1 });
  now = 100;
  ok(await broker.read("a")); // frees a (tombstone a)
  ok(await broker.read("b")); // frees b, evicts a's tombstone into the floor
  assert.equal(ok(await broker.read("a", before)).reset, true);
  // Conservative for channels never seen: a reset, never a silent gap.
  assert.equal(ok(await broker.read("never", before)).reset, true);
  // A cursor at the current position is above every floor: no spurious reset.
  assert.equal(ok(await broker.read("zzz", await broker.position("zzz"))).reset, false);
  await broker.close();
});

Deno.test("MemoryBroker calls listeners synchronously within publish, in order, until unsubscribed", async () => {
  const broker = new MemoryBroker({ epoch: "k" });
  const seen: Message[] = [];
  const unsubscribe = await broker.subscribe("c", (message) => seen.push(message));
  await broker.subscribe("c", () => {
    throw new Error("a faulty listener");
  });
  const promise = broker.publish({ channel: "c", data: 1 });
  assert.equal(seen.length, 1); // before the publish promise resolves
  await promise;
  await broker.publish({ channel: "other", data: 2 });
  unsubscribe();
  await broker.publish({ channel: "c", data: 3 });
  assert.deepEqual(seen.map((m) => m.data), [1]);
  await broker.close();
});

Deno.test("MemoryBroker refuses calls after close and a bad epoch", async () => {
  const broker = new MemoryBroker();
  await broker.close();
  await assert.rejects(broker.publish({ channel: "c", data: 1 }), TypeError);
  assert.throws(() => new MemoryBroker({ epoch: "UPPER" }), TypeError);
});
