// Interop with a peer written elsewhere: Python `websockets` (Debian python3-websockets, 10.4
// here) as a client of our server and as a server for our clients. Messages of 0 B, 125 B,
// 64 KiB and 8 MiB, text and binary, ping/pong and the closing handshake both ways. These
// fail (not skip) when /usr/bin/python3 or its `websockets` module is missing.
import assert from "node:assert/strict";
import { connect } from "../../lib/websocket_io/client.ts";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import type { SessionCloseEvent } from "../../lib/websocket_io/session.ts";
import { WebSocketClient } from "../../lib/websocket_io/websocket_client.ts";
import { decoder, startServer, within } from "./_helpers.ts";

const PYTHON = "/usr/bin/python3";
const SIZES = [0, 125, 64 * 1024, 8 * 1024 * 1024];

const PYTHON_CLIENT = `
import asyncio, json, os, sys, websockets
async def main():
    results = []
    async with websockets.connect(sys.argv[1], max_size=None, open_timeout=10,
                                  close_timeout=10, subprotocols=["echo.v1"]) as ws:
        for size in [0, 125, 65536, 8 * 1024 * 1024]:
            text = "\\u00e9" * (size // 2)
            await ws.send(text)
            results.append(["text", size, (await ws.recv()) == text])
            data = os.urandom(size)
            await ws.send(data)
            results.append(["binary", size, (await ws.recv()) == data])
        pong = await ws.ping(b"hello")
        await asyncio.wait_for(pong, 10)
        results.append(["pong", 5, True])
        protocol = ws.subprotocol
        await ws.close(4000, "bye")
    print(json.dumps({"results": results, "protocol": protocol,
                      "code": ws.close_code, "reason": ws.close_reason}))
asyncio.run(main())
`;

Deno.test("Python websockets client exchanges 0 B to 8 MiB text and binary messages with our server and closes cleanly", async () => {
  const router = new WebSocketRouter();
  const closed = Promise.withResolvers<SessionCloseEvent>();
  router.route("/echo", {
    protocols: ["echo.v1"],
    maxMessageSize: 16 * 1024 * 1024,
    message: (session, message) => void session.send(message),
    close: (_session, event) => closed.resolve(event),
  });
  await using server = startServer(router);
  const output = await within(
    new Deno.Command(PYTHON, {
      args: ["-c", PYTHON_CLIENT, server.url("/echo")],
      stdout: "piped",
      stderr: "piped",
    }).output(),
    "python client",
    30_000,
  );
  assert.equal(output.code, 0, decoder.decode(output.stderr));
  const report = JSON.parse(decoder.decode(output.stdout));
  const expected = SIZES.flatMap((size) => [["text", size, true], ["binary", size, true]]);
  assert.deepEqual(report.results, [...expected, ["pong", 5, true]]);
  assert.equal(report.protocol, "echo.v1");
  assert.equal(report.code, 4000); // our echo of its close code
  const event = await within(closed.promise, "server close");
  assert.equal(event.code, 4000);
  assert.equal(event.reason, "bye");
  assert(event.wasClean);
});

const PYTHON_SERVER = `
import asyncio, sys, websockets
async def echo(ws, path):
    async for message in ws:
        if message == "close-please":
            await ws.close(4001, "as you wish")
            return
        await ws.send(message)
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=None,
                                subprotocols=["echo.v1"]) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
`;

async function withPythonServer(fn: (url: string) => Promise<void>): Promise<void> {
  const child = new Deno.Command(PYTHON, {
    args: ["-c", PYTHON_SERVER],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  try {
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await within(stdout.read(), "python server start", 15_000);
      if (done) throw new Error(`python server exited: ${await stderr}`);
      line += value;
    }
    await fn(`ws://127.0.0.1:${line.trim()}`);
  } finally {
    await child.stdin.close();
    await stdout.cancel();
    const status = await within(child.status, "python server exit");
    await stderr;
    assert.equal(status.code, 0);
  }
}

Deno.test("connect() exchanges 0 B to 8 MiB text and binary messages with a Python websockets server", async () => {
  await withPythonServer(async (url) => {
    const client = await connect(`${url}/any`, { protocols: ["echo.v1"] });
    assert.equal(client.protocol, "echo.v1");
    const sent: Array<string | Uint8Array> = SIZES.flatMap((size) => [
      "\u00e9".repeat(size / 2),
      new Uint8Array(size).map((_, i) => (i * 31) & 0xff),
    ]);
    for (const message of sent) client.send(message);
    let i = 0;
    for await (const message of client) {
      assert.deepEqual(message, sent[i], `message ${i}`);
      if (++i === sent.length) break;
    }
    client.close(1000, "done");
    const event = await within(client.closed, "close");
    assert.equal(event.code, 1000);
    assert(event.wasClean);
  });
});

Deno.test("WebSocketClient sees a Python websockets server's close code and reason", async () => {
  await withPythonServer(async (url) => {
    const ws = new WebSocketClient(`${url}/`);
    ws.onopen = () => ws.send("close-please");
    const event = await within(
      new Promise<CloseEvent>((resolve) => ws.onclose = resolve),
      "close",
    );
    assert.equal(event.code, 4001);
    assert.equal(event.reason, "as you wish");
    assert(event.wasClean);
  });
});
