// Client process of longpoll_latency.ts: for each line "GO <url>" on stdin, opens CLIENTS
// long-poll requests to <url> and prints one JSON line: the absolute arrival time of each
// answer (performance.timeOrigin + performance.now(), ms), comparable across processes.
//
//   deno run -A bench/hub/_longpoll_clients.ts <clients>
import { TextLineStream } from "./_lines.ts";

const clients = Number(Deno.args[0] ?? 1000);
const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
  new TextLineStream(),
);
for await (const line of lines) {
  if (!line.startsWith("GO ")) break;
  const url = line.slice(3);
  const arrivals = await Promise.all(
    Array.from({ length: clients }, async () => {
      const body = await (await fetch(url)).json();
      if (body.messages.length !== 1) throw new Error("missed the message");
      return performance.timeOrigin + performance.now();
    }),
  );
  console.log(JSON.stringify(arrivals));
}
