// Servers on 127.0.0.1 port 0 for the HTTP benches: the hub, and a floor peer (the least a
// long-poll server can do on Deno.serve: park resolvers, answer them all on a POST), plus
// percentile helpers.
import { Hub } from "../../lib/hub/hub.ts";
import { createHubHandler } from "../../lib/server/hub_handler.ts";

export interface LoopbackServer {
  readonly base: string;
  /** Requests parked, waiting for a publish. */
  waiting(): number;
  close(): Promise<void>;
}

export interface LoopbackHub extends LoopbackServer {
  readonly hub: Hub;
}

export function serveHub(): LoopbackHub {
  const hub = new Hub();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createHubHandler(hub, { heartbeatIntervalMs: 0 }),
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    hub,
    waiting: () => hub.stats.waiters,
    async close() {
      await hub.close();
      await server.shutdown();
    },
  };
}

/**
 * The floor peer: `GET .../longpoll` parks a resolver; `POST` answers every parked request with
 * one fixed JSON body. No ids, history, cursors, CORS or timeouts.
 */
export function serveFloor(touchSignal = false): LoopbackServer & { release(): void } {
  let parked: ((response: Response) => void)[] = [];
  let seq = 0;
  function release(): void {
    const json = JSON.stringify({
      messages: [{ id: String(++seq), channel: "lp", data: "x", time: Date.now() }],
      cursor: String(seq),
    });
    const released = parked;
    parked = [];
    for (const resolve of released) {
      resolve(new Response(json, { headers: { "Content-Type": "application/json" } }));
    }
  }
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (request.method === "POST") {
      release();
      return new Response(null, { status: 201 });
    }
    if (touchSignal) void request.signal;
    return new Promise<Response>((resolve) => parked.push(resolve));
  });
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    release,
    waiting: () => parked.length,
    async close() {
      await server.shutdown();
    },
  };
}

export async function until(check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/**
 * One round: `clients` long-poll requests park on `server`, one POST releases them. Returns
 * each client's latency (POST sent → JSON parsed), in ms.
 */
export async function longPollRound(
  server: LoopbackServer,
  clients: number,
  cursor: string,
): Promise<{ latencies: number[]; cursor: string }> {
  let start = 0;
  const latencies: number[] = [];
  const waiting = Array.from(
    { length: clients },
    () =>
      fetch(`${server.base}/channels/lp/longpoll?after=${cursor}&timeout=60`)
        .then((response) => response.json())
        .then((body) => {
          latencies.push(performance.now() - start);
          return body as { cursor: string; messages: unknown[] };
        }),
  );
  await until(() => server.waiting() === clients);
  start = performance.now();
  const response = await fetch(`${server.base}/channels/lp`, {
    method: "POST",
    headers: { "Content-Type": "text/plain" },
    body: "x",
  });
  await response.body?.cancel();
  const bodies = await Promise.all(waiting);
  if (bodies.some((b) => b.messages.length !== 1)) throw new Error("a client missed the message");
  return { latencies, cursor: bodies[0]!.cursor };
}
