// WebSocketConnection: RFC 6455 §5.7 examples, lifecycle, the send API, and Autobahn
// categories 1 (framing) and 2 (ping/pong). Other categories live in connection_*_test.ts.
import assert from "node:assert/strict";
import { WebSocketConnection } from "../../lib/websocket/connection.ts";
import {
  assertFailed,
  concat,
  connection,
  drain,
  feed,
  feedChunked,
  feedSplit,
  frame,
  hex,
  sentFrames,
  texts,
  toHex,
  utf8,
} from "./_connection_helpers.ts";

// --- RFC 6455 §5.7 examples -------------------------------------------------------------

Deno.test("WebSocketConnection decodes the RFC 6455 §5.7 single-frame unmasked text (client)", () => {
  const conn = connection({ role: "client" });
  assert.deepEqual(feed(conn, hex("81 05 48 65 6c 6c 6f")), [
    { type: "text", data: "Hello", compressed: false },
  ]);
});

Deno.test("WebSocketConnection decodes the RFC 6455 §5.7 single-frame masked text (server)", () => {
  const conn = connection();
  assert.deepEqual(texts(feed(conn, hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"))), ["Hello"]);
  assert.equal(conn.outgoingBytes, 0);
});

Deno.test("WebSocketConnection joins the RFC 6455 §5.7 fragmented unmasked text", () => {
  const conn = connection({ role: "client" });
  assert.deepEqual(feed(conn, hex("01 03 48 65 6c")), []);
  assert.deepEqual(texts(feed(conn, hex("80 02 6c 6f"))), ["Hello"]);
});

Deno.test("WebSocketConnection answers the RFC 6455 §5.7 ping with the matching pong", () => {
  const server = connection();
  // The §5.7 unmasked ping, masked as a client sends it.
  assert.deepEqual(feed(server, frame(0x9, "Hello")), [{ type: "ping", data: utf8("Hello") }]);
  assert.equal(toHex(concat(...server.takeOutgoing())), "8a0548656c6c6f");

  const client = connection({ role: "client" });
  assert.equal(feed(client, hex("89 05 48 65 6c 6c 6f"))[0]?.type, "ping");
  const [pong] = sentFrames(client); // masked: decoded by a server-role decoder
  assert.equal(pong?.opcode, 0xa);
  assert.equal(new TextDecoder().decode(pong?.payload), "Hello");
});

Deno.test("WebSocketConnection reports the RFC 6455 §5.7 masked pong", () => {
  const conn = connection();
  assert.deepEqual(feed(conn, hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58")), [
    { type: "pong", data: utf8("Hello") },
  ]);
});

Deno.test("WebSocketConnection decodes the RFC 6455 §5.7 256-byte and 64 KiB binary frames", () => {
  const small = new Uint8Array(256).map((_, i) => i);
  const conn = connection({ role: "client" });
  const events = feed(conn, concat(hex("82 7e 01 00"), small));
  assert.deepEqual(events, [{ type: "binary", data: small, compressed: false }]);
  const big = new Uint8Array(65536).fill(0x5a);
  const events2 = feed(conn, concat(hex("82 7f 00 00 00 00 00 01 00 00"), big));
  assert.deepEqual(events2, [{ type: "binary", data: big, compressed: false }]);
});

// --- Lifecycle -------------------------------------------------------------------------

Deno.test("WebSocketConnection in connecting refuses traffic until open()", () => {
  const conn = new WebSocketConnection({ role: "server", state: "connecting" });
  assert.equal(conn.state, "connecting");
  assert.throws(() => conn.receive(frame(0x1, "x")), TypeError);
  assert.throws(() => conn.sendText("x"), /handshake is not complete/);
  assert.throws(() => conn.ping(), TypeError);
  assert.throws(() => conn.close(1000), TypeError);
  assert.equal(conn.nextEvent(), undefined);
  conn.open();
  assert.equal(conn.state, "open");
  assert.throws(() => conn.open(), TypeError);
  assert.deepEqual(texts(feed(conn, frame(0x1, "x"))), ["x"]);
});

Deno.test("WebSocketConnection reports 1006 when the transport ends during the handshake", () => {
  const conn = new WebSocketConnection({ role: "client", state: "connecting" });
  conn.receiveEnd();
  assert.deepEqual(drain(conn), [
    { type: "close", code: 1006, reason: "", wasClean: false, initiator: "peer" },
  ]);
  assert.equal(conn.state, "closed");
});

Deno.test("WebSocketConnection delivers received frames, then 1006 when the transport ends mid-frame", () => {
  const conn = connection();
  const bytes = concat(frame(0x1, "one"), frame(0x1, "two"));
  conn.receive(bytes.slice(0, bytes.length - 2));
  conn.receiveEnd();
  assert.throws(() => conn.receive(hex("00")), TypeError);
  assert.deepEqual(drain(conn), [
    { type: "text", data: "one", compressed: false },
    { type: "close", code: 1006, reason: "", wasClean: false, initiator: "peer" },
  ]);
  assert.equal(conn.outgoingBytes, 0, "nothing is sent after the transport ended");
});

Deno.test("WebSocketConnection validates its options", () => {
  const role = "peer" as unknown as "server";
  assert.throws(() => new WebSocketConnection({ role }), TypeError);
  const state = "closed" as unknown as "open";
  assert.throws(() => new WebSocketConnection({ role: "server", state }), TypeError);
  assert.throws(() => new WebSocketConnection({ role: "server", maxFrameSize: 0 }), RangeError);
  assert.throws(() => new WebSocketConnection({ role: "server", maxMessageSize: 1.5 }), RangeError);
});

Deno.test("WebSocketConnection decodes lazily: replies are queued as events are drained", () => {
  const conn = connection();
  conn.receive(concat(frame(0x9, "a"), frame(0x9, "b")));
  assert.equal(conn.outgoingBytes, 0);
  assert.equal(conn.nextEvent()?.type, "ping");
  assert.equal(conn.outgoingBytes, 3);
  assert.equal(conn.nextEvent()?.type, "ping");
  assert.equal(conn.outgoingBytes, 6);
  assert.equal(conn.nextEvent(), undefined);
});

// --- Sending -----------------------------------------------------------------------------

Deno.test("WebSocketConnection sendText as a server writes one unmasked frame", () => {
  const conn = connection();
  conn.sendText("Hello");
  assert.equal(conn.outgoingBytes, 7);
  assert.equal(toHex(concat(...conn.takeOutgoing())), "810548656c6c6f");
  assert.equal(conn.outgoingBytes, 0);
  assert.deepEqual(conn.takeOutgoing(), []);
});

Deno.test("WebSocketConnection sendText as a client masks with a fresh key per frame", () => {
  const conn = connection({ role: "client" });
  conn.sendText("Hello");
  conn.sendText("Hello");
  const chunks = conn.takeOutgoing();
  assert.equal(chunks.length, 2);
  for (const chunk of chunks) assert.equal(chunk[1]! & 0x80, 0x80, "MASK bit set");
  assert.notEqual(toHex(chunks[0]!.subarray(2, 6)), toHex(chunks[1]!.subarray(2, 6)));
  const server = connection();
  assert.deepEqual(texts(feed(server, ...chunks)), ["Hello", "Hello"]);
});

Deno.test("WebSocketConnection sendBinary queues a large server payload without copying it", () => {
  const conn = connection();
  const payload = new Uint8Array(100_000).fill(7);
  conn.sendBinary(payload);
  const chunks = conn.takeOutgoing();
  assert.equal(chunks.length, 2);
  assert.equal(toHex(chunks[0]!), "827f00000000000186a0");
  assert.equal(chunks[1], payload);
});

Deno.test("WebSocketConnection sends bytes given to sendText as they are", () => {
  const conn = connection();
  conn.sendText(utf8("κ"));
  assert.equal(toHex(concat(...conn.takeOutgoing())), "8102ceba");
});

Deno.test("WebSocketConnection fragments a message by fragmentSize", () => {
  for (const role of ["server", "client"] as const) {
    const conn = connection({ role, allowRsv1: true });
    conn.sendText("abcdefgh", { fragmentSize: 3, compressed: true });
    const frames = sentFrames(conn);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, f.rsv1, new TextDecoder().decode(f.payload)]),
      [[0x1, false, true, "abc"], [0x0, false, false, "def"], [0x0, true, false, "gh"]],
    );
    conn.sendBinary(new Uint8Array(2), { fragmentSize: 2 });
    assert.deepEqual(sentFrames(conn).map((f) => [f.opcode, f.fin]), [[0x2, true]]);
  }
});

Deno.test("WebSocketConnection refuses bad send options", () => {
  const conn = connection();
  assert.throws(() => conn.sendText("x", { compressed: true }), /permessage-deflate/);
  for (const fragmentSize of [0, -1, 1.5, NaN]) {
    assert.throws(() => conn.sendBinary(new Uint8Array(4), { fragmentSize }), RangeError);
  }
  assert.throws(() => conn.ping(new Uint8Array(126)), RangeError);
  assert.throws(() => conn.pong("x".repeat(126)), RangeError);
  assert.equal(conn.outgoingBytes, 0);
});

Deno.test("WebSocketConnection sends pings and unsolicited pongs", () => {
  const conn = connection();
  conn.ping();
  conn.ping("hb");
  conn.pong(new Uint8Array([1, 2]));
  assert.equal(toHex(concat(...conn.takeOutgoing())), "8900" + "89026862" + "8a020102");
});

Deno.test("WebSocketConnection.encodeMessage serializes a broadcast frame once", () => {
  const frameBytes = WebSocketConnection.encodeMessage(0x1, "Hello");
  assert.equal(toHex(frameBytes), "810548656c6c6f");
  assert.equal(
    toHex(WebSocketConnection.encodeMessage(0x2, new Uint8Array([1]), { compressed: true })),
    "c20101",
  );
  assert.throws(() => WebSocketConnection.encodeMessage(0x9, "x"), RangeError);
  const a = connection();
  const b = connection();
  a.sendPreEncoded(frameBytes);
  b.sendPreEncoded(frameBytes);
  assert.equal(a.takeOutgoing()[0], frameBytes);
  assert.equal(b.takeOutgoing()[0], frameBytes);
  assert.throws(() => connection({ role: "client" }).sendPreEncoded(frameBytes), TypeError);
});

// --- Autobahn 1: framing ------------------------------------------------------------------

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];
const LENGTH_HEADERS: Record<number, string> = {
  0: "00",
  125: "7d",
  126: "7e007e",
  127: "7e007f",
  128: "7e0080",
  65535: "7effff",
  65536: "7f0000000000010000",
};

for (const opcode of [0x1, 0x2]) {
  const kind = opcode === 0x1 ? "text" : "binary";
  for (const length of LENGTHS) {
    Deno.test(`WebSocketConnection receives and echoes a ${length}-byte ${kind} frame (Autobahn 1)`, () => {
      const payload = new Uint8Array(length).map((_, i) => 0x20 + (i % 90));
      const expected = opcode === 0x1
        ? { type: "text", data: new TextDecoder().decode(payload), compressed: false }
        : { type: "binary", data: payload, compressed: false };
      const wire = frame(opcode, payload);
      const conn = connection();
      const events = feed(conn, wire);
      assert.deepEqual(events, [expected]);
      // Echo: the header carries the length in the shortest form (RFC 6455 §5.2).
      const event = events[0]!;
      if (event.type === "text" && !event.compressed) conn.sendText(event.data);
      else if (event.type === "binary") conn.sendBinary(event.data);
      const out = concat(...conn.takeOutgoing());
      assert.equal(
        toHex(out.subarray(0, 1 + LENGTH_HEADERS[length]!.length / 2)),
        (0x80 | opcode).toString(16) + LENGTH_HEADERS[length],
      );
      assert.deepEqual(out.subarray(out.length - length), payload);
      // Fed in pieces: every split point for short frames, 997-byte chunks for long ones.
      if (length <= 128) {
        for (let at = 0; at <= wire.length; at++) {
          assert.deepEqual(feedSplit(connection(), wire, at), [expected], `split at ${at}`);
        }
        assert.deepEqual(feedChunked(connection(), wire, 1), [expected]);
      } else {
        assert.deepEqual(feedChunked(connection(), wire, 997), [expected]);
      }
    });
  }
}

Deno.test("WebSocketConnection receives several frames from one chunk (Autobahn 1)", () => {
  const conn = connection();
  const events = feed(conn, concat(frame(0x1, "a"), frame(0x2, hex("ff")), frame(0x1, "")));
  assert.deepEqual(events, [
    { type: "text", data: "a", compressed: false },
    { type: "binary", data: hex("ff"), compressed: false },
    { type: "text", data: "", compressed: false },
  ]);
});

// --- Autobahn 2: ping/pong ------------------------------------------------------------------

Deno.test("WebSocketConnection answers pings of 0 to 125 bytes with identical pongs (Autobahn 2.1-2.3)", () => {
  for (let length = 0; length <= 125; length++) {
    const payload = new Uint8Array(length).map((_, i) => (i * 7 + length) & 0xff);
    const conn = connection();
    assert.deepEqual(feed(conn, frame(0x9, payload)), [{ type: "ping", data: payload }]);
    const frames = sentFrames(conn);
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opcode, 0xa);
    assert.deepEqual(frames[0]!.payload, payload);
  }
});

Deno.test("WebSocketConnection answers a binary ping payload byte for byte (Autobahn 2.4)", () => {
  const payload = new Uint8Array(125).fill(0xfe);
  payload[0] = 0x00;
  payload[124] = 0xff;
  const conn = connection();
  feed(conn, frame(0x9, payload));
  assert.deepEqual(sentFrames(conn)[0]!.payload, payload);
});

Deno.test("WebSocketConnection fails on a 126-byte ping (Autobahn 2.5)", () => {
  const conn = connection();
  const events = feed(conn, frame(0x9, new Uint8Array(126)));
  assertFailed(conn, events, 1002, "WS_ERR_CONTROL_TOO_BIG");
});

Deno.test("WebSocketConnection answers a ping fed byte by byte (Autobahn 2.6)", () => {
  const payload = new Uint8Array(125).fill(0x61);
  const conn = connection();
  assert.deepEqual(feedChunked(conn, frame(0x9, payload), 1), [{ type: "ping", data: payload }]);
  assert.deepEqual(sentFrames(conn)[0]!.payload, payload);
});

Deno.test("WebSocketConnection accepts unsolicited pongs without answering (Autobahn 2.7, 2.8)", () => {
  const conn = connection();
  assert.deepEqual(feed(conn, frame(0xa), frame(0xa, "unsolicited pong payload")), [
    { type: "pong", data: new Uint8Array(0) },
    { type: "pong", data: utf8("unsolicited pong payload") },
  ]);
  assert.equal(conn.outgoingBytes, 0);
});

Deno.test("WebSocketConnection answers a ping after an unsolicited pong (Autobahn 2.9)", () => {
  const conn = connection();
  const events = feed(conn, concat(frame(0xa, "unsolicited"), frame(0x9, "ping payload")));
  assert.deepEqual(events.map((e) => e.type), ["pong", "ping"]);
  const frames = sentFrames(conn);
  assert.deepEqual(frames.map((f) => f.opcode), [0xa]);
  assert.deepEqual(frames[0]!.payload, utf8("ping payload"));
});

Deno.test("WebSocketConnection answers 10 pings in a row, in order (Autobahn 2.10, 2.11)", () => {
  const pings = Array.from({ length: 10 }, (_, i) => frame(0x9, `payload-${i}`));
  for (const chunked of [false, true]) {
    const conn = connection();
    const events = chunked ? feedChunked(conn, concat(...pings), 1) : feed(conn, concat(...pings));
    assert.equal(events.length, 10);
    const frames = sentFrames(conn);
    assert.deepEqual(
      frames.map((f) => new TextDecoder().decode(f.payload)),
      Array.from({ length: 10 }, (_, i) => `payload-${i}`),
    );
    assert.ok(frames.every((f) => f.opcode === 0xa && f.fin));
  }
});

Deno.test("WebSocketConnection ignores bytes that arrive after it closed", () => {
  const conn = connection();
  feed(conn, frame(0x8, hex("03e8")));
  assert.equal(conn.state, "closed");
  conn.takeOutgoing();
  assert.deepEqual(feed(conn, frame(0x9, "late"), hex("ff ff ff")), []);
  assert.equal(conn.outgoingBytes, 0);
});
