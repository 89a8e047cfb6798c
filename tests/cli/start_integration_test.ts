// `deno task start` end to end: the real command line, a publish, a short poll and an SSE
// stream against it, then SIGTERM.
import assert from "node:assert/strict";
import { startRedis } from "../_redis.ts";
import { until, within } from "../_wait.ts";

const START = new URL("../../lib/cli/start.ts", import.meta.url).pathname;
/** The permissions of `deno task start`. */
const RUN = ["run", "--allow-net", "--allow-env", "--allow-read"];

/** A `start.ts` process that printed its address. */
interface StartedNode {
  readonly base: string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
}

/** Runs `start.ts --port 0 ...args` and waits until it listens. */
async function spawnStart(args: readonly string[]): Promise<StartedNode> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...RUN, START, "--port", "0", ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeTo(new WritableStream());
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* exited already */ }
    const status = await child.status;
    await lines.cancel();
    await stderr;
    return status.code;
  };
  let output = "";
  while (!/listening on (http:\/\/\S+)\//.test(output)) {
    const { done, value } = await within(lines.read(), "the listening line", 60_000).catch(
      async (error) => {
        await stop();
        throw error;
      },
    );
    if (done) {
      await stop();
      throw new Error(`start.ts exited early: ${output}`);
    }
    output += value;
  }
  return { base: /listening on (http:\/\/\S+)\//.exec(output)![1]!, stop };
}

Deno.test("start.ts serves the hub: publish, short poll and SSE over HTTP, then stops on SIGTERM", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", START, "--port", "0"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeTo(new WritableStream()); // drained, not asserted (warnings)
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  try {
    while (!/listening on (http:\/\/\S+)\//.test(output)) {
      const { done, value } = await within(lines.read(), "the listening line", 60_000);
      if (done) throw new Error(`start.ts exited early: ${output}`);
      output += value;
    }
    const base = /listening on (http:\/\/\S+)\//.exec(output)![1]!;
    assert.match(base, /^http:\/\/127\.0\.0\.1:[0-9]+$/);
    const published = await fetch(`${base}/channels/news`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "hello",
    });
    assert.equal(published.status, 201);
    const { id } = await published.json();
    const poll = await (await fetch(`${base}/channels/news`)).json();
    assert.equal(poll.messages[0].data, "hello");
    const sse = await fetch(`${base}/channels/news/events?lastEventId=${encodeURIComponent(id)}`);
    const reader = sse.body!.pipeThrough(new TextDecoderStream()).getReader();
    const second = await fetch(`${base}/channels/news`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "again",
    });
    await second.body?.cancel();
    let text = "";
    while (!text.includes("data: again")) {
      const { done, value } = await within(reader.read(), "the second SSE event");
      if (done) throw new Error(`the SSE stream ended early: ${text}`);
      text += value;
    }
    await reader.cancel();
    assert.equal(await (await fetch(`${base}/healthz`)).text(), "ok");
    const script = await fetch(`${base}/pushwire.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.match(await script.text(), /export \{/);
    const types = await fetch(`${base}/pushwire.d.ts`);
    assert.equal(types.status, 200);
    assert.match(await types.text(), /export declare function subscribe/);
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await lines.cancel();
    await stderr;
    assert.equal(status.code, 0);
  }
});

Deno.test("start.ts --redis exits with 1 and says why when Redis cannot be reached", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port; // nothing listens there once closed
  probe.close();
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...RUN, START, "--port", "0", "--redis", `redis://127.0.0.1:${port}`],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 1);
  assert.match(new TextDecoder().decode(stderr), /Cannot start: .*Redis/);
});

Deno.test("start.ts exits with 1 and names the port when the hub's or the relay's port is taken", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = String(taken.addr.port);
    for (
      const [args, what, option] of [
        [["--port", port], "the hub", "--port or PORT"],
        [["--port", "0", "--tcp-port", port], "the socket relay", "--tcp-port"],
      ] as const
    ) {
      const { code, stdout, stderr } = await within(
        new Deno.Command(Deno.execPath(), {
          args: [...RUN, START, ...args],
          stdout: "piped",
          stderr: "piped",
        }).output(),
        `start.ts ${args.join(" ")}`,
        60_000,
      );
      assert.equal(code, 1);
      const text = new TextDecoder().decode(stderr);
      assert.equal(
        text.trim(),
        `Cannot start: ${what} cannot listen on 127.0.0.1:${port}: the port is in use (choose another with ${option})`,
      );
      assert.doesNotMatch(new TextDecoder().decode(stdout), /listening on http/);
    }
  } finally {
    taken.close();
  }
});

Deno.test("start.ts --redis: three nodes on one Redis, a publish on one reaches SSE and WebSocket on the others in order", async () => {
  const redis = await startRedis();
  const nodes: StartedNode[] = [];
  const sockets: WebSocket[] = [];
  try {
    for (let i = 0; i < 3; i++) nodes.push(await spawnStart(["--redis", redis.url]));
    const [a, b, c] = nodes as [StartedNode, StartedNode, StartedNode];
    const COUNT = 50;
    const sse = await fetch(`${b.base}/channels/news/events`);
    assert.equal(sse.status, 200);
    const ws = new WebSocket(`${c.base.replace(/^http/, "ws")}/channels/news/ws`);
    sockets.push(ws);
    const wsFrames: string[] = [];
    ws.onmessage = (event) => wsFrames.push(event.data);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("WebSocket to node c failed"));
    });
    const ids: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const published = await fetch(`${a.base}/channels/news`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ n: i }),
      });
      assert.equal(published.status, 201);
      ids.push((await published.json()).id);
    }
    const reader = sse.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const sseIds = () => [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
    const deadline = Date.now() + 60_000; // generous: three processes on a loaded machine
    while (sseIds().length < COUNT && Date.now() < deadline) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
    }
    await reader.cancel();
    assert.deepEqual(sseIds(), ids);
    assert.deepEqual([...text.matchAll(/^data: (.+)$/gm)].map((m) => JSON.parse(m[1]!).n), [
      ...Array(COUNT).keys(),
    ]);
    while (wsFrames.length < COUNT && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(wsFrames.map((frame) => JSON.parse(frame).id), ids);
    // History lives in Redis: a short poll on the third node resumes mid-stream.
    const poll = await (await fetch(`${c.base}/channels/news?after=${ids[COUNT - 3]}`)).json();
    assert.deepEqual(poll.messages.map((m: { id: string }) => m.id), ids.slice(COUNT - 2));
  } finally {
    for (const ws of sockets) ws.close();
    for (const node of nodes) assert.equal(await node.stop(), 0);
    await redis.stop();
  }
});

Deno.test("start.ts --tcp-port runs the socket relay beside the hub", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      START,
      "--port",
      "0",
      "--tcp-port",
      "0",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeTo(new WritableStream());
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  let conn: Deno.TcpConn | undefined;
  try {
    const ready = /relay listening on [^:]+:([0-9]+)[\s\S]*listening on (http:\/\/\S+)\//;
    while (!ready.test(output)) {
      const { done, value } = await within(lines.read(), "the listening line", 60_000);
      if (done) throw new Error(`start.ts exited early: ${output}`);
      output += value;
    }
    const [, relayPort, base] = ready.exec(output)!;
    conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(relayPort) });
    const readDocument = async (): Promise<string> => {
      let text = "";
      const buf = new Uint8Array(4096);
      while (!text.endsWith("\0")) {
        const n = await conn!.read(buf);
        if (n === null) throw new Error(`relay closed after ${JSON.stringify(text)}`);
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      return text;
    };
    const greeting = await readDocument();
    const relayId = /^<pushwire id="([^"]+)"\/>\0$/.exec(greeting)?.[1];
    assert.ok(relayId, greeting);
    const subscribed = await fetch(`${base}/relay/${relayId}/channels/news`, { method: "POST" });
    assert.equal(subscribed.status, 200);
    await subscribed.body?.cancel();
    const published = await fetch(`${base}/channels/news`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: "<hi>" }),
    });
    const { id } = await published.json();
    assert.equal(
      await readDocument(),
      `<message channel="news" id="${id}">{"text":"&lt;hi&gt;"}</message>\0`,
    );
    const unknown = await fetch(`${base}/relay/unknown-id-0000000000/channels/news`, {
      method: "POST",
    });
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
  } finally {
    conn?.close();
    child.kill("SIGTERM");
    const status = await child.status;
    await lines.cancel();
    await stderr;
    assert.equal(status.code, 0);
  }
});

Deno.test("start.ts serves WebSocket on the HTTP port: an HTTP publish reaches /channels/{ch}/ws and /ws, SIGTERM closes them with 1001", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      START,
      "--port",
      "0",
      "--allow-origin",
      "https://app.example",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeTo(new WritableStream());
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  const sockets: WebSocket[] = [];
  try {
    while (!/listening on (http:\/\/\S+)\//.test(output)) {
      const { done, value } = await within(lines.read(), "the listening line", 60_000);
      if (done) throw new Error(`start.ts exited early: ${output}`);
      output += value;
    }
    const base = /listening on (http:\/\/\S+)\//.exec(output)![1]!;
    const wsBase = base.replace(/^http/, "ws");
    const open = async (url: string, protocol?: string) => {
      const ws = protocol === undefined ? new WebSocket(url) : new WebSocket(url, protocol);
      sockets.push(ws);
      const frames: string[] = [];
      ws.onmessage = (event) => frames.push(event.data);
      const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
      const opened = await new Promise<boolean>((resolve) => {
        ws.onopen = () => resolve(true);
        ws.onerror = () => resolve(false);
      });
      return { ws, frames, closed, opened };
    };
    const channel = await open(`${wsBase}/channels/news/ws`);
    const mux = await open(`${wsBase}/ws`, "pushwire.v1");
    assert.ok(channel.opened && mux.opened);
    mux.ws.send(JSON.stringify({ type: "subscribe", channel: "news", id: 1 }));
    await until(() => mux.frames.length > 0, "the subscribed reply");
    assert.equal(JSON.parse(mux.frames[0]!).type, "subscribed");
    const published = await fetch(`${base}/channels/news`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "to every socket",
    });
    const { id } = await published.json();
    await until(
      () => channel.frames.length > 0 && mux.frames.length >= 2,
      "the message on both sockets",
    );
    assert.equal(JSON.parse(channel.frames[0]!).id, id);
    assert.equal(JSON.parse(mux.frames[1]!).message.data, "to every socket");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /pushwire_connections\{transport="ws"\} 2/);
    // --allow-origin applies to WebSocket too: another origin is refused before the handshake.
    const refused = await fetch(`${base}/channels/news/ws`, {
      headers: {
        Origin: "https://evil.example",
        Upgrade: "websocket",
        Connection: "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
      },
    });
    await refused.body?.cancel();
    assert.equal(refused.status, 403);
    child.kill("SIGTERM");
    const [channelClose, muxClose] = await Promise.all([channel.closed, mux.closed]);
    assert.equal(channelClose.code, 1001);
    assert.equal(muxClose.code, 1001);
  } finally {
    try {
      child.kill("SIGTERM"); // when an assertion failed before the SIGTERM above
    } catch { /* exited already */ }
    for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws.close();
    const status = await child.status;
    await lines.cancel();
    await stderr;
    assert.equal(status.code, 0);
  }
});
