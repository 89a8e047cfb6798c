// examples/typed_endpoint.ts as a child process, with its documented permissions, driven by
// our client and Deno's built-in WebSocket.
import assert from "node:assert/strict";
import { type ClientSession, connect, WebSocketConnectError } from "../../lib/websocket_io/mod.ts";
import { Example, within } from "./_example.ts";

async function next(client: ClientSession): Promise<unknown> {
  const iterator = client[Symbol.asyncIterator]();
  const { value, done } = await within(iterator.next(), "next message");
  assert.equal(done, false);
  return JSON.parse(value as string);
}

async function closeCodeAfter(port: number, message: string | Uint8Array): Promise<number> {
  const client = await connect(`ws://127.0.0.1:${port}/rooms/lobby`);
  client.send(message);
  for await (const _ of client) assert.fail("no message expected");
  return (await within(client.closed, "close")).code;
}

Deno.test("typed_endpoint.ts broadcasts to every session of the room, and only the room", async () => {
  const example = await Example.start("typed_endpoint.ts");
  const url = `ws://127.0.0.1:${example.port}/rooms`;
  const [a1, a2] = [await connect(`${url}/a`), await connect(`${url}/a`)];
  const b = new WebSocket(`${url}/b`);
  const bMessages: unknown[] = [];
  const bOwn = new Promise<void>((resolve) => {
    b.onmessage = (event) => {
      bMessages.push(JSON.parse(event.data));
      resolve();
    };
  });
  try {
    await within(new Promise((resolve) => b.onopen = resolve), "built-in WebSocket open");
    a1.send(JSON.stringify({ text: "hi room a" }));
    const [toA1, toA2] = [await next(a1), await next(a2)] as { from: number }[];
    assert.deepEqual(toA1, toA2);
    assert.deepEqual(toA1, { room: "a", from: toA1!.from, text: "hi room a" });
    // b sees its own message first: nothing from room a reached it.
    b.send(JSON.stringify({ text: "hi room b" }));
    await within(bOwn, "room b message");
    assert.deepEqual(bMessages, [{
      room: "b",
      from: (bMessages[0] as Said).from,
      text: "hi room b",
    }]);
  } finally {
    a1.close(1000);
    a2.close(1000);
    const bClosed = new Promise((resolve) => b.onclose = resolve);
    b.close(1000);
    await within(Promise.all([a1.closed, a2.closed, bClosed]), "clients close");
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

interface Said {
  readonly from: number;
}

Deno.test("typed_endpoint.ts closes with 1009 over maxMessageSize and 1007 for what does not decode", async () => {
  const example = await Example.start("typed_endpoint.ts");
  try {
    const port = example.port;
    assert.equal(await closeCodeAfter(port, JSON.stringify({ text: "x".repeat(5000) })), 1009);
    assert.equal(await closeCodeAfter(port, "not json"), 1007);
    assert.equal(await closeCodeAfter(port, '{"message":"no text field"}'), 1007);
    assert.equal(await closeCodeAfter(port, new Uint8Array([0x7b, 0x7d])), 1007);
    const error = await connect(`ws://127.0.0.1:${port}/rooms/Not%20A%20Room`).catch((e) => e);
    assert.ok(error instanceof WebSocketConnectError);
    assert.equal(error.status, 400);
  } finally {
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});
