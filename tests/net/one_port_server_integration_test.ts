import assert from "node:assert/strict";
import {
  type FetchHandler,
  type OnePortOptions,
  type OnePortServer,
  serveOnePort,
  type UpgradeHandler,
  type UpgradeRequestHead,
} from "../../lib/net/one_port_server.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function start(
  fetchHandler: FetchHandler,
  upgrade: UpgradeHandler = (_head, conn) => conn.close(),
  options: Partial<OnePortOptions> = {},
): OnePortServer {
  return serveOnePort({ hostname: "127.0.0.1", port: 0, ...options }, {
    fetch: fetchHandler,
    upgrade,
  });
}

function connect(server: OnePortServer): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
}

async function send(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** Reads until `done(text)` holds or the peer closes; bounded by `limit` reads. */
async function readUntil(
  conn: Deno.Conn,
  done: (text: string) => boolean,
  limit = 1000,
): Promise<{ text: string; closed: boolean }> {
  const buf = new Uint8Array(64 * 1024);
  let text = "";
  for (let i = 0; i < limit && !done(text); i++) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      return { text, closed: true };
    }
    if (n === null) return { text, closed: true };
    text += decoder.decode(buf.subarray(0, n));
  }
  return { text, closed: false };
}

/** Counts complete responses with a `content-length` body in `text`. */
function responses(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) return out;
    const length = Number(/content-length: (\d+)/i.exec(rest.slice(0, end))?.[1] ?? 0);
    if (rest.length < end + 4 + length) return out;
    out.push(rest.slice(0, end + 4 + length));
    rest = rest.slice(end + 4 + length);
  }
}

/** Bound of one wait: a failure detector, generous because the machine may be loaded. */
const BOUND_MS = 30_000;

/** Rejects if `promise` takes longer than `ms`, so a broken server fails instead of hanging. */
async function within<T>(promise: Promise<T>, ms = BOUND_MS, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("serveOnePort answers a GET and shows the client's address", async () => {
  let seen: Deno.NetAddr | undefined;
  const server = start((request, info) => {
    seen = info.remoteAddr;
    return new Response(`${request.method} ${new URL(request.url).pathname}`);
  });
  const conn = await connect(server);
  await send(conn, "GET /hello?x=1 HTTP/1.1\r\nHost: example.test\r\n\r\n");
  const { text } = await readUntil(conn, (t) => responses(t).length === 1);
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(text.endsWith("\r\n\r\nGET /hello"));
  // The handler sees the client socket's address, not the relay's.
  assert.equal(seen?.hostname, "127.0.0.1");
  assert.equal(seen?.port, conn.localAddr.port);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort passes a POST body to the handler", async () => {
  const server = start(async (request) => new Response(`got ${await request.text()}`));
  const response = await fetch(`http://127.0.0.1:${server.addr.port}/p`, {
    method: "POST",
    body: "hello world",
  });
  assert.equal(await response.text(), "got hello world");
  await server.shutdown();
});

Deno.test("serveOnePort passes a chunked request body to the handler", async () => {
  const server = start(async (request) => new Response(`got ${await request.text()}`));
  const conn = await connect(server);
  await send(
    conn,
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
  );
  const { text } = await readUntil(conn, (t) => responses(t).length === 1);
  assert.ok(text.endsWith("got hello world"), text);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort reuses a keep-alive connection, pipelined or not", async () => {
  const ports: number[] = [];
  const server = start((request, info) => {
    ports.push(info.remoteAddr.port);
    return new Response(new URL(request.url).pathname);
  });
  const conn = await connect(server);
  await send(conn, "GET /one HTTP/1.1\r\nHost: a\r\n\r\n");
  const first = await readUntil(conn, (t) => responses(t).length === 1);
  assert.ok(first.text.endsWith("/one"));
  // Two more requests in one write (pipelining), on the same connection.
  await send(conn, "GET /two HTTP/1.1\r\nHost: a\r\n\r\nGET /three HTTP/1.1\r\nHost: a\r\n\r\n");
  const next = await readUntil(conn, (t) => responses(t).length === 2);
  const bodies = responses(next.text).map((r) => r.slice(r.indexOf("\r\n\r\n") + 4));
  assert.deepEqual(bodies, ["/two", "/three"]);
  assert.deepEqual(ports, [conn.localAddr.port, conn.localAddr.port, conn.localAddr.port]);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort streams a response body as the handler produces it", async () => {
  const release = Promise.withResolvers<void>();
  const server = start(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode("data: first\n\n"));
          await release.promise;
          controller.enqueue(encoder.encode("data: second\n\n"));
          controller.close();
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    )
  );
  const response = await fetch(`http://127.0.0.1:${server.addr.port}/events`);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (let i = 0; i < 100 && !text.includes("first"); i++) text += (await reader.read()).value;
  // The first event arrived while the second one does not exist yet.
  assert.equal(text, "data: first\n\n");
  release.resolve();
  for (let i = 0; i < 100; i++) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  assert.equal(text, "data: first\n\ndata: second\n\n");
  await server.shutdown();
});

Deno.test("serveOnePort aborts request.signal and cancels the stream when the client leaves", async () => {
  const aborted = Promise.withResolvers<void>();
  const cancelled = Promise.withResolvers<void>();
  const server = start((request) => {
    request.signal.addEventListener("abort", () => aborted.resolve(), { once: true });
    return new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode("data: hello\n\n"));
        },
        cancel() {
          cancelled.resolve();
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  });
  const conn = await connect(server);
  await send(conn, "GET /events HTTP/1.1\r\nHost: a\r\n\r\n");
  await readUntil(conn, (t) => t.includes("data: hello"));
  conn.close();
  await within(
    Promise.all([aborted.promise, cancelled.promise]),
    BOUND_MS,
    "release of the stream",
  );
  await server.shutdown();
});

Deno.test("serveOnePort hands an upgrade request, its head and the bytes after it to upgrade", async () => {
  const got = Promise.withResolvers<{ head: UpgradeRequestHead; rest: Uint8Array }>();
  const server = start(() => new Response("not this"), (head, conn, rest) => {
    got.resolve({ head, rest });
    conn.write(encoder.encode("HTTP/1.1 101 Switching Protocols\r\n\r\n")).finally(() =>
      conn.close()
    );
  });
  const conn = await connect(server);
  const head = "GET /ws?room=1 HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n" +
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
    "Sec-WebSocket-Version: 13\r\n\r\n";
  // A client may send its first frame in the same segment as the head.
  const bytes = new Uint8Array([...encoder.encode(head), 0x81, 0x80, 1, 2, 3, 4]);
  await conn.write(bytes);
  const { head: parsed, rest } = await within(got.promise, BOUND_MS, "upgrade");
  assert.equal(parsed.method, "GET");
  assert.equal(parsed.target, "/ws?room=1");
  assert.equal(parsed.httpVersion, "1.1");
  assert.equal(parsed.headers.get("sec-websocket-key"), "dGhlIHNhbXBsZSBub25jZQ==");
  assert.deepEqual(rest, new Uint8Array([0x81, 0x80, 1, 2, 3, 4]));
  const { text } = await readUntil(conn, () => false);
  assert.equal(text, "HTTP/1.1 101 Switching Protocols\r\n\r\n");
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort lets a real WebSocket client (python websockets) reach upgrade", async () => {
  const server = start(() => new Response("not this"), async (head, conn) => {
    // A minimal RFC 6455 §4.2.2 handshake, enough to prove the raw connection is usable.
    const key = head.headers.get("sec-websocket-key") ?? "";
    const digest = await crypto.subtle.digest(
      "SHA-1",
      encoder.encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
    );
    const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
    await send(
      conn,
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    await conn.write(new Uint8Array([0x81, 0x05, ...encoder.encode("hello")]));
    await conn.read(new Uint8Array(1024)).catch(() => null); // the client's close frame
    await conn.write(new Uint8Array([0x88, 0x02, 0x03, 0xe8])).catch(() => 0);
    conn.close();
  });
  const script = "import asyncio, sys, websockets\n" +
    "async def main():\n" +
    "    async with websockets.connect(sys.argv[1]) as ws:\n" +
    "        print(await ws.recv())\n" +
    "asyncio.run(main())\n";
  // The machine's peer interpreter (with `websockets`); missing, the test fails.
  const output = await within(
    new Deno.Command("/usr/bin/python3", {
      args: ["-c", script, `ws://127.0.0.1:${server.addr.port}/channels/news/ws`],
      stdout: "piped",
      stderr: "piped",
    }).output(),
    20_000,
    "python websockets client",
  );
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.equal(decoder.decode(output.stdout).trim(), "hello");
  await server.shutdown();
});

Deno.test("serveOnePort closes the connection when the upgrade handler rejects", async () => {
  const server = start(() => new Response("not this"), async () => {
    await Promise.resolve();
    throw new Error("engine refused");
  });
  const conn = await connect(server);
  await send(conn, "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n");
  const { text, closed } = await within(readUntil(conn, () => false), BOUND_MS, "close");
  assert.equal(text, "");
  assert.ok(closed);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort answers 431 to a head over maxHeadSize and closes", async () => {
  let called = false;
  const server = start(() => {
    called = true;
    return new Response("no");
  });
  const conn = await connect(server);
  await send(conn, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(9000)}\r\n\r\n`).catch(
    () => {},
  );
  const { text, closed } = await readUntil(conn, () => false);
  assert.match(text, /^HTTP\/1\.1 431 /);
  assert.ok(closed);
  assert.equal(called, false);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort answers 400 to a malformed head and closes", async () => {
  const server = start(() => new Response("no"));
  const conn = await connect(server);
  await send(conn, "GET / HTTP/1.1\nHost: a\n\n");
  const { text, closed } = await readUntil(conn, () => false);
  assert.match(text, /^HTTP\/1\.1 400 /);
  assert.ok(closed);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort answers 408 and closes a connection that sends its head too slowly", async () => {
  const server = start(() => new Response("no"), undefined, { headTimeout: 100 });
  const conn = await connect(server);
  await send(conn, "GET / HTTP/1.1\r\nHost: a\r\n"); // and never the blank line
  const { text, closed } = await within(readUntil(conn, () => false), BOUND_MS, "slow head close");
  assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\nconnection: close\r\n/);
  assert.ok(closed);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort closes a relayed connection idle for idleTimeout", async () => {
  const server = start(() => new Response("ok"), undefined, { idleTimeout: 500 });
  const conn = await connect(server);
  await send(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const { text, closed } = await within(
    readUntil(conn, () => false),
    BOUND_MS,
    "idle close",
  );
  assert.equal(responses(text).length, 1);
  assert.ok(closed);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort gives a later upgrade request on a relayed connection to fetch", async () => {
  let upgraded = false;
  const server = start(
    (request) => new Response(`fetch saw upgrade: ${request.headers.get("upgrade")}`),
    (_head, conn) => {
      upgraded = true;
      conn.close();
    },
  );
  const conn = await connect(server);
  await send(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  await readUntil(conn, (t) => responses(t).length === 1);
  await send(
    conn,
    "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
  );
  const { text } = await readUntil(conn, (t) => t.includes("fetch saw upgrade"));
  assert.ok(text.includes("fetch saw upgrade: websocket"));
  assert.equal(upgraded, false);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort answers 503 and closes connections beyond maxConnections", async () => {
  const server = start(() => new Response("ok"), undefined, { maxConnections: 1 });
  const first = await connect(server);
  await send(first, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  await readUntil(first, (t) => responses(t).length === 1);
  const second = await connect(server);
  const { text, closed } = await within(readUntil(second, () => false), BOUND_MS, "refusal");
  assert.match(text, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
  assert.ok(closed);
  second.close();
  first.close();
  await server.shutdown();
});

Deno.test("serveOnePort shutdown lets a request under way finish and refuses new ones", async () => {
  const entered = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const server = start(async () => {
    entered.resolve();
    await release.promise;
    return new Response("late but complete");
  });
  const pending = fetch(`http://127.0.0.1:${server.addr.port}/`);
  await entered.promise;
  const shutdown = server.shutdown();
  await assert.rejects(connect(server));
  release.resolve();
  const response = await pending;
  assert.equal(await response.text(), "late but complete");
  await shutdown;
  await server.finished;
});

Deno.test("serveOnePort shutdown closes an endless stream after shutdownTimeout", async () => {
  const cancelled = Promise.withResolvers<void>();
  const server = start(
    () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(encoder.encode("data: forever\n\n"));
          },
          cancel() {
            cancelled.resolve();
          },
        }),
      ),
    undefined,
    { shutdownTimeout: 100 },
  );
  const conn = await connect(server);
  await send(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  await readUntil(conn, (t) => t.includes("forever"));
  await within(server.shutdown(), BOUND_MS, "shutdown");
  const { closed } = await within(readUntil(conn, () => false), BOUND_MS, "close");
  assert.ok(closed);
  await within(cancelled.promise, BOUND_MS, "stream cancel");
  conn.close();
});

Deno.test("serveOnePort shuts down when its signal aborts", async () => {
  const controller = new AbortController();
  const server = start(() => new Response("ok"), undefined, { signal: controller.signal });
  assert.equal(await (await fetch(`http://127.0.0.1:${server.addr.port}/`)).text(), "ok");
  controller.abort();
  await within(server.finished, BOUND_MS, "finished");
  await assert.rejects(connect(server));
});

Deno.test("serveOnePort rejects missing handlers and bad limits", () => {
  assert.throws(
    () =>
      serveOnePort({ port: 0 }, { fetch: undefined as unknown as FetchHandler, upgrade: () => {} }),
    TypeError,
  );
  assert.throws(
    () =>
      serveOnePort({ port: 0, maxHeadSize: 0 }, { fetch: () => new Response(), upgrade: () => {} }),
    RangeError,
  );
});

/** True when `request` was built by this library (first request), not by the runtime. */
function builtHere(request: Request): boolean {
  return Object.getPrototypeOf(request) !== Request.prototype;
}

/** The body of each complete `content-length` response in `text`. */
function bodies(text: string): string[] {
  return responses(text).map((r) => r.slice(r.indexOf("\r\n\r\n") + 4));
}

Deno.test("serveOnePort answers the first request itself and hands later ones to the runtime", async () => {
  const seen: { here: boolean; port: number; header: string | null; body: string }[] = [];
  const server = start(async (request, info) => {
    seen.push({
      here: builtHere(request),
      port: info.remoteAddr.port,
      header: request.headers.get("x-n"),
      body: await request.text(),
    });
    return new Response(`${request.method} ${new URL(request.url).pathname}`, {
      headers: { "x-answer": request.headers.get("x-n") ?? "" },
    });
  });
  const conn = await connect(server);
  await send(conn, "GET /one HTTP/1.1\r\nHost: a\r\nX-N: 1\r\n\r\n");
  const first = await readUntil(conn, (t) => responses(t).length === 1);
  assert.match(first.text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(first.text, /\r\nx-answer: 1\r\n/);
  assert.deepEqual(bodies(first.text), ["GET /one"]);
  await send(conn, "POST /two HTTP/1.1\r\nHost: a\r\nX-N: 2\r\nContent-Length: 3\r\n\r\nabc");
  const second = await readUntil(conn, (t) => responses(t).length === 1);
  assert.match(second.text, /\r\nx-answer: 2\r\n/);
  assert.deepEqual(bodies(second.text), ["POST /two"]);
  await send(conn, "GET /three HTTP/1.1\r\nHost: a\r\nX-N: 3\r\n\r\n");
  const third = await readUntil(conn, (t) => responses(t).length === 1);
  assert.deepEqual(bodies(third.text), ["GET /three"]);
  const port = conn.localAddr.port;
  assert.deepEqual(seen, [
    { here: true, port, header: "1", body: "" },
    { here: false, port, header: "2", body: "abc" },
    { here: false, port, header: "3", body: "" },
  ]);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort streams a first response chunked, then keeps serving the connection", async () => {
  const release = Promise.withResolvers<void>();
  const ports: number[] = [];
  const server = start((request, info) => {
    ports.push(info.remoteAddr.port);
    if (new URL(request.url).pathname !== "/events") return new Response("after");
    return new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode("data: 1\n\n"));
          await release.promise;
          controller.enqueue(encoder.encode("data: 2\n\n"));
          controller.close();
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  });
  const conn = await connect(server);
  await send(conn, "GET /events HTTP/1.1\r\nHost: a\r\n\r\n");
  const head = await readUntil(conn, (t) => t.includes("data: 1"));
  assert.match(head.text, /\r\ntransfer-encoding: chunked\r\n/i);
  assert.match(head.text, /\r\ncontent-type: text\/event-stream\r\n/);
  assert.ok(head.text.endsWith("\r\n\r\n9\r\ndata: 1\n\n\r\n"), head.text);
  release.resolve();
  const tail = await readUntil(conn, (t) => t.endsWith("0\r\n\r\n"));
  assert.equal(tail.text, "9\r\ndata: 2\n\n\r\n0\r\n\r\n");
  await send(conn, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
  const next = await readUntil(conn, (t) => responses(t).length === 1);
  assert.deepEqual(bodies(next.text), ["after"]);
  assert.deepEqual(ports, [conn.localAddr.port, conn.localAddr.port]);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort relays pipelined first requests in order", async () => {
  const seen: { here: boolean; port: number }[] = [];
  const server = start((request, info) => {
    seen.push({ here: builtHere(request), port: info.remoteAddr.port });
    return new Response(new URL(request.url).pathname);
  });
  const conn = await connect(server);
  await send(
    conn,
    "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n",
  );
  const { text } = await readUntil(conn, (t) => responses(t).length === 3);
  assert.deepEqual(bodies(text), ["/a", "/b", "/c"]);
  // The relay hands every request, the first included, to the internal Deno.serve.
  const port = conn.localAddr.port;
  assert.deepEqual(seen, [
    { here: false, port },
    { here: false, port },
    { here: false, port },
  ]);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort reads a chunked POST body first, split anywhere", async () => {
  const wire = "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
  const seen: { here: boolean; body: string }[] = [];
  const server = start(async (request) => {
    seen.push({ here: builtHere(request), body: await request.text() });
    return new Response("ok");
  });
  for (const split of [1, 40, 60, 63, 70, wire.length - 1]) {
    const conn = await connect(server);
    await send(conn, wire.slice(0, split));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await send(conn, wire.slice(split));
    const { text } = await readUntil(conn, (t) => responses(t).length === 1);
    assert.deepEqual(bodies(text), ["ok"]);
    conn.close();
  }
  assert.equal(seen.length, 6);
  for (const s of seen) assert.deepEqual(s, { here: true, body: "hello world" });
  await server.shutdown();
});

Deno.test("serveOnePort answers a HEAD first request without a body", async () => {
  const server = start((request) =>
    new Response(request.method === "HEAD" ? null : "body", {
      headers: { "content-length": "4" },
    })
  );
  const conn = await connect(server);
  await send(conn, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
  const head = await readUntil(conn, (t) => t.includes("\r\n\r\n"));
  assert.match(head.text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head.text, /\r\ncontent-length: 4\r\n/);
  assert.ok(head.text.endsWith("\r\n\r\n"));
  // No body followed: the next response starts right after the head.
  await send(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const next = await readUntil(conn, (t) => responses(t).length === 1);
  assert.deepEqual(bodies(next.text), ["body"]);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort closes after a first request with Connection: close or HTTP/1.0", async () => {
  const server = start(() => new Response("bye"));
  for (
    const head of [
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      "GET / HTTP/1.0\r\nHost: a\r\n\r\n",
    ]
  ) {
    const conn = await connect(server);
    await send(conn, head);
    const { text, closed } = await within(readUntil(conn, () => false), BOUND_MS, "close");
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nconnection: close\r\n/);
    assert.deepEqual(bodies(text), ["bye"]);
    assert.ok(closed);
    conn.close();
  }
  await server.shutdown();
});

Deno.test("serveOnePort releases a first-request handler waiting on request.signal when the client leaves", async () => {
  const released = Promise.withResolvers<string>();
  const entered = Promise.withResolvers<void>();
  const server = start(async (request) => {
    entered.resolve();
    // A long poll: waits for news or for the client to leave.
    await new Promise<void>((resolve) => request.signal.addEventListener("abort", () => resolve()));
    released.resolve(String(request.signal.reason?.name));
    return new Response("too late");
  });
  const conn = await connect(server);
  await send(conn, "GET /poll HTTP/1.1\r\nHost: a\r\n\r\n");
  await within(entered.promise, BOUND_MS, "handler start");
  conn.close();
  assert.equal(await within(released.promise, BOUND_MS, "release"), "ConnectionAborted");
  await server.shutdown();
});

Deno.test("serveOnePort with handoff relay serves every request through the relay", async () => {
  const seen: { here: boolean; port: number }[] = [];
  const server = start(
    (request, info) => {
      seen.push({ here: builtHere(request), port: info.remoteAddr.port });
      return new Response(new URL(request.url).pathname);
    },
    undefined,
    { handoff: "relay" },
  );
  const conn = await connect(server);
  await send(conn, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  const first = await readUntil(conn, (t) => responses(t).length === 1);
  await send(conn, "GET /y HTTP/1.1\r\nHost: a\r\n\r\n");
  const second = await readUntil(conn, (t) => responses(t).length === 1);
  assert.deepEqual([...bodies(first.text), ...bodies(second.text)], ["/x", "/y"]);
  const port = conn.localAddr.port;
  assert.deepEqual(seen, [{ here: false, port }, { here: false, port }]);
  conn.close();
  await server.shutdown();
});

Deno.test("serveOnePort shutdown closes an idle handed-off connection at once", async () => {
  // Far past the bound of the wait below: shutdown must not wait for it.
  const server = start(() => new Response("ok"), undefined, { shutdownTimeout: 120_000 });
  const conn = await connect(server);
  for (const path of ["/1", "/2"]) {
    await send(conn, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
    await readUntil(conn, (t) => responses(t).length === 1);
  }
  // Far below shutdownTimeout: nothing is under way, so nothing is waited for.
  await within(server.shutdown(), BOUND_MS, "shutdown");
  const { closed } = await within(readUntil(conn, () => false), BOUND_MS, "close");
  assert.ok(closed);
  conn.close();
});

Deno.test("serveOnePort shutdown cancels an endless stream on a handed-off connection after shutdownTimeout", async () => {
  const cancelled = Promise.withResolvers<void>();
  const server = start(
    (request) => {
      if (new URL(request.url).pathname === "/") return new Response("first");
      return new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(encoder.encode("data: forever\n\n"));
          },
          cancel() {
            cancelled.resolve();
          },
        }),
      );
    },
    undefined,
    { shutdownTimeout: 100 },
  );
  const conn = await connect(server);
  await send(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  await readUntil(conn, (t) => responses(t).length === 1);
  await send(conn, "GET /events HTTP/1.1\r\nHost: a\r\n\r\n");
  await readUntil(conn, (t) => t.includes("forever"));
  await within(server.shutdown(), BOUND_MS, "shutdown");
  const { closed } = await within(readUntil(conn, () => false), BOUND_MS, "close");
  assert.ok(closed);
  await within(cancelled.promise, BOUND_MS, "stream cancel");
  conn.close();
});
