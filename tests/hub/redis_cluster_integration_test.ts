// Three pushwire nodes (hub handlers on 127.0.0.1:0, each with its own RedisBroker) on one
// throwaway redis-server: publishes on one node reach subscribers on the others over SSE,
// WebSocket, long poll, short poll and iframe, exactly once and in order, across a node kill and a Redis restart;
// a Redis restart that loses data ends every stream, and clients resuming by cursor are told.
import assert from "node:assert/strict";
import { Hub } from "../../lib/hub/hub.ts";
import { RedisBroker } from "../../lib/hub/redis_broker.ts";
import { createHubHandler } from "../../lib/server/hub_handler.ts";
import { createWebSocketRoutes } from "../../lib/server/ws/websocket_routes.ts";
import { type RedisServer, startRedis } from "../_redis.ts";
import { until, within } from "../_wait.ts";

interface Node {
  readonly base: string;
  readonly hub: Hub;
  /** Abrupt stop: the broker's connections drop, streams end, the server stops. */
  kill(): Promise<void>;
}

async function startNode(redis: RedisServer): Promise<Node> {
  const broker = await RedisBroker.connect({ url: redis.url, blockMs: 1000 });
  const hub = new Hub({ broker });
  const ws = createWebSocketRoutes(hub);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createHubHandler(hub, { heartbeatIntervalMs: 0, channelRoutes: { ws: ws.channelRoute } }),
  );
  let killed = false;
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    hub,
    async kill() {
      if (killed) return;
      killed = true;
      await ws.shutdown(1000);
      await hub.close();
      await server.shutdown();
    },
  };
}

async function startCluster(redis: RedisServer): Promise<Node[]> {
  return await Promise.all([startNode(redis), startNode(redis), startNode(redis)]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Publishes `data` as JSON; returns the HTTP status. */
async function publish(node: Node, channel: string, data: unknown): Promise<number> {
  const response = await fetch(`${node.base}/channels/${channel}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(data),
  });
  await response.body?.cancel();
  return response.status;
}

/** Bound of the waits here: a failure detector, generous because the machine may be loaded. */
const WAIT_MS = 60_000;

/** Publishes, retrying on 503 (Redis down) for at most `WAIT_MS`. */
async function publishRetrying(node: Node, channel: string, data: unknown): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const status = await publish(node, channel, data);
    if (status === 201) return;
    assert.equal(status, 503);
    await sleep(20);
  }
  throw new Error("publish kept failing");
}

/** An SSE client that collects `data:` values and the last id; reconnects on demand. */
class SseClient {
  readonly received: unknown[] = [];
  lastId: string | undefined;
  resets = 0;
  #controller = new AbortController();
  #done: Promise<void> = Promise.resolve();
  #opened: Promise<void> = Promise.resolve();

  /** Connects to `node`, resuming after `lastId` (or from `from`); resolves once headers came. */
  connect(node: Node, channel: string, from?: string): Promise<void> {
    this.#controller = new AbortController();
    const resume = this.lastId ?? from;
    const headers: Record<string, string> = resume === undefined ? {} : { "Last-Event-ID": resume };
    let opened!: () => void;
    let failed!: (error: unknown) => void;
    this.#opened = new Promise((resolve, reject) => {
      opened = resolve;
      failed = reject;
    });
    this.#done = (async () => {
      let response: Response;
      try {
        response = await fetch(`${node.base}/channels/${channel}/events`, {
          headers,
          signal: this.#controller.signal,
        });
      } catch (error) {
        failed(error);
        return;
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        failed(new Error(`SSE answered ${response.status}`));
        return;
      }
      opened();
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of response.body!) {
          buffer += decoder.decode(chunk, { stream: true });
          for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
            this.#event(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        // Aborted by us, or the node died: the stream just ends.
      }
    })();
    return this.#opened;
  }

  #event(block: string): void {
    let id: string | undefined;
    let event: string | undefined;
    let data: string | undefined;
    for (const line of block.split("\n")) {
      if (line.startsWith("id:")) id = line.slice(3).trim();
      else if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data = line.slice(5).trimStart();
    }
    if (event === "reset") this.resets++;
    else if (data !== undefined) this.received.push(JSON.parse(data));
    if (id !== undefined) this.lastId = id;
  }

  /** Resolves when the current stream has ended (for a killed node). */
  ended(): Promise<void> {
    return this.#done;
  }

  async close(): Promise<void> {
    this.#controller.abort();
    await this.#done;
  }
}

/** A WebSocket client of `/channels/{ch}/ws` collecting each frame's data and the last id. */
class WsClient {
  readonly received: unknown[] = [];
  lastId: string | undefined;
  resets = 0;
  closeCode: number | undefined;
  #socket: WebSocket | undefined;
  #closed: Promise<void> = Promise.resolve();

  /** Opens a socket to `node`, resuming after `lastId` (or `from`). */
  connect(node: Node, channel: string, from?: string): Promise<void> {
    const after = this.lastId ?? from;
    const url = `${node.base.replace("http:", "ws:")}/channels/${channel}/ws${
      after === undefined ? "" : `?after=${after}`
    }`;
    const socket = new WebSocket(url);
    this.#socket = socket;
    this.#closed = new Promise((resolve) =>
      socket.addEventListener("close", (event) => {
        this.closeCode = event.code;
        resolve();
      })
    );
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data as string);
      if (message.reset === true) this.resets++;
      else {
        this.received.push(message.data);
        this.lastId = message.id;
      }
    });
    return new Promise((resolve, reject) => {
      socket.addEventListener("open", () => resolve());
      socket.addEventListener("error", () => reject(new Error("WebSocket failed")));
    });
  }

  /** Resolves when the socket has closed (for a killed node). */
  ended(): Promise<void> {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#socket !== undefined && this.#socket.readyState < WebSocket.CLOSING) {
      this.#socket.close(1000);
    }
    await this.#closed;
  }
}

/** Long-polls until `count` messages arrived (retrying on 503); bounded by `ms`. */
async function longPollAll(
  node: Node,
  channel: string,
  cursor: string,
  count: number,
  ms = WAIT_MS,
): Promise<unknown[]> {
  const received: unknown[] = [];
  const end = Date.now() + ms;
  while (received.length < count) {
    if (Date.now() > end) throw new Error(`long poll got ${received.length}/${count}`);
    const response = await fetch(
      `${node.base}/channels/${channel}/longpoll?after=${cursor}&timeout=2`,
    );
    if (response.status === 503) {
      await response.body?.cancel();
      await sleep(20);
      continue;
    }
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.reset, undefined, "no reset expected");
    for (const message of body.messages) received.push(message.data);
    cursor = body.cursor;
  }
  return received;
}

/** Short-polls until `count` messages arrived; bounded by `ms`. */
async function shortPollAll(
  node: Node,
  channel: string,
  cursor: string,
  count: number,
  ms = WAIT_MS,
): Promise<unknown[]> {
  const received: unknown[] = [];
  const end = Date.now() + ms;
  while (received.length < count) {
    if (Date.now() > end) throw new Error(`short poll got ${received.length}/${count}`);
    const response = await fetch(`${node.base}/channels/${channel}?after=${cursor}`);
    if (response.status === 503) {
      await response.body?.cancel();
    } else {
      assert.equal(response.status, 200);
      const body = await response.json();
      for (const message of body.messages) received.push(message.data);
      cursor = body.cursor;
    }
    await sleep(10);
  }
  return received;
}

/** Hidden-iframe stream: collects the data of each `parent.cb(message)` script until `count`. */
async function iframeAll(
  node: Node,
  channel: string,
  after: string,
  count: number,
  signal: AbortSignal,
): Promise<unknown[]> {
  const response = await fetch(
    `${node.base}/channels/${channel}/iframe?callback=cb&after=${after}`,
    { signal },
  );
  assert.equal(response.status, 200);
  const received: unknown[] = [];
  const decoder = new TextDecoder();
  let text = "";
  const pattern = /<script>parent\.cb\((.*?)\);<\/script>/g;
  for await (const chunk of response.body!) {
    text += decoder.decode(chunk, { stream: true });
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      received.push(JSON.parse(match[1]!).data);
      text = text.slice(pattern.lastIndex);
      pattern.lastIndex = 0;
    }
    if (received.length >= count) break; // leaving the loop cancels the body
  }
  return received;
}

const N = 60;
const expected = [...Array(N).keys()];

Deno.test("Three Redis nodes: a publish on one reaches SSE, WebSocket, long-poll, short-poll and iframe clients on the others once, in order", async () => {
  const redis = await startRedis();
  const nodes = await startCluster(redis);
  const [a, b, c] = nodes as [Node, Node, Node];
  const sse = new SseClient();
  const socket = new WsClient();
  const iframeAbort = new AbortController();
  const timer = setTimeout(() => iframeAbort.abort(), WAIT_MS);
  try {
    await sse.connect(b, "news", "0-0");
    await socket.connect(c, "news", "0-0");
    const longPoll = longPollAll(c, "news", "0-0", N);
    const shortPoll = shortPollAll(b, "news", "0-0", N);
    const iframe = iframeAll(c, "news", "0-0", N, iframeAbort.signal);
    for (const i of expected) assert.equal(await publish(a, "news", i), 201);
    await until(() => sse.received.length >= N, "SSE messages");
    assert.deepEqual(sse.received, expected);
    assert.deepEqual(await longPoll, expected);
    assert.deepEqual(await shortPoll, expected);
    assert.deepEqual(await iframe, expected);
    await until(() => socket.received.length >= N, "WebSocket messages");
    assert.deepEqual(socket.received, expected);
    assert.equal(socket.resets, 0);
    assert.equal(sse.resets, 0);
    // The cursor of one node resumes on another: history is shared.
    const tail = await fetch(`${c.base}/channels/news?after=${sse.lastId}`);
    assert.deepEqual((await tail.json()).messages, []);
  } finally {
    clearTimeout(timer);
    iframeAbort.abort();
    await socket.close();
    await sse.close();
    for (const node of nodes) await node.kill();
    await redis.stop();
  }
});

Deno.test("Three Redis nodes: an SSE client of a killed node resumes on another with no loss", async () => {
  const redis = await startRedis();
  const nodes = await startCluster(redis);
  const [a, b, c] = nodes as [Node, Node, Node];
  const sse = new SseClient();
  const socket = new WsClient();
  try {
    await sse.connect(b, "feed", "0-0");
    await socket.connect(b, "feed", "0-0");
    const longPoll = longPollAll(c, "feed", "0-0", N);
    for (const i of expected.slice(0, N / 2)) assert.equal(await publish(a, "feed", i), 201);
    await until(() => sse.received.length >= N / 4, "first messages");
    await b.kill(); // mid-stream
    await within(sse.ended(), "the SSE stream's end");
    await within(socket.ended(), "the socket's close");
    // Publishing goes on while the client is away; it resumes on node c from its last id.
    for (const i of expected.slice(N / 2, (3 * N) / 4)) {
      assert.equal(await publish(a, "feed", i), 201);
    }
    await sse.connect(c, "feed");
    await socket.connect(a, "feed");
    for (const i of expected.slice((3 * N) / 4)) assert.equal(await publish(a, "feed", i), 201);
    await until(() => sse.received.length >= N, "all messages after the resume");
    assert.deepEqual(sse.received, expected);
    assert.equal(sse.resets, 0);
    await until(() => socket.received.length >= N, "all WebSocket messages after the resume");
    assert.deepEqual(socket.received, expected);
    assert.equal(socket.resets, 0);
    assert.deepEqual(await longPoll, expected);
  } finally {
    await socket.close();
    await sse.close();
    for (const node of nodes) await node.kill();
    await redis.stop();
  }
});

Deno.test("Three Redis nodes: a Redis restart mid-stream loses no acknowledged publish", async () => {
  const redis = await startRedis({ appendOnly: true });
  const nodes = await startCluster(redis);
  const [a, b, c] = nodes as [Node, Node, Node];
  const sse = new SseClient();
  const socket = new WsClient();
  try {
    await sse.connect(b, "live", "0-0");
    await socket.connect(c, "live", "0-0");
    const longPoll = longPollAll(c, "live", "0-0", N);
    for (const i of expected.slice(0, N / 2)) assert.equal(await publish(a, "live", i), 201);
    await redis.kill();
    // While Redis is down a publish is refused (503), never acknowledged.
    assert.equal(await publish(a, "live", -1), 503);
    await redis.restart();
    for (const i of expected.slice(N / 2)) await publishRetrying(a, "live", i);
    await until(() => sse.received.length >= N, "SSE catch-up after the restart");
    assert.deepEqual(sse.received, expected);
    await until(() => socket.received.length >= N, "WebSocket catch-up after the restart");
    assert.deepEqual(socket.received, expected);
    assert.deepEqual(await longPoll, expected);
    assert.equal(sse.resets, 0);
    assert.equal(b.hub.stats.gaps + c.hub.stats.gaps, 0, "with AOF nothing was lost: no gap");
  } finally {
    await socket.close();
    await sse.close();
    for (const node of nodes) await node.kill();
    await redis.stop();
  }
});

Deno.test("Three Redis nodes: a Redis restart without persistence ends SSE, WebSocket and iframe streams; resumed by cursor they get reset", async () => {
  const redis = await startRedis(); // no AOF: the restart empties every stream
  const nodes = await startCluster(redis);
  const [a, b, c] = nodes as [Node, Node, Node];
  const sse = new SseClient();
  const socket = new WsClient();
  const iframeAbort = new AbortController();
  const timer = setTimeout(() => iframeAbort.abort(), WAIT_MS);
  try {
    await sse.connect(b, "gap", "0-0");
    await socket.connect(c, "gap", "0-0");
    const iframe = iframeAll(c, "gap", "0-0", Infinity, iframeAbort.signal);
    for (const i of expected.slice(0, N / 2)) assert.equal(await publish(a, "gap", i), 201);
    await until(() => sse.received.length >= N / 2, "SSE messages");
    await until(() => socket.received.length >= N / 2, "WebSocket messages");
    // A long poll parked at the newest id is answered once the gap is known, not at its timeout
    // (the longest allowed, so that a slow restart cannot be mistaken for it).
    const parked = fetch(`${c.base}/channels/gap/longpoll?after=${sse.lastId}&timeout=60`);
    await until(() => c.hub.stats.waiters === 1, "the parked long poll");
    await redis.restart();
    // Every stream ends instead of going on silently after the lost messages.
    await within(sse.ended(), "the SSE stream's end");
    await within(socket.ended(), "the socket's close");
    assert.equal(socket.closeCode, 1013);
    assert.deepEqual(await iframe, expected.slice(0, N / 2)); // the stream ended
    const polled = await parked;
    assert.equal(polled.status, 200);
    assert.equal((await polled.json()).reset, true);
    assert.ok(b.hub.stats.gaps >= 1 && c.hub.stats.gaps >= 1);
    for (const i of expected.slice(N / 2)) await publishRetrying(a, "gap", i);
    // Resuming from their last ids, the clients learn of the loss, then get what is retained.
    await sse.connect(b, "gap");
    await socket.connect(c, "gap");
    await until(() => sse.received.length >= N, "SSE messages after the resume");
    await until(() => socket.received.length >= N, "WebSocket messages after the resume");
    assert.deepEqual(sse.received, expected);
    assert.deepEqual(socket.received, expected);
    assert.equal(sse.resets, 1);
    assert.equal(socket.resets, 1);
  } finally {
    clearTimeout(timer);
    iframeAbort.abort();
    await socket.close();
    await sse.close();
    for (const node of nodes) await node.kill();
    await redis.stop();
  }
});
