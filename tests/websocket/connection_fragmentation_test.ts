// WebSocketConnection: Autobahn category 5 (fragmentation).
import assert from "node:assert/strict";
import {
  assertFailed,
  concat,
  connection,
  feed,
  feedChunked,
  feedSplit,
  frame,
  sentFrames,
  texts,
  utf8,
} from "./_connection_helpers.ts";

const decoder = new TextDecoder();

Deno.test("WebSocketConnection fails on a fragmented ping (Autobahn 5.1)", () => {
  const conn = connection();
  const events = feed(conn, concat(frame(0x9, "frag1", { fin: false }), frame(0x0, "frag2")));
  assertFailed(conn, events, 1002, "WS_ERR_CONTROL_FRAGMENTED");
});

Deno.test("WebSocketConnection fails on a fragmented pong (Autobahn 5.2)", () => {
  const conn = connection();
  const events = feed(conn, concat(frame(0xa, "frag1", { fin: false }), frame(0x0, "frag2")));
  assertFailed(conn, events, 1002, "WS_ERR_CONTROL_FRAGMENTED");
});

const TWO_FRAGMENTS = concat(frame(0x1, "frag1", { fin: false }), frame(0x0, "frag2"));

Deno.test("WebSocketConnection joins text fragments from one chunk (Autobahn 5.3)", () => {
  const conn = connection();
  assert.deepEqual(feed(conn, TWO_FRAGMENTS), [
    { type: "text", data: "frag1frag2", compressed: false },
  ]);
});

Deno.test("WebSocketConnection joins text fragments fed one frame per chunk (Autobahn 5.4)", () => {
  const conn = connection();
  assert.deepEqual(feed(conn, frame(0x1, "frag1", { fin: false })), []);
  assert.deepEqual(texts(feed(conn, frame(0x0, "frag2"))), ["frag1frag2"]);
});

Deno.test("WebSocketConnection joins text fragments at every split point (Autobahn 5.5)", () => {
  for (let at = 0; at <= TWO_FRAGMENTS.length; at++) {
    assert.deepEqual(texts(feedSplit(connection(), TWO_FRAGMENTS, at)), ["frag1frag2"]);
  }
  assert.deepEqual(texts(feedChunked(connection(), TWO_FRAGMENTS, 1)), ["frag1frag2"]);
});

const WITH_PING = concat(
  frame(0x1, "fragment1", { fin: false }),
  frame(0x9, "pongme!"),
  frame(0x0, "fragment2"),
);

Deno.test("WebSocketConnection answers a ping between text fragments (Autobahn 5.6-5.8)", () => {
  for (const chunk of [WITH_PING.length, 7, 1]) {
    const conn = connection();
    const events = feedChunked(conn, WITH_PING, chunk);
    assert.deepEqual(events, [
      { type: "ping", data: utf8("pongme!") },
      { type: "text", data: "fragment1fragment2", compressed: false },
    ]);
    const frames = sentFrames(conn);
    assert.deepEqual(frames.map((f) => [f.opcode, decoder.decode(f.payload)]), [
      [0xa, "pongme!"],
    ]);
  }
});

Deno.test("WebSocketConnection passes pongs and several pings between fragments (Autobahn 5.19, 5.20)", () => {
  const conn = connection();
  const events = feed(
    conn,
    frame(0x1, "a", { fin: false }),
    frame(0x0, "b", { fin: false }),
    frame(0x9, "p1"),
    frame(0x0, "c", { fin: false }),
    frame(0xa, "unsolicited"),
    frame(0x0, "d", { fin: false }),
    frame(0x9, "p2"),
    frame(0x0, "e"),
  );
  assert.deepEqual(events.map((e) => e.type), ["ping", "pong", "ping", "text"]);
  assert.deepEqual(texts(events), ["abcde"]);
  assert.deepEqual(sentFrames(conn).map((f) => decoder.decode(f.payload)), ["p1", "p2"]);
});

for (
  const [label, fin] of [["fin=1", true], ["fin=0", false]] as const
) {
  Deno.test(`WebSocketConnection fails on a continuation (${label}) with no message started (Autobahn 5.9-5.12)`, () => {
    const wire = concat(
      frame(0x0, "non-continuation payload", { fin }),
      frame(0x1, "Hello, world!"),
    );
    for (const chunk of [wire.length, 1]) {
      const conn = connection();
      const events = feedChunked(conn, wire, chunk);
      assert.equal(events.length, 1, "the text after it is never delivered");
      assertFailed(conn, events, 1002, "WS_ERR_UNEXPECTED_CONTINUATION");
    }
  });
}

Deno.test("WebSocketConnection fails on a continuation after a complete fragmented message (Autobahn 5.15)", () => {
  const conn = connection();
  const events = feed(
    conn,
    frame(0x1, "fragment1", { fin: false }),
    frame(0x0, "fragment2"),
    frame(0x0, "fragment3", { fin: false }),
    frame(0x0, "fragment4"),
  );
  assert.deepEqual(texts(events), ["fragment1fragment2"]);
  assertFailed(conn, events, 1002, "WS_ERR_UNEXPECTED_CONTINUATION");
});

Deno.test("WebSocketConnection fails on a continuation after a single-frame message (Autobahn 5.13, 5.14)", () => {
  const conn = connection();
  const events = feed(conn, frame(0x1, "whole"), frame(0x0, "more"));
  assert.deepEqual(texts(events), ["whole"]);
  assertFailed(conn, events, 1002, "WS_ERR_UNEXPECTED_CONTINUATION");
});

for (const [first, second] of [[0x1, 0x1], [0x1, 0x2], [0x2, 0x1], [0x2, 0x2]]) {
  Deno.test(`WebSocketConnection fails on opcode ${second} while fragmented opcode ${first} is in progress (Autobahn 5.18)`, () => {
    for (const fin of [true, false]) {
      const conn = connection();
      const events = feed(
        conn,
        frame(first!, "fragment1", { fin: false }),
        frame(second!, "x", { fin }),
      );
      assert.equal(events.length, 1);
      assertFailed(conn, events, 1002, "WS_ERR_EXPECTED_CONTINUATION");
    }
  });
}

Deno.test("WebSocketConnection joins binary fragments, empty ones included", () => {
  const conn = connection();
  const events = feed(
    conn,
    frame(0x2, new Uint8Array(0), { fin: false }),
    frame(0x0, new Uint8Array([1, 2]), { fin: false }),
    frame(0x0, new Uint8Array(0), { fin: false }),
    frame(0x0, new Uint8Array([3])),
  );
  assert.deepEqual(events, [{
    type: "binary",
    data: new Uint8Array([1, 2, 3]),
    compressed: false,
  }]);
});

Deno.test("WebSocketConnection delivers an all-empty fragmented message", () => {
  const conn = connection();
  const events = feed(
    conn,
    frame(0x1, "", { fin: false }),
    frame(0x0, "", { fin: false }),
    frame(0x0, ""),
  );
  assert.deepEqual(events, [{ type: "text", data: "", compressed: false }]);
  const events2 = feed(conn, frame(0x2, "", { fin: false }), frame(0x0, ""));
  assert.deepEqual(events2, [{ type: "binary", data: new Uint8Array(0), compressed: false }]);
});

Deno.test("WebSocketConnection keeps message state separate across consecutive fragmented messages", () => {
  const conn = connection();
  const events = feed(
    conn,
    frame(0x1, "a", { fin: false }),
    frame(0x0, "b"),
    frame(0x2, "c", { fin: false }),
    frame(0x0, "d"),
    frame(0x1, "e"),
  );
  assert.deepEqual(events, [
    { type: "text", data: "ab", compressed: false },
    { type: "binary", data: utf8("cd"), compressed: false },
    { type: "text", data: "e", compressed: false },
  ]);
});

Deno.test("WebSocketConnection as a client joins unmasked fragments", () => {
  const conn = connection({ role: "client" });
  const events = feed(
    conn,
    concat(frame(0x2, "ab", { fin: false, masked: false }), frame(0x0, "cd", { masked: false })),
  );
  assert.deepEqual(events, [{ type: "binary", data: utf8("abcd"), compressed: false }]);
});

Deno.test("WebSocketConnection round-trips its own fragmented sends", () => {
  const client = connection({ role: "client" });
  client.sendText("fragmented κόσμε message", { fragmentSize: 3 });
  client.sendBinary(new Uint8Array(10).fill(9), { fragmentSize: 4 });
  const server = connection();
  assert.deepEqual(feed(server, ...client.takeOutgoing()), [
    { type: "text", data: "fragmented κόσμε message", compressed: false },
    { type: "binary", data: new Uint8Array(10).fill(9), compressed: false },
  ]);
});
