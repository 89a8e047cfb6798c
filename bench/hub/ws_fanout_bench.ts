// WebSocket fan-out over loopback: 1,000 subscribers of one channel, 10 messages (MESSAGES)
// published in-process per iteration, done when every subscriber has received every message.
// The hub's GET /channels/{ch}/ws (hand-written framing on the one-port server, each message
// framed once for all sessions) against the floor peer: Deno.serve + Deno.upgradeWebSocket
// (framing in Rust), one socket.send of the same JSON text per subscriber per message, no ids,
// history, queues or subscriptions. The clients are Deno's WebSocket, in this process.
import { Hub } from "../../lib/hub/hub.ts";
import { serveOnePort } from "../../lib/net/one_port_server.ts";
import { createHubHandler } from "../../lib/server/hub_handler.ts";
import { Metrics } from "../../lib/server/metrics.ts";
import { createWebSocketRoutes } from "../../lib/server/ws/websocket_routes.ts";
import { fanOutGroup } from "./_fanout.ts";
import { until } from "./_loopback.ts";

const SUBSCRIBERS = 1000;
const MESSAGES = 10;
const PAYLOAD = JSON.stringify({ text: "x".repeat(64) });

/** Opens `count` sockets to `url`; counts the messages each receives. */
async function connect(url: string, count: number): Promise<{
  received: Int32Array;
  sockets: WebSocket[];
}> {
  const received = new Int32Array(count);
  const sockets = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(url);
        socket.onmessage = () => void received[i]!++;
        socket.onopen = () => resolve(socket);
        socket.onerror = () => reject(new Error(`socket ${i} failed to open`));
      })),
  );
  return { received, sockets };
}

// The hub, mounted as `deno task start` mounts it.
const hub = new Hub();
const metrics = new Metrics(hub);
const websocket = createWebSocketRoutes(hub, { metrics });
const hubServer = serveOnePort({ hostname: "127.0.0.1", port: 0, onListen() {} }, {
  fetch: createHubHandler(hub, {
    heartbeatIntervalMs: 0,
    metrics,
    channelRoutes: { ws: websocket.channelRoute },
    routes: { "/ws": websocket.wsRoute },
  }),
  upgrade: websocket.server.handleUpgrade,
});
const hubClients = await connect(
  `ws://127.0.0.1:${hubServer.addr.port}/channels/fan/ws`,
  SUBSCRIBERS,
);
await until(() => hub.stats.subscribers === SUBSCRIBERS);

// The floor peer.
const floorSockets: WebSocket[] = [];
const floorServer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.onopen = () => void floorSockets.push(socket);
  return response;
});
const floorClients = await connect(`ws://127.0.0.1:${floorServer.addr.port}/`, SUBSCRIBERS);
await until(() => floorSockets.length === SUBSCRIBERS);

let floorSeq = 0;
fanOutGroup({
  group: `WebSocket fan-out: ${MESSAGES} messages to ${SUBSCRIBERS} subscribers (${
    MESSAGES * SUBSCRIBERS
  } messages)`,
  messages: MESSAGES,
  n: 3,
  warmup: 1,
  floor: {
    name: "floor: Deno.upgradeWebSocket, socket.send per subscriber",
    counts: floorClients.received,
    send() {
      for (let m = 0; m < MESSAGES; m++) {
        const text = JSON.stringify({
          id: String(++floorSeq),
          channel: "fan",
          data: PAYLOAD,
          time: 0,
        });
        for (const socket of floorSockets) socket.send(text);
      }
    },
  },
  pushwire: {
    name: "hub: hub.publish → GET /channels/fan/ws",
    counts: hubClients.received,
    async send() {
      for (let m = 0; m < MESSAGES; m++) await hub.publish("fan", PAYLOAD);
    },
  },
});

globalThis.addEventListener("unload", () => {
  for (const socket of [...hubClients.sockets, ...floorClients.sockets]) socket.close();
  void websocket.shutdown(1000);
  void hub.close();
  void hubServer.shutdown();
  void floorServer.shutdown();
});
