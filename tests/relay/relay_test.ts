import assert from "node:assert/strict";
import { Hub, type HubOptions } from "../../lib/hub/hub.ts";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import { Metrics } from "../../lib/server/metrics.ts";
import { Relay, type RelayOptions } from "../../lib/relay/relay.ts";
import type { RelayConnection } from "../../lib/relay/relay_connection.ts";
import type { RelaySource } from "../../lib/relay/relay_source.ts";
import { GapBroker } from "../_gap_broker.ts";
import { type ParsedDocument, parseDocument } from "./_relay_fixture.ts";

/**
 * Lets pumps woken by a publish write: after a timer turn (the publish's own continuations
 * are done by then), an immediate queued behind the one a pump's `waitForBatch` queued.
 * A timer alone may run before that immediate.
 */
const settle = () => new Promise((resolve) => setTimeout(() => setImmediate(resolve), 0));

function setup(options: Partial<RelayOptions> = {}, hubOptions: HubOptions = {}) {
  const hub = new Hub(hubOptions);
  const relay = new Relay({ source: hub, policyWindowMs: 0, ...options });
  return { hub, relay };
}

/** Opens a connection and writes away its greeting. */
function connect(relay: Relay, now = 0): RelayConnection {
  const conn = relay.open(now)!;
  conn.takeOutgoing(now);
  conn.writeDone(now);
  return conn;
}

/** Takes and acknowledges every pending write; returns the documents. */
function drain(conn: RelayConnection): ParsedDocument[] {
  const docs: ParsedDocument[] = [];
  for (let bytes = conn.takeOutgoing(0); bytes; bytes = conn.takeOutgoing(0)) {
    conn.writeDone(0);
    for (
      let start = 0, nul = bytes.indexOf(0);
      nul >= 0;
      start = nul + 1, nul = bytes.indexOf(0, start)
    ) {
      docs.push(parseDocument(bytes.subarray(start, nul)));
    }
  }
  return docs;
}

const dataOf = (docs: ParsedDocument[]) => docs.map((d) => d.type === "message" ? d.data : d.type);

Deno.test("Relay gives each connection a fresh id, known over HTTP only once greeted", () => {
  const { relay } = setup({ policyWindowMs: 100 });
  const a = relay.open(0)!;
  const b = relay.open(0)!;
  assert.notEqual(a.id, b.id);
  assert.equal(relay.status(a.id, 0), undefined);
  relay.tick(100);
  assert.deepEqual(relay.status(a.id, 100), { id: a.id, state: "open", channels: {} });
  assert.equal(relay.get(a.id), a);
});

Deno.test("Relay turns away connections beyond maxConnections", () => {
  const { relay } = setup({ maxConnections: 2 });
  const a = relay.open(0)!;
  relay.open(0);
  assert.equal(relay.open(0), undefined);
  a.finish();
  relay.release(a, 1);
  assert.ok(relay.open(1) !== undefined);
});

Deno.test("Relay queues live messages in order, encoding each once for every connection", async () => {
  const { hub, relay } = setup();
  const a = connect(relay);
  const b = connect(relay);
  assert.equal((await relay.subscribe(a.id, "news", undefined, 0)).type, "subscribed");
  assert.equal((await relay.subscribe(b.id, "news", undefined, 0)).type, "subscribed");
  await hub.publish("news", "one");
  await settle();
  const bytesA = a.takeOutgoing(0);
  const bytesB = b.takeOutgoing(0);
  assert.ok(bytesA !== undefined);
  assert.equal(bytesA, bytesB, "the very same bytes");
  a.writeDone(0);
  b.writeDone(0);
  await hub.publish("news", "two");
  await hub.publish("news", { three: 3 }, { event: "e" });
  await settle();
  assert.deepEqual(dataOf(drain(a)), ["two", { three: 3 }]);
  await hub.close();
});

Deno.test("Relay replays history after a cursor, then follows live messages", async () => {
  const { hub, relay } = setup();
  const m1 = await hub.publish("feed", 1);
  const m2 = await hub.publish("feed", 2);
  const m3 = await hub.publish("feed", 3);
  const conn = connect(relay);
  const result = await relay.subscribe(conn.id, "feed", m1.id, 0);
  assert.deepEqual(result, { type: "subscribed", channel: "feed", cursor: m1.id });
  const m4 = await hub.publish("feed", 4);
  await settle();
  const docs = drain(conn);
  assert.deepEqual(docs.map((d) => d.type === "message" && d.id), [m2.id, m3.id, m4.id]);
  assert.equal(conn.channels.get("feed"), m4.id);
  await hub.close();
});

Deno.test("Relay queues a <reset/> before history when messages after the cursor were dropped", async () => {
  const { hub, relay } = setup({}, {
    broker: new MemoryBroker({ history: { maxMessages: 2 } }),
  });
  const first = await hub.publish("c", 1);
  for (let i = 2; i <= 5; i++) await hub.publish("c", i);
  const conn = connect(relay);
  await relay.subscribe(conn.id, "c", first.id, 0);
  await settle();
  assert.deepEqual(dataOf(drain(conn)), ["reset", 4, 5]);
  await hub.close();
});

Deno.test("Relay refuses bad channels and cursors, unknown ids and too many channels", async () => {
  const { hub, relay } = setup({ maxChannels: 1 });
  const conn = connect(relay);
  const code = async (p: ReturnType<Relay["subscribe"]>) => {
    const r = await p;
    return r.type === "error" ? `${r.status} ${r.code}` : r.type;
  };
  assert.equal(
    await code(relay.subscribe(conn.id, "bad/name", undefined, 0)),
    "400 RELAY_ERR_BAD_CHANNEL",
  );
  assert.equal(
    await code(relay.subscribe(conn.id, "x".repeat(129), undefined, 0)),
    "400 RELAY_ERR_BAD_CHANNEL",
  );
  assert.equal(await code(relay.subscribe(conn.id, "c", "", 0)), "400 RELAY_ERR_BAD_CURSOR");
  assert.equal(await code(relay.subscribe(conn.id, "c", "\u0000", 0)), "400 RELAY_ERR_BAD_CURSOR");
  assert.equal(await code(relay.subscribe(conn.id, "c", "garbage", 0)), "400 RELAY_ERR_BAD_CURSOR");
  assert.equal(conn.channels.size, 0, "a refused subscription leaves nothing behind");
  assert.equal(
    await code(relay.subscribe("AAAAAAAAAAAAAAAAAAAAAA", "c", undefined, 0)),
    "404 RELAY_ERR_UNKNOWN_ID",
  );
  assert.equal(await code(relay.subscribe(conn.id, "one", undefined, 0)), "subscribed");
  assert.equal(
    await code(relay.subscribe(conn.id, "two", undefined, 0)),
    "409 RELAY_ERR_TOO_MANY_CHANNELS",
  );
  const gone = relay.unsubscribe("AAAAAAAAAAAAAAAAAAAAAA", "one", 0);
  assert.equal(gone.type === "error" && gone.status, 404);
  await hub.close();
});

Deno.test("Relay treats a repeated subscription, even a concurrent one, as one", async () => {
  const { hub, relay } = setup();
  const conn = connect(relay);
  const [a, b] = await Promise.all([
    relay.subscribe(conn.id, "c", undefined, 0),
    relay.subscribe(conn.id, "c", undefined, 0),
  ]);
  assert.equal(a.type, "subscribed");
  assert.deepEqual(a, b);
  assert.equal(hub.stats.subscribers, 1);
  await hub.publish("c", "once");
  await settle();
  assert.deepEqual(dataOf(drain(conn)), ["once"]);
  await hub.close();
});

Deno.test("Relay stops delivering a channel once unsubscribed and ends its hub subscription", async () => {
  const { hub, relay } = setup();
  const conn = connect(relay);
  await relay.subscribe(conn.id, "c", undefined, 0);
  assert.equal(hub.stats.subscribers, 1);
  assert.deepEqual(relay.unsubscribe(conn.id, "c", 0), {
    type: "unsubscribed",
    channel: "c",
    removed: true,
  });
  assert.deepEqual(relay.unsubscribe(conn.id, "c", 0), {
    type: "unsubscribed",
    channel: "c",
    removed: false,
  });
  await hub.publish("c", "missed");
  await settle();
  assert.deepEqual(drain(conn), []);
  assert.equal(hub.stats.subscribers, 0);
  assert.equal(relay.stats().subscriptions, 0);
  await hub.close();
});

Deno.test("Relay keeps a closed connection's cursors for retainMs, then forgets them", async () => {
  const { hub, relay } = setup({ retainMs: 1000 });
  const conn = connect(relay);
  await relay.subscribe(conn.id, "c", undefined, 0);
  const m = await hub.publish("c", 1);
  await settle();
  drain(conn);
  conn.peerClosed();
  relay.release(conn, 500);
  assert.deepEqual(relay.status(conn.id, 600), {
    id: conn.id,
    state: "closed",
    reason: "RELAY_PEER_CLOSED",
    channels: { c: m.id },
  });
  assert.equal(hub.stats.subscribers, 0, "the feed ended with the connection");
  const late = await relay.subscribe(conn.id, "c", undefined, 600);
  assert.equal(late.type === "error" && late.code, "RELAY_ERR_UNKNOWN_ID");
  relay.tick(1500);
  assert.equal(relay.status(conn.id, 1500), undefined);
  assert.equal(relay.stats().retained, 0);
  await hub.close();
});

Deno.test("Relay keeps at most maxRetained closed connections, forgetting the oldest", () => {
  const { relay } = setup({ maxRetained: 2 });
  const conns = [connect(relay), connect(relay), connect(relay)];
  for (const conn of conns) relay.release(conn, 0);
  assert.equal(relay.status(conns[0]!.id, 0), undefined);
  assert.equal(relay.status(conns[1]!.id, 0)?.state, "closed");
  assert.equal(relay.status(conns[2]!.id, 0)?.state, "closed");
});

Deno.test("Relay stops pulling a slow reader's feed and disconnects it when the hub cuts the feed off", async () => {
  const { hub, relay } = setup({ maxQueueMessages: 4 }, { subscriberQueue: { maxMessages: 5 } });
  const conn = connect(relay);
  await relay.subscribe(conn.id, "c", undefined, 0);
  const first = await hub.publish("c", 0);
  await settle();
  conn.takeOutgoing(0);
  conn.writeDone(0); // the client got message 0
  conn.takeOutgoing(0); // then stops reading: nothing more finishes
  for (let i = 1; i <= 20; i++) await hub.publish("c", i);
  await settle();
  assert.ok(conn.pendingMessages <= 3, `pulled ${conn.pendingMessages}, not everything`);
  assert.equal(conn.state, "open");
  relay.tick(1);
  assert.equal(conn.closeReason?.code, "RELAY_ERR_SLOW_READER");
  relay.release(conn, 2);
  assert.deepEqual(relay.status(conn.id, 2)?.channels, { c: first.id });
  assert.equal(relay.stats().slowReaders, 1);
  await hub.close();
});

Deno.test("Relay answers RELAY_ERR_SOURCE when the source fails, and leaves nothing subscribed", async () => {
  const source: RelaySource = { subscribe: () => Promise.reject(new Error("broker down")) };
  const relay = new Relay({ source, policyWindowMs: 0 });
  const conn = connect(relay);
  const result = await relay.subscribe(conn.id, "c", undefined, 0);
  assert.equal(
    result.type === "error" && `${result.status} ${result.code}`,
    "503 RELAY_ERR_SOURCE",
  );
  assert.equal(conn.channels.size, 0);
});

Deno.test("Relay closes a connection whose feed the source ends, and closeAll closes the rest", async () => {
  const { hub, relay } = setup();
  const a = connect(relay);
  const b = connect(relay);
  await relay.subscribe(a.id, "c", undefined, 0);
  await hub.close(); // ends every feed
  await settle();
  assert.equal(a.closeReason?.code, "RELAY_SHUTDOWN");
  assert.equal(b.state, "open");
  relay.closeAll();
  assert.equal(b.closeReason?.code, "RELAY_SHUTDOWN");
});

Deno.test("Relay answers a gap in the source with a <reset/> and what is retained, other channels untouched", async () => {
  const broker = new GapBroker();
  const { hub, relay } = setup({}, { broker });
  const conn = connect(relay);
  await relay.subscribe(conn.id, "c", undefined, 0);
  await relay.subscribe(conn.id, "other", undefined, 0);
  const one = await hub.publish("c", 1);
  await settle();
  assert.deepEqual(dataOf(drain(conn)), [1]);
  broker.gap("c"); // e.g. a Redis restart without persistence
  await hub.publish("c", 2);
  await hub.publish("other", "o");
  const docs: ParsedDocument[] = [];
  for (let i = 0; i < 20 && docs.length < 3; i++) {
    await settle();
    docs.push(...drain(conn));
  }
  assert.equal(conn.state, "open");
  // The reset comes before anything newer on "c"; "other" is a separate, untouched feed.
  const onC = docs.filter((d) => d.type === "reset" || (d.type === "message" && d.channel === "c"));
  assert.deepEqual(dataOf(onC), ["reset", 2]);
  assert.deepEqual(dataOf(docs.filter((d) => d.type === "message" && d.channel === "other")), [
    "o",
  ]);
  assert.notEqual(conn.channels.get("c"), one.id, "the cursor moved on past the reset");
  assert.equal(relay.stats().subscriptions, 2);
  await hub.close();
});

Deno.test("Relay reports connections, delivered and dropped messages to the hub server's Metrics", async () => {
  const { hub } = setup();
  const metrics = new Metrics(hub);
  const relay = new Relay({ source: hub, policyWindowMs: 0, maxQueueMessages: 4, metrics });
  const a = connect(relay);
  const b = connect(relay);
  assert.equal(metrics.connections("relay"), 2);
  await relay.subscribe(a.id, "c", undefined, 0);
  await relay.subscribe(b.id, "c", undefined, 0);
  await hub.publish("c", 1);
  await hub.publish("c", 2);
  await settle();
  drain(a); // a reads both
  b.takeOutgoing(0); // b never finishes its write
  b.enqueue(new Uint8Array(1), "c", "x");
  b.enqueue(new Uint8Array(1), "c", "y");
  b.enqueue(new Uint8Array(1), "c", "z"); // over 4 pending: disconnected, 4 messages dropped
  assert.equal(b.closeReason?.code, "RELAY_ERR_SLOW_READER");
  assert.equal(metrics.delivered, 2);
  assert.match(metrics.render(), /pushwire_messages_dropped_total 4\b/);
  relay.release(a, 1);
  relay.release(b, 1);
  assert.equal(metrics.connections("relay"), 0);
  await hub.close();
});

Deno.test("Relay queues what a feed already holds in one turn, stopping exactly at half the queue", async () => {
  const { hub, relay } = setup({ maxQueueMessages: 8 });
  const start = await hub.publish("c", 0);
  for (let i = 1; i <= 10; i++) await hub.publish("c", i);
  const conn = connect(relay);
  await relay.subscribe(conn.id, "c", start.id, 0);
  await settle();
  assert.equal(conn.pendingMessages, 4); // 4 of 8 is no room: the rest waits in the feed
  const docs: ParsedDocument[] = [];
  for (let round = 0; round < 5 && docs.length < 10; round++) {
    docs.push(...drain(conn));
    await settle();
  }
  assert.deepEqual(dataOf(docs), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  await hub.publish("c", 11);
  await settle();
  assert.deepEqual(dataOf(drain(conn)), [11]);
  await hub.close();
});

Deno.test("Relay pulls a feed without takeQueued one event at a time", async () => {
  const hub = new Hub();
  // A source whose feeds are plain async iterables over the hub's.
  const source: RelaySource = {
    async subscribe(channel, options) {
      const feed = await hub.subscribe(channel, options);
      if (feed.type === "error") return feed;
      return {
        type: "subscription",
        get cursor() {
          return feed.cursor;
        },
        get closeReason() {
          return feed.closeReason;
        },
        close: () => feed.close(),
        [Symbol.asyncIterator]: () => feed[Symbol.asyncIterator](),
      };
    },
  };
  const relay = new Relay({ source, policyWindowMs: 0 });
  const conn = connect(relay);
  await relay.subscribe(conn.id, "c", undefined, 0);
  for (let i = 1; i <= 3; i++) await hub.publish("c", i);
  await settle();
  assert.deepEqual(dataOf(drain(conn)), [1, 2, 3]);
  await hub.close();
});

Deno.test("Relay keeps up with a burst in one turn larger than the hub's subscriber queue", async () => {
  const { hub, relay } = setup({}, { subscriberQueue: { maxMessages: 10 } });
  const conn = connect(relay);
  await relay.subscribe(conn.id, "c", undefined, 0);
  for (let i = 1; i <= 50; i++) await hub.publish("c", i);
  await settle();
  assert.equal(hub.stats.slowConsumers, 0);
  assert.deepEqual(dataOf(drain(conn)), Array.from({ length: 50 }, (_, i) => i + 1));
  await hub.close();
});
