// Publish → deliver throughput over HTTP on loopback, against peers in the same run.
//
// PUBLISHERS concurrent `fetch` loops (keep-alive) POST `messages` JSON bodies
// (`{"n":N,"text":64 × "x"}`, application/json) to `/channels/{ch}`; the messages/s end to end
// is `messages` ÷ the time from the first POST until the last POST is answered and every reader
// has every message. Workloads: no reader (the POSTs alone), one SSE reader
// (`GET /channels/{ch}/events`), one long-poll loop reader (`GET /channels/{ch}/longpoll?after=
// CURSOR&timeout=10`, again at once with the answer's cursor), and both readers at once. Each
// reader checks that it got every message exactly once and each publisher's in order.
//
// Servers, both in one child process (_publish_servers.ts) so they get a core and the clients
// (this process) the other: the hub (`createHubHandler` on `Deno.serve`), and the floor peer, a
// bare `Deno.serve` handler that appends each POST body to an array and enqueues it to bare SSE
// streams and parked long polls. Also in this process, the same counts through the hub with no
// HTTP at all: `hub.publish` (PUBLISHERS concurrent loops) → one `Subscription` / one `hub.wait`
// loop. Every workload runs once per round, hub and floor back to back, for `rounds` rounds;
// the medians and the ratio hub ÷ floor (of messages/s: below 1 means the hub is slower) are
// printed. A warm-up round first, not counted; a fresh channel per run; 60 s limit per run.
//
// Publishers are `fetch` by default; with `raw` they write the same POSTs by hand on one
// keep-alive TCP connection each (one at a time), a client cheap enough that the server sets the
// pace. Both processes' CPU time per message is printed too: with `fetch` the client's core is
// the limit, so end-to-end rates of hub and floor come out alike while the server's CPU per
// message tells them apart.
//
//   deno run -A bench/hub/publish_throughput.ts [messages=10000] [publishers=4] [rounds=5] [fetch|raw]
import { Hub } from "../../lib/hub/hub.ts";
import type { Subscription } from "../../lib/hub/subscription.ts";
import process from "node:process";
import { TextLineStream } from "./_lines.ts";

const MESSAGES = Number(Deno.args[0] ?? 10_000);
const PUBLISHERS = Number(Deno.args[1] ?? 4);
const ROUNDS = Number(Deno.args[2] ?? 5);
const CLIENT = Deno.args[3] ?? "fetch";
if (CLIENT !== "fetch" && CLIENT !== "raw") {
  throw new TypeError(`Cannot run: the client is "fetch" or "raw", not "${CLIENT}"`);
}
const LIMIT_MS = 60_000;
if (!(MESSAGES > 0 && MESSAGES % PUBLISHERS === 0)) {
  throw new RangeError(`Cannot run: messages must be a multiple of publishers (${PUBLISHERS})`);
}
const TEXT = "x".repeat(64);

type Reader = "sse" | "longpoll";
const WORKLOADS: readonly { name: string; readers: readonly Reader[] }[] = [
  { name: "POST only", readers: [] },
  { name: "POST → 1 SSE reader", readers: ["sse"] },
  { name: "POST → 1 long-poll loop", readers: ["longpoll"] },
  { name: "POST → SSE + long-poll", readers: ["sse", "longpoll"] },
];

/** Checks that every message arrives exactly once and each publisher's in order. */
class Tally {
  readonly #seen = new Uint8Array(MESSAGES);
  readonly #last = new Int32Array(PUBLISHERS).fill(-1);
  #count = 0;
  constructor(readonly name: string) {}
  get count(): number {
    return this.#count;
  }
  add(n: unknown): void {
    if (typeof n !== "number" || !(n >= 0 && n < MESSAGES)) {
      throw new Error(`${this.name}: unexpected ${n}`);
    }
    if (this.#seen[n]) throw new Error(`${this.name}: message ${n} twice`);
    const publisher = n % PUBLISHERS;
    const k = Math.floor(n / PUBLISHERS);
    if (k <= this.#last[publisher]!) throw new Error(`${this.name}: ${n} out of order`);
    this.#last[publisher] = k;
    this.#seen[n] = 1;
    this.#count++;
  }
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: over ${LIMIT_MS} ms`)), LIMIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Opens an SSE reader; resolves once the response headers are in (the subscription exists)
 * with `reading` (settles once every message arrived, or on a failure) and `close`.
 */
async function openSse(url: string, tally: Tally) {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`SSE answered ${response.status}`);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const reading = (async () => {
    let buffer = "";
    while (tally.count < MESSAGES) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`${tally.name}: stream ended after ${tally.count}`);
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of block.split("\n")) {
          if (line.startsWith("event: reset")) throw new Error(`${tally.name}: reset`);
          if (line.startsWith("data: ")) tally.add(JSON.parse(line.slice(6)).n);
        }
      }
    }
  })();
  return {
    reading,
    close: () => reader.cancel().catch(() => {}),
  };
}

/** Long-polls from `cursor` until every message arrived. */
async function longPollLoop(base: string, channel: string, cursor: string, tally: Tally) {
  while (tally.count < MESSAGES) {
    const response = await fetch(`${base}/channels/${channel}/longpoll?after=${cursor}&timeout=10`);
    const body = await response.json() as {
      messages: { data: { n: number } }[];
      cursor: string;
      reset?: boolean;
    };
    if (response.status !== 200 || body.reset) throw new Error(`${tally.name}: ${response.status}`);
    for (const message of body.messages) tally.add(message.data.n);
    cursor = body.cursor;
  }
}

async function fetchPublisher(base: string, channel: string, p: number): Promise<void> {
  for (let k = 0; k < MESSAGES / PUBLISHERS; k++) {
    const response = await fetch(`${base}/channels/${channel}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: `{"n":${p + PUBLISHERS * k},"text":"${TEXT}"}`,
    });
    await response.body?.cancel();
    if (response.status !== 201) throw new Error(`POST answered ${response.status}`);
  }
}

/**
 * The same POSTs written by hand on one keep-alive TCP connection, one at a time (no
 * pipelining): a client far cheaper than `fetch`, so the server, not the client, sets the pace.
 */
async function rawPublisher(base: string, channel: string, p: number): Promise<void> {
  const { port } = new URL(base);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(4096);
  try {
    for (let k = 0; k < MESSAGES / PUBLISHERS; k++) {
      const body = `{"n":${p + PUBLISHERS * k},"text":"${TEXT}"}`;
      const request = encoder.encode(
        `POST /channels/${channel} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      for (let written = 0; written < request.length;) {
        written += await conn.write(request.subarray(written));
      }
      let text = "";
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error("POST: connection closed");
        text += decoder.decode(buffer.subarray(0, n));
        const end = text.indexOf("\r\n\r\n");
        if (end === -1) continue;
        const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
        if (length === null) throw new Error("POST: no Content-Length");
        if (text.length < end + 4 + Number(length[1])) continue;
        if (text.length > end + 4 + Number(length[1])) throw new Error("POST: extra bytes");
        break;
      }
      if (!text.startsWith("HTTP/1.1 201")) throw new Error(`POST answered ${text.slice(0, 12)}`);
    }
  } finally {
    conn.close();
  }
}

const publisher = CLIENT === "raw" ? rawPublisher : fetchPublisher;

interface Result {
  readonly seconds: number;
  readonly postSeconds: number;
  /** CPU time of the server process during the run (HTTP runs only), µs. */
  readonly serverCpuMicros?: number;
  /** CPU time of this process (publishers and readers, or the in-process hub), µs. */
  readonly clientCpuMicros: number;
}

async function overHttp(
  base: string,
  channel: string,
  readers: readonly Reader[],
): Promise<Omit<Result, "clientCpuMicros">> {
  const cursor = (await (await fetch(`${base}/channels/${channel}`)).json()).cursor as string;
  const closers: (() => Promise<unknown>)[] = [];
  const waits: Promise<unknown>[] = [];
  try {
    if (readers.includes("sse")) {
      const { reading, close } = await openSse(
        `${base}/channels/${channel}/events`,
        new Tally("SSE"),
      );
      closers.push(close);
      waits.push(reading);
    }
    const start = performance.now();
    if (readers.includes("longpoll")) {
      const tally = new Tally("long poll");
      waits.push(longPollLoop(base, channel, cursor, tally));
    }
    const posting = Promise.all(Array.from(
      { length: PUBLISHERS },
      (_, p) => publisher(base, channel, p),
    ));
    await within(posting, "POSTs");
    const postSeconds = (performance.now() - start) / 1000;
    await within(Promise.all(waits), "delivery");
    return { seconds: (performance.now() - start) / 1000, postSeconds };
  } finally {
    for (const close of closers) await close();
  }
}

async function inProcess(
  hub: Hub,
  channel: string,
  readers: readonly Reader[],
): Promise<Omit<Result, "clientCpuMicros">> {
  const waits: Promise<unknown>[] = [];
  let subscription: Subscription | undefined;
  if (readers.includes("sse")) {
    const tally = new Tally("Subscription");
    // Room for every message: in one event loop the publishers outrun the reader (with the
    // default 1,000-message queue it is disconnected as a slow consumer).
    const subscribed = await hub.subscribe(channel, {
      queue: { maxMessages: MESSAGES, maxBytes: 1 << 30 },
    });
    if (subscribed.type === "error") throw new Error(subscribed.message);
    subscription = subscribed;
    waits.push((async () => {
      while (tally.count < MESSAGES) {
        const next = await subscribed.next();
        if (next.done) throw new Error(`subscription ended: ${subscribed.closeReason}`);
        if (next.value.type !== "message") throw new Error("reset");
        tally.add((next.value.message.data as { n: number }).n);
      }
    })());
  }
  const start = performance.now();
  if (readers.includes("longpoll")) {
    const tally = new Tally("hub.wait");
    let cursor: string | undefined = await hub.position(channel);
    waits.push((async () => {
      while (tally.count < MESSAGES) {
        const result = await hub.wait(channel, cursor, { timeoutMs: 10_000 });
        if (result.type === "error" || result.reset) throw new Error("hub.wait failed");
        for (const message of result.messages) tally.add((message.data as { n: number }).n);
        cursor = result.cursor;
      }
    })());
  }
  try {
    await within(
      Promise.all(Array.from({ length: PUBLISHERS }, async (_, p) => {
        for (let k = 0; k < MESSAGES / PUBLISHERS; k++) {
          // The same JSON the HTTP publishers send, parsed as the publish route parses it.
          await hub.publish(channel, JSON.parse(`{"n":${p + PUBLISHERS * k},"text":"${TEXT}"}`));
        }
      })),
      "publishes",
    );
    const postSeconds = (performance.now() - start) / 1000;
    await within(Promise.all(waits), "delivery");
    return { seconds: (performance.now() - start) / 1000, postSeconds };
  } finally {
    subscription?.close();
  }
}

const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", new URL("./_publish_servers.ts", import.meta.url).pathname],
  stdin: "piped",
  stdout: "piped",
}).spawn();
const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(new TextLineStream())
  .getReader();
const childIn = child.stdin.getWriter();
async function serverCpu(): Promise<number> {
  await childIn.write(new TextEncoder().encode("CPU\n"));
  return JSON.parse((await lines.read()).value!).cpuMicros;
}
function ownCpu(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
const localHub = new Hub();
const results = new Map<string, Result[]>();
const record = (key: string, result: Result) => {
  const list = results.get(key) ?? [];
  list.push(result);
  results.set(key, list);
};
console.log(
  `Deno ${Deno.version.deno}: ${MESSAGES} messages, ${PUBLISHERS} ${CLIENT} publishers, ` +
    `${ROUNDS} rounds; ` +
    `load ${load()}`,
);
try {
  const ports = JSON.parse((await lines.read()).value!) as { hub: number; floor: number };
  const servers = [
    ["floor", `http://127.0.0.1:${ports.floor}`],
    ["hub", `http://127.0.0.1:${ports.hub}`],
  ] as const;
  // Round 0 is a warm-up (every path compiled and optimised), not counted. The order of hub
  // and floor alternates round by round, so neither always runs right after the other.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [w, { name, readers }] of WORKLOADS.entries()) {
      const channel = `r${round}w${w}`;
      for (const [server, base] of round % 2 === 0 ? servers : [...servers].reverse()) {
        const cpuBefore = await serverCpu();
        const clientBefore = ownCpu();
        const result = await overHttp(base, channel, readers);
        const clientCpuMicros = ownCpu() - clientBefore;
        const serverCpuMicros = await serverCpu() - cpuBefore;
        if (round > 0) {
          record(`${name}|${server}`, { ...result, serverCpuMicros, clientCpuMicros });
        }
      }
      const clientBefore = ownCpu();
      const result = await inProcess(localHub, channel, readers);
      const clientCpuMicros = ownCpu() - clientBefore;
      if (round > 0) record(`${name}|in-process`, { ...result, clientCpuMicros });
    }
    console.log(`${round === 0 ? "warm-up" : `round ${round}`} done, load ${load()}`);
  }
} finally {
  await localHub.close();
  await lines.cancel().catch(() => {});
  await childIn.close().catch(() => {});
  const status = await child.status;
  if (!status.success) console.log(`server child exited with ${status.code}`);
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rate = (key: string) => {
  const list = results.get(key)!;
  return {
    all: list.map((r) => MESSAGES / r.seconds),
    median: median(list.map((r) => MESSAGES / r.seconds)),
    posts: median(list.map((r) => MESSAGES / r.postSeconds)),
    serverCpu: median(list.map((r) => (r.serverCpuMicros ?? NaN) / MESSAGES)),
    clientCpu: median(list.map((r) => r.clientCpuMicros / MESSAGES)),
  };
};
const k = (n: number) => `${(n / 1000).toFixed(2)}k`;
const rows: Record<string, Record<string, string>> = {};
const cpuRows: Record<string, Record<string, string>> = {};
for (const { name } of WORKLOADS) {
  const floor = rate(`${name}|floor`);
  const hub = rate(`${name}|hub`);
  const local = rate(`${name}|in-process`);
  rows[name] = {
    "floor msg/s": `${k(floor.median)} (${floor.all.map(k).join(" ")})`,
    "hub msg/s": `${k(hub.median)} (${hub.all.map(k).join(" ")})`,
    "hub ÷ floor": (hub.median / floor.median).toFixed(2),
    "per round": hub.all.map((h, i) => (h / floor.all[i]!).toFixed(2)).join(" "),
    "in-process hub msg/s": k(local.median),
    "HTTP hub ÷ in-process": (hub.median / local.median).toFixed(2),
  };
  cpuRows[name] = {
    "server floor": floor.serverCpu.toFixed(1),
    "server hub": hub.serverCpu.toFixed(1),
    "hub ÷ floor": (hub.serverCpu / floor.serverCpu).toFixed(2),
    "client (floor run)": floor.clientCpu.toFixed(1),
    "client (hub run)": hub.clientCpu.toFixed(1),
    "wall µs/msg floor, hub": `${(1e6 / floor.median).toFixed(1)}, ${
      (1e6 / hub.median).toFixed(1)
    }`,
  };
}
console.log(`messages/s end to end, median of ${ROUNDS} (each round in brackets); load ${load()}`);
console.table(rows);
console.log(
  "CPU µs per message, median (server: the servers' child process; client: this process, " +
    "publishers + readers)",
);
console.table(cpuRows);
