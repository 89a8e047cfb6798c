// The socket relay on several nodes: each node is a hub on one throwaway redis-server with its
// own relay (TCP) and relay HTTP handler. Plugin-socket clients on one node get what is
// published on another, once and in order, resume on a third by message id, and are told
// (`<reset/>`) when a Redis restart without persistence lost messages.
import assert from "node:assert/strict";
import { Hub } from "../../lib/hub/hub.ts";
import { RedisBroker } from "../../lib/hub/redis_broker.ts";
import { type RedisServer, startRedis } from "../_redis.ts";
import {
  connectClient,
  type DocumentReader,
  type ParsedDocument,
  parseDocument,
  type RelayFixture,
  startRelay,
  subscribe,
} from "../relay/_relay_fixture.ts";

async function startNode(redis: RedisServer): Promise<RelayFixture> {
  const hub = new Hub({ broker: await RedisBroker.connect({ url: redis.url, blockMs: 1000 }) });
  return startRelay({ policyWindowMs: 0 }, 50, hub);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Publishes, retrying while Redis is coming back (bounded, generously: load slows it). */
async function publishRetrying(hub: Hub, channel: string, data: unknown): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return (await hub.publish(channel, data)).id;
    } catch (error) {
      if (Date.now() > deadline) throw new Error("publish kept failing", { cause: error });
      await sleep(20);
    }
  }
}

type Doc = ParsedDocument;

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** Reads `count` documents (each wait bounded by the reader). */
async function readDocs(reader: DocumentReader, count: number): Promise<Doc[]> {
  const docs: Doc[] = [];
  while (docs.length < count) {
    const bytes = await reader.next();
    if (bytes === null) throw new Error(`EOF after ${docs.length} of ${count} documents`);
    docs.push(parseDocument(bytes));
  }
  return docs;
}

const dataOf = (docs: Doc[]) => docs.map((d) => d.type === "message" ? d.data : d.type);
const N = 40;

Deno.test("Relay on three Redis nodes: published on one, received on another in order, resumed on a third with no loss", async () => {
  const redis = await startRedis();
  const [a, b, c] = await Promise.all([startNode(redis), startNode(redis), startNode(redis)]);
  const first = await connectClient(b.tcpPort);
  let second: Awaited<ReturnType<typeof connectClient>> | undefined;
  try {
    assert.equal((await subscribe(b.httpBase, first.id, "quotes", "0-0")).status, 200);
    for (let i = 0; i < N / 2; i++) await a.hub.publish("quotes", i);
    const before = await readDocs(first.reader, N / 2);
    assert.deepEqual(dataOf(before), [...Array(N / 2).keys()]);
    closeQuietly(first.conn); // the client's node connection drops
    const last = before.at(-1)!;
    assert.ok(last.type === "message");
    for (let i = N / 2; i < N; i++) await a.hub.publish("quotes", i);
    // It reconnects to another node's relay and resumes after the last id it got.
    second = await connectClient(c.tcpPort);
    assert.equal((await subscribe(c.httpBase, second.id, "quotes", last.id)).status, 200);
    const after = await readDocs(second.reader, N / 2);
    assert.deepEqual(dataOf(after), [...Array(N).keys()].slice(N / 2));
    await a.hub.publish("quotes", "live");
    assert.deepEqual(dataOf(await readDocs(second.reader, 1)), ["live"]);
  } finally {
    closeQuietly(first.conn);
    if (second !== undefined) closeQuietly(second.conn);
    for (const node of [a, b, c]) await node.close();
    await redis.stop();
  }
});

Deno.test("Relay on Redis: a restart without persistence sends <reset/>, then goes on, the connection kept", async () => {
  const redis = await startRedis(); // no AOF: the restart empties every stream
  const [a, b] = await Promise.all([startNode(redis), startNode(redis)]);
  const client = await connectClient(b.tcpPort);
  try {
    assert.equal((await subscribe(b.httpBase, client.id, "lost", "0-0")).status, 200);
    for (let i = 0; i < 5; i++) await a.hub.publish("lost", i);
    assert.deepEqual(dataOf(await readDocs(client.reader, 5)), [0, 1, 2, 3, 4]);
    await redis.restart();
    await publishRetrying(a.hub, "lost", "after");
    // Never silent: the loss is said before anything newer, on the same socket.
    assert.deepEqual(dataOf(await readDocs(client.reader, 2)), ["reset", "after"]);
    assert.ok(b.hub.stats.gaps >= 1);
    await a.hub.publish("lost", "live");
    assert.deepEqual(dataOf(await readDocs(client.reader, 1)), ["live"]);
  } finally {
    client.conn.close();
    await a.close();
    await b.close();
    await redis.stop();
  }
});
