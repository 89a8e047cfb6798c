// The round trip of `echo_bench.ts` measured interleaved: the same client (Deno's built-in
// WebSocket) does sequential 16 B text round trips against our server and
// Deno.upgradeWebSocket in alternating rounds, the order swapped every round, so a change in
// the machine's load hits both sides alike. Prints µs per round trip (avg, p75, min over the
// rounds) for each side and the median of the per-round ratios.
//
//   deno run -A bench/websocket_io/echo_interleaved.ts [ROUNDS] [ROUND_TRIPS_PER_ROUND]
import { startEchoServers } from "./_start_echo_servers.ts";
const ROUNDS = Number(Deno.args[0] ?? 40);
const PER_ROUND = Number(Deno.args[1] ?? 2000);
const WARM_UP = 5000;
const MESSAGE = "0123456789abcdef";

const servers = await startEchoServers();
const ports = servers.ports;

/** A client whose `roundTrip()` sends one message and resolves on its echo. */
async function client(port: number): Promise<{ socket: WebSocket; roundTrip(): Promise<void> }> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/bench`);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let echoed: (() => void) | undefined;
  socket.onmessage = () => echoed?.();
  return {
    socket,
    roundTrip: () =>
      new Promise<void>((resolve) => {
        echoed = resolve;
        socket.send(MESSAGE);
      }),
  };
}

const targets = { ours: await client(ports.ours), deno: await client(ports.deno) };
const names = ["deno", "ours"] as const;
const micros: Record<(typeof names)[number], number[]> = { ours: [], deno: [] };
for (const name of names) {
  for (let i = 0; i < WARM_UP; i++) await targets[name].roundTrip();
}
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 === 0 ? names : [...names].reverse()) {
    const start = performance.now();
    for (let i = 0; i < PER_ROUND; i++) await targets[name].roundTrip();
    micros[name].push((performance.now() - start) * 1000 / PER_ROUND);
  }
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const at = (values: number[], q: number) =>
  sorted(values)[Math.min(values.length - 1, Math.floor(values.length * q))]!;
const summary = (values: number[]) =>
  `avg ${(values.reduce((a, b) => a + b, 0) / values.length).toFixed(1)} µs, ` +
  `p75 ${at(values, 0.75).toFixed(1)} µs, min ${at(values, 0).toFixed(1)} µs`;
const ratios = micros.deno.map((deno, i) => deno / micros.ours[i]!);
// deno-lint-ignore no-console
console.log(
  `16 B echo round trip, ${ROUNDS} interleaved rounds of ${PER_ROUND}\n` +
    `  Deno.upgradeWebSocket    ${summary(micros.deno)}\n` +
    `  pushwire WebSocketServer ${summary(micros.ours)}\n` +
    `  median per-round ratio Deno/ours: ${at(ratios, 0.5).toFixed(3)} (above 1: ours faster)`,
);
for (const name of names) targets[name].socket.close();
await servers.stop();
