import assert from "node:assert/strict";
import { ChannelHistory, type HistoryEntry } from "../../lib/hub/channel_history.ts";

function entry(seq: number, time = 0, bytes = 10): HistoryEntry {
  return { seq, bytes, message: { id: `e-${seq}`, channel: "c", data: seq, time } };
}

Deno.test("ChannelHistory keeps at most maxMessages and records the drop floor", () => {
  const history = new ChannelHistory({ maxMessages: 3 });
  for (let seq = 1; seq <= 5; seq++) history.append(entry(seq));
  assert.equal(history.length, 3);
  assert.equal(history.floor, 2);
  assert.deepEqual(history.all().map((m) => m.id), ["e-3", "e-4", "e-5"]);
});

Deno.test("ChannelHistory keeps at most maxBytes but always the newest message", () => {
  const history = new ChannelHistory({ maxBytes: 25 });
  history.append(entry(1, 0, 10));
  history.append(entry(2, 0, 10));
  assert.equal(history.length, 2);
  history.append(entry(3, 0, 10));
  assert.equal(history.length, 2);
  assert.equal(history.bytes, 20);
  history.append(entry(4, 0, 100)); // larger than the bound alone: kept, the rest dropped
  assert.deepEqual(history.all().map((m) => m.id), ["e-4"]);
  assert.equal(history.floor, 3);
});

Deno.test("ChannelHistory prunes by age with the injected time", () => {
  const history = new ChannelHistory({ maxAgeMs: 1000 });
  history.append(entry(1, 0));
  history.append(entry(2, 500));
  history.append(entry(3, 900));
  assert.equal(history.prune(999), 0);
  assert.equal(history.prune(1001), 1);
  assert.equal(history.floor, 1);
  assert.equal(history.prune(5000), 2);
  assert.equal(history.length, 0);
  assert.equal(history.floor, 3);
  assert.equal(history.last, undefined);
});

Deno.test("ChannelHistory.after finds messages above a sequence number by binary search", () => {
  const history = new ChannelHistory({ maxMessages: 500 });
  for (let seq = 2; seq <= 2000; seq += 2) history.append(entry(seq));
  assert.equal(history.after(1999).length, 1);
  assert.equal(history.after(1000).length, 500); // 1002..2000
  assert.equal(history.after(1001)[0]!.id, "e-1002");
  assert.equal(history.after(5000).length, 0);
  assert.equal(history.after(0).length, 500);
});

Deno.test("ChannelHistory refuses a sequence number that does not grow", () => {
  const history = new ChannelHistory();
  history.append(entry(5));
  assert.throws(() => history.append(entry(5)), RangeError);
});

Deno.test("ChannelHistory refuses limits that are not positive", () => {
  assert.throws(() => new ChannelHistory({ maxMessages: 0 }), RangeError);
  assert.throws(() => new ChannelHistory({ maxAgeMs: -1 }), RangeError);
});
