// The opening handshake against real peers over loopback TCP: Python `websockets` as client
// and as server. These fail (not skip) when /usr/bin/python3 or its `websockets` is missing.
import assert from "node:assert/strict";
import {
  type HeadKind,
  type HeadOf,
  HeadParser,
  type HeadParserEvent,
} from "../../lib/http/head_parser.ts";
import {
  buildClientRequest,
  generateKey,
  verifyServerResponse,
} from "../../lib/websocket/client_handshake.ts";
import {
  buildHandshakeResponse,
  buildRejectionResponse,
  computeAcceptKey,
  upgradeRequestFromHead,
  validateUpgradeRequest,
} from "../../lib/websocket/handshake.ts";
import { selectSubprotocol } from "../../lib/websocket/subprotocol.ts";
import { openInChromium } from "../_chromium.ts";

const PYTHON = "/usr/bin/python3";
const TIMEOUT_MS = 10_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads from `conn` into `parser` until it reports an event (bounded by maxHeadSize). */
async function readHead<K extends HeadKind>(
  conn: Deno.Conn,
  parser: HeadParser<K>,
): Promise<HeadParserEvent<HeadOf<K>>> {
  const buffer = new Uint8Array(1024);
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("peer closed before the head was complete");
    const event = parser.receive(buffer.subarray(0, n));
    if (event !== undefined) return event;
  }
}

/** Reads until `count` bytes (beyond `have`) arrived or the peer closes. */
async function readAtLeast(conn: Deno.Conn, have: Uint8Array, count: number): Promise<Uint8Array> {
  let bytes = have;
  const buffer = new Uint8Array(256);
  while (bytes.length < count) {
    const n = await conn.read(buffer);
    if (n === null) break;
    bytes = new Uint8Array([...bytes, ...buffer.subarray(0, n)]);
  }
  return bytes;
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const PYTHON_CLIENT = `
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1], subprotocols=["pushwire.v1", "chat"],
                                  open_timeout=5, close_timeout=2) as ws:
        print("open", ws.subprotocol, ws.response_headers.get("Sec-WebSocket-Extensions"))
    print("closed", ws.close_code)
asyncio.run(main())
`;

Deno.test("Python websockets client completes the handshake with validateUpgradeRequest", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  const child = new Deno.Command(PYTHON, {
    args: ["-c", PYTHON_CLIENT, `ws://127.0.0.1:${port}/channels/a/ws?x=1`],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const conn = await withTimeout(listener.accept(), "accept");
    try {
      const event = await withTimeout(readHead(conn, new HeadParser({ kind: "request" })), "head");
      assert(event.type === "head", JSON.stringify(event));
      assert(event.head.kind === "request");
      assert.equal(event.head.target, "/channels/a/ws?x=1");
      const result = validateUpgradeRequest(upgradeRequestFromHead(event.head));
      assert(result.ok, result.ok ? "" : result.reason);
      assert.deepEqual(result.protocols, ["pushwire.v1", "chat"]);
      assert.equal(result.extensions[0]?.name, "permessage-deflate");
      const head = buildHandshakeResponse({
        accept: await computeAcceptKey(result.key),
        protocol: selectSubprotocol(result.protocols, ["chat", "pushwire.v1"]),
      });
      await conn.write(encoder.encode(head));
      // The client closes at once: a masked close frame (2 + 4 + 2 bytes); echo it unmasked.
      const frame = await withTimeout(readAtLeast(conn, event.rest, 8), "close frame");
      assert.equal(frame[0], 0x88);
      await conn.write(new Uint8Array([0x88, 0x02, 0x03, 0xe8]));
    } finally {
      conn.close();
    }
    const output = await withTimeout(child.output(), "python client");
    const stdout = decoder.decode(output.stdout);
    assert.equal(output.code, 0, decoder.decode(output.stderr));
    assert.equal(stdout, "open chat None\nclosed 1000\n");
  } finally {
    listener.close();
    try {
      child.kill();
    } catch { /* already exited */ }
    await child.status;
  }
});

Deno.test("Python websockets client reports the 426 from buildRejectionResponse", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const child = new Deno.Command(PYTHON, {
    args: ["-c", PYTHON_CLIENT, `ws://127.0.0.1:${listener.addr.port}/`],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const conn = await withTimeout(listener.accept(), "accept");
    try {
      const event = await withTimeout(readHead(conn, new HeadParser({ kind: "request" })), "head");
      assert(event.type === "head");
      // Pretend the client spoke an old version to exercise the 426 path end to end.
      event.head.headers.set("Sec-WebSocket-Version", "8");
      const result = validateUpgradeRequest(upgradeRequestFromHead(event.head));
      assert(!result.ok);
      await conn.write(
        encoder.encode(buildRejectionResponse(result.status, result.reason, result.headers)),
      );
    } finally {
      conn.close();
    }
    const output = await withTimeout(child.output(), "python client");
    assert.notEqual(output.code, 0);
    assert.match(decoder.decode(output.stderr), /HTTP 426/);
  } finally {
    listener.close();
    try {
      child.kill();
    } catch { /* already exited */ }
    await child.status;
  }
});

const PYTHON_SERVER = `
import asyncio, websockets
async def main():
    done = asyncio.Event()
    async def handler(ws, path=None):
        await ws.send("hi")
        done.set()
    async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=["chat"]) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.wait_for(done.wait(), 8)
        await asyncio.sleep(0.05)
asyncio.run(main())
`;

Deno.test("buildClientRequest and verifyServerResponse complete a handshake with a Python websockets server", async () => {
  const child = new Deno.Command(PYTHON, {
    args: ["-c", PYTHON_SERVER],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  try {
    const first = await withTimeout(reader.read(), "python server start");
    const port = Number(decoder.decode(first.value).trim());
    assert(port > 0, "python server printed no port");
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const key = generateKey();
      const extensions = [{
        name: "permessage-deflate",
        params: [["client_max_window_bits", true]] as const,
      }];
      await conn.write(encoder.encode(buildClientRequest({
        host: `127.0.0.1:${port}`,
        path: "/chat",
        key,
        protocols: ["superchat", "chat"],
        extensions,
      })));
      const event = await withTimeout(readHead(conn, new HeadParser({ kind: "response" })), "head");
      assert(event.type === "head", JSON.stringify(event));
      assert(event.head.kind === "response");
      const result = await verifyServerResponse(event.head, {
        key,
        protocols: ["superchat", "chat"],
        extensions,
      });
      assert(result.ok, result.ok ? "" : result.reason);
      assert.equal(result.protocol, "chat");
      assert.equal(result.extensions[0]?.name, "permessage-deflate");
      // The server's first frame follows the head: a text frame "hi", compressed or not.
      const frame = await withTimeout(readAtLeast(conn, event.rest, 2), "first frame");
      assert.equal(frame[0]! & 0x0f, 0x1);
    } finally {
      conn.close();
    }
  } finally {
    reader.releaseLock();
    await child.stdout.cancel();
    await child.stderr.cancel();
    try {
      child.kill();
    } catch { /* already exited */ }
    await child.status;
  }
});

Deno.test("Chromium opens a WebSocket answered by validateUpgradeRequest and buildHandshakeResponse", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  // The page reports what it saw over the socket itself: no DOM dump, no virtual time.
  const page = `<!doctype html><script>
const ws = new WebSocket("ws://127.0.0.1:${port}/ws", ["chat", "superchat"]);
ws.onopen = () => { ws.send("open " + ws.protocol + " [" + ws.extensions + "]"); ws.close(1000); };
</script>`;
  const validations: unknown[] = [];
  const { promise: message, resolve, reject } = Promise.withResolvers<string>();

  async function handle(conn: Deno.Conn): Promise<void> {
    let upgrading = false;
    try {
      const event = await withTimeout(readHead(conn, new HeadParser({ kind: "request" })), "head");
      if (event.type !== "head") return;
      if (event.head.headers.get("upgrade") === null) { // the page itself, or favicon.ico
        const body = encoder.encode(page);
        await conn.write(encoder.encode(
          `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
        ));
        await conn.write(body);
        return;
      }
      // From here on a failure is the test's: report it instead of waiting for the timeout.
      upgrading = true;
      const result = validateUpgradeRequest(upgradeRequestFromHead(event.head));
      validations.push(result);
      if (!result.ok) {
        await conn.write(
          encoder.encode(buildRejectionResponse(result.status, result.reason, result.headers)),
        );
        return;
      }
      await conn.write(encoder.encode(buildHandshakeResponse({
        accept: await computeAcceptKey(result.key),
        protocol: selectSubprotocol(result.protocols, ["superchat", "chat"]),
      })));
      // Chromium sends data only if it accepted the 101: one masked text frame (< 126 bytes).
      const header = await withTimeout(readAtLeast(conn, event.rest, 6), "text frame");
      assert.equal(header[0], 0x81);
      const length = header[1]! & 0x7f;
      assert(header[1]! & 0x80, "client frames are masked");
      const frame = await withTimeout(readAtLeast(conn, header, 6 + length), "text payload");
      const payload = frame.slice(6, 6 + length).map((b, i) => b ^ frame[2 + (i % 4)]!);
      resolve(decoder.decode(payload));
      await conn.write(new Uint8Array([0x88, 0x02, 0x03, 0xe8]));
    } catch (error) {
      // Speculative connections Chromium opens and drops are not failures.
      if (upgrading) reject(error);
    } finally {
      conn.close();
    }
  }

  const handlers: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) handlers.push(handle(conn));
  })();
  // The shared launcher ends Chromium's whole process group and removes its profile reliably.
  const chromium = await openInChromium(`http://127.0.0.1:${port}/`);
  try {
    // Generous: Chromium starts slowly on a loaded 2-core machine.
    assert.equal(await withTimeout(message, "chromium message", 30_000), "open superchat []");
    assert.equal(validations.length, 1);
    const result = validations[0] as { ok: boolean; protocols: string[]; origin: string };
    assert.equal(result.ok, true);
    assert.deepEqual(result.protocols, ["chat", "superchat"]);
    assert.equal(result.origin, `http://127.0.0.1:${port}`);
  } finally {
    await chromium.close();
    listener.close();
    await accepting;
    await Promise.all(handlers);
  }
});
