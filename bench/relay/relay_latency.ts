// Socket-relay latency over loopback TCP: one socket following one channel, one message
// published in-process at a time, timed from the publish to the socket reading its document.
// Prints p50 / p99 in µs. Usage: deno run -A bench/relay/relay_latency.ts [ROUNDS]
import { Hub } from "../../lib/hub/hub.ts";
import { Relay } from "../../lib/relay/relay.ts";
import { listenRelay } from "../../lib/relay/relay_listener.ts";

const ROUNDS = Number(Deno.args[0] ?? 2000);
const decoder = new TextDecoder();
const hub = new Hub();
const relay = new Relay({ source: hub, policyWindowMs: 0 });
const tcp = listenRelay(relay, { port: 0 });
const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcp.addr.port });
const buffer = new Uint8Array(16 * 1024);

// Reads until `count` more NUL-terminated documents arrived; returns their text.
async function readDocuments(count: number): Promise<string> {
  let text = "";
  let seen = 0;
  while (seen < count) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("relay closed the socket");
    for (let i = 0; i < n; i++) if (buffer[i] === 0) seen++;
    text += decoder.decode(buffer.subarray(0, n));
  }
  return text;
}

const id = /id="([^"]+)"/.exec(await readDocuments(1))![1]!;
await relay.subscribe(id, "lat", undefined, Date.now());
const samples: number[] = [];
for (let i = 0; i < ROUNDS + 100; i++) {
  const start = performance.now();
  await hub.publish("lat", i);
  await readDocuments(1);
  if (i >= 100) samples.push((performance.now() - start) * 1000);
}
samples.sort((a, b) => a - b);
const at = (q: number) => samples[Math.floor(q * (samples.length - 1))]!.toFixed(0);
console.log(`relay publish → read, ${ROUNDS} rounds: p50 ${at(0.5)} µs, p99 ${at(0.99)} µs`);
conn.close();
await tcp.shutdown();
await hub.close();
