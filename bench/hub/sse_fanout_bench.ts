// SSE fan-out over loopback HTTP: 1,000 subscribers of one channel, 10 messages (MESSAGES)
// published in-process per iteration, done when every subscriber has read every event. The hub's
// GET /channels/{ch}/events against the floor peer (Deno.serve streams, one pre-encoded
// chunk enqueued to every controller: no ids, history, queues or subscriptions) in one group.
import { Hub } from "../../lib/hub/hub.ts";
import { createHubHandler } from "../../lib/server/hub_handler.ts";
import { until } from "./_loopback.ts";

const SUBSCRIBERS = 1000;
const MESSAGES = 10;
const PAYLOAD = JSON.stringify({ text: "x".repeat(64) });

/** Counts events (blank lines) on each of `count` SSE connections to `url`. */
async function connect(url: string, count: number): Promise<Int32Array> {
  const events = new Int32Array(count);
  await Promise.all(Array.from({ length: count }, async (_, i) => {
    const response = await fetch(url);
    const reader = response.body!.getReader();
    (async () => {
      let previous = 0;
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done || value === undefined) return;
        for (let j = 0; j < value.length; j++) {
          const byte = value[j]!;
          if (byte === 0x0a && previous === 0x0a) events[i]!++;
          previous = byte;
        }
      }
    })();
  }));
  return events;
}

function everyoneHas(events: Int32Array, target: number): boolean {
  for (let i = 0; i < events.length; i++) if (events[i]! < target) return false;
  return true;
}

// The hub.
const hub = new Hub();
const hubServer = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  createHubHandler(hub, { heartbeatIntervalMs: 0, sseRetryMs: undefined }),
);
const hubEvents = await connect(
  `http://127.0.0.1:${hubServer.addr.port}/channels/fan/events`,
  SUBSCRIBERS,
);
await until(() => hub.stats.subscribers === SUBSCRIBERS);

// The floor peer.
const encoder = new TextEncoder();
const controllers: ReadableStreamDefaultController<Uint8Array>[] = [];
const floorServer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
  const body = new ReadableStream<Uint8Array>({ start: (c) => void controllers.push(c) });
  return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
});
const floorEvents = await connect(`http://127.0.0.1:${floorServer.addr.port}/`, SUBSCRIBERS);
await until(() => controllers.length === SUBSCRIBERS);
let floorSeq = 0;

const group = `SSE fan-out: ${MESSAGES} messages to ${SUBSCRIBERS} subscribers (${
  MESSAGES * SUBSCRIBERS
} events)`;
let hubTarget = 0;
let floorTarget = 0;

Deno.bench({
  name: "floor: one chunk enqueued per controller",
  group,
  baseline: true,
  n: 3,
  warmup: 1,
  async fn() {
    for (let m = 0; m < MESSAGES; m++) {
      const chunk = encoder.encode(`id: ${++floorSeq}\ndata: ${PAYLOAD}\n\n`);
      for (const controller of controllers) controller.enqueue(chunk);
    }
    floorTarget += MESSAGES;
    await until(() => everyoneHas(floorEvents, floorTarget));
  },
});

Deno.bench({
  name: "hub: hub.publish → GET /channels/fan/events",
  group,
  n: 3,
  warmup: 1,
  async fn() {
    for (let m = 0; m < MESSAGES; m++) await hub.publish("fan", PAYLOAD);
    hubTarget += MESSAGES;
    await until(() => everyoneHas(hubEvents, hubTarget));
  },
});

globalThis.addEventListener("unload", () => {
  for (const controller of controllers) controller.close();
  void hub.close();
  void hubServer.shutdown();
  void floorServer.shutdown();
});
