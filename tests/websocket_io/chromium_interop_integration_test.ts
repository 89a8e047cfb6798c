// Interop with headless Chromium's WebSocket against our server: a page exchanges text and
// binary messages of exactly 0 B, 125 B, 64 KiB and 8 MiB, then closes; a second socket is
// closed by the server. Chromium always offers permessage-deflate, so the messages run once
// with it and once with our server declining it (uncompressed frames of 64 KiB and 8 MiB); a
// wire tap on our server checks what was compressed. The page reports to the test over HTTP.
// Fails (not skips) without Chromium.
import assert from "node:assert/strict";
import { type Chromium, openInChromium } from "../_chromium.ts";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import type { WebSocketServerOptions } from "../../lib/websocket_io/server.ts";
import type { SessionCloseEvent } from "../../lib/websocket_io/session.ts";
import { within } from "./_helpers.ts";
import { allEchoed, assertWire, BROWSER_MESSAGE_OF, CASES } from "./_interop_messages.ts";
import { startTappedServer } from "./_interop_wire_tap.ts";

const PAGE = (wsUrl: string) =>
  `<!doctype html>
<meta charset="utf-8">
<script type="module">
${BROWSER_MESSAGE_OF}
function opened(url, protocols) {
  const ws = new WebSocket(url, protocols);
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
const report = { results: [] };
try {
  const ws = await opened(${JSON.stringify(wsUrl)} + "/echo", ["echo.v1"]);
  report.protocol = ws.protocol;
  report.extensions = ws.extensions;
  for (const [kind, size] of ${JSON.stringify(CASES)}) {
    const message = messageOf(kind, size);
    ws.send(message);
    report.results.push([kind, sizeOf(message), same(message, await nextMessage(ws))]);
  }
  const closed = new Promise((resolve) => ws.onclose = resolve);
  ws.close(4005, "browser bye");
  const event = await closed;
  report.close = [event.code, event.wasClean];
  const second = await opened(${JSON.stringify(wsUrl)} + "/bye");
  const serverClose = new Promise((resolve) => second.onclose = resolve);
  second.send("close-please");
  const event2 = await serverClose;
  report.serverClose = [event2.code, event2.reason, event2.wasClean];
} catch (error) {
  report.error = String(error);
}
await fetch("/report", { method: "POST", body: JSON.stringify(report) });
</script>`;

const RUNS: ReadonlyArray<readonly [string, WebSocketServerOptions]> = [
  ["permessage-deflate", {}],
  ["uncompressed: our server declines permessage-deflate", { perMessageDeflate: false }],
];

for (const [label, options] of RUNS) {
  Deno.test(`Chromium's WebSocket exchanges 0 B to 8 MiB text and binary messages with our server (${label})`, async () => {
    const deflate = options.perMessageDeflate !== false;
    const router = new WebSocketRouter();
    const closed = Promise.withResolvers<SessionCloseEvent>();
    router.route("/echo", {
      protocols: ["echo.v1"],
      message: (session, message) => void session.send(message),
      close: (_s, event) => closed.resolve(event),
    });
    router.route("/bye", { message: (session) => session.close(4006, "server bye") });
    await using ws = startTappedServer(router, options);
    const report = Promise.withResolvers<Record<string, unknown>>();
    const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/report") {
        report.resolve(await request.json());
        return new Response("ok");
      }
      if (pathname === "/") {
        return new Response(PAGE(`ws://127.0.0.1:${ws.port}`), {
          headers: { "content-type": "text/html; charset=utf-8" },
        });
      }
      return new Response("not found", { status: 404 });
    });
    let browser: Chromium | undefined;
    try {
      browser = await openInChromium(`http://127.0.0.1:${http.addr.port}/`);
      const result = await within(report.promise, "the page's report", 60_000);
      assert.equal(result.error, undefined, String(result.error));
      assert.deepEqual(result.results, allEchoed(CASES));
      assert.equal(result.protocol, "echo.v1");
      assert.equal(
        result.extensions,
        deflate ? "permessage-deflate; server_no_context_takeover; client_no_context_takeover" : "",
      );
      assert.deepEqual(result.close, [4005, true]);
      assert.deepEqual(result.serverClose, [4006, "server bye", true]);
      const event = await within(closed.promise, "server close");
      assert.equal(event.code, 4005);
      assert.equal(event.reason, "browser bye");
      assert(event.wasClean);
      // Chromium compresses every message; we compress from 1 KiB (our default threshold).
      const tap = ws.taps[0]!;
      assertWire(tap.received, CASES, () => deflate, "from Chromium");
      assertWire(tap.sent, CASES, ([, size]) => deflate && size >= 1024, "to Chromium");
      assert.equal(tap.controlRsv1, 0);
    } finally {
      await browser?.close();
      await http.shutdown();
    }
  });
}
