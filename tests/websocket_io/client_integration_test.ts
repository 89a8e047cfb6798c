// connect() and ClientSession over real sockets: iteration, handshake failures as
// WebSocketConnectError, the handshake timeout, wss://, and the client's side of the close
// (it waits for the server to close TCP).
import assert from "node:assert/strict";
import { connect } from "../../lib/websocket_io/client.ts";
import { WebSocketConnectError } from "../../lib/websocket_io/connect_error.ts";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import { encoder, startServer, testTls, within } from "./_helpers.ts";
import { computeAcceptKey } from "../../lib/websocket/handshake.ts";
import { HeadParser } from "../../lib/http/head_parser.ts";
import { FrameDecoder } from "../../lib/websocket/frame_decoder.ts";
import { encodeFrame } from "../../lib/websocket/frame_encoder.ts";

function echoRouter(): WebSocketRouter {
  const router = new WebSocketRouter();
  router.route("/echo", { message: (session, message) => void session.send(message) });
  return router;
}

Deno.test("connect() rejects with WebSocketConnectError carrying the status when the server refuses", async () => {
  await using server = startServer(echoRouter());
  const error = await connect(server.url("/missing")).catch((e) => e);
  assert(error instanceof WebSocketConnectError);
  assert.equal(error.code, "WS_ERR_HANDSHAKE_STATUS");
  assert.equal(error.status, 404);
});

Deno.test("connect() rejects a URL that is not ws:, wss:, http: or https:", async () => {
  await assert.rejects(connect("ftp://127.0.0.1/"), SyntaxError);
  await assert.rejects(connect("ws://127.0.0.1/#frag"), SyntaxError);
});

Deno.test("connect() rejects with WS_ERR_CONNECT_TIMEOUT when the server never answers", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  try {
    const error = await connect(`ws://127.0.0.1:${listener.addr.port}/`, { handshakeTimeout: 200 })
      .catch((e) => e);
    assert(error instanceof WebSocketConnectError);
    assert.equal(error.code, "WS_ERR_CONNECT_TIMEOUT");
  } finally {
    (await accepted).close();
    listener.close();
  }
});

Deno.test("connect() rejects a 101 with a wrong Sec-WebSocket-Accept", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    await conn.read(new Uint8Array(4096));
    await conn.write(encoder.encode(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
    ));
    await conn.read(new Uint8Array(16)).catch(() => null);
    conn.close();
  })();
  try {
    const error = await connect(`ws://127.0.0.1:${listener.addr.port}/`).catch((e) => e);
    assert(error instanceof WebSocketConnectError);
    assert.equal(error.code, "WS_ERR_HANDSHAKE_ACCEPT");
  } finally {
    await serving;
    listener.close();
  }
});

Deno.test("ClientSession masks its frames, reads frames sent with the 101 and waits for the server's TCP close", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const log: string[] = [];
  const serving = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(4096);
    const parser = new HeadParser({ kind: "request" });
    let event;
    while (event === undefined) {
      const n = await conn.read(buffer);
      event = parser.receive(buffer.subarray(0, n!));
    }
    assert(event.type === "head");
    const accept = await computeAcceptKey(event.head.headers.get("sec-websocket-key")!);
    // The 101 and a first message in one write: the client must not lose the frame.
    await conn.write(
      new Uint8Array([
        ...encoder.encode(
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
        ),
        ...encodeFrame(0x1, encoder.encode("early")),
      ]),
    );
    const decoder = new FrameDecoder({ role: "server" }); // throws on an unmasked frame
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      decoder.receive(buffer.slice(0, n));
      let decoded = decoder.next();
      while (decoded?.type === "frame") {
        log.push(`frame ${decoded.frame.opcode}`);
        if (decoded.frame.opcode === 0x8) {
          await conn.write(encodeFrame(0x8, decoded.frame.payload));
          await new Promise((resolve) => setTimeout(resolve, 100));
          log.push("server closes TCP");
          conn.close();
          return;
        }
        decoded = decoder.next();
      }
      assert.notEqual(decoded?.type, "error");
    }
  })();
  try {
    const client = await connect(`ws://127.0.0.1:${listener.addr.port}/`);
    for await (const message of client) {
      assert.equal(message, "early");
      break;
    }
    client.send("masked");
    client.close(1000);
    const event = await within(client.closed, "close");
    log.push("client closed");
    assert(event.wasClean);
    assert.deepEqual(log, ["frame 1", "frame 8", "server closes TCP", "client closed"]);
  } finally {
    await serving;
    listener.close();
  }
});

Deno.test("connect() speaks wss:// with a test CA", async () => {
  const tls = await testTls();
  await using server = startServer(echoRouter(), {}, { cert: tls.cert, key: tls.key });
  const client = await connect(server.url("/echo"), { caCerts: [tls.ca] });
  client.send(new Uint8Array([1, 2, 3]));
  for await (const message of client) {
    assert.deepEqual(message, new Uint8Array([1, 2, 3]));
    break;
  }
  client.close(1000);
  assert((await client.closed).wasClean);
});

Deno.test("ClientSession pauses reading when maxQueuedMessages are waiting and resumes as they are taken", async () => {
  const router = new WebSocketRouter();
  router.route("/burst", {
    open: (session) => {
      for (let i = 0; i < 100; i++) session.send(`${i}`);
    },
  });
  await using server = startServer(router);
  const client = await connect(server.url("/burst"), { maxQueuedMessages: 4 });
  let expected = 0;
  for await (const message of client) {
    assert.equal(message, `${expected}`);
    if (++expected === 100) break;
  }
  client.close(1000);
  assert((await client.closed).wasClean);
});
