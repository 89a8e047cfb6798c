// The same endpoints on Deno.serve through DenoServeAdapter: routing, origin policy, accept,
// codecs, limits, groups and graceful shutdown, with our client and Deno's.
import assert from "node:assert/strict";
import { connect } from "../../lib/websocket_io/client.ts";
import { WebSocketConnectError } from "../../lib/websocket_io/connect_error.ts";
import {
  DenoServeAdapter,
  type DenoServeAdapterOptions,
} from "../../lib/websocket_io/deno_serve_adapter.ts";
import { accept, jsonCodec, reject } from "../../lib/websocket_io/endpoint.ts";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import type { SessionCloseEvent } from "../../lib/websocket_io/session.ts";
import { delay, RawPeer, within } from "./_helpers.ts";
import { until } from "../_wait.ts";

function serve(router: WebSocketRouter, options: DenoServeAdapterOptions = {}) {
  const adapter = new DenoServeAdapter(router, options);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request, info) =>
      request.headers.get("upgrade")?.toLowerCase() === "websocket"
        ? adapter.handle(request, info)
        : new Response("plain"),
  );
  return {
    adapter,
    server,
    port: server.addr.port,
    url: (path: string) => `ws://127.0.0.1:${server.addr.port}${path}`,
    async [Symbol.asyncDispose]() {
      await adapter.shutdown(2000);
      await server.shutdown();
    },
  };
}

Deno.test("DenoServeAdapter runs an endpoint with params, accept data and a JSON codec", async () => {
  const router = new WebSocketRouter();
  router.route("/rooms/:room", {
    codec: jsonCodec<{ n: number }, { room: string; n: number; user: string }>(),
    accept: (request) =>
      request.cookies.get("user") === undefined
        ? reject(401, "Cannot join: who are you?")
        : accept({ data: request.cookies.get("user") }),
    message: (session, message) =>
      void session.send({
        room: session.params.room!,
        n: message.n * 2,
        user: String(session.data),
      }),
  });
  await using server = serve(router);
  const refused = await connect(server.url("/rooms/a")).catch((e) => e);
  assert(refused instanceof WebSocketConnectError && refused.status === 401);
  const client = await connect(server.url("/rooms/a"), { headers: { Cookie: "user=ada" } });
  client.send('{"n":21}');
  for await (const message of client) {
    assert.deepEqual(JSON.parse(message as string), { room: "a", n: 42, user: "ada" });
    break;
  }
  client.close(1000);
  assert((await client.closed).wasClean);
});

Deno.test("DenoServeAdapter answers 403 for a disallowed Origin and 404 for an unknown path", async () => {
  const router = new WebSocketRouter();
  router.route("/ok", {});
  await using server = serve(router, { allowedOrigins: ["https://good.example"] });
  const forbidden = await connect(server.url("/ok"), { origin: "https://evil.example" }).catch((
    e,
  ) => e);
  assert.equal(forbidden.status, 403);
  const missing = await connect(server.url("/missing")).catch((e) => e);
  assert.equal(missing.status, 404);
  const client = await connect(server.url("/ok"), { origin: "https://good.example" });
  client.close(1000);
  await client.closed;
});

Deno.test("DenoServeAdapter closes with 1009 above maxMessageSize and broadcasts to a route's sessions", async () => {
  const router = new WebSocketRouter();
  const closed = Promise.withResolvers<SessionCloseEvent>();
  const route = router.route("/r", {
    maxMessageSize: 10,
    close: (_s, event) => closed.resolve(event),
  });
  await using server = serve(router);
  const a = await connect(server.url("/r"));
  const b = await connect(server.url("/r"));
  await until(() => route.sessions.size === 2, "both sessions");
  assert.equal(route.sessions.broadcast("all"), 2);
  for (const client of [a, b]) {
    for await (const message of client) {
      assert.equal(message, "all");
      break;
    }
  }
  a.send("this is more than ten bytes");
  assert.equal((await within(a.closed, "close")).code, 1009);
  assert.equal((await within(closed.promise, "close hook")).code, 1009);
  b.close(1000);
  await b.closed;
});

Deno.test("DenoServeAdapter.shutdown closes sessions with 1001", async () => {
  const router = new WebSocketRouter();
  router.route("/*", {});
  const server = serve(router);
  const ws = new WebSocket(server.url("/x"));
  await within(new Promise((resolve) => ws.onopen = resolve), "open");
  const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  await server[Symbol.asyncDispose]();
  const event = await within(closed, "close");
  assert.equal(event.code, 1001);
});

Deno.test("DenoServeAdapter.shutdown answers 503 to an upgrade whose accept decision ends during shutdown, and waits for it", async () => {
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
  await using server = serve(router);
  const outcome = connect(server.url("/x")).catch((error: unknown) => error);
  await within(deciding.promise, "accept");
  // A deadline far past the 300 ms decision: shutdown must wait for it, however loaded.
  await within(server.adapter.shutdown(30_000), "shutdown", 60_000);
  assert(decided, "shutdown resolved before the accept decision");
  assert.equal(router.sessions.size, 0);
  const error = await within(outcome, "client");
  assert(error instanceof WebSocketConnectError, `expected a refusal, got ${error}`);
  assert.equal(error.status, 503);
});

Deno.test("DenoServeAdapter.shutdown closes with 1001 a session Deno had not opened yet", async () => {
  const router = new WebSocketRouter();
  const opened: string[] = [];
  router.route("/*", { open: (session) => void opened.push(session.request.url.pathname) });
  const adapter = new DenoServeAdapter(router);
  let shutdown: Promise<void> | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const response = await adapter.handle(request);
    shutdown ??= adapter.shutdown(2000); // after the 101 is decided, before Deno opens it
    return response;
  });
  try {
    const client = await connect(`ws://127.0.0.1:${server.addr.port}/late`);
    const event = await within(client.closed, "client close");
    assert.equal(event.code, 1001);
    await within(shutdown!, "shutdown");
    assert.equal(router.sessions.size, 0);
    assert.deepEqual(opened, []); // the endpoint never saw it open
  } finally {
    await shutdown;
    await server.shutdown();
  }
});

Deno.test("DenoServeAdapter.shutdown gives up at its deadline on a session whose peer never answers the close", async () => {
  const router = new WebSocketRouter();
  const opened = Promise.withResolvers<void>();
  const closed = Promise.withResolvers<SessionCloseEvent>();
  router.route("/*", {
    open: () => opened.resolve(),
    close: (_session, event) => closed.resolve(event),
  });
  const server = serve(router);
  const { peer, head } = await RawPeer.upgrade(server.port, "/silent");
  try {
    assert.equal(head.status, 101);
    await within(opened.promise, "open");
    const started = Date.now();
    await within(server.adapter.shutdown(200), "shutdown");
    const elapsed = Date.now() - started;
    // At the 200 ms deadline: the peer never answers (the upper bound allows load).
    assert(elapsed >= 190 && elapsed < 30_000, `shutdown took ${elapsed} ms`);
    const event = await within(closed.promise, "close hook");
    assert.equal(event.code, 1006);
    assert.equal(event.initiator, "local");
    assert.equal(event.error?.code, "WS_ERR_CLOSE_TIMEOUT");
    assert.equal(router.sessions.size, 0);
    assert.equal((await peer.nextFrame())?.opcode, 0x8); // the 1001 it never answered
  } finally {
    await server.server.shutdown(); // Deno ends the TCP connection it kept
    peer.close();
  }
});

Deno.test("DenoServeAdapter counts upgrades whose accept decision is under way against maxConnections", async () => {
  const router = new WebSocketRouter();
  const deciding = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  router.route("/*", {
    accept: async () => {
      deciding.resolve();
      await gate.promise;
      return undefined;
    },
  });
  await using server = serve(router, { maxConnections: 1 });
  const first = connect(server.url("/a"));
  try {
    await within(deciding.promise, "accept");
    const refused = await within(connect(server.url("/b")).catch((e: unknown) => e), "second");
    assert(refused instanceof WebSocketConnectError, `expected a refusal, got ${refused}`);
    assert.equal(refused.status, 503);
  } finally {
    gate.resolve();
  }
  const client = await within(first, "first");
  client.close(1000);
  assert((await within(client.closed, "close")).wasClean);
});

async function queueOverflow(
  options: DenoServeAdapterOptions,
  sizes: readonly number[],
): Promise<
  { seen: number[]; event: SessionCloseEvent; peerCode: number; openBeforeLast: boolean }
> {
  const router = new WebSocketRouter();
  const busy = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const closed = Promise.withResolvers<SessionCloseEvent>();
  const seen: number[] = [];
  router.route("/*", {
    async message(_session, message) {
      seen.push((message as string).length);
      busy.resolve();
      await release.promise;
    },
    close: (_session, event) => closed.resolve(event),
  });
  await using server = serve(router, options);
  const client = await connect(server.url("/q"));
  try {
    client.send("x".repeat(sizes[0]!));
    await within(busy.promise, "message hook"); // from now on every message waits
    for (const size of sizes.slice(1, -1)) client.send("x".repeat(size));
    await delay(100);
    const openBeforeLast = client.state === "open";
    client.send("x".repeat(sizes.at(-1)!));
    const peerCode = (await within(client.closed, "client close")).code;
    release.resolve();
    return { seen, event: await within(closed.promise, "close hook"), peerCode, openBeforeLast };
  } finally {
    release.resolve();
    client.abort();
  }
}

Deno.test("DenoServeAdapter closes with 1013 once more than maxQueuedMessages wait for the message hook", async () => {
  const result = await queueOverflow({ maxQueuedMessages: 3 }, [1, 1, 1, 1, 1]);
  assert(result.openBeforeLast, "closed with only maxQueuedMessages waiting");
  assert.equal(result.peerCode, 1013);
  assert.equal(result.event.code, 1013);
  assert.equal(result.event.reason, "too many messages waiting");
  assert.equal(result.event.initiator, "local");
  assert.deepEqual(result.seen, [1]); // the waiting messages were dropped
});

Deno.test("DenoServeAdapter closes with 1013 once the waiting messages exceed maxQueuedBytes", async () => {
  // The first is bigger than the bound: nothing waited when it came, so it is taken.
  const result = await queueOverflow({ maxQueuedBytes: 100 }, [200, 60, 40, 1]);
  assert(result.openBeforeLast, "closed with only maxQueuedBytes waiting");
  assert.equal(result.peerCode, 1013);
  assert.equal(result.event.code, 1013);
  assert.deepEqual(result.seen, [200]);
});

Deno.test("DenoServeAdapter refuses queue limits that are not positive", () => {
  const router = new WebSocketRouter();
  assert.throws(() => new DenoServeAdapter(router, { maxQueuedMessages: 0 }), RangeError);
  assert.throws(() => new DenoServeAdapter(router, { maxQueuedBytes: -1 }), RangeError);
});
