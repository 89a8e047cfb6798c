// Interop with Deno's built-in WebSocket (a client we did not write) against our server, and
// with Deno.upgradeWebSocket (a server we did not write) for our clients: 0 B to 8 MiB text
// and binary messages (exactly 0 B, 125 B, 64 KiB, 8 MiB) and the closing handshake both
// ways. Neither of Deno's ends negotiates permessage-deflate, so every frame is uncompressed;
// a wire tap on our server checks the exact sizes that crossed it.
import assert from "node:assert/strict";
import { connect } from "../../lib/websocket_io/client.ts";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import type { SessionCloseEvent } from "../../lib/websocket_io/session.ts";
import { WebSocketClient } from "../../lib/websocket_io/websocket_client.ts";
import { encoder, startServer, within } from "./_helpers.ts";
import { assertWire, CASES, messageOf } from "./_interop_messages.ts";
import { startTappedServer } from "./_interop_wire_tap.ts";

function messages(): Array<string | Uint8Array> {
  const sent = CASES.map(messageOf);
  sent.forEach((message, i) => {
    const size = typeof message === "string" ? encoder.encode(message).length : message.length;
    assert.equal(size, CASES[i]![1], `message ${i} has its nominal size`);
  });
  return sent;
}

Deno.test("Deno's WebSocket client exchanges 0 B to 8 MiB messages with our server; both close codes arrive", async () => {
  const router = new WebSocketRouter();
  const closed = Promise.withResolvers<SessionCloseEvent>();
  router.route("/echo", {
    message: (session, message) => void session.send(message),
    close: (_s, event) => closed.resolve(event),
  });
  await using server = startTappedServer(router);
  const ws = new WebSocket(server.url("/echo"));
  ws.binaryType = "arraybuffer";
  const sent = messages();
  const received: unknown[] = [];
  const done = new Promise<void>((resolve) => {
    ws.onmessage = (event) => received.push(event.data) === sent.length && resolve();
  });
  await within(new Promise((resolve) => ws.onopen = resolve), "open");
  assert.equal(ws.extensions, "");
  for (const message of sent) ws.send(message as string | Uint8Array<ArrayBuffer>);
  await within(done, "echoes", 30_000);
  received.forEach((data, i) => {
    const expected = sent[i]!;
    if (typeof expected === "string") assert.equal(data, expected, `message ${i}`);
    else assert.deepEqual(new Uint8Array(data as ArrayBuffer), expected, `message ${i}`);
  });
  const closing = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  ws.close(4002, "deno says bye");
  const event = await within(closing, "close");
  assert.equal(event.code, 4002);
  assert(event.wasClean);
  const serverSide = await within(closed.promise, "server close");
  assert.equal(serverSide.reason, "deno says bye");
  const [tap] = server.taps;
  assertWire(tap!.received, CASES, () => false, "from Deno");
  assertWire(tap!.sent, CASES, () => false, "to Deno");
});

Deno.test("Deno's WebSocket client sees our server's close code and reason", async () => {
  const router = new WebSocketRouter();
  router.route("/bye", { message: (session) => session.close(4003, "server says bye") });
  await using server = startServer(router);
  const ws = new WebSocket(server.url("/bye"));
  ws.onopen = () => ws.send("x");
  const event = await within(new Promise<CloseEvent>((resolve) => ws.onclose = resolve), "close");
  assert.equal(event.code, 4003);
  assert.equal(event.reason, "server says bye");
  assert(event.wasClean);
});

function denoEchoServer() {
  const serverClosed = Promise.withResolvers<CloseEvent>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onmessage = (event) => {
      if (event.data === "close-please") socket.close(4004, "deno server bye");
      else socket.send(event.data);
    };
    socket.onclose = (event) => serverClosed.resolve(event);
    return response;
  });
  return { server, serverClosed: serverClosed.promise, url: `ws://127.0.0.1:${server.addr.port}/` };
}

Deno.test("connect() exchanges 0 B to 8 MiB messages with a Deno.upgradeWebSocket server", async () => {
  const { server, serverClosed, url } = denoEchoServer();
  try {
    const client = await connect(url);
    assert.equal(client.extensions, ""); // our offer of permessage-deflate is declined
    const sent = messages();
    for (const message of sent) client.send(message);
    let i = 0;
    for await (const message of client) {
      assert.deepEqual(message, sent[i], `message ${i}: ${CASES[i]!.join(" ")}`);
      if (++i === sent.length) break;
    }
    client.close(1000, "ours");
    const event = await within(client.closed, "close");
    assert.equal(event.code, 1000);
    assert(event.wasClean);
    assert.equal((await within(serverClosed, "server close")).reason, "ours");
  } finally {
    await server.shutdown();
  }
});

Deno.test("WebSocketClient sees a Deno.upgradeWebSocket server's close code and reason", async () => {
  const { server, serverClosed, url } = denoEchoServer();
  try {
    const ws = new WebSocketClient(url);
    ws.onopen = () => ws.send("close-please");
    const event = await within(new Promise<CloseEvent>((resolve) => ws.onclose = resolve), "close");
    assert.equal(event.code, 4004);
    assert.equal(event.reason, "deno server bye");
    assert(event.wasClean);
    await within(serverClosed, "server close");
  } finally {
    await server.shutdown();
  }
});
