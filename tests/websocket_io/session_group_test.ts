import assert from "node:assert/strict";
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
