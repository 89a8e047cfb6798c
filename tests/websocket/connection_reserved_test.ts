// WebSocketConnection: Autobahn categories 3 (reserved bits) and 4 (reserved opcodes).
import assert from "node:assert/strict";
import {
  assertFailed,
  concat,
  connection,
  feed,
  feedChunked,
  frame,
  hex,
  sentFrames,
  texts,
  utf8,
} from "./_connection_helpers.ts";

const RSV_BITS = [
  { name: "RSV1", spec: { rsv1: true } },
  { name: "RSV2", spec: { rsv2: true } },
  { name: "RSV3", spec: { rsv3: true } },
  { name: "RSV1+RSV2+RSV3", spec: { rsv1: true, rsv2: true, rsv3: true } },
] as const;

const CARRIERS = [
  { name: "text", opcode: 0x1, payload: "Hello" },
  { name: "binary", opcode: 0x2, payload: "\u0000\u00ff" },
  { name: "ping", opcode: 0x9, payload: "Hello" },
  { name: "pong", opcode: 0xa, payload: "" },
  { name: "close", opcode: 0x8, payload: "\u0003\u00e8" },
] as const;

for (const { name, spec } of RSV_BITS) {
  for (const carrier of CARRIERS) {
    Deno.test(`WebSocketConnection fails on ${name} on a ${carrier.name} frame without extensions (Autobahn 3)`, () => {
      const conn = connection();
      const events = feed(conn, frame(carrier.opcode, carrier.payload, spec));
      assertFailed(conn, events, 1002, "WS_ERR_RESERVED_BITS");
      assert.equal(events.length, 1, "no event for the offending frame");
    });
  }

  Deno.test(`WebSocketConnection delivers a valid message, then fails on ${name} (Autobahn 3.2, 3.3)`, () => {
    const wire = concat(frame(0x1, "Hello"), frame(0x1, "Hello", spec), frame(0x9, "never"));
    for (const chunked of [false, true]) {
      const conn = connection();
      const events = chunked ? feedChunked(conn, wire, 1) : feed(conn, wire);
      assert.deepEqual(texts(events), ["Hello"]);
      // The ping after the bad frame is never processed: no pong is queued.
      assertFailed(conn, events, 1002, "WS_ERR_RESERVED_BITS");
    }
  });
}

Deno.test("WebSocketConnection with allowRsv1 delivers RSV1 data messages as compressed", () => {
  const conn = connection({ allowRsv1: true });
  const events = feed(
    conn,
    frame(0x1, hex("f2 48 cd c9 c9 07 00"), { rsv1: true }),
    frame(0x2, "ab", { rsv1: true, fin: false }),
    frame(0x0, "cd"),
    // An invalid UTF-8 payload is not checked before inflation.
    frame(0x1, hex("ff"), { rsv1: true }),
  );
  assert.deepEqual(events, [
    { type: "text", data: hex("f2 48 cd c9 c9 07 00"), compressed: true },
    { type: "binary", data: utf8("abcd"), compressed: true },
    { type: "text", data: hex("ff"), compressed: true },
  ]);
  assert.equal(conn.outgoingBytes, 0);
});

Deno.test("WebSocketConnection with allowRsv1 joins a compressed text message of several fragments", () => {
  const conn = connection({ allowRsv1: true });
  const events = feed(
    conn,
    frame(0x1, hex("f2 48"), { rsv1: true, fin: false }),
    frame(0x0, hex("cd c9"), { fin: false }),
    frame(0x0, hex("c9 07 00")),
  );
  assert.deepEqual(events, [
    { type: "text", data: hex("f2 48 cd c9 c9 07 00"), compressed: true },
  ]);
});

for (
  const [name, bytes] of [
    [
      "a continuation frame",
      concat(frame(0x1, "a", { fin: false, rsv1: true }), frame(0x0, "b", { rsv1: true })),
    ],
    ["a ping", frame(0x9, "", { rsv1: true })],
    ["a close", frame(0x8, "", { rsv1: true })],
  ] as const
) {
  Deno.test(`WebSocketConnection with allowRsv1 still fails on RSV1 on ${name}`, () => {
    const conn = connection({ allowRsv1: true });
    assertFailed(conn, feed(conn, bytes), 1002, "WS_ERR_RESERVED_BITS");
  });
}

Deno.test("WebSocketConnection with allowRsv1 still fails on RSV2 and RSV3", () => {
  for (const spec of [{ rsv2: true }, { rsv3: true }, { rsv1: true, rsv2: true }]) {
    const conn = connection({ allowRsv1: true });
    assertFailed(conn, feed(conn, frame(0x1, "x", spec)), 1002, "WS_ERR_RESERVED_BITS");
  }
});

// --- Autobahn 4: reserved opcodes ------------------------------------------------------------

const RESERVED_OPCODES = [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf];

for (const opcode of RESERVED_OPCODES) {
  const name = `0x${opcode.toString(16)}`;
  Deno.test(`WebSocketConnection fails on reserved opcode ${name} (Autobahn 4.1.1, 4.2.1)`, () => {
    for (const payload of ["", "reserved opcode payload"]) {
      const conn = connection();
      const events = feed(conn, frame(opcode, payload));
      assert.equal(events.length, 1);
      assertFailed(conn, events, 1002, "WS_ERR_RESERVED_OPCODE");
    }
  });

  Deno.test(`WebSocketConnection delivers a message, then fails on opcode ${name} and ignores a ping after it (Autobahn 4.1.3, 4.2.3)`, () => {
    const wire = concat(frame(0x1, "Hello"), frame(opcode, "xyz"), frame(0x9, "ping"));
    for (const chunk of [wire.length, 1]) {
      const conn = connection();
      const events = feedChunked(conn, wire, chunk);
      assert.deepEqual(texts(events), ["Hello"]);
      assertFailed(conn, events, 1002, "WS_ERR_RESERVED_OPCODE");
    }
  });
}

Deno.test("WebSocketConnection as a client fails on a reserved opcode too", () => {
  const conn = connection({ role: "client" });
  const events = feed(conn, frame(0xb, "", { masked: false }));
  assertFailed(conn, events, 1002, "WS_ERR_RESERVED_OPCODE");
});

Deno.test("WebSocketConnection leaves nothing queued but the close after a reserved opcode", () => {
  const conn = connection();
  feed(conn, frame(0x9, "before"), frame(0x3), frame(0x9, "after"));
  assert.deepEqual(sentFrames(conn).map((f) => f.opcode), [0xa, 0x8]);
});
