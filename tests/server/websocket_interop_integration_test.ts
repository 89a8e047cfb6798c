// Both WebSocket routes with clients written elsewhere: Deno's built-in WebSocket and Python
// `websockets` (/usr/bin/python3; these tests fail, not skip, when it is missing), on the
// one-port server; and the same routes mounted in the hub handler on Deno.serve.
import assert from "node:assert/strict";
import { Hub } from "../../lib/hub/hub.ts";
import { createHubHandler } from "../../lib/server/hub_handler.ts";
import { createWebSocketRoutes } from "../../lib/server/ws/websocket_routes.ts";
import { poll, publishText, startWsHub, within } from "./_websocket_harness.ts";

const PYTHON = "/usr/bin/python3";

/** Deno's WebSocket as a queue of frames. */
async function denoSocket(url: string, protocols?: string) {
  const ws = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
  const frames: string[] = [];
  const waiters: (() => void)[] = [];
  ws.onmessage = (event) => {
    frames.push(event.data);
    waiters.splice(0).forEach((wake) => wake());
  };
  const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
  await within(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`could not open ${url}`));
    }),
    "the socket to open",
  );
  return {
    ws,
    closed,
    async next(what: string): Promise<string> {
      while (frames.length === 0) {
        await within(new Promise<void>((resolve) => waiters.push(resolve)), what);
      }
      return frames.shift()!;
    },
    async close() {
      ws.close(1000);
      await within(closed, "the close");
    },
  };
}

async function exerciseWithDenoWebSocket(base: string, wsBase: string): Promise<void> {
  const channel = await denoSocket(`${wsBase}/channels/deno/ws`);
  const mux = await denoSocket(`${wsBase}/ws`, "pushwire.v1");
  assert.equal(mux.ws.protocol, "pushwire.v1");
  mux.ws.send(JSON.stringify({ type: "subscribe", channel: "deno", id: 1 }));
  assert.equal(JSON.parse(await mux.next("subscribed")).type, "subscribed");
  const id = await publishText(base, "deno", "over http");
  const frame = await channel.next("the HTTP message on the channel socket");
  assert.equal(JSON.parse(frame).id, id);
  assert.equal(await mux.next("the HTTP message on /ws"), `{"type":"message","message":${frame}}`);
  channel.ws.send("up the channel socket");
  assert.equal(JSON.parse(await channel.next("own")).data, "up the channel socket");
  assert.equal(
    JSON.parse(await mux.next("the socket's message on /ws")).message.data,
    "up the channel socket",
  );
  mux.ws.send(JSON.stringify({ type: "publish", channel: "deno", data: [1, 2] }));
  assert.equal(JSON.parse(await channel.next("the /ws publish")).data.length, 2);
  mux.ws.send("not json");
  const rest = [await mux.next("message or error"), await mux.next("message or error")]
    .map((text) => JSON.parse(text).type).sort();
  assert.deepEqual(rest, ["error", "message"]);
  mux.ws.send(new Uint8Array([1]));
  assert.equal((await within(mux.closed, "the 1003 close")).code, 1003);
  await channel.close();
}

Deno.test("Deno's WebSocket speaks both routes on the one-port server", async () => {
  await using server = startWsHub();
  await exerciseWithDenoWebSocket(server.base, server.wsBase);
});

Deno.test("both routes also work mounted in the hub handler on Deno.serve", async () => {
  const hub = new Hub();
  const websocket = createWebSocketRoutes(hub);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createHubHandler(hub, {
      channelRoutes: { ws: websocket.channelRoute },
      routes: { "/ws": websocket.wsRoute },
    }),
  );
  try {
    const port = server.addr.port;
    await exerciseWithDenoWebSocket(`http://127.0.0.1:${port}`, `ws://127.0.0.1:${port}`);
    const plain = await fetch(`http://127.0.0.1:${port}/channels/deno/ws`);
    await plain.body?.cancel();
    assert.ok(plain.status >= 400 && plain.status < 500, `plain GET answered ${plain.status}`);
  } finally {
    await websocket.shutdown(2000);
    await hub.close();
    await server.shutdown();
  }
});

const PYTHON_CLIENT = `
import asyncio, json, sys, websockets
base = sys.argv[1]
async def main():
    out = {}
    async with websockets.connect(base + "/channels/py/ws", open_timeout=30) as channel, \\
               websockets.connect(base + "/ws", subprotocols=["pushwire.v1"], open_timeout=30) as mux:
        out["protocol"] = mux.subprotocol
        await mux.send(json.dumps({"type": "subscribe", "channel": "py", "id": "s"}))
        out["subscribed"] = json.loads(await asyncio.wait_for(mux.recv(), 30))
        await channel.send("from python")
        out["channel_frame"] = json.loads(await asyncio.wait_for(channel.recv(), 30))
        out["mux_frame"] = json.loads(await asyncio.wait_for(mux.recv(), 30))
        await mux.send(json.dumps({"type": "publish", "channel": "py", "data": {"k": "v"}, "id": 7}))
        replies = [json.loads(await asyncio.wait_for(mux.recv(), 30)) for _ in range(2)]
        out["mux_replies"] = sorted(r["type"] for r in replies)
        out["channel_frame_2"] = json.loads(await asyncio.wait_for(channel.recv(), 30))
        await channel.send(b"binary")
        try:
            await asyncio.wait_for(channel.recv(), 30)
        except websockets.ConnectionClosed as closed:
            out["binary_close"] = closed.rcvd.code if closed.rcvd else None
    try:
        async with websockets.connect(base + "/ws", open_timeout=30):
            out["no_protocol"] = "opened"
    except websockets.InvalidStatusCode as error:
        out["no_protocol"] = error.status_code
    except websockets.InvalidStatus as error:
        out["no_protocol"] = error.response.status_code
    print(json.dumps(out))
asyncio.run(main())
`;

Deno.test("Python websockets client speaks both routes on the one-port server", async () => {
  await using server = startWsHub();
  const output = await within(
    new Deno.Command(PYTHON, {
      args: ["-c", PYTHON_CLIENT, server.wsBase],
      stdout: "piped",
      stderr: "piped",
    }).output(),
    "the python client",
    60_000,
  );
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const report = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(report.protocol, "pushwire.v1");
  assert.equal(report.subscribed.type, "subscribed");
  assert.equal(report.subscribed.id, "s");
  assert.equal(report.channel_frame.data, "from python");
  assert.deepEqual(report.mux_frame, { type: "message", message: report.channel_frame });
  assert.deepEqual(report.mux_replies, ["message", "published"]);
  assert.deepEqual(report.channel_frame_2.data, { k: "v" });
  assert.equal(report.binary_close, 1003);
  assert.equal(report.no_protocol, 400);
  const { messages } = await poll(server.base, "py");
  assert.deepEqual(messages.map((m) => m.data), ["from python", { k: "v" }]);
});
