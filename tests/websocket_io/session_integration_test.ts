// WebSocketSession's I/O policies over real sockets: backpressure (send's return value,
// bufferedAmount, drained), the slow-consumer policy (1013, bounded memory), heartbeat pings,
// the idle timeout (1006), the close timeout, and ordered, coalesced writes.
import assert from "node:assert/strict";
import { connect } from "../../lib/websocket_io/client.ts";
import type { EndpointSession } from "../../lib/websocket_io/endpoint.ts";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import type { SessionCloseEvent } from "../../lib/websocket_io/session.ts";
import { encodeFrame } from "../../lib/websocket/frame_encoder.ts";
import { closeCodeOf, delay, RawPeer, startServer, within } from "./_helpers.ts";
import { FLOOD_LIMIT, probePongFlood } from "./_pong_flood_probe.ts";
import { PreparedMessage } from "../../lib/websocket_io/prepared_message.ts";

/** A route whose sessions are handed to the test as they open. */
function capturingRouter(): {
  router: WebSocketRouter;
  opened: Promise<EndpointSession>;
  closed: Promise<SessionCloseEvent>;
} {
  const router = new WebSocketRouter();
  const opened = Promise.withResolvers<EndpointSession>();
  const closed = Promise.withResolvers<SessionCloseEvent>();
  router.route("/*", {
    open: (session) => opened.resolve(session),
    close: (_session, event) => closed.resolve(event),
  });
  return { router, opened: opened.promise, closed: closed.promise };
}

const KiB64 = new Uint8Array(64 * 1024);

Deno.test("WebSocketSession.send returns false past highWaterMark and drained() resolves once the peer reads", async () => {
  const { router, opened } = capturingRouter();
  await using server = startServer(router, { highWaterMark: 256 * 1024 });
  const { peer } = await RawPeer.upgrade(server.port);
  try {
    const session = await within(opened, "open");
    let accepted = 0;
    while (session.send(KiB64) && accepted < 1000) accepted++;
    assert(accepted < 1000, "send never reported saturation");
    assert(session.bufferedAmount > 256 * 1024);
    const drained = session.drained();
    // The peer reads every message; the queue then empties.
    for (let i = 0; i <= accepted; i++) {
      const frame = await peer.nextFrame();
      assert.equal(frame?.payload.length, 64 * 1024);
    }
    await within(drained, "drained");
    assert(session.bufferedAmount <= 256 * 1024);
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketSession closes a peer that stops reading with 1013 once over maxBufferedAmount, memory bounded", async () => {
  const { router, opened, closed } = capturingRouter();
  const limit = 2 * 1024 * 1024;
  await using server = startServer(router, { maxBufferedAmount: limit, closeTimeout: 300 });
  const { peer } = await RawPeer.upgrade(server.port); // and never reads again
  try {
    const session = await within(opened, "open");
    let highest = 0;
    let sends = 0;
    // Bounded: the kernel buffers a few MiB on loopback, then the queue must trip the limit.
    while (session.state === "open" && sends < 4000) {
      session.send(KiB64);
      sends++;
      highest = Math.max(highest, session.bufferedAmount);
      if (sends % 16 === 0) await delay(0);
    }
    assert.notEqual(session.state, "open", "the slow consumer was never closed");
    assert(highest <= limit + KiB64.length + 10, `bufferedAmount reached ${highest}`);
    assert(session.bufferedAmount <= limit, "unsent messages were not dropped");
    assert.equal(session.send(KiB64), false);
    const event = await within(closed, "close");
    assert.equal(event.code, 1013);
    assert.equal(event.error?.code, "WS_ERR_SLOW_CONSUMER");
    assert.equal(event.wasClean, false);
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketSession pings a silent peer every pingInterval", async () => {
  const { router } = capturingRouter();
  await using server = startServer(router, { pingInterval: 50, idleTimeout: 0 });
  const { peer } = await RawPeer.upgrade(server.port);
  try {
    const frame = await peer.nextFrame();
    assert.equal(frame?.opcode, 0x9);
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketSession closes a dead peer after idleTimeout and reports 1006", async () => {
  const { router, closed } = capturingRouter();
  await using server = startServer(router, { pingInterval: 50, idleTimeout: 200 });
  const { peer } = await RawPeer.upgrade(server.port); // never answers the pings
  try {
    const event = await within(closed, "close");
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
    assert.equal(event.error?.code, "WS_ERR_IDLE_TIMEOUT");
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketSession keeps a peer that answers pings open past idleTimeout", async () => {
  const { router, opened } = capturingRouter();
  // An idle timeout of many ping intervals: a loaded machine's pause in answering is not death.
  await using server = startServer(router, { pingInterval: 50, idleTimeout: 1_000 });
  const client = await connect(server.url(), { pingInterval: 0, idleTimeout: 0 });
  const session = await within(opened, "open");
  await delay(2_500); // well past idleTimeout
  assert.equal(session.state, "open");
  assert.equal(client.state, "open");
  client.close(1000);
  assert((await client.closed).wasClean);
});

Deno.test("WebSocketSession gives up on a closing handshake the peer never answers after closeTimeout", async () => {
  const { router, opened, closed } = capturingRouter();
  await using server = startServer(router, { closeTimeout: 200 });
  const { peer } = await RawPeer.upgrade(server.port);
  try {
    const session = await within(opened, "open");
    session.close(1000, "bye");
    assert.equal(closeCodeOf(await peer.nextFrame()), 1000); // and no answer
    const event = await within(closed, "close");
    assert.equal(event.code, 1006);
    assert.equal(event.error?.code, "WS_ERR_CLOSE_TIMEOUT");
    assert.equal(session.state, "closed");
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketSession writes many queued small messages intact and in order", async () => {
  const { router, opened } = capturingRouter();
  await using server = startServer(router);
  const client = await connect(server.url());
  const session = await within(opened, "open");
  const count = 2000;
  for (let i = 0; i < count; i++) {
    session.send(i % 2 ? `m${i}` : new Uint8Array([i & 0xff, i >> 8]));
  }
  let i = 0;
  for await (const message of client) {
    if (i % 2) assert.equal(message, `m${i}`);
    else assert.deepEqual(message, new Uint8Array([i & 0xff, i >> 8]));
    if (++i === count) break;
  }
  client.close(1000);
  await client.closed;
});

Deno.test("WebSocketSession answers a ping with a pong carrying the same data", async () => {
  const { router } = capturingRouter();
  await using server = startServer(router);
  const { peer } = await RawPeer.upgrade(server.port);
  try {
    await peer.send(0x9, "are you there");
    const frame = await peer.nextFrame();
    assert.equal(frame?.opcode, 0xa);
    assert.equal(new TextDecoder().decode(frame?.payload), "are you there");
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketSession applies the slow-consumer bound to pongs owed to a peer that pings without reading", async () => {
  const { router, closed } = capturingRouter();
  await using server = startServer(router, { maxBufferedAmount: 64 * 1024, closeTimeout: 200 });
  const { peer } = await RawPeer.upgrade(server.port); // pings, never reads
  let event: SessionCloseEvent | undefined;
  closed.then((e) => event = e);
  const ping = encodeFrame(0x9, new Uint8Array(125), { maskKey: new Uint8Array([1, 2, 3, 4]) });
  const batch = new Uint8Array(ping.length * 1000);
  for (let i = 0; i < 1000; i++) batch.set(ping, i * ping.length);
  try {
    // At most ~26 MiB of pings: far more pongs than the kernel buffers hold.
    for (let i = 0; i < 200 && event === undefined; i++) {
      await peer.write(batch).catch(() => {});
    }
    const result = await within(closed, "close");
    assert.equal(result.code, 1013);
    assert.equal(result.error?.code, "WS_ERR_SLOW_CONSUMER");
  } finally {
    peer.close();
  }
});

Deno.test("WebSocketSession holds memory close to maxBufferedAmount while a peer floods pings and never reads", async () => {
  // 2-byte pongs: held one array entry each, they took ~64 bytes of heap per byte counted.
  const result = await probePongFlood();
  assert.equal(result.code, 1013);
  assert.equal(result.errorCode, "WS_ERR_SLOW_CONSUMER");
  assert(result.bufferedAtPeak > FLOOD_LIMIT / 2, `sampled at ${result.bufferedAtPeak} bytes`);
  assert(
    result.peakHeldBytes < 4 * FLOOD_LIMIT,
    `${result.peakHeldBytes} bytes held for ${result.bufferedAtPeak} bytes of pongs`,
  );
});

/** Messages of every size class the write path treats apart: tiny, up to 16 KiB (copied
 * behind the header), 16 KiB to 128 KiB (joined with their neighbours), larger (written on
 * their own). */
function mixedMessages(count: number): (string | Uint8Array)[] {
  const sizes = [2, 125, 3000, 20_000, 70_000, 200_000, 0, 16_384, 16_385];
  return Array.from({ length: count }, (_, i) => {
    const size = sizes[i % sizes.length]!;
    if (i % 4 === 1) return `t${i}:` + "x".repeat(size);
    return new Uint8Array(size).map((_, j) => (i + j) & 0xff);
  });
}

Deno.test("WebSocketSession writes queued messages of every size intact and in order, both roles", async () => {
  const messages = mixedMessages(120);
  const received: (string | Uint8Array)[] = [];
  const done = Promise.withResolvers<void>();
  const router = new WebSocketRouter();
  router.route("/*", {
    open: (session) => {
      // All queued at once: most wait behind the first write.
      const tick = new PreparedMessage("broadcast");
      for (const message of messages) {
        session.send(message);
        if (typeof message === "string") session.sendPrepared(tick);
      }
    },
    message: (_session, data) => {
      received.push(data);
      if (received.length === messages.length) done.resolve();
    },
  });
  await using server = startServer(router);
  const client = await connect(server.url());
  for (const message of messages) client.send(message);
  let i = 0;
  let broadcasts = 0;
  for await (const message of client) {
    if (message === "broadcast") {
      broadcasts++;
      continue;
    }
    assert.deepEqual(message, messages[i], `message ${i} from the server`);
    if (++i === messages.length && broadcasts === 30) break;
  }
  await within(done.promise, "the server receiving every message");
  for (let j = 0; j < messages.length; j++) {
    assert.deepEqual(received[j], messages[j], `message ${j} from the client`);
  }
  client.close(1000);
  await client.closed;
});
