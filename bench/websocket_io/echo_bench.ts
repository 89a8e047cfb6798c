// Our WebSocket server against Deno.upgradeWebSocket on the same machine, in the same run,
// with the same client (Deno's built-in WebSocket): echo round trips and bulk throughput of
// 64 KiB messages. Both servers run in one child process (`_echo_servers.ts`), so the client
// here does not share their event loop.
//
//   deno bench -A bench/websocket_io/echo_bench.ts
import { startEchoServers } from "./_start_echo_servers.ts";
const servers = await startEchoServers();
const ports = servers.ports;
globalThis.addEventListener("unload", () => {
  servers.stop();
});

/** A Deno WebSocket client whose echoes settle a counter. */
async function client(port: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/bench`);
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let waiting = 0;
  let done: (() => void) | undefined;
  ws.onmessage = () => {
    if (--waiting === 0) done?.();
  };
  return {
    /** Sends every message at once, resolves when every echo arrived. */
    echo(messages: readonly (string | Uint8Array<ArrayBuffer>)[]): Promise<void> {
      waiting = messages.length;
      const settled = new Promise<void>((resolve) => done = resolve);
      for (const message of messages) ws.send(message);
      return settled;
    },
  };
}

const clients = { ours: await client(ports.ours), deno: await client(ports.deno) };
const SMALL = ["0123456789abcdef"];
const BULK = Array.from({ length: 16 }, () => new Uint8Array(64 * 1024).fill(7));

const TARGETS = [["Deno.upgradeWebSocket", "deno"], ["pushwire WebSocketServer", "ours"]] as const;

// Each group's two benches are registered (and so run) back to back: a change in the
// machine's load between them skews the ratio less. `echo_interleaved.ts` alternates them.
for (const [name, target] of TARGETS) {
  Deno.bench({
    name: `${name}: echo round trip, 16 B text`,
    group: "echo round trip",
    baseline: target === "deno",
    async fn() {
      await clients[target].echo(SMALL);
    },
  });
}
for (const [name, target] of TARGETS) {
  Deno.bench({
    name: `${name}: bulk echo, 16 x 64 KiB binary (1 MiB each way)`,
    group: "bulk 64 KiB",
    baseline: target === "deno",
    async fn() {
      await clients[target].echo(BULK);
    },
  });
}
