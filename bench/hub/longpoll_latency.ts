// Long-poll wake-up latency over real HTTP on loopback, clients in a second process (so the
// 2-core machine gives the server one core and the clients the other). CLIENTS long-poll
// requests park on one channel; the server publishes in-process and each client's latency is
// the time from the publish call to the arrival of its parsed answer (absolute clocks:
// performance.timeOrigin + performance.now()). The hub and the floor peer (_loopback.ts)
// alternate round by round so they share the machine's noise; a second floor reads
// `request.signal` (what any server that notices departed clients must do on Deno: in Deno
// 2.9's legacy mode each such request later gets an AbortError with a stack trace). Prints
// p50/p99 of each.
//
//   deno run -A bench/hub/longpoll_latency.ts [clients=1000] [rounds=5]
import { percentile, serveFloor, serveHub, until } from "./_loopback.ts";
import { TextLineStream } from "./_lines.ts";

const clients = Number(Deno.args[0] ?? 1000);
const rounds = Number(Deno.args[1] ?? 5);
const hub = serveHub();
const floor = serveFloor(false);
const floorSignal = serveFloor(true);
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", new URL("./_longpoll_clients.ts", import.meta.url).pathname, String(clients)],
  stdin: "piped",
  stdout: "piped",
}).spawn();
const writer = child.stdin.getWriter();
const replies = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream())
  .getReader();
const encoder = new TextEncoder();
const now = () => performance.timeOrigin + performance.now();

async function round(url: string, waiting: () => number, publish: () => Promise<void>) {
  await writer.write(encoder.encode(`GO ${url}\n`));
  await until(() => waiting() === clients);
  const start = now();
  await publish();
  const { value } = await replies.read();
  return (JSON.parse(value!) as number[]).map((arrival) => arrival - start);
}

const results = {
  "hub": [] as number[],
  "floor": [] as number[],
  "floor + request.signal": [] as number[],
};
try {
  for (let r = 0; r < rounds; r++) {
    const cursor = await hub.hub.position("lp");
    results.hub.push(
      ...await round(
        `${hub.base}/channels/lp/longpoll?after=${cursor}&timeout=60`,
        hub.waiting,
        async () => void await hub.hub.publish("lp", "x"),
      ),
    );
    for (
      const [name, peer] of [["floor", floor], ["floor + request.signal", floorSignal]] as const
    ) {
      results[name].push(
        ...await round(`${peer.base}/channels/lp/longpoll`, peer.waiting, async () => {
          peer.release();
          await Promise.resolve();
        }),
      );
    }
  }
} finally {
  await writer.close();
  await child.status;
  await hub.close();
  await floor.close();
  await floorSignal.close();
}
for (const [name, latencies] of Object.entries(results)) {
  const sorted = latencies.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(22)} long-poll wake-up, ${clients} clients x ${rounds} rounds: ` +
      `first ${sorted[0]!.toFixed(1)} ms, p50 ${percentile(sorted, 0.5).toFixed(1)} ms, ` +
      `p99 ${percentile(sorted, 0.99).toFixed(1)} ms`,
  );
}
