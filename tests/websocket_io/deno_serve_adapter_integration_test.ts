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
import { within } from "./_helpers.ts";

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
  for (let i = 0; route.sessions.size < 2 && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
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
