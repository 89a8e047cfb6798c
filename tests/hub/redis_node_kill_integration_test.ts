// A node that dies: three `deno task start --redis` processes on one throwaway redis-server,
// the clients' node SIGKILLed (no shutdown at all) while publishes go on. Its SSE and long-poll
// clients resume on another node by cursor and get every message once, in order.
import assert from "node:assert/strict";
import { startRedis } from "../_redis.ts";
import { within } from "../_wait.ts";

const START = new URL("../../lib/cli/start.ts", import.meta.url).pathname;
/** The permissions of `deno task start`. */
const RUN = ["run", "--allow-net", "--allow-env", "--allow-read"];

interface NodeProcess {
  readonly base: string;
  /** Sends `signal`, then resolves with the exit status. */
  stop(signal: Deno.Signal): Promise<Deno.CommandStatus>;
}

async function spawnNode(redisUrl: string): Promise<NodeProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...RUN, START, "--port", "0", "--redis", redisUrl],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeTo(new WritableStream());
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stopped: Promise<Deno.CommandStatus> | undefined;
  const stop = (signal: Deno.Signal) =>
    stopped ??= (async () => {
      try {
        child.kill(signal);
      } catch {
        // Exited already.
      }
      const status = await child.status;
      await lines.cancel();
      await stderr;
      return status;
    })();
  let output = "";
  const pattern = /listening on (http:\/\/\S+)\//;
  while (!pattern.test(output)) {
    const { done, value } = await within(lines.read(), "the listening line", 60_000).catch(
      async (error) => {
        await stop("SIGKILL");
        throw error;
      },
    );
    if (done) {
      await stop("SIGKILL");
      throw new Error(`start.ts exited early: ${output}`);
    }
    output += value;
  }
  return { base: pattern.exec(output)![1]!, stop };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads SSE `id:`/`data:` pairs from `base` after `lastId` until the stream ends or `stop()`. */
class SseReader {
  readonly ids: string[] = [];
  readonly data: unknown[] = [];
  resets = 0;
  #controller = new AbortController();
  #done: Promise<void> = Promise.resolve();

  async connect(base: string, channel: string, lastId: string): Promise<void> {
    this.#controller = new AbortController();
    const response = await fetch(`${base}/channels/${channel}/events`, {
      headers: { "Last-Event-ID": lastId },
      signal: this.#controller.signal,
    });
    assert.equal(response.status, 200);
    this.#done = (async () => {
      let buffer = "";
      try {
        for await (const text of response.body!.pipeThrough(new TextDecoderStream())) {
          buffer += text;
          for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = /^id: ?(.*)$/m.exec(block)?.[1];
            const data = /^data: ?(.*)$/m.exec(block)?.[1];
            if (/^event: ?reset$/m.test(block)) this.resets++;
            if (id !== undefined && data !== undefined) {
              this.ids.push(id);
              this.data.push(JSON.parse(data));
            }
          }
        }
      } catch {
        // The node died, or we aborted: the stream just ends.
      }
    })();
  }

  ended(): Promise<void> {
    return this.#done;
  }

  async close(): Promise<void> {
    this.#controller.abort();
    await this.#done;
  }
}

const N = 80;

/** Bound of the waits here: a failure detector, generous because the machine may be loaded. */
const WAIT_MS = 60_000;

Deno.test("A SIGKILLed node loses only its connections: its SSE and long-poll clients resume on another node with no loss", async () => {
  const redis = await startRedis();
  const nodes: NodeProcess[] = [];
  const sse = new SseReader();
  try {
    for (let i = 0; i < 3; i++) nodes.push(await spawnNode(redis.url));
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    // Cursor 0-0 reads from the start of the (still empty) stream.
    await sse.connect(b.base, "ticks", "0-0");
    const polled: unknown[] = [];
    let pollCursor = "0-0";
    let pollNode = b;
    const longPoll = (async () => {
      const deadline = Date.now() + WAIT_MS;
      while (polled.length < N && Date.now() < deadline) {
        let body: { messages: { data: unknown }[]; cursor: string; reset?: true };
        try {
          const response = await fetch(
            `${pollNode.base}/channels/ticks/longpoll?after=${pollCursor}&timeout=2`,
          );
          if (response.status !== 200) {
            await response.body?.cancel();
            await sleep(20);
            continue;
          }
          body = await response.json();
        } catch {
          // Its node died mid-request: the next request goes to another node, same cursor.
          pollNode = c;
          continue;
        }
        assert.equal(body.reset, undefined, "nothing may be lost");
        for (const message of body.messages) polled.push(message.data);
        pollCursor = body.cursor;
      }
    })();
    const publishing = (async () => {
      for (let i = 0; i < N; i++) {
        const response = await fetch(`${a.base}/channels/ticks`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(i),
        });
        assert.equal(response.status, 201);
        await response.body?.cancel();
        await sleep(5);
      }
    })();
    // Awaited below; a failure in either must not surface early as an unhandled rejection.
    longPoll.catch(() => {});
    publishing.catch(() => {});
    let deadline = Date.now() + WAIT_MS;
    while (sse.data.length < N / 4 && Date.now() < deadline) await sleep(5);
    assert.ok(sse.data.length >= N / 4, "the stream got going before the kill");
    const status = await b.stop("SIGKILL"); // mid-stream, no shutdown
    assert.equal(status.signal, "SIGKILL");
    await within(sse.ended(), "the SSE stream's end");
    const lastId = sse.ids.at(-1)!;
    await sse.connect(c.base, "ticks", lastId);
    await publishing;
    deadline = Date.now() + WAIT_MS;
    while (sse.data.length < N && Date.now() < deadline) await sleep(5);
    assert.deepEqual(sse.data, [...Array(N).keys()]);
    assert.equal(new Set(sse.ids).size, N, "each id once");
    assert.equal(sse.resets, 0, "nothing was lost");
    await longPoll;
    assert.deepEqual(polled, [...Array(N).keys()]);
  } finally {
    await sse.close();
    for (const node of nodes) await node.stop("SIGTERM");
    await redis.stop();
  }
});
