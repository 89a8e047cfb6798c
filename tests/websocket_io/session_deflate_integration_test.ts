// WebSocketSession with permessage-deflate over real sockets: a broadcast compressed once for
// every session with the same settings, order kept behind messages still in the codec,
// close() while the codec works, and an idle compressor freed on the heartbeat.
import assert from "node:assert/strict";
import { type ClientSession, connect } from "../../lib/websocket_io/client.ts";
import type { EndpointSession } from "../../lib/websocket_io/endpoint.ts";
import { PreparedMessage } from "../../lib/websocket_io/prepared_message.ts";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import type { WebSocketServerOptions } from "../../lib/websocket_io/server.ts";
import { WebSocketConnection } from "../../lib/websocket/connection.ts";
import { DeflateCodec } from "../../lib/websocket/deflate_codec.ts";
import { delay, startServer, within } from "./_helpers.ts";

/** A ~16 KiB JSON snapshot, as a hub broadcasts it. */
const SNAPSHOT = JSON.stringify({
  channel: "prices.eu",
  data: Array.from({ length: 90 }, (_, i) => ({
    id: `${1763800000000 + i}-0`,
    symbol: ["ABC", "DEF", "GHI", "JKL"][i % 4],
    bid: 100 + (i % 13) / 4,
    ask: 100.2 + (i % 11) / 4,
    volume: 1000 + ((i * 7919) % 5000),
  })),
});

/** Counts the server's compressions and records the frames queued as pre-encoded. */
function spyOnCompression(): {
  readonly perSession: () => number;
  readonly frames: Uint8Array[];
  restore(): void;
} {
  const encode = DeflateCodec.prototype.encode;
  const compress = DeflateCodec.prototype.compress;
  const sendPreEncoded = WebSocketConnection.prototype.sendPreEncoded;
  let calls = 0;
  const frames: Uint8Array[] = [];
  DeflateCodec.prototype.encode = function (data) {
    if (data.length >= this.threshold) calls++;
    return encode.call(this, data);
  };
  DeflateCodec.prototype.compress = function (data) {
    calls++;
    return compress.call(this, data);
  };
  WebSocketConnection.prototype.sendPreEncoded = function (frame) {
    frames.push(frame);
    return sendPreEncoded.call(this, frame);
  };
  return {
    perSession: () => calls,
    frames,
    restore() {
      DeflateCodec.prototype.encode = encode;
      DeflateCodec.prototype.compress = compress;
      WebSocketConnection.prototype.sendPreEncoded = sendPreEncoded;
    },
  };
}

function room(options: WebSocketServerOptions = {}) {
  const router = new WebSocketRouter();
  const route = router.route("/room", {});
  const server = startServer(router, options);
  return { route, server };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  await within(
    (async () => {
      while (!condition()) await delay(5);
    })(),
    what,
  );
}

/** The first `count` messages of a client (later ones are discarded). */
async function take(
  client: ClientSession,
  count: number,
): Promise<Array<string | Uint8Array>> {
  const out: Array<string | Uint8Array> = [];
  if (count === 0) return out;
  for await (const message of client) {
    out.push(message);
    if (out.length === count) break;
  }
  return out;
}

async function closeAll(clients: ClientSession[]): Promise<void> {
  for (const client of clients) client.close(1000);
  await Promise.all(clients.map((client) => client.closed));
}

Deno.test("SessionGroup.broadcast compresses a 16 KiB message once for every session, and every client inflates it", async () => {
  const { route, server } = room();
  await using _ = server;
  const n = 5;
  const clients = await Promise.all(
    Array.from({ length: n }, () => connect(server.url("/room"))),
  );
  const spy = spyOnCompression();
  try {
    await waitFor(() => route.sessions.size === n, "sessions");
    for (const client of clients) assert.match(client.extensions, /permessage-deflate/);
    const received = clients.map((client) => take(client, 1));
    assert.equal(route.sessions.broadcast(SNAPSHOT), n);
    assert.equal(spy.perSession(), 0, "no session compressed it for itself");
    assert.equal(spy.frames.length, n);
    assert(spy.frames.every((frame) => frame === spy.frames[0]), "one compressed frame");
    assert.equal(spy.frames[0]![0], 0xc1, "FIN, RSV1, text");
    assert(spy.frames[0]!.length < SNAPSHOT.length / 3);
    for (const messages of await Promise.all(received)) assert.deepEqual(messages, [SNAPSHOT]);
  } finally {
    spy.restore();
    await closeAll(clients);
  }
});

Deno.test("SessionGroup.broadcast compresses once per distinct window a client asked for", async () => {
  const { route, server } = room();
  await using _ = server;
  const clients = [
    await connect(server.url("/room")),
    await connect(server.url("/room")),
    await connect(server.url("/room"), { perMessageDeflate: { serverMaxWindowBits: 10 } }),
    await connect(server.url("/room"), { perMessageDeflate: { serverMaxWindowBits: 10 } }),
  ];
  const spy = spyOnCompression();
  try {
    await waitFor(() => route.sessions.size === clients.length, "sessions");
    const received = clients.map((client) => take(client, 1));
    route.sessions.broadcast(SNAPSHOT);
    assert.equal(spy.perSession(), 0);
    assert.equal(new Set(spy.frames).size, 2, "one frame per window size");
    for (const messages of await Promise.all(received)) assert.deepEqual(messages, [SNAPSHOT]);
  } finally {
    spy.restore();
    await closeAll(clients);
  }
});

Deno.test("WebSocketSession.sendPrepared keeps a shared compressed frame behind messages still in the codec", async () => {
  const { route, server } = room();
  await using _ = server;
  const client = await connect(server.url("/room"));
  const spy = spyOnCompression();
  try {
    await waitFor(() => route.sessions.size === 1, "session");
    const [session] = [...route.sessions];
    const received = take(client, 4);
    const own = "own ".repeat(300_000); // still being compressed when the broadcast comes
    session!.send(own);
    route.sessions.broadcast(SNAPSHOT);
    session!.send("small");
    route.sessions.broadcast("tiny");
    assert.deepEqual(await received, [own, SNAPSHOT, "small", "tiny"]);
    assert.equal(spy.perSession(), 1, "only the session's own big message");
    assert.equal(spy.frames.filter((frame) => frame[0] === 0xc1).length, 1);
  } finally {
    spy.restore();
    await closeAll([client]);
  }
});

Deno.test("WebSocketSession.sendPrepared compresses on the session's own window with context takeover", async () => {
  const { route, server } = room({ perMessageDeflate: { serverNoContextTakeover: false } });
  await using _ = server;
  const n = 3;
  const clients = await Promise.all(
    Array.from({ length: n }, () => connect(server.url("/room"))),
  );
  const spy = spyOnCompression();
  try {
    await waitFor(() => route.sessions.size === n, "sessions");
    for (const client of clients) {
      assert.doesNotMatch(client.extensions, /server_no_context_takeover/);
    }
    const received = clients.map((client) => take(client, 3));
    route.sessions.broadcast(SNAPSHOT);
    route.sessions.broadcast("tick");
    route.sessions.broadcast(SNAPSHOT); // refers back to the first copy on each window
    assert.equal(spy.perSession(), 2 * n);
    for (const messages of await Promise.all(received)) {
      assert.deepEqual(messages, [SNAPSHOT, "tick", SNAPSHOT]);
    }
  } finally {
    spy.restore();
    await closeAll(clients);
  }
});

Deno.test("WebSocketSession.close while the codec works: state is closing at once and later sends are dropped", async () => {
  const router = new WebSocketRouter();
  const opened = Promise.withResolvers<EndpointSession>();
  router.route("/*", { open: (session) => opened.resolve(session) });
  await using server = startServer(router);
  const client = await connect(server.url());
  const session = await within(opened.promise, "open");
  const big = "queued ".repeat(100_000);
  assert.equal(session.send(big), true);
  session.close(1000, "bye");
  assert.equal(session.state, "closing", "close() is visible before the codec is done");
  assert.equal(session.send("late"), false, "send after close() reports the drop");
  assert.equal(session.sendPrepared(new PreparedMessage("late broadcast")), false);
  const messages: Array<string | Uint8Array> = [];
  for await (const message of client) messages.push(message);
  assert.deepEqual(messages, [big], "the queued message, then the close frame, nothing else");
  const event = await client.closed;
  assert.equal(event.code, 1000);
  assert.equal(event.reason, "bye");
  assert.equal(event.wasClean, true);
});

Deno.test("WebSocketSession frees an idle compressor on its heartbeat and goes on with a fresh window", async () => {
  const router = new WebSocketRouter();
  const route = router.route("/room", { message: (session, data) => void session.send(data) });
  await using server = startServer(router, {
    perMessageDeflate: {
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      compressorIdleMs: 40,
    },
    pingInterval: 100, // a 25 ms heartbeat
    idleTimeout: 0,
  });
  const client = await connect(server.url("/room"));
  const trim = DeflateCodec.prototype.trim;
  let freed = 0;
  DeflateCodec.prototype.trim = function (now) {
    const done = trim.call(this, now);
    if (done) freed++;
    return done;
  };
  try {
    await waitFor(() => route.sessions.size === 1, "session");
    const [session] = [...route.sessions];
    const messages = Array.from({ length: 6 }, (_, i) => `${SNAPSHOT}#${i}`);
    const received = take(client, messages.length + 1);
    for (const [i, message] of messages.entries()) {
      session!.send(message);
      // Every second message the compressor goes idle and is freed.
      if (i % 2 === 1) await waitFor(() => freed === (i + 1) / 2, "the compressor freed");
    }
    // Echoed: the server's inflater kept its window, its compressor starts afresh.
    client.send(SNAPSHOT);
    assert.deepEqual(await received, [...messages, SNAPSHOT]);
    assert.equal(freed, 3);
  } finally {
    DeflateCodec.prototype.trim = trim;
    await closeAll([client]);
  }
});
