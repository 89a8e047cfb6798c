/**
 * Deno as a client: pushwire's `connect()` (async iteration), its browser-shaped
 * `WebSocketClient` and its `EventSource`, each reading a few messages from a local server
 * shaped like the public feeds people connect to (an exchange's trade stream over WebSocket,
 * a wiki's recent changes over SSE). The same client code works against the real services;
 * only the URLs and `--allow-net` change.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1:8080 examples/client.ts --port 8080 --count 3
 * ```
 *
 * It prints what each client receives and exits when all three are done.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { EventSource, serveEventSource } from "../lib/sse/mod.ts";
import {
  connect,
  DenoServeAdapter,
  WebSocketClient,
  WebSocketRouter,
} from "../lib/websocket_io/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string", default: "8080" }, count: { type: "string", default: "3" } },
});
const count = Number(values.count);

// The server: a trade stream (subscribe, then trades) and a recent-changes event stream.
const router = new WebSocketRouter();
router.route<string | Uint8Array, string, ReturnType<typeof setInterval>>("/v1/trades", {
  message(session, message) {
    const { type, product_ids: [product] = [] } = JSON.parse(String(message));
    if (type !== "subscribe") return session.close(1008, "subscribe first");
    let tradeId = 0;
    session.data = setInterval(() => {
      const price = (97_000 + Math.random() * 100).toFixed(2);
      session.send(
        JSON.stringify({ type: "match", product_id: product, trade_id: ++tradeId, price }),
      );
    }, 50);
  },
  close: (session) => clearInterval(session.data),
});
const adapter = new DenoServeAdapter(router);
let changeId = 0;
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
}, (request) => {
  if (request.headers.get("upgrade")?.toLowerCase() === "websocket") return adapter.handle(request);
  return serveEventSource(request, {
    onConnect({ stream }) {
      const timer = setInterval(() => {
        const data = JSON.stringify({ type: "edit", title: `Page ${++changeId}`, user: "bot" });
        stream.send({ id: String(changeId), data });
      }, 50);
      stream.closed.then(() => clearInterval(timer));
    },
  });
});
const base = `127.0.0.1:${server.addr.port}`;
const subscribe = JSON.stringify({ type: "subscribe", product_ids: ["BTC-USD"] });

async function stop(): Promise<void> {
  await adapter.shutdown();
  await server.shutdown();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

// 1. connect(): messages are an async iterable.
const session = await connect(`ws://${base}/v1/trades`);
session.send(subscribe);
let received = 0;
for await (const message of session) {
  console.log(`connect(): ${message}`);
  if (++received === count) session.close(1000);
}

// 2. WebSocketClient: the browser's WebSocket interface, for code shared with the browser.
await new Promise((resolve) => {
  const ws = new WebSocketClient(`ws://${base}/v1/trades`);
  let n = 0;
  ws.onopen = () => ws.send(subscribe);
  ws.onmessage = (event) => {
    console.log(`WebSocketClient: ${event.data}`);
    if (++n === count) ws.close(1000);
  };
  ws.onclose = resolve;
});

// 3. EventSource: the browser's interface too; it reconnects with Last-Event-ID by itself.
await new Promise<void>((resolve) => {
  const source = new EventSource(`http://${base}/v2/stream/recentchange`);
  let n = 0;
  source.onmessage = (event) => {
    console.log(`EventSource: ${event.data} (id ${event.lastEventId})`);
    if (++n === count) {
      source.close();
      resolve();
    }
  };
});
await stop();
