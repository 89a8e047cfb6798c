// Pure parts of the Redis broker (no server): stream ids, the read-script reply, options.
// Behaviour against a real redis-server: redis_broker_integration_test.ts.
import assert from "node:assert/strict";
import { RedisBroker } from "../../lib/hub/redis_broker.ts";
import { compareStreamIds, isStreamId, streamIdTime } from "../../lib/hub/_redis_id.ts";
import { decodeStreamState, isLostAfter, type StreamState } from "../../lib/hub/_redis_script.ts";

Deno.test("isStreamId accepts complete u64 ids and refuses the rest", () => {
  for (
    const id of ["0-0", "1-0", "1700000000000-42", "18446744073709551615-18446744073709551615"]
  ) {
    assert.ok(isStreamId(id), id);
  }
  for (
    const id of [
      "",
      "1",
      "1-",
      "-1",
      "01-0",
      "1-01",
      "1-0-0",
      " 1-0",
      "a-0",
      "18446744073709551616-0",
      "1-18446744073709551616",
      "123456789012345678901-0",
      "*",
      "$",
    ]
  ) {
    assert.ok(!isStreamId(id), id);
  }
});

Deno.test("compareStreamIds orders numerically, not as text", () => {
  const sorted = ["0-0", "0-1", "9-0", "9-10", "10-0", "100-0", "18446744073709551615-0"];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = 0; j < sorted.length; j++) {
      const order = compareStreamIds(sorted[i]!, sorted[j]!);
      assert.equal(Math.sign(order), Math.sign(i - j), `${sorted[i]} vs ${sorted[j]}`);
    }
  }
});

Deno.test("streamIdTime returns the millisecond part", () => {
  assert.equal(streamIdTime("1700000000123-7"), 1700000000123);
});

Deno.test("decodeStreamState decodes a missing and an existing stream and refuses other shapes", () => {
  assert.deepEqual(decodeStreamState([0]), { exists: false });
  assert.deepEqual(decodeStreamState([1, "5-1", "3-0", 7, 2, [["5-1", ["d", "1"]]]]), {
    exists: true,
    lastId: "5-1",
    firstId: "3-0",
    added: 7,
    length: 2,
    entries: [["5-1", ["d", "1"]]],
  });
  assert.throws(() => decodeStreamState("OK"), TypeError);
  assert.throws(() => decodeStreamState([1, 5, "3-0", 7, 2, []]), TypeError);
});

Deno.test("isLostAfter applies the reset rule: gone, ahead, or before the first entry of a trimmed or re-created stream", () => {
  const stream = (firstId: string, lastId: string, added: number, length: number): StreamState => ({
    exists: true,
    firstId,
    lastId,
    added,
    length,
    entries: [],
  });
  assert.equal(isLostAfter({ exists: false }, "0-0"), false); // never written
  assert.equal(isLostAfter({ exists: false }, "5-0"), true); // expired or lost
  const untrimmed = stream("3-0", "9-0", 4, 4);
  assert.equal(isLostAfter(untrimmed, "0-0"), false);
  assert.equal(isLostAfter(untrimmed, "3-0"), false);
  assert.equal(isLostAfter(untrimmed, "9-0"), false);
  assert.equal(isLostAfter(untrimmed, "2-0"), true); // re-created: an id of the old stream
  assert.equal(isLostAfter(untrimmed, "10-0"), true); // ahead: a lost stream's id
  const trimmed = stream("7-0", "9-0", 9, 3);
  assert.equal(isLostAfter(trimmed, "0-0"), true);
  assert.equal(isLostAfter(trimmed, "6-0"), true); // conservative at the boundary
  assert.equal(isLostAfter(trimmed, "7-0"), false);
  const emptied = stream("0-0", "9-0", 9, 0); // every entry trimmed
  assert.equal(isLostAfter(emptied, "8-0"), true);
  assert.equal(isLostAfter(emptied, "9-0"), false);
});

Deno.test("RedisBroker refuses bad options before connecting", () => {
  assert.throws(() => new RedisBroker({ url: "http://127.0.0.1:6379" }), TypeError);
  assert.throws(() => new RedisBroker({ maxMessages: 0 }), RangeError);
  assert.throws(() => new RedisBroker({ blockMs: 1.5 }), RangeError);
  assert.throws(() => new RedisBroker({ maxAgeMs: -1 }), RangeError);
});
