// Streaming fan-out over loopback HTTP: 1,000 subscribers of one channel, 10 messages
// (MESSAGES) published in-process per iteration, done when every subscriber has read every
// event. One group per streaming transport, the hub's route against its floor peer (Deno.serve
// streams, the iteration's events pre-encoded as one chunk enqueued to every controller: no ids,
// history, queues or subscriptions; one chunk per message costs a write each once messages
// pass ~128 bytes, which is what the hub's per-turn batching saves):
// - SSE, GET /channels/{ch}/events: an event ends with a blank line;
// - hidden iframe, GET /channels/{ch}/iframe: a message is one `<script>…</script>` line.
import { Hub } from "../../lib/hub/hub.ts";
import { createHubHandler } from "../../lib/server/hub_handler.ts";
import { iframePrelude, iframeScript } from "../../lib/server/iframe_script.ts";
import { fanOutGroup } from "./_fanout.ts";
import { until } from "./_loopback.ts";

const SUBSCRIBERS = 1000;
const MESSAGES = 10;
const PAYLOAD = JSON.stringify({ text: "x".repeat(64) });

/** Whether the byte before `byte` and `byte` end one event of the stream. */
type EndsEvent = (previous2: number, previous: number, byte: number) => boolean;

/** A blank line. */
const endsSseEvent: EndsEvent = (_, previous, byte) => byte === 0x0a && previous === 0x0a;
/** `t>` + LF: the end of `</script>`, which no prelude or heartbeat line ends with. */
const endsScript: EndsEvent = (previous2, previous, byte) =>
  byte === 0x0a && previous === 0x3e && previous2 === 0x74;

/** Counts events on each of `count` streaming connections to `url`. */
async function connect(url: string, count: number, endsEvent: EndsEvent): Promise<Int32Array> {
  const events = new Int32Array(count);
  await Promise.all(Array.from({ length: count }, async (_, i) => {
    const response = await fetch(url);
    const reader = response.body!.getReader();
    (async () => {
      let previous2 = 0;
      let previous = 0;
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done || value === undefined) return;
        for (let j = 0; j < value.length; j++) {
          const byte = value[j]!;
          if (endsEvent(previous2, previous, byte)) events[i]!++;
          previous2 = previous;
          previous = byte;
        }
      }
    })();
  }));
  return events;
}

const encoder = new TextEncoder();
const hub = new Hub();
const hubServer = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  createHubHandler(hub, { heartbeatIntervalMs: 0, sseRetryMs: undefined }),
);
const cleanups: (() => void)[] = [];

/** One transport's group: the floor and the hub, each with its own subscribers. */
async function transportGroup(transport: {
  name: string;
  path: string;
  contentType: string;
  prelude: string;
  floorChunk: (seq: number) => string;
  endsEvent: EndsEvent;
}): Promise<void> {
  const channel = `fan-${transport.path}`;
  const before = hub.stats.subscribers;
  const hubEvents = await connect(
    `http://127.0.0.1:${hubServer.addr.port}/channels/${channel}/${transport.path}`,
    SUBSCRIBERS,
    transport.endsEvent,
  );
  await until(() => hub.stats.subscribers === before + SUBSCRIBERS);

  const controllers: ReadableStreamDefaultController<Uint8Array>[] = [];
  const prelude = encoder.encode(transport.prelude);
  const floorServer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        if (prelude.length > 0) c.enqueue(prelude);
        controllers.push(c);
      },
    });
    // no-transform, as the hub sends: Deno.serve would otherwise gzip text/html per chunk.
    return new Response(body, {
      headers: { "Content-Type": transport.contentType, "Cache-Control": "no-cache, no-transform" },
    });
  });
  const floorEvents = await connect(
    `http://127.0.0.1:${floorServer.addr.port}/`,
    SUBSCRIBERS,
    transport.endsEvent,
  );
  await until(() => controllers.length === SUBSCRIBERS);
  cleanups.push(() => {
    for (const controller of controllers) controller.close();
    void floorServer.shutdown();
  });

  let floorSeq = 0;
  fanOutGroup({
    group: `${transport.name} fan-out: ${MESSAGES} messages to ${SUBSCRIBERS} subscribers (${
      MESSAGES * SUBSCRIBERS
    } events)`,
    messages: MESSAGES,
    n: 3,
    warmup: 1,
    floor: {
      name: `floor: the iteration's events in one chunk per controller (${transport.name})`,
      counts: floorEvents,
      send() {
        let text = "";
        for (let m = 0; m < MESSAGES; m++) text += transport.floorChunk(++floorSeq);
        const chunk = encoder.encode(text);
        for (const controller of controllers) controller.enqueue(chunk);
      },
    },
    pushwire: {
      name: `hub: hub.publish → GET /channels/${channel}/${transport.path}`,
      counts: hubEvents,
      async send() {
        for (let m = 0; m < MESSAGES; m++) await hub.publish(channel, PAYLOAD);
      },
    },
  });
}

await transportGroup({
  name: "SSE",
  path: "events",
  contentType: "text/event-stream",
  prelude: "",
  floorChunk: (seq) => `id: ${seq}\ndata: ${PAYLOAD}\n\n`,
  endsEvent: endsSseEvent,
});
await transportGroup({
  name: "iframe",
  path: "iframe",
  contentType: "text/html; charset=utf-8",
  prelude: iframePrelude(),
  floorChunk: (seq) =>
    iframeScript(
      "pushwireMessage",
      JSON.stringify({ id: String(seq), channel: "fan-iframe", data: PAYLOAD, time: 0 }),
    ),
  endsEvent: endsScript,
});

globalThis.addEventListener("unload", () => {
  for (const cleanup of cleanups) cleanup();
  void hub.close();
  void hubServer.shutdown();
});
