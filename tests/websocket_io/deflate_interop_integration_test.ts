// permessage-deflate (RFC 7692) against peers written elsewhere: Python `websockets` as a
// client of our server and as a server for our client, headless Chromium against our server,
// each sending and receiving compressed text and binary messages of exactly 0 B, 125 B,
// 64 KiB and 8 MiB (compressible), plus 8 MiB of random bytes (incompressible), under the
// default policy (no context takeover) and with context takeover. A wire tap on our server
// counts RSV1 both ways and checks that compressible messages shrank; a raw peer checks RSV1
// on compressed messages only, never on control frames, and a decompression bomb closed with
// 1009. These fail (not skip) when Python, its `websockets` or Chromium is missing.
import assert from "node:assert/strict";
import { constants, deflateRawSync, inflateRawSync } from "node:zlib";
import { type Chromium, openInChromium } from "../_chromium.ts";
import { deflateMessage } from "../../lib/websocket/deflate_codec.ts";
import { encodeFrame } from "../../lib/websocket/frame_encoder.ts";
import type { PerMessageDeflateOptions } from "../../lib/websocket/permessage_deflate.ts";
import { connect } from "../../lib/websocket_io/client.ts";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import type { SessionCloseEvent } from "../../lib/websocket_io/session.ts";
import { closeCodeOf, decoder, RawPeer, startServer, type TestServer, within } from "./_helpers.ts";
import {
  allEchoed,
  assertWire,
  BROWSER_MESSAGE_OF,
  DEFLATE_CASES,
  type MessageCase,
  messageOf,
  PYTHON_MESSAGE_OF,
} from "./_interop_messages.ts";
import { startTappedServer, type TappedServer } from "./_interop_wire_tap.ts";

const PYTHON = "/usr/bin/python3";
const MAX = 16 * 1024 * 1024;
/** Whether we compress a message under `policy`: from its threshold on (1 KiB by default). */
function oursCompressed(policy: PerMessageDeflateOptions): (message: MessageCase) => boolean {
  const threshold = policy.threshold ?? 1024;
  return ([, size]) => size >= threshold;
}

const POLICIES: ReadonlyArray<readonly [string, PerMessageDeflateOptions]> = [
  ["the default policy", {}],
  ["context takeover, every message compressed", {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    threshold: 0,
  }],
];

/** An echo server with the given permessage-deflate policy; resolves each session's close. */
function echoServer(policy: PerMessageDeflateOptions): {
  server: TappedServer;
  extensions: Promise<string>;
  closed: Promise<SessionCloseEvent>;
} {
  const router = new WebSocketRouter();
  const extensions = Promise.withResolvers<string>();
  const closed = Promise.withResolvers<SessionCloseEvent>();
  router.route("/echo", {
    maxMessageSize: MAX,
    open: (session) => extensions.resolve(session.extensions),
    message: (session, message) => void session.send(message),
    close: (_session, event) => closed.resolve(event),
  });
  return {
    server: startTappedServer(router, { perMessageDeflate: policy }),
    extensions: extensions.promise,
    closed: closed.promise,
  };
}

// Counts RSV1 frames both ways by wrapping websockets' own PerMessageDeflate extension.
const PYTHON_PRELUDE = `
import asyncio, json, os, sys, websockets
from websockets.extensions import permessage_deflate as pmd
${PYTHON_MESSAGE_OF}
counts = {"received_compressed": 0, "sent_compressed": 0}
_decode, _encode = pmd.PerMessageDeflate.decode, pmd.PerMessageDeflate.encode
def decode(self, frame, *, max_size=None):
    if frame.rsv1:
        counts["received_compressed"] += 1
    return _decode(self, frame, max_size=max_size)
def encode(self, frame):
    out = _encode(self, frame)
    if out.rsv1:
        counts["sent_compressed"] += 1
    return out
pmd.PerMessageDeflate.decode, pmd.PerMessageDeflate.encode = decode, encode
def describe(ws):
    return [[type(e).__name__, e.remote_no_context_takeover, e.local_no_context_takeover,
             e.remote_max_window_bits, e.local_max_window_bits] for e in ws.extensions]
`;

// argv: url, cases (JSON).
const PYTHON_CLIENT = PYTHON_PRELUDE + `
async def main():
    results = []
    async with websockets.connect(sys.argv[1], max_size=None, open_timeout=30,
                                  close_timeout=30, compression="deflate") as ws:
        for kind, size in json.loads(sys.argv[2]):
            message = message_of(kind, size)
            await ws.send(message)
            results.append([kind, size_of(message), (await ws.recv()) == message])
        extensions = describe(ws)
        await ws.close(1000, "done")
    print(json.dumps({"results": results, "extensions": extensions, "counts": counts,
                      "code": ws.close_code}))
asyncio.run(main())
`;

for (const [label, policy] of POLICIES) {
  Deno.test(`Python websockets client exchanges compressed 0 B to 8 MiB text and binary messages, 8 MiB of random bytes included, with our server (${label})`, async () => {
    const { server, extensions, closed } = echoServer(policy);
    await using _server = server;
    const output = await within(
      new Deno.Command(PYTHON, {
        args: ["-c", PYTHON_CLIENT, server.url("/echo"), JSON.stringify(DEFLATE_CASES)],
        stdout: "piped",
        stderr: "piped",
      }).output(),
      "python client",
      60_000,
    );
    assert.equal(output.code, 0, decoder.decode(output.stderr));
    const report = JSON.parse(decoder.decode(output.stdout));
    assert.deepEqual(report.results, allEchoed(DEFLATE_CASES));
    assert.equal(report.code, 1000);
    const takeover = policy.serverNoContextTakeover === false;
    // [name, remote (server) no takeover, local (client) no takeover, remote bits, local bits]
    assert.deepEqual(report.extensions, [["PerMessageDeflate", !takeover, !takeover, 15, 15]]);
    assert.equal(
      await within(extensions, "server session"),
      takeover
        ? "permessage-deflate"
        : "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    );
    // Python compresses every message; we compress those at or above the threshold (1 KiB
    // by default: the 64 KiB and 8 MiB ones), or all of them with threshold 0. Counted at
    // both ends: by Python, and on our server's wire.
    const ours = oursCompressed(policy);
    assert.equal(report.counts.sent_compressed, DEFLATE_CASES.length);
    assert.equal(report.counts.received_compressed, DEFLATE_CASES.filter(ours).length);
    const event = await within(closed, "server close");
    assert.equal(event.code, 1000);
    assert(event.wasClean);
    const [tap] = server.taps;
    assertWire(tap!.received, DEFLATE_CASES, () => true, "from Python");
    assertWire(tap!.sent, DEFLATE_CASES, ours, "to Python");
    assert.equal(tap!.controlRsv1, 0);
  });
}

const PYTHON_SERVER = PYTHON_PRELUDE + `
async def echo(ws, path):
    async for message in ws:
        if message == "report":
            await ws.send(json.dumps({"extensions": describe(ws), "counts": counts}))
            continue
        await ws.send(message)
async def main():
    # websockets' default server policy: context takeover, 12-bit windows both ways.
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=None,
                                compression="deflate") as server:
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

Deno.test("connect() exchanges compressed 0 B to 8 MiB text and binary messages, 8 MiB of random bytes included, with a Python websockets server (context takeover)", async () => {
  await withPythonServer(async (url) => {
    const client = await connect(`${url}/any`, {
      maxMessageSize: MAX,
      perMessageDeflate: { threshold: 0 },
    });
    assert.equal(
      client.extensions,
      "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
    );
    const sent = DEFLATE_CASES.map(messageOf);
    for (const message of sent) client.send(message);
    client.send("report");
    let i = 0;
    let report: { extensions: unknown; counts: Record<string, number> } | undefined;
    for await (const message of client) {
      if (i === sent.length) {
        report = JSON.parse(message as string);
        break;
      }
      assert.deepEqual(message, sent[i], `message ${i}: ${DEFLATE_CASES[i]!.join(" ")}`);
      i++;
    }
    // [name, remote (client) no takeover, local (server) no takeover, remote bits, local bits]
    assert.deepEqual(report?.extensions, [["PerMessageDeflate", false, false, 12, 12]]);
    // Everything we sent was compressed (threshold 0), "report" included; Python compresses
    // every message it sends.
    assert.equal(report?.counts.received_compressed, sent.length + 1);
    assert.equal(report?.counts.sent_compressed, sent.length);
    client.close(1000, "done");
    const event = await within(client.closed, "close");
    assert.equal(event.code, 1000);
    assert(event.wasClean);
  });
});

const PAGE = (urls: readonly string[]) =>
  `<!doctype html>
<meta charset="utf-8">
<script type="module">
${BROWSER_MESSAGE_OF}
function opened(url) {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("cannot open " + url));
  });
}
function nextMessage(ws) {
  return new Promise((resolve, reject) => {
    ws.onmessage = (event) => resolve(event.data);
    ws.onclose = (event) => reject(new Error("closed with " + event.code));
  });
}
function same(sent, echoed) {
  if (typeof sent === "string") return echoed === sent;
  if (!(echoed instanceof ArrayBuffer) || echoed.byteLength !== sent.byteLength) return false;
  const bytes = new Uint8Array(echoed);
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== sent[i]) return false;
  return true;
}
const report = { sockets: [] };
try {
  for (const url of ${JSON.stringify(urls)}) {
    const ws = await opened(url);
    const entry = { extensions: ws.extensions, results: [] };
    for (const [kind, size] of ${JSON.stringify(DEFLATE_CASES)}) {
      const message = messageOf(kind, size);
      ws.send(message);
      entry.results.push([kind, sizeOf(message), same(message, await nextMessage(ws))]);
    }
    const closed = new Promise((resolve) => ws.onclose = resolve);
    ws.close(1000, "done");
    const event = await closed;
    entry.close = [event.code, event.wasClean];
    report.sockets.push(entry);
  }
} catch (error) {
  report.error = String(error);
}
await fetch("/report", { method: "POST", body: JSON.stringify(report) });
</script>`;

Deno.test("Chromium's WebSocket exchanges compressed 0 B to 8 MiB text and binary messages, 8 MiB of random bytes included, with our server (both policies)", async () => {
  const servers = POLICIES.map(([, policy]) => echoServer(policy));
  const report = Promise.withResolvers<Record<string, unknown>>();
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/report") {
      report.resolve(await request.json());
      return new Response("ok");
    }
    if (pathname === "/") {
      return new Response(PAGE(servers.map((s) => s.server.url("/echo"))), {
        headers: { "content-type": "text/html; charset=utf-8" },
      });
    }
    return new Response("not found", { status: 404 });
  });
  let browser: Chromium | undefined;
  try {
    browser = await openInChromium(`http://127.0.0.1:${http.addr.port}/`);
    const result = await within(report.promise, "the page's report", 90_000);
    assert.equal(result.error, undefined, String(result.error));
    const expected = allEchoed(DEFLATE_CASES);
    assert.deepEqual(result.sockets, [
      {
        extensions: "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        results: expected,
        close: [1000, true],
      },
      { extensions: "permessage-deflate", results: expected, close: [1000, true] },
    ]);
    for (const { closed } of servers) {
      const event = await within(closed, "server close");
      assert.equal(event.code, 1000);
      assert(event.wasClean);
    }
    // Chromium compresses every message, even empty ones; we compress from our threshold.
    servers.forEach(({ server }, i) => {
      const [label, policy] = POLICIES[i]!;
      assert.equal(server.taps.length, 1);
      const [tap] = server.taps;
      assertWire(tap!.received, DEFLATE_CASES, () => true, `from Chromium (${label})`);
      assertWire(tap!.sent, DEFLATE_CASES, oursCompressed(policy), `to Chromium (${label})`);
      assert.equal(tap!.controlRsv1, 0);
    });
  } finally {
    await browser?.close();
    await http.shutdown();
    for (const { server } of servers) await server.close();
  }
});

/** A raw client that negotiated permessage-deflate with the default offer. */
async function rawDeflatePeer(server: TestServer): Promise<RawPeer> {
  const { peer, head } = await RawPeer.upgrade(server.port, "/echo", {
    "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
  });
  assert.equal(head.status, 101);
  assert.equal(
    head.headers.get("sec-websocket-extensions"),
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
  );
  return peer;
}

Deno.test("Our server sets RSV1 on compressed messages only, never on control frames", async () => {
  const { server, closed } = echoServer({});
  await using _server = server;
  const peer = await rawDeflatePeer(server);
  try {
    const big = "x".repeat(4096);
    // A compressed message in three fragments: RSV1 on the first only (RFC 7692 §6.1).
    const payload = deflateMessage(new TextEncoder().encode(big));
    const parts = [payload.subarray(0, 3), payload.subarray(3, 5), payload.subarray(5)];
    await peer.write(encodeFrame(0x1, parts[0]!, { mask: true, fin: false, rsv1: true }));
    await peer.write(encodeFrame(0x0, parts[1]!, { mask: true, fin: false }));
    await peer.write(encodeFrame(0x0, parts[2]!, { mask: true, fin: true }));
    const echoed = await peer.nextFrame();
    assert(echoed !== undefined && echoed.opcode === 0x1 && echoed.rsv1 && echoed.fin);
    assert.equal(decoder.decode(inflate(echoed.payload)), big);
    await peer.send(0x1, "tiny"); // under the 1 KiB threshold: sent as it is
    const small = await peer.nextFrame();
    assert(small !== undefined && !small.rsv1 && decoder.decode(small.payload) === "tiny");
    await peer.send(0x9, "ping");
    const pong = await peer.nextFrame();
    assert(pong !== undefined && pong.opcode === 0xa && !pong.rsv1);
    await peer.send(0x8, new Uint8Array([0x03, 0xe8]));
    const close = await peer.nextFrame();
    assert(close !== undefined && close.opcode === 0x8 && !close.rsv1);
    assert.equal((await within(closed, "server close")).code, 1000);
  } finally {
    peer.close();
  }
});

Deno.test("Our server closes with 1009 on a decompression bomb", async () => {
  const router = new WebSocketRouter();
  const closed = Promise.withResolvers<SessionCloseEvent>();
  router.route("/echo", {
    maxMessageSize: 1024 * 1024,
    message: () => assert.fail("the bomb must not be delivered"),
    close: (_session, event) => closed.resolve(event),
  });
  await using server = startServer(router, { perMessageDeflate: {} });
  const peer = await rawDeflatePeer(server);
  try {
    // 64 sync-flushed pieces of 1 MiB of zeros: ~66 KiB inflating to 64 MiB.
    const piece = deflateRawSync(new Uint8Array(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
    const bomb = new Uint8Array(piece.length * 64);
    for (let i = 0; i < 64; i++) bomb.set(piece, i * piece.length);
    await peer.write(
      encodeFrame(0x2, bomb.subarray(0, bomb.length - 4), { mask: true, rsv1: true }),
    );
    const frame = await peer.nextFrame();
    assert.equal(closeCodeOf(frame), 1009);
    await peer.send(0x8, new Uint8Array([0x03, 0xf1]));
    const event = await within(closed.promise, "server close");
    assert.equal(event.error?.code, "WS_ERR_MESSAGE_TOO_BIG");
  } finally {
    peer.close();
  }
});

function inflate(payload: Uint8Array): Uint8Array {
  const input = new Uint8Array(payload.length + 4);
  input.set(payload);
  input.set([0x00, 0x00, 0xff, 0xff], payload.length); // RFC 7692 §7.2.2
  return inflateRawSync(input, { finishFlush: constants.Z_SYNC_FLUSH });
}
