// WebSocketConnection's outgoing queue taken into a caller's write buffer (takeOutgoingInto):
// the same bytes as takeOutgoing, in order, stopping before a chunk that does not fit;
// pre-encoded frames and large payloads copied as they are; client frames masked there.
import assert from "node:assert/strict";
import { WebSocketConnection } from "../../lib/websocket/connection.ts";
import {
  concat,
  connection,
  decodeSent,
  feed,
  frame,
  hex,
  toHex,
  utf8,
} from "./_connection_helpers.ts";

/** Queues the same mixed sends on `conn`: small and large messages, control frames, a
 * broadcast frame (servers), fragments. */
function sendMix(conn: WebSocketConnection, large: Uint8Array): void {
  conn.sendText("Hello");
  conn.ping("hb");
  conn.sendBinary(large);
  conn.pong(new Uint8Array([1, 2]));
  if (conn.role === "server") conn.sendPreEncoded(WebSocketConnection.encodeMessage(0x1, "all"));
  conn.sendText("abcdefgh", { fragmentSize: 3 });
  conn.sendBinary(new Uint8Array(300).fill(9));
}

Deno.test("WebSocketConnection.takeOutgoingInto writes the bytes takeOutgoing returns", () => {
  const large = new Uint8Array(20_000).map((_, i) => i & 0xff);
  const a = connection();
  const b = connection();
  sendMix(a, large);
  sendMix(b, large);
  const queued = a.outgoingBytes;
  assert.equal(b.outgoingBytes, queued);
  const expected = concat(...a.takeOutgoing());
  assert.equal(expected.length, queued);
  const target = new Uint8Array(queued + 10);
  assert.equal(b.takeOutgoingInto(target, 10), 10 + queued);
  assert.equal(b.outgoingBytes, 0);
  assert.equal(b.nextOutgoingLength, 0);
  assert.deepEqual(target.subarray(10), expected);
  assert.deepEqual(b.takeOutgoing(), []);
});

Deno.test("WebSocketConnection.takeOutgoingInto masks a client's frames with fresh keys", () => {
  const large = new Uint8Array(20_000).map((_, i) => i & 0xff);
  const client = connection({ role: "client" });
  sendMix(client, large);
  const target = new Uint8Array(client.outgoingBytes);
  assert.equal(client.takeOutgoingInto(target, 0), target.length);
  const frames = decodeSent("client", [target]);
  assert.deepEqual(
    frames.map((f) => [f.opcode, f.fin, f.payload.length]),
    [
      [0x1, true, 5],
      [0x9, true, 2],
      [0x2, true, 20_000],
      [0xa, true, 2],
      [0x1, false, 3],
      [0x0, false, 3],
      [0x0, true, 2],
      [0x2, true, 300],
    ],
  );
  assert.deepEqual(frames[2]!.payload, large);
  // Every frame carries the MASK bit; keys differ from frame to frame.
  const keys = new Set<string>();
  for (let at = 0; at < target.length;) {
    assert.equal(target[at + 1]! & 0x80, 0x80);
    const lengthBytes = (target[at + 1]! & 0x7f) === 126 ? 2 : 0;
    keys.add(toHex(target.subarray(at + 2 + lengthBytes, at + 6 + lengthBytes)));
    const length = lengthBytes === 2
      ? (target[at + 2]! << 8) | target[at + 3]!
      : target[at + 1]! & 0x7f;
    at += 2 + lengthBytes + 4 + length;
  }
  assert.equal(keys.size, 8);
});

Deno.test("WebSocketConnection.takeOutgoingInto stops before a chunk that does not fit and keeps it first", () => {
  const conn = connection();
  conn.sendText("Hello"); // 7 bytes
  conn.sendText("x".repeat(200)); // 204 bytes
  conn.pong(); // 2 bytes
  const target = new Uint8Array(100);
  assert.equal(conn.takeOutgoingInto(target, 0), 7);
  assert.equal(toHex(target.subarray(0, 7)), "810548656c6c6f");
  assert.equal(conn.outgoingBytes, 206);
  assert.equal(conn.nextOutgoingLength, 204);
  assert.equal(conn.takeOutgoingInto(target, 7), 7, "still does not fit: nothing taken");
  const rest = conn.takeOutgoing();
  assert.deepEqual(rest.map((c) => c.length), [204, 2]);
  assert.equal(toHex(rest[1]!), "8a00");
  assert.equal(conn.outgoingBytes, 0);
});

Deno.test("WebSocketConnection.takeOutgoingInto encodes a large payload's header and copies the payload after it", () => {
  const conn = connection();
  const payload = new Uint8Array(100_000).fill(7);
  conn.sendBinary(payload);
  assert.equal(conn.nextOutgoingLength, 10, "the header comes first, on its own");
  const small = new Uint8Array(64);
  assert.equal(conn.takeOutgoingInto(small, 0), 10);
  assert.equal(toHex(small.subarray(0, 10)), "827f00000000000186a0");
  assert.equal(conn.nextOutgoingLength, 100_000);
  const chunks = conn.takeOutgoing();
  assert.equal(chunks.length, 1);
  assert.equal(chunks[0], payload, "taken without a copy");
});

Deno.test("WebSocketConnection.takeOutgoingInto sends the pong and close echo the peer is owed", () => {
  const conn = connection();
  feed(conn, frame(0x9, "are you there"), frame(0x8, hex("03e8")));
  const target = new Uint8Array(64);
  const end = conn.takeOutgoingInto(target, 0);
  assert.equal(toHex(target.subarray(0, end)), "8a0d" + toHex(utf8("are you there")) + "880203e8");
});

Deno.test("WebSocketConnection.takeOutgoingInto refuses a bad target or offset", () => {
  const conn = connection();
  conn.sendText("Hello");
  assert.throws(() => conn.takeOutgoingInto([] as unknown as Uint8Array, 0), TypeError);
  for (const offset of [-1, 1.5, NaN, 9]) {
    assert.throws(() => conn.takeOutgoingInto(new Uint8Array(8), offset), RangeError);
  }
  assert.equal(conn.outgoingBytes, 7, "nothing was taken");
  assert.equal(conn.takeOutgoingInto(new Uint8Array(8), 8), 8, "a full target takes nothing");
  assert.equal(conn.takeOutgoingInto(new Uint8Array(8), 1), 8);
  assert.equal(conn.outgoingBytes, 0);
});
