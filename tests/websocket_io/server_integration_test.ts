// WebSocketServer over real loopback sockets: echo, bounded and strict handshakes, the
// endpoint API (accept/reject, params, cookies, codecs, limits, hooks), broadcast framed
// once, graceful shutdown, wss:// and the one-port upgrade hook.
import assert from "node:assert/strict";
import { serveOnePort } from "../../lib/net/one_port_server.ts";
import { WebSocketConnection } from "../../lib/websocket/connection.ts";
import { encodeFrame } from "../../lib/websocket/frame_encoder.ts";
import { connect } from "../../lib/websocket_io/client.ts";
import { WebSocketConnectError } from "../../lib/websocket_io/connect_error.ts";
import {
  accept,
  jsonCodec,
  reject,
  type WebSocketRequest,
} from "../../lib/websocket_io/endpoint.ts";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import type { SessionCloseEvent } from "../../lib/websocket_io/session.ts";
import {
  closeCodeOf,
  closePayload,
  delay,
  encoder,
  RawPeer,
  startServer,
  testTls,
  upgradeRequest,
  within,
} from "./_helpers.ts";
import { until } from "../_wait.ts";

function echoRouter(): WebSocketRouter {
  const router = new WebSocketRouter();
  router.route("/*", {
    maxMessageSize: 32 * 1024 * 1024,
    message: (session, message) => void session.send(message),
  });
  return router;
}

Deno.test("WebSocketServer echoes text and binary messages of 0 B, 125 B, 64 KiB and 8 MiB", async () => {
  await using server = startServer(echoRouter());
  const client = await connect(server.url("/any/path?x=1"), { maxMessageSize: 16 * 1024 * 1024 });
  const sizes = [0, 125, 64 * 1024, 8 * 1024 * 1024];
  const sent: Array<string | Uint8Array> = [];
  for (const size of sizes) {
    sent.push("é".repeat(size / 2)); // two UTF-8 bytes each: `size` bytes
    sent.push(new Uint8Array(size).map((_, i) => (i * 7) & 0xff));
  }
  for (const message of sent) client.send(message);
  const received: Array<string | Uint8Array> = [];
  for await (const message of client) {
    received.push(message);
    if (received.length === sent.length) break;
  }
  assert.equal(received.length, sent.length);
  for (let i = 0; i < sent.length; i++) assert.deepEqual(received[i], sent[i], `message ${i}`);
  client.close(1000);
  const event = await within(client.closed, "close");
  assert.equal(event.code, 1000);
  assert(event.wasClean);
});

Deno.test("WebSocketServer closes TCP right after echoing the peer's close frame", async () => {
  await using server = startServer(echoRouter());
  const { peer, head } = await RawPeer.upgrade(server.port);
  try {
    assert.equal(head.status, 101);
    await peer.send(0x8, closePayload(1000, "bye"));
    const frame = await peer.nextFrame();
    assert.equal(closeCodeOf(frame), 1000);
    assert.equal(await peer.nextFrame(), undefined); // EOF: the server closed TCP
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketServer fails a connection with 1007 on invalid UTF-8 and closes TCP", async () => {
  await using server = startServer(echoRouter());
  const { peer } = await RawPeer.upgrade(server.port);
  try {
    await peer.send(0x1, new Uint8Array([0xce, 0xba, 0xe1, 0xbd]), false); // valid so far
    await peer.send(0x0, new Uint8Array([0xff])); // never valid
    assert.equal(closeCodeOf(await peer.nextFrame()), 1007);
    assert.equal(await peer.nextFrame(), undefined);
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketServer closes with 1009 when a message exceeds the endpoint's maxMessageSize", async () => {
  const router = new WebSocketRouter();
  const closed = Promise.withResolvers<SessionCloseEvent>();
  router.route("/small", {
    maxMessageSize: 1000,
    message: (session, message) => void session.send(message),
    close: (_session, event) => closed.resolve(event),
  });
  await using server = startServer(router);
  const { peer } = await RawPeer.upgrade(server.port, "/small");
  try {
    await peer.send(0x2, new Uint8Array(1000));
    assert.equal((await peer.nextFrame())?.payload.length, 1000);
    await peer.send(0x2, new Uint8Array(1001));
    assert.equal(closeCodeOf(await peer.nextFrame()), 1009);
    const event = await within(closed.promise, "close hook");
    assert.equal(event.code, 1009);
    assert.equal(event.error?.code, "WS_ERR_FRAME_TOO_BIG"); // refused from its header
  } finally {
    peer.close();
  }
});

async function httpAnswer(port: number, request: string): Promise<string> {
  const peer = await RawPeer.connect(port);
  try {
    await peer.write(encoder.encode(request));
    return await peer.readToEnd();
  } finally {
    peer.close();
  }
}

Deno.test("WebSocketServer answers 404 when no route matches the path", async () => {
  const router = new WebSocketRouter();
  router.route("/rooms/:room", {});
  await using server = startServer(router);
  const answer = await httpAnswer(server.port, upgradeRequest("/nowhere"));
  assert.match(answer, /^HTTP\/1\.1 404 Not Found\r\n/);
  assert.match(answer, /no endpoint at \/nowhere/);
});

Deno.test("WebSocketServer answers 403 to an Origin outside allowedOrigins and accepts listed ones", async () => {
  await using server = startServer(echoRouter(), { allowedOrigins: ["https://app.example"] });
  const refused = await httpAnswer(
    server.port,
    upgradeRequest("/", { Origin: "https://evil.example" }),
  );
  assert.match(refused, /^HTTP\/1\.1 403 Forbidden\r\n/);
  assert.doesNotMatch(refused, /Sec-WebSocket-Accept/i);
  const { peer, head } = await RawPeer.upgrade(server.port, "/", { Origin: "https://APP.example" });
  peer.close();
  assert.equal(head.status, 101);
});

Deno.test("WebSocketServer answers 431 to a request head over maxHeadSize", async () => {
  await using server = startServer(echoRouter(), { maxHeadSize: 1024 });
  const answer = await httpAnswer(server.port, upgradeRequest("/", { "X-Pad": "a".repeat(2000) }));
  assert.match(answer, /^HTTP\/1\.1 431 /);
});

Deno.test("WebSocketServer answers 408 and closes when the head is not complete within handshakeTimeout", async () => {
  await using server = startServer(echoRouter(), { handshakeTimeout: 200 });
  const peer = await RawPeer.connect(server.port);
  try {
    await peer.write(encoder.encode("GET / HTTP/1.1\r\nHost: a\r\n")); // and then nothing
    const answer = await peer.readToEnd();
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  } finally {
    peer.close();
  }
  await until(() => server.server.connections === 0, "the timed-out connection to be released");
});

Deno.test("WebSocketServer answers 426 to a request that is not an upgrade and 400 to a malformed head", async () => {
  await using server = startServer(echoRouter());
  const plain = await httpAnswer(server.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.match(plain, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
  const folded = await httpAnswer(server.port, "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n");
  assert.match(folded, /^HTTP\/1\.1 400 Bad Request\r\n/);
});

Deno.test("WebSocketServer answers 503 beyond maxConnections", async () => {
  await using server = startServer(echoRouter(), { maxConnections: 1 });
  const { peer, head } = await RawPeer.upgrade(server.port);
  try {
    assert.equal(head.status, 101);
    const answer = await httpAnswer(server.port, upgradeRequest());
    assert.match(answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketServer runs accept with params, cookies, origin and subprotocols before the 101", async () => {
  const router = new WebSocketRouter();
  const seen: WebSocketRequest[] = [];
  router.route("/rooms/:room", {
    protocols: ["chat.v2", "chat.v1"],
    accept: (request) => {
      seen.push(request);
      if (request.cookies.get("session") !== "ok") return reject(401, "Cannot join: log in first");
      return accept({ headers: { "Set-Cookie": "seen=1" }, data: { user: "ada" } });
    },
    open: (session) =>
      void session.send(`${session.params.room}:${(session.data as { user: string }).user}`),
  });
  await using server = startServer(router);
  const refused = await httpAnswer(server.port, upgradeRequest("/rooms/lobby"));
  assert.match(refused, /^HTTP\/1\.1 401 Unauthorized\r\n/);
  assert.match(refused, /Cannot join: log in first/);

  const client = await connect(server.url("/rooms/caf%C3%A9?x=1"), {
    protocols: ["chat.v1", "chat.v2"],
    origin: "https://app.example",
    headers: { Cookie: "a=1; session=ok" },
  });
  assert.equal(client.protocol, "chat.v2"); // the server's preference
  for await (const message of client) {
    assert.equal(message, "café:ada");
    break;
  }
  client.close(1000);
  await client.closed;
  const request = seen[1]!;
  assert.deepEqual(request.params, { room: "café" });
  assert.equal(request.url.searchParams.get("x"), "1");
  assert.equal(request.url.protocol, "ws:");
  assert.equal(request.origin, "https://app.example");
  assert.deepEqual(request.protocols, ["chat.v1", "chat.v2"]);
  assert.equal(request.cookies.get("a"), "1");
});

Deno.test("WebSocketServer answers 500 when accept throws and 408 when it is too slow", async () => {
  const router = new WebSocketRouter();
  const errors: unknown[] = [];
  router.route("/throws", {
    accept: () => {
      throw new Error("boom");
    },
  });
  router.route("/slow", { accept: () => new Promise<undefined>(() => {}) });
  await using server = startServer(router, {
    handshakeTimeout: 300,
    onError: (error) => errors.push(error),
  });
  assert.match(await httpAnswer(server.port, upgradeRequest("/throws")), /^HTTP\/1\.1 500 /);
  assert.equal((errors[0] as Error).message, "boom");
  assert.match(await httpAnswer(server.port, upgradeRequest("/slow")), /^HTTP\/1\.1 408 /);
});

Deno.test("WebSocketServer decodes and encodes with a JSON codec and closes with 1007 on undecodable input", async () => {
  const router = new WebSocketRouter();
  const errors: unknown[] = [];
  router.route("/json", {
    codec: jsonCodec<{ n: number }>(),
    message: (session, message) => void session.send({ n: message.n + 1 }),
    error: (_session, error) => void errors.push(error),
  });
  await using server = startServer(router);
  const { peer } = await RawPeer.upgrade(server.port, "/json");
  try {
    await peer.send(0x1, '{"n":41}');
    const reply = await peer.nextFrame();
    assert.equal(new TextDecoder().decode(reply?.payload), '{"n":42}');
    await peer.send(0x1, "not json");
    assert.equal(closeCodeOf(await peer.nextFrame()), 1007);
    assert(errors[0] instanceof SyntaxError);
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketServer closes with 1011 when the message hook throws, reporting to error", async () => {
  const router = new WebSocketRouter();
  const errors: unknown[] = [];
  const closed = Promise.withResolvers<SessionCloseEvent>();
  router.route("/*", {
    message: () => {
      throw new Error("handler bug");
    },
    error: (_session, error) => void errors.push(error),
    close: (_session, event) => closed.resolve(event),
  });
  await using server = startServer(router);
  const { peer } = await RawPeer.upgrade(server.port);
  try {
    await peer.send(0x1, "x");
    assert.equal(closeCodeOf(await peer.nextFrame()), 1011);
    await peer.send(0x8, closePayload(1011));
    const event = await within(closed.promise, "close hook");
    assert.equal(event.code, 1011);
    assert.equal(event.error?.code, "WS_ERR_HANDLER");
    assert.equal((errors[0] as Error).message, "handler bug");
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketServer delivers messages one at a time, awaiting the message hook", async () => {
  const router = new WebSocketRouter();
  const log: string[] = [];
  router.route("/*", {
    message: async (session, message) => {
      log.push(`start ${message}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      log.push(`end ${message}`);
      session.send(message);
    },
  });
  await using server = startServer(router);
  const client = await connect(server.url());
  client.send("a");
  client.send("b");
  let count = 0;
  for await (const _ of client) if (++count === 2) break;
  client.close(1000);
  await client.closed;
  assert.deepEqual(log, ["start a", "end a", "start b", "end b"]);
});

Deno.test("SessionGroup.broadcast on a route frames the message once for every session", async () => {
  const router = new WebSocketRouter();
  const route = router.route("/room", {});
  await using server = startServer(router);
  const clients = await Promise.all([1, 2, 3].map(() => connect(server.url("/room"))));
  await until(() => route.sessions.size === 3, "the three sessions");
  assert.equal(router.sessions.size, 3);
  const original = WebSocketConnection.encodeMessage;
  let encodes = 0;
  WebSocketConnection.encodeMessage = (...args) => {
    encodes++;
    return original(...args);
  };
  try {
    assert.equal(route.sessions.broadcast("news"), 3);
  } finally {
    WebSocketConnection.encodeMessage = original;
  }
  assert.equal(encodes, 1);
  for (const client of clients) {
    for await (const message of client) {
      assert.equal(message, "news");
      break;
    }
    client.close(1000);
    await client.closed;
  }
  await until(() => route.sessions.size === 0, "the sessions to close");
});

Deno.test("WebSocketServer.shutdown closes every session with 1001 and waits for the close handshakes", async () => {
  const router = echoRouter();
  const server = startServer(router);
  const clients = await Promise.all([1, 2].map(() => connect(server.url())));
  await server.close();
  for (const client of clients) {
    const event = await within(client.closed, "client close");
    assert.equal(event.code, 1001);
    assert.equal(event.reason, "server shutting down");
    assert(event.wasClean);
  }
  assert.equal(server.server.connections, 0);
  await assert.rejects(connect(server.url()));
});

Deno.test("WebSocketServer serves wss:// with Deno.listenTls", async () => {
  const tls = await testTls();
  await using server = startServer(echoRouter(), {}, { cert: tls.cert, key: tls.key });
  const client = await connect(server.url("/secure"), { caCerts: [tls.ca] });
  client.send("over TLS");
  for await (const message of client) {
    assert.equal(message, "over TLS");
    break;
  }
  client.close(1000);
  assert((await client.closed).wasClean);
});

Deno.test("WebSocketServer.handleUpgrade serves WebSocket on the one-port server next to plain HTTP", async () => {
  const router = echoRouter();
  const { WebSocketServer } = await import("../../lib/websocket_io/server.ts");
  const ws = new WebSocketServer(router);
  const http = serveOnePort({ hostname: "127.0.0.1", port: 0 }, {
    fetch: () => new Response("plain"),
    upgrade: ws.handleUpgrade,
  });
  try {
    const response = await fetch(`http://127.0.0.1:${http.addr.port}/`);
    assert.equal(await response.text(), "plain");
    const client = await connect(`ws://127.0.0.1:${http.addr.port}/ws`);
    client.send("same port");
    for await (const message of client) {
      assert.equal(message, "same port");
      break;
    }
    client.close(1000);
    assert((await client.closed).wasClean);
  } finally {
    await http.shutdown();
    await ws.shutdown();
  }
});

Deno.test("WebSocketServer.shutdown does not wait forever for an open hook that never settles", async () => {
  const router = new WebSocketRouter();
  const closed = Promise.withResolvers<SessionCloseEvent>();
  router.route("/*", {
    open: () => new Promise<void>(() => {}),
    close: (_session, event) => closed.resolve(event),
  });
  const server = startServer(router, { closeTimeout: 200 });
  const { peer, head } = await RawPeer.upgrade(server.port);
  try {
    assert.equal(head.status, 101);
    await within(server.server.shutdown({ timeout: 200 }), "shutdown");
    assert.equal(closeCodeOf(await peer.nextFrame()), 1001);
    assert.equal((await within(closed.promise, "close hook")).code, 1006);
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketServer reads a frame that arrived in the same packet as the upgrade head", async () => {
  await using server = startServer(echoRouter());
  const peer = await RawPeer.connect(server.port);
  try {
    const frame = encodeFrame(0x1, encoder.encode("eager"), { mask: true });
    await peer.write(new Uint8Array([...encoder.encode(upgradeRequest("/")), ...frame]));
    const { head, rest } = await peer.readHead();
    assert.equal(head.status, 101);
    peer.feed(rest);
    assert.equal(new TextDecoder().decode((await peer.nextFrame())?.payload), "eager");
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketServer.shutdown answers 503 to a handshake whose accept decision ends during shutdown, and waits for it", async () => {
  const router = new WebSocketRouter();
  const deciding = Promise.withResolvers<void>();
  let decided = false;
  router.route("/*", {
    accept: async () => {
      deciding.resolve();
      await delay(300);
      decided = true;
      return undefined;
    },
    message: (session, message) => void session.send(message),
  });
  const server = startServer(router);
  const outcome = connect(server.url("/x")).catch((error: unknown) => error);
  await within(deciding.promise, "accept");
  // A deadline far past the 300 ms decision: shutdown must wait for it, however loaded.
  await within(server.server.shutdown({ timeout: 30_000 }), "shutdown", 60_000);
  assert(decided, "shutdown resolved before the accept decision");
  assert.equal(server.server.connections, 0);
  assert.equal(router.sessions.size, 0);
  const error = await within(outcome, "client");
  assert(error instanceof WebSocketConnectError, `expected a refusal, got ${error}`);
  assert.equal(error.status, 503);
});

Deno.test("WebSocketServer.shutdown closes the handshakes still under way at its deadline", async () => {
  const router = new WebSocketRouter();
  const deciding = Promise.withResolvers<void>();
  router.route("/*", {
    accept: () => {
      deciding.resolve();
      return new Promise<undefined>(() => {}); // never decides
    },
  });
  // Far past the shutdown deadline: only that deadline can end these handshakes in time.
  const server = startServer(router, { handshakeTimeout: 120_000 });
  const undecided = await RawPeer.connect(server.port);
  const slowHead = await RawPeer.connect(server.port);
  try {
    await undecided.write(encoder.encode(upgradeRequest("/x")));
    await slowHead.write(encoder.encode("GET /x HTTP/1.1\r\nHost: a\r\n")); // and then nothing
    await within(deciding.promise, "accept");
    await until(() => server.server.connections === 2, "both connections");
    const started = Date.now();
    await within(server.server.shutdown({ timeout: 200 }), "shutdown");
    const elapsed = Date.now() - started;
    // At the 200 ms deadline, far before the handshake timeout (the upper bound allows load).
    assert(elapsed >= 190 && elapsed < 30_000, `shutdown took ${elapsed} ms`);
    assert.equal(server.server.connections, 0);
    assert.equal(await undecided.readToEnd(), ""); // closed, no 101
    assert.equal(await slowHead.readToEnd(), "");
  } finally {
    undecided.close();
    slowHead.close();
  }
});
