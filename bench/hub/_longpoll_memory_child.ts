// Child process of longpoll_memory.ts: one fresh process per case, so one case's garbage and
// retained pages do not count in another's numbers, and (HTTP cases) the clients' memory stays
// in the parent. Memory is Deno.memoryUsage() after gc() when --v8-flags=--expose-gc is given.
//
//   deno run -A [--v8-flags=--expose-gc] bench/hub/_longpoll_memory_child.ts <case> <waiters>
//
// In-process cases ("promise", "hub.wait", "hub.wait+signal") park <waiters> waiters, measure,
// release them all with one publish (or one loop of resolves for the floor), check every result
// and print one JSON line {case, waiters, before, parked, after, parkMs, releaseMs}.
//
// HTTP cases ("floor", "floor+signal", "hub") print {"port":P}, then answer stdin commands, one
// JSON line each: "MEM" (memory now), "WAIT n" (once n requests are parked: memory then);
// closing stdin shuts the server down.
import { Hub } from "../../lib/hub/hub.ts";
import { type LoopbackServer, serveFloor, serveHub, until } from "./_loopback.ts";
import { TextLineStream } from "./_lines.ts";

const gc = (globalThis as { gc?: () => void }).gc;

export interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
}

async function memory(): Promise<Memory> {
  if (gc !== undefined) {
    // Two full collections a turn apart: the first can leave finalization work for the next.
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
  }
  const { rss, heapUsed, external } = Deno.memoryUsage();
  return { rss, heapUsed, external };
}

const RELEASE_LIMIT_MS = 30_000;
const [kind = "hub", count = "1000"] = Deno.args;
const waiters = Number(count);

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: over ${RELEASE_LIMIT_MS} ms`)),
        RELEASE_LIMIT_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** One in-process round: park `n`, (measure), release with one publish, check every result. */
async function inProcessRound(hub: Hub, n: number, measure: boolean) {
  let results: Promise<boolean>[];
  let release: () => Promise<unknown>;
  let parkedCount: () => number;
  const controllers: AbortController[] = [];
  const start = performance.now();
  if (kind === "promise") {
    // The floor: a promise per waiter, its resolver in an array. No channel, cursor, deadline.
    let parked: ((data: string) => void)[] = [];
    results = Array.from(
      { length: n },
      () => new Promise<string>((resolve) => parked.push(resolve)).then((data) => data === "x"),
    );
    parkedCount = () => parked.length;
    release = () => {
      const released = parked;
      parked = [];
      for (const resolve of released) resolve("x");
      return Promise.resolve();
    };
  } else {
    results = Array.from({ length: n }, () => {
      let signal: AbortSignal | undefined;
      if (kind === "hub.wait+signal") {
        const controller = new AbortController();
        controllers.push(controller);
        signal = controller.signal;
      }
      return hub.wait("lp", undefined, { timeoutMs: 60_000, signal }).then((result) =>
        result.type === "messages" && result.messages.length === 1 &&
        result.messages[0]!.data === "x"
      );
    });
    parkedCount = () => hub.stats.waiters;
    release = () => hub.publish("lp", "x");
  }
  await until(() => parkedCount() === n, 30_000);
  const parkMs = performance.now() - start;
  const parked = measure ? await memory() : undefined;
  const releaseStart = performance.now();
  await release();
  const ok = await withTimeout(Promise.all(results), "release");
  const releaseMs = performance.now() - releaseStart;
  if (ok.some((got) => !got)) throw new Error(`${kind}: a waiter missed the message`);
  controllers.length = 0;
  return { parked, parkMs, releaseMs };
}

if (kind === "promise" || kind === "hub.wait" || kind === "hub.wait+signal") {
  const hub = new Hub();
  await inProcessRound(hub, 200, false); // warm-up: compile the paths, create lazy state
  const before = await memory();
  const { parked, parkMs, releaseMs } = await inProcessRound(hub, waiters, true);
  const after = await memory();
  console.log(JSON.stringify({ case: kind, waiters, before, parked, after, parkMs, releaseMs }));
  await hub.close();
} else {
  let server: LoopbackServer;
  if (kind === "hub") server = serveHub();
  else if (kind === "floor") server = serveFloor(false);
  else if (kind === "floor+signal") server = serveFloor(true);
  else throw new TypeError(`Cannot run: unknown case "${kind}"`);
  const port = Number(new URL(server.base).port);
  console.log(JSON.stringify({ port }));
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
    new TextLineStream(),
  );
  try {
    for await (const line of lines) {
      if (line === "MEM") {
        console.log(JSON.stringify({ memory: await memory(), waiting: server.waiting() }));
      } else if (line.startsWith("WAIT ")) {
        const n = Number(line.slice(5));
        await until(() => server.waiting() >= n, 60_000);
        console.log(JSON.stringify({ memory: await memory(), waiting: server.waiting() }));
      } else {
        throw new TypeError(`Cannot run: unknown command "${line}"`);
      }
    }
  } finally {
    await server.close();
  }
}
