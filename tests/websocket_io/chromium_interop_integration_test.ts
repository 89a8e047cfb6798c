// Interop with headless Chromium's WebSocket against our server: a page exchanges text and
// binary messages of 0 B, 125 B, 64 KiB and 8 MiB, then closes; a second socket is closed by
// the server. The page reports to the test over HTTP. Fails (not skips) without Chromium.
import assert from "node:assert/strict";
import { type Chromium, openInChromium } from "../_chromium.ts";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import type { SessionCloseEvent } from "../../lib/websocket_io/session.ts";
import { startServer, within } from "./_helpers.ts";

const PAGE = (wsUrl: string) =>
  `<!doctype html>
<meta charset="utf-8">
<script type="module">
const sizes = [0, 125, 64 * 1024, 8 * 1024 * 1024];
function opened(url, protocols) {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("cannot open " + url));
  });
}
function nextMessage(ws) {
  return new Promise((resolve) => ws.onmessage = (event) => resolve(event.data));
}
function sameBytes(a, b) {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a), y = new Uint8Array(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
const report = { results: [] };
try {
  const ws = await opened(${JSON.stringify(wsUrl)} + "/echo", ["echo.v1"]);
  report.protocol = ws.protocol;
  for (const size of sizes) {
    const text = "\\u00e9".repeat(size / 2);
    ws.send(text);
    report.results.push(["text", size, (await nextMessage(ws)) === text]);
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 13) & 0xff;
    ws.send(bytes.buffer);
    const echoed = await nextMessage(ws);
    report.results.push(["binary", size, echoed instanceof ArrayBuffer && sameBytes(echoed, bytes.buffer)]);
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

Deno.test("Chromium's WebSocket exchanges 0 B to 8 MiB text and binary messages with our server", async () => {
  const router = new WebSocketRouter();
  const closed = Promise.withResolvers<SessionCloseEvent>();
  router.route("/echo", {
    protocols: ["echo.v1"],
    message: (session, message) => void session.send(message),
    close: (_s, event) => closed.resolve(event),
  });
  router.route("/bye", { message: (session) => session.close(4006, "server bye") });
  await using ws = startServer(router);
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
    const expected = [0, 125, 64 * 1024, 8 * 1024 * 1024].flatMap((size) => [
      ["text", size, true],
      ["binary", size, true],
    ]);
    assert.deepEqual(result.results, expected);
    assert.equal(result.protocol, "echo.v1");
    assert.deepEqual(result.close, [4005, true]);
    assert.deepEqual(result.serverClose, [4006, "server bye", true]);
    const event = await within(closed.promise, "server close");
    assert.equal(event.code, 4005);
    assert.equal(event.reason, "browser bye");
    assert(event.wasClean);
  } finally {
    await browser?.close();
    await http.shutdown();
  }
});
