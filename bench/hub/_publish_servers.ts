// The two servers of publish_throughput.ts, in a process of their own so the publishers and
// readers (the parent) do not share their event loop: the hub (`createHubHandler` on
// `Deno.serve`) and a floor peer on `Deno.serve`, both on 127.0.0.1 port 0. Prints
// `{"hub":PORT,"floor":PORT}` on the first stdout line, then serves until stdin closes; a line
// "CPU" on stdin is answered with the process's CPU time so far.
//
// The floor does the same job with the least code: `POST /channels/{ch}` reads the body text,
// appends it to an array (the ids are its indexes) and enqueues one `id:`/`data:` chunk to every
// open `GET /channels/{ch}/events` stream and answers every parked long poll;
// `GET /channels/{ch}/longpoll?after=N` answers at once with the bodies after index N (the body
// text spliced into the JSON, no parse) or parks; `GET /channels/{ch}` answers the cursor. No
// validation, channel names, history bounds, queues, CORS, metrics or timeouts.
//
//   deno run -A bench/hub/_publish_servers.ts
import { Hub } from "../../lib/hub/hub.ts";
import { createHubHandler } from "../../lib/server/hub_handler.ts";
import process from "node:process";
import { TextLineStream } from "./_lines.ts";

const hub = new Hub();
const hubServer = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  createHubHandler(hub, { heartbeatIntervalMs: 0 }),
);

const encoder = new TextEncoder();
const bodies: string[] = [];
const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
let parked: { after: number; resolve: (response: Response) => void }[] = [];

function answer(after: number): Response {
  let json = '{"messages":[';
  for (let i = after; i < bodies.length; i++) {
    json += `${i > after ? "," : ""}{"id":"${i + 1}","data":${bodies[i]}}`;
  }
  json += `],"cursor":"${bodies.length}"}`;
  return new Response(json, { headers: { "Content-Type": "application/json" } });
}

const floorServer = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  async (request) => {
    const url = new URL(request.url);
    if (request.method === "POST") {
      const text = await request.text();
      bodies.push(text);
      const chunk = encoder.encode(`id: ${bodies.length}\ndata: ${text}\n\n`);
      for (const controller of streams) controller.enqueue(chunk);
      const released = parked;
      parked = [];
      for (const { after, resolve } of released) resolve(answer(after));
      return new Response(`{"id":"${bodies.length}"}`, { status: 201 });
    }
    if (url.pathname.endsWith("/events")) {
      let self: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          self = controller;
          streams.add(controller);
        },
        cancel() {
          streams.delete(self);
        },
      });
      return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
    }
    if (url.pathname.endsWith("/longpoll")) {
      const after = Number(url.searchParams.get("after") ?? bodies.length);
      if (after < bodies.length) return answer(after);
      return new Promise<Response>((resolve) => parked.push({ after, resolve }));
    }
    return new Response(`{"messages":[],"cursor":"${bodies.length}"}`);
  },
);

console.log(JSON.stringify({ hub: hubServer.addr.port, floor: floorServer.addr.port }));
// "CPU" on stdin: this process's CPU time so far (user + system, all threads, µs) as one line.
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
  new TextLineStream(),
);
for await (const line of lines) {
  if (line !== "CPU") throw new TypeError(`Cannot serve: unknown command "${line}"`);
  const { user, system } = process.cpuUsage();
  console.log(JSON.stringify({ cpuMicros: user + system }));
}
for (const controller of streams) controller.close();
for (const { after, resolve } of parked) resolve(answer(after));
await hub.close();
await hubServer.shutdown();
await floorServer.shutdown();
