// WebSocketClient follows the WHATWG WebSocket interface: readyState transitions, events and
// on-attributes, binaryType, send() in each state, close() argument checks, bufferedAmount,
// and a failed connection's error + close events.
import assert from "node:assert/strict";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import { WebSocketClient } from "../../lib/websocket_io/websocket_client.ts";
import { startServer, within } from "./_helpers.ts";

function echoRouter(): WebSocketRouter {
  const router = new WebSocketRouter();
  router.route("/echo", {
    protocols: ["v1"],
    message: (session, message) => void session.send(message),
  });
  return router;
}

function next<T extends Event>(target: EventTarget, type: string): Promise<T> {
  return within(
    new Promise<T>((resolve) =>
      target.addEventListener(type, (e) => resolve(e as T), { once: true })
    ),
    `${type} event`,
  );
}

Deno.test("WebSocketClient goes CONNECTING → OPEN → CLOSING → CLOSED with open, message and close events", async () => {
  await using server = startServer(echoRouter());
  const ws = new WebSocketClient(server.url("/echo"), ["v1", "v0"]);
  assert.equal(ws.readyState, WebSocketClient.CONNECTING);
  assert.throws(() => ws.send("too early"), (e: DOMException) => e.name === "InvalidStateError");
  const seen: string[] = [];
  ws.onopen = () => seen.push("onopen");
  await next(ws, "open");
  assert.equal(ws.readyState, WebSocketClient.OPEN);
  assert.equal(ws.protocol, "v1");
  assert.equal(
    ws.extensions,
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
  );
  ws.send("text");
  const message = await next<MessageEvent>(ws, "message");
  assert.equal(message.data, "text");
  assert.equal(message.origin, `ws://127.0.0.1:${server.port}`);
  ws.close(4000, "done");
  assert.equal(ws.readyState, WebSocketClient.CLOSING);
  const close = await next<CloseEvent>(ws, "close");
  assert.equal(ws.readyState, WebSocketClient.CLOSED);
  assert.equal(close.code, 4000);
  assert.equal(close.reason, ""); // the server's echo carries the code only
  assert(close.wasClean);
  assert.deepEqual(seen, ["onopen"]);
});

Deno.test("WebSocketClient delivers binary messages as Blob by default and as ArrayBuffer on request", async () => {
  await using server = startServer(echoRouter());
  const ws = new WebSocketClient(server.url("/echo"));
  await next(ws, "open");
  ws.send(new Uint8Array([1, 2, 3]));
  const blob = (await next<MessageEvent>(ws, "message")).data;
  assert(blob instanceof Blob);
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), new Uint8Array([1, 2, 3]));
  ws.binaryType = "arraybuffer";
  ws.binaryType = "nonsense" as BinaryType; // ignored, as WHATWG says
  assert.equal(ws.binaryType, "arraybuffer");
  const both = new Promise<unknown[]>((resolve) => {
    const data: unknown[] = [];
    ws.onmessage = (event) => data.push(event.data) === 2 && resolve(data);
  });
  ws.send(new Blob([new Uint8Array([4, 5])]));
  ws.send(new Uint16Array([0x0706]).buffer);
  const [first, second] = await within(both, "two messages");
  assert(first instanceof ArrayBuffer && second instanceof ArrayBuffer);
  assert.deepEqual(new Uint8Array(first), new Uint8Array([4, 5])); // a Blob keeps its place
  assert.deepEqual(new Uint8Array(second), new Uint8Array([0x06, 0x07]));
  ws.close();
  assert((await next<CloseEvent>(ws, "close")).wasClean);
});

Deno.test("WebSocketClient.close checks its arguments like a browser", async () => {
  await using server = startServer(echoRouter());
  const ws = new WebSocketClient(server.url("/echo"));
  await next(ws, "open");
  assert.throws(() => ws.close(1001), (e: DOMException) => e.name === "InvalidAccessError");
  assert.throws(
    () => ws.close(1000, "x".repeat(124)),
    (e: DOMException) => e.name === "SyntaxError",
  );
  ws.close(1000);
  ws.close(1000); // a second close does nothing
  await next(ws, "close");
  ws.send("after close"); // dropped, but counted
  assert.equal(ws.bufferedAmount, "after close".length);
});

Deno.test("WebSocketClient constructor throws SyntaxError for a bad URL or subprotocol list", () => {
  assert.throws(
    () => new WebSocketClient("mailto:a@b"),
    (e: DOMException) => e.name === "SyntaxError",
  );
  assert.throws(
    () => new WebSocketClient("ws://127.0.0.1:1/", ["a", "a"]),
    (e: DOMException) => e.name === "SyntaxError",
  );
  assert.throws(
    () => new WebSocketClient("ws://127.0.0.1:1/", "not a token"),
    (e: DOMException) => e.name === "SyntaxError",
  );
});

Deno.test("WebSocketClient fires error then close 1006 when the handshake is refused", async () => {
  await using server = startServer(echoRouter());
  const ws = new WebSocketClient(server.url("/nowhere"));
  const order: string[] = [];
  ws.addEventListener("error", () => order.push("error"));
  const close = await next<CloseEvent>(ws, "close");
  order.push("close");
  assert.deepEqual(order, ["error", "close"]);
  assert.equal(close.code, 1006);
  assert.equal(close.wasClean, false);
  assert.equal(ws.readyState, WebSocketClient.CLOSED);
});

Deno.test("WebSocketClient reports the server's close code when the server closes", async () => {
  const router = new WebSocketRouter();
  router.route("/bye", { open: (session) => session.close(4001, "go away") });
  await using server = startServer(router);
  const ws = new WebSocketClient(server.url("/bye"));
  const close = await next<CloseEvent>(ws, "close");
  assert.equal(close.code, 4001);
  assert.equal(close.reason, "go away");
  assert(close.wasClean);
});
