// WebSocketConnection: Autobahn category 7 (close handling) and the closing handshake from
// both sides.
import assert from "node:assert/strict";
import {
  assertFailed,
  closeCodeOf,
  concat,
  connection,
  drain,
  feed,
  frame,
  hex,
  sentFrames,
  texts,
  toHex,
  utf8,
} from "./_connection_helpers.ts";

function closePayload(code: number, reason = ""): Uint8Array {
  return concat(new Uint8Array([code >> 8, code & 0xff]), utf8(reason));
}

Deno.test("WebSocketConnection echoes a peer's close and reports it (Autobahn 7.1.1)", () => {
  const conn = connection();
  const events = feed(conn, frame(0x1, "Hello World!"), frame(0x8, closePayload(1000)));
  assert.deepEqual(events, [
    { type: "text", data: "Hello World!", compressed: false },
    { type: "close", code: 1000, reason: "", wasClean: true, initiator: "peer" },
  ]);
  assert.equal(conn.state, "closed");
  assert.equal(toHex(concat(...conn.takeOutgoing())), "880203e8");
});

Deno.test("WebSocketConnection ignores everything after the peer's close (Autobahn 7.1.2-7.1.4)", () => {
  const conn = connection();
  const events = feed(
    conn,
    concat(
      frame(0x8, closePayload(1000)),
      frame(0x8, closePayload(1001)),
      frame(0x9, "ping"),
      frame(0x1, "text"),
    ),
  );
  assert.equal(events.length, 1);
  assert.deepEqual(sentFrames(conn).map((f) => [f.opcode, closeCodeOf(f.payload)]), [[0x8, 1000]]);
  assert.deepEqual(feed(conn, frame(0x9, "later")), []);
  assert.equal(conn.outgoingBytes, 0);
});

Deno.test("WebSocketConnection drops a fragmented message interrupted by a close (Autobahn 7.1.5)", () => {
  const conn = connection();
  const events = feed(
    conn,
    frame(0x1, "fragment1", { fin: false }),
    frame(0x8, closePayload(1000)),
    frame(0x0, "fragment2"),
  );
  assert.deepEqual(events.map((e) => e.type), ["close"]);
  assert.deepEqual(sentFrames(conn).map((f) => f.opcode), [0x8]);
});

Deno.test("WebSocketConnection reports 1005 for an empty close and echoes it empty (Autobahn 7.3.1)", () => {
  const conn = connection();
  assert.deepEqual(feed(conn, frame(0x8)), [
    { type: "close", code: 1005, reason: "", wasClean: true, initiator: "peer" },
  ]);
  assert.equal(toHex(concat(...conn.takeOutgoing())), "8800");
});

Deno.test("WebSocketConnection fails on a 1-byte close payload (Autobahn 7.3.2)", () => {
  const conn = connection();
  assertFailed(conn, feed(conn, frame(0x8, hex("03"))), 1002, "WS_ERR_INVALID_CLOSE_PAYLOAD");
});

Deno.test("WebSocketConnection reports a close reason and echoes only the code (Autobahn 7.3.3, 7.3.4)", () => {
  const conn = connection();
  const events = feed(conn, frame(0x8, closePayload(1000, "Hello World! κόσμε")));
  assert.deepEqual(events, [
    { type: "close", code: 1000, reason: "Hello World! κόσμε", wasClean: true, initiator: "peer" },
  ]);
  assert.equal(toHex(concat(...conn.takeOutgoing())), "880203e8");
});

Deno.test("WebSocketConnection accepts a 123-byte close reason (Autobahn 7.3.5)", () => {
  const reason = "*".repeat(123);
  const conn = connection();
  const [event] = feed(conn, frame(0x8, closePayload(1000, reason)));
  assert.equal(event?.type === "close" && event.reason, reason);
});

Deno.test("WebSocketConnection fails on a 124-byte close reason: a 126-byte control frame (Autobahn 7.3.6)", () => {
  const conn = connection();
  const events = feed(conn, frame(0x8, closePayload(1000, "*".repeat(124))));
  assertFailed(conn, events, 1002, "WS_ERR_CONTROL_TOO_BIG");
});

Deno.test("WebSocketConnection fails with 1007 on a close reason that is not UTF-8 (Autobahn 7.5.1)", () => {
  const conn = connection();
  const payload = concat(
    closePayload(1000),
    hex("ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64"),
  );
  assertFailed(conn, feed(conn, frame(0x8, payload)), 1007, "WS_ERR_INVALID_UTF8");
});

const VALID_CODES = [
  1000,
  1001,
  1002,
  1003,
  1007,
  1008,
  1009,
  1010,
  1011,
  1012,
  1013,
  1014,
  3000,
  3999,
  4000,
  4999,
];

for (const code of VALID_CODES) {
  Deno.test(`WebSocketConnection echoes valid close code ${code} (Autobahn 7.7)`, () => {
    const conn = connection();
    assert.deepEqual(feed(conn, frame(0x8, closePayload(code))), [
      { type: "close", code, reason: "", wasClean: true, initiator: "peer" },
    ]);
    const frames = sentFrames(conn);
    assert.equal(frames.length, 1);
    assert.equal(closeCodeOf(frames[0]!.payload), code);
  });
}

const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

for (const code of INVALID_CODES) {
  Deno.test(`WebSocketConnection fails with 1002 on close code ${code} (Autobahn 7.9, 7.13)`, () => {
    const conn = connection();
    const close = assertFailed(
      conn,
      feed(conn, frame(0x8, closePayload(code))),
      1002,
      "WS_ERR_INVALID_CLOSE_CODE",
    );
    assert.match(close.error!.message, new RegExp(`${code}`));
  });
}

// --- Closing started by us ------------------------------------------------------------------

Deno.test("WebSocketConnection.close sends the code and reason and waits for the peer's close", () => {
  const conn = connection();
  conn.close(1000, "bye");
  assert.equal(conn.state, "closing");
  assert.equal(toHex(concat(...conn.takeOutgoing())), "880503e8627965");
  // RFC 6455 §5.5.1: data from the peer after our close is ignored, and nothing follows our close.
  const ignored = feed(
    conn,
    frame(0x1, "late text"),
    frame(0x2, "x", { fin: false }),
    frame(0x0, "y"),
    frame(0x9, "late ping"),
    frame(0xa, "late pong"),
  );
  assert.deepEqual(ignored, []);
  assert.equal(conn.outgoingBytes, 0);
  assert.deepEqual(feed(conn, frame(0x8, closePayload(1000, "ok"))), [
    { type: "close", code: 1000, reason: "ok", wasClean: true, initiator: "local" },
  ]);
  assert.equal(conn.state, "closed");
  assert.equal(conn.outgoingBytes, 0, "the peer's close is not echoed back");
});

Deno.test("WebSocketConnection.close without a code sends an empty close frame", () => {
  const conn = connection();
  conn.close();
  assert.equal(toHex(concat(...conn.takeOutgoing())), "8800");
  assert.deepEqual(feed(conn, frame(0x8)), [
    { type: "close", code: 1005, reason: "", wasClean: true, initiator: "local" },
  ]);
});

Deno.test("WebSocketConnection.close as a client masks the close frame", () => {
  const conn = connection({ role: "client" });
  conn.close(4000);
  const [close] = sentFrames(conn);
  assert.equal(close?.opcode, 0x8);
  assert.equal(closeCodeOf(close!.payload), 4000);
  const events = feed(conn, frame(0x8, closePayload(4000), { masked: false }));
  assert.deepEqual(events, [
    { type: "close", code: 4000, reason: "", wasClean: true, initiator: "local" },
  ]);
});

Deno.test("WebSocketConnection as a client echoes a server's close, masked", () => {
  const conn = connection({ role: "client" });
  const events = feed(conn, frame(0x8, closePayload(1001, "going"), { masked: false }));
  assert.deepEqual(events, [
    { type: "close", code: 1001, reason: "going", wasClean: true, initiator: "peer" },
  ]);
  const [echo] = sentFrames(conn);
  assert.equal(closeCodeOf(echo!.payload), 1001);
});

Deno.test("WebSocketConnection.close refuses codes that may not be sent", () => {
  const conn = connection();
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.5, NaN]) {
    assert.throws(() => conn.close(code), RangeError, `code ${code}`);
  }
  assert.throws(() => conn.close(1000, "é".repeat(62)), RangeError); // 124 bytes
  assert.throws(() => conn.close(undefined, "reason"), TypeError);
  assert.equal(conn.state, "open");
  assert.equal(conn.outgoingBytes, 0);
  conn.close(1000, "é".repeat(61) + "x"); // 123 bytes
  assert.equal(sentFrames(conn)[0]!.payload.length, 125);
});

Deno.test("WebSocketConnection refuses sending after close and ignores a second close()", () => {
  const conn = connection();
  conn.close(1001);
  conn.takeOutgoing();
  assert.throws(() => conn.sendText("x"), { name: "TypeError", message: /connection is closing/ });
  assert.throws(() => conn.sendBinary(new Uint8Array(1)), TypeError);
  assert.throws(() => conn.ping(), TypeError);
  assert.throws(() => conn.pong(), TypeError);
  assert.throws(() => conn.sendPreEncoded(frame(0x1, "x", { masked: false })), TypeError);
  conn.close(1000);
  assert.equal(conn.outgoingBytes, 0);
  feed(conn, frame(0x8));
  assert.throws(() => conn.sendText("x"), /connection is closed/);
  conn.close();
  assert.equal(conn.outgoingBytes, 0);
});

Deno.test("WebSocketConnection drops a half-received message when close() is called", () => {
  const conn = connection();
  feed(conn, frame(0x1, "part", { fin: false }));
  conn.close(1000);
  const events = feed(conn, frame(0x0, "rest"), frame(0x8, closePayload(1000)));
  assert.deepEqual(events.map((e) => e.type), ["close"]);
});

Deno.test("WebSocketConnection reports a protocol error after our close without sending a second close", () => {
  const conn = connection();
  conn.close(1000);
  conn.takeOutgoing();
  const events = feed(conn, frame(0x3));
  assert.equal(events.length, 1);
  const [close] = events;
  assert.equal(close?.type, "close");
  if (close?.type !== "close") return;
  assert.equal(close.wasClean, false);
  assert.equal(close.error?.code, "WS_ERR_RESERVED_OPCODE");
  assert.equal(conn.outgoingBytes, 0);
  assert.equal(conn.state, "closed");
});

Deno.test("WebSocketConnection reports an invalid close answer after our close, sending nothing", () => {
  const conn = connection();
  conn.close(1000);
  conn.takeOutgoing();
  const [close] = feed(conn, frame(0x8, closePayload(1005)));
  assert.equal(close?.type === "close" && close.error?.code, "WS_ERR_INVALID_CLOSE_CODE");
  assert.equal(conn.outgoingBytes, 0);
});

Deno.test("WebSocketConnection reports 1006 when the transport ends while closing", () => {
  const conn = connection();
  conn.close(1000);
  conn.receiveEnd();
  assert.deepEqual(drain(conn), [
    { type: "close", code: 1006, reason: "", wasClean: false, initiator: "peer" },
  ]);
});

Deno.test("WebSocketConnection handles a simultaneous close: both sides sent close", () => {
  const conn = connection();
  conn.receive(frame(0x8, closePayload(1001)));
  conn.close(1000); // before the peer's close was drained
  assert.deepEqual(drain(conn), [
    { type: "close", code: 1001, reason: "", wasClean: true, initiator: "local" },
  ]);
  assert.deepEqual(sentFrames(conn).map((f) => closeCodeOf(f.payload)), [1000]);
});

Deno.test("WebSocketConnection emits exactly one close event", () => {
  const conn = connection();
  const events = feed(conn, frame(0x8, closePayload(1000)));
  conn.receiveEnd();
  events.push(...drain(conn));
  assert.equal(events.filter((e) => e.type === "close").length, 1);
  assert.deepEqual(texts(events), []);
});
