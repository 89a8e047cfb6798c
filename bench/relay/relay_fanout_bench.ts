// Socket-relay fan-out over loopback TCP: 1,000 sockets following one channel, 10 messages
// published in-process per iteration, done when every socket has read every document. The
// relay (hub feed → Relay → listenRelay) against the floor peer (Deno.listen; the iteration's
// NUL-terminated documents pre-encoded once and written in one write per socket: no ids,
// feeds, queues or cursors) in one group.
import { Hub } from "../../lib/hub/hub.ts";
import { Relay } from "../../lib/relay/relay.ts";
import { listenRelay } from "../../lib/relay/relay_listener.ts";
import { until } from "../hub/_loopback.ts";
import { fanOutGroup } from "../hub/_fanout.ts";

const SOCKETS = 1000;
const MESSAGES = 10;
const PAYLOAD = { text: "x".repeat(64) };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads every socket; counts NUL-terminated documents (after the greeting, if any). */
function follow(conns: Deno.Conn[], greeted: boolean): { docs: Int32Array; ids: string[] } {
  const docs = new Int32Array(conns.length);
  const ids: string[] = [];
  conns.forEach((conn, i) => {
    (async () => {
      const buffer = new Uint8Array(16 * 1024);
      let greeting: number[] | undefined = greeted ? [] : undefined;
      for (;;) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) return;
        for (let j = 0; j < n; j++) {
          const byte = buffer[j]!;
          if (greeting === undefined) {
            if (byte === 0) docs[i]!++;
          } else if (byte !== 0) {
            greeting.push(byte);
          } else {
            ids[i] = /id="([^"]+)"/.exec(decoder.decode(new Uint8Array(greeting)))![1]!;
            greeting = undefined;
          }
        }
      }
    })();
  });
  return { docs, ids };
}

async function connectMany(port: number): Promise<Deno.Conn[]> {
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < SOCKETS; i++) conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
  return conns;
}

// The relay: greeted, then subscribed through its core API (the HTTP step is not measured).
const hub = new Hub();
const relay = new Relay({ source: hub, policyWindowMs: 0 });
const tcp = listenRelay(relay, { port: 0 });
const relayConns = await connectMany(tcp.addr.port);
const relayClients = follow(relayConns, true);
await until(() => relayClients.ids.filter(Boolean).length === SOCKETS);
for (const id of relayClients.ids) await relay.subscribe(id, "fan", undefined, Date.now());

// The floor peer.
const floorListener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const floorSockets: Deno.Conn[] = [];
const accepting = (async () => {
  for await (const conn of floorListener) floorSockets.push(conn);
})();
const floorConns = await connectMany(floorListener.addr.port);
const floorClients = follow(floorConns, false);
await until(() => floorSockets.length === SOCKETS);

let floorSeq = 0;
fanOutGroup({
  group: `relay fan-out: ${MESSAGES} messages to ${SOCKETS} sockets (${
    MESSAGES * SOCKETS
  } documents)`,
  messages: MESSAGES,
  n: 20,
  warmup: 2,
  floor: {
    name: "floor: the iteration's documents pre-encoded, one write per socket",
    counts: floorClients.docs,
    async send() {
      let text = "";
      for (let m = 0; m < MESSAGES; m++) {
        text += `<message channel="fan" id="${++floorSeq}">${JSON.stringify(PAYLOAD)}</message>\0`;
      }
      const docs = encoder.encode(text);
      await Promise.all(floorSockets.map((socket) => socket.write(docs)));
    },
  },
  pushwire: {
    name: "relay: hub.publish → Relay → listenRelay",
    counts: relayClients.docs,
    async send() {
      for (let m = 0; m < MESSAGES; m++) await hub.publish("fan", PAYLOAD);
    },
  },
});

globalThis.addEventListener("unload", () => {
  for (const conn of [...relayConns, ...floorConns, ...floorSockets]) {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
  floorListener.close();
  void accepting;
  void tcp.shutdown();
  void hub.close();
});
