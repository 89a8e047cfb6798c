// Interop with a peer written elsewhere: Python `websockets` (Debian python3-websockets, 10.4
// here) as a client of our server (over ws:// and wss://) and as a server for our clients.
// Text and binary messages of exactly 0 B, 125 B, 64 KiB and 8 MiB, ping/pong and the closing
// handshake both ways; each with permessage-deflate (both ends enable it by default) and
// without it (either end declining), so that uncompressed frames of 64 KiB and 8 MiB are
// exchanged too. A wire tap on our server checks what was compressed. These fail (not skip)
// when /usr/bin/python3 or its `websockets` module is missing.
import assert from "node:assert/strict";
import { connect, type ConnectOptions } from "../../lib/websocket_io/client.ts";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import type { WebSocketServerOptions } from "../../lib/websocket_io/server.ts";
import type { SessionCloseEvent } from "../../lib/websocket_io/session.ts";
import { WebSocketClient } from "../../lib/websocket_io/websocket_client.ts";
import { decoder, testTls, within } from "./_helpers.ts";
import { allEchoed, assertWire, CASES, messageOf, PYTHON_MESSAGE_OF } from "./_interop_messages.ts";
import { startTappedServer } from "./_interop_wire_tap.ts";

const PYTHON = "/usr/bin/python3";
/** Our answer to websockets' default offer under our default policy. */
const OUR_DEFLATE = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

// argv: url, "deflate" or "none", CA certificate (PEM, "" for ws://), cases (JSON).
const PYTHON_CLIENT = `
import asyncio, json, os, ssl, sys, websockets
${PYTHON_MESSAGE_OF}
async def main():
    url, compression, ca, cases = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    extra = {"ssl": ssl.create_default_context(cadata=ca)} if ca else {}
    results = []
    async with websockets.connect(url, max_size=None, open_timeout=30, close_timeout=30,
                                  subprotocols=["echo.v1"],
                                  compression=None if compression == "none" else "deflate",
                                  **extra) as ws:
        for kind, size in cases:
            message = message_of(kind, size)
            await ws.send(message)
            results.append([kind, size_of(message), (await ws.recv()) == message])
        pong = await ws.ping(b"hello")
        await asyncio.wait_for(pong, 30)
        results.append(["pong", 5, True])
        protocol = ws.subprotocol
        extensions = [type(e).__name__ for e in ws.extensions]
        await ws.close(4000, "bye")
    print(json.dumps({"results": results, "protocol": protocol, "extensions": extensions,
                      "code": ws.close_code, "reason": ws.close_reason}))
asyncio.run(main())
`;

interface ClientRun {
  readonly label: string;
  readonly tls: boolean;
  readonly server: WebSocketServerOptions;
  readonly python: "deflate" | "none";
}

const CLIENT_RUNS: readonly ClientRun[] = [
  { label: "ws://, permessage-deflate", tls: false, server: {}, python: "deflate" },
  {
    label: "ws://, uncompressed: our server declines permessage-deflate",
    tls: false,
    server: { perMessageDeflate: false },
    python: "deflate",
  },
  {
    label: "ws://, uncompressed: Python offers no extension",
    tls: false,
    server: {},
    python: "none",
  },
  { label: "wss://, permessage-deflate", tls: true, server: {}, python: "deflate" },
  {
    label: "wss://, uncompressed: our server declines permessage-deflate",
    tls: true,
    server: { perMessageDeflate: false },
    python: "deflate",
  },
];

for (const run of CLIENT_RUNS) {
  Deno.test(`Python websockets client exchanges 0 B to 8 MiB text and binary messages with our server and closes cleanly (${run.label})`, async () => {
    const router = new WebSocketRouter();
    const closed = Promise.withResolvers<SessionCloseEvent>();
    const extensions = Promise.withResolvers<string>();
    router.route("/echo", {
      protocols: ["echo.v1"],
      maxMessageSize: 16 * 1024 * 1024,
      open: (session) => extensions.resolve(session.extensions),
      message: (session, message) => void session.send(message),
      close: (_session, event) => closed.resolve(event),
    });
    const tls = run.tls ? await testTls() : undefined;
    await using server = startTappedServer(
      router,
      run.server,
      tls && { cert: tls.cert, key: tls.key },
    );
    const output = await within(
      new Deno.Command(PYTHON, {
        args: [
          "-c",
          PYTHON_CLIENT,
          server.url("/echo"),
          run.python,
          tls?.ca ?? "",
          JSON.stringify(CASES),
        ],
        stdout: "piped",
        stderr: "piped",
      }).output(),
      "python client",
      60_000,
    );
    assert.equal(output.code, 0, decoder.decode(output.stderr));
    const report = JSON.parse(decoder.decode(output.stdout));
    assert.deepEqual(report.results, [...allEchoed(CASES), ["pong", 5, true]]);
    assert.equal(report.protocol, "echo.v1");
    assert.equal(report.code, 4000); // our echo of its close code
    const deflate = run.python === "deflate" && run.server.perMessageDeflate !== false;
    assert.deepEqual(report.extensions, deflate ? ["PerMessageDeflate"] : []);
    assert.equal(await within(extensions.promise, "server session"), deflate ? OUR_DEFLATE : "");
    const event = await within(closed.promise, "server close");
    assert.equal(event.code, 4000);
    assert.equal(event.reason, "bye");
    assert(event.wasClean);
    // websockets compresses every message; we compress from 1 KiB (our default threshold).
    const [tap] = server.taps;
    assert.equal(server.taps.length, 1);
    assertWire(tap!.received, CASES, () => deflate, "from Python");
    assertWire(tap!.sent, CASES, ([, size]) => deflate && size >= 1024, "to Python");
    assert.equal(tap!.controlRsv1, 0);
  });
}

// argv: "deflate" or "none". "report" answers with the extensions in use.
const PYTHON_SERVER = `
import asyncio, json, sys, websockets
async def echo(ws, path):
    async for message in ws:
        if message == "close-please":
            await ws.close(4001, "as you wish")
            return
        if message == "report":
            await ws.send(json.dumps([type(e).__name__ for e in ws.extensions]))
            continue
        await ws.send(message)
async def main():
    compression = None if sys.argv[1] == "none" else "deflate"
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=None, subprotocols=["echo.v1"],
                                compression=compression) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
`;

async function withPythonServer(
  compression: "deflate" | "none",
  fn: (url: string) => Promise<void>,
): Promise<void> {
  const child = new Deno.Command(PYTHON, {
    args: ["-c", PYTHON_SERVER, compression],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  try {
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await within(stdout.read(), "python server start", 60_000);
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

interface ServerRun {
  readonly label: string;
  readonly python: "deflate" | "none";
  readonly client: ConnectOptions;
}

const SERVER_RUNS: readonly ServerRun[] = [
  { label: "permessage-deflate", python: "deflate", client: {} },
  {
    label: "uncompressed: the Python server declines permessage-deflate",
    python: "none",
    client: {},
  },
  {
    label: "uncompressed: connect() offers no extension",
    python: "deflate",
    client: { perMessageDeflate: false },
  },
];

for (const run of SERVER_RUNS) {
  Deno.test(`connect() exchanges 0 B to 8 MiB text and binary messages with a Python websockets server (${run.label})`, async () => {
    await withPythonServer(run.python, async (url) => {
      const client = await connect(`${url}/any`, { ...run.client, protocols: ["echo.v1"] });
      assert.equal(client.protocol, "echo.v1");
      const deflate = run.python === "deflate" && run.client.perMessageDeflate !== false;
      if (deflate) assert.match(client.extensions, /^permessage-deflate\b/);
      else assert.equal(client.extensions, "");
      const sent = CASES.map(messageOf);
      for (const message of sent) client.send(message);
      client.send("report");
      let i = 0;
      for await (const message of client) {
        if (i === sent.length) {
          assert.deepEqual(JSON.parse(message as string), deflate ? ["PerMessageDeflate"] : []);
          break;
        }
        assert.deepEqual(message, sent[i], `message ${i}: ${CASES[i]!.join(" ")}`);
        i++;
      }
      client.close(1000, "done");
      const event = await within(client.closed, "close");
      assert.equal(event.code, 1000);
      assert(event.wasClean);
    });
  });
}

Deno.test("WebSocketClient sees a Python websockets server's close code and reason", async () => {
  await withPythonServer("deflate", async (url) => {
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
