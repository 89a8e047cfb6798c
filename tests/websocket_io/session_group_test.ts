import assert from "node:assert/strict";
import { deflateMessage } from "../../lib/websocket/deflate_codec.ts";
import { WebSocketConnection } from "../../lib/websocket/connection.ts";
import { PreparedMessage } from "../../lib/websocket_io/prepared_message.ts";
import { SessionGroup } from "../../lib/websocket_io/session_group.ts";

function fakeSession(state = "open") {
  const closed = Promise.withResolvers<void>();
  const received: PreparedMessage[] = [];
  return {
    state,
    closed: closed.promise,
    end: () => closed.resolve(),
    received,
    sendPrepared: (message: PreparedMessage) => received.push(message) > 0,
  };
}

Deno.test("SessionGroup.broadcast prepares the message once and skips sessions that are not open", () => {
  const group = new SessionGroup<ReturnType<typeof fakeSession>>();
  const a = fakeSession();
  const b = fakeSession();
  const closing = fakeSession("closing");
  group.add(a).add(b).add(closing).add(a);
  assert.equal(group.size, 3);
  assert.equal(group.broadcast(new Uint8Array([1])), 2);
  assert.equal(a.received[0], b.received[0]);
  assert.equal(closing.received.length, 0);
  assert.equal(group.broadcast("x", (s) => s !== a), 1);
});

Deno.test("SessionGroup forgets a session when it closes", async () => {
  const group = new SessionGroup<ReturnType<typeof fakeSession>>();
  const a = fakeSession();
  group.add(a);
  a.end();
  await a.closed;
  await Promise.resolve();
  assert.equal(group.has(a), false);
  assert.deepEqual([...group], []);
});

Deno.test("PreparedMessage frames text and binary once, with the right header", () => {
  const text = new PreparedMessage("hé");
  assert.equal(text.frame, text.frame);
  assert.deepEqual([...text.frame], [0x81, 3, 0x68, 0xc3, 0xa9]);
  assert.equal(text.size, 3);
  const big = new PreparedMessage(new Uint8Array(70000));
  assert.deepEqual([...big.frame.subarray(0, 10)], [0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
  assert.equal(big.size, 70000);
  assert.throws(() => new PreparedMessage(42 as unknown as string), TypeError);
});

Deno.test("PreparedMessage compresses once per distinct setting and frames it with RSV1", () => {
  const text = "tick ".repeat(4000);
  const message = new PreparedMessage(text);
  const s15 = { level: 6, memLevel: 8, windowBits: 15 };
  const s10 = { level: 6, memLevel: 8, windowBits: 10 };
  const a = message.compressedFrame(s15);
  assert.equal(message.compressedFrame({ ...s15 }), a, "cached for equal settings");
  const b = message.compressedFrame(s10);
  assert.notEqual(b, a);
  const payload = new TextEncoder().encode(text);
  assert.deepEqual(
    a,
    WebSocketConnection.encodeMessage(0x1, deflateMessage(payload, s15), { compressed: true }),
  );
  assert.equal(a[0], 0xc1); // FIN, RSV1, text
  assert.equal(message.size, payload.length);
  assert.equal(message.frame.length, 4 + payload.length, "the plain frame is unaffected");
  const binary = new PreparedMessage(new Uint8Array(3000));
  assert.equal(binary.compressedFrame(s15)[0], 0xc2);
  // More settings than are kept: still right, just not cached.
  for (let level = 0; level <= 9; level++) {
    const settings = { level, memLevel: 8, windowBits: 15 };
    assert.deepEqual(
      binary.compressedFrame(settings),
      WebSocketConnection.encodeMessage(0x2, deflateMessage(new Uint8Array(3000), settings), {
        compressed: true,
      }),
    );
  }
});
