// Memory per idle long-poll waiter, against a floor peer in the same run.
//
// (a) In-process: `hub.wait("lp", undefined, {timeoutMs: 60_000})` calls parked on one channel,
//     with and without an AbortSignal each (the HTTP route passes `request.signal`), against the
//     floor: one promise per waiter with its resolver in an array.
// (b) End to end: N real `GET /channels/lp/longpoll?timeout=60` requests, one TCP connection
//     each, against `createHubHandler` on `Deno.serve` (127.0.0.1, port 0), against the floor
//     peers of _loopback.ts (a bare `Deno.serve` handler that parks each request on a promise;
//     and the same reading `request.signal`, which the hub's route does).
//
// Every case runs in a fresh child process (_longpoll_memory_child.ts): its memory is
// Deno.memoryUsage() of that process only (after gc() when this script is given
// --v8-flags=--expose-gc, passed on to the children), before and with the N waiters parked;
// for (b) the clients (raw TCP connections, this process) do not mix in. Then one publish (POST
// /channels/lp, or the floor's POST) releases every waiter and every answer is checked (30 s
// limit), and the memory once all are answered is reported too. Kernel socket buffers are not
// in any process's rss.
//
// File descriptors: (b) needs N sockets in this process and N in the server child. The child is
// started through `sh -c 'ulimit -n <hard limit>'`; N is capped to this process's soft limit
// minus 100 (printed when it happens).
//
//   deno run -A --v8-flags=--expose-gc bench/hub/longpoll_memory.ts [waiters...=1000 10000]
import { TextLineStream } from "./_lines.ts";
import type { Memory } from "./_longpoll_memory_child.ts";

const CHILD = new URL("./_longpoll_memory_child.ts", import.meta.url).pathname;
const HAS_GC = typeof (globalThis as { gc?: () => void }).gc === "function";
const CONNECT_BATCH = 200; // concurrent connects: stays under the listen backlog
const RELEASE_LIMIT_MS = 30_000;
const IN_PROCESS = ["promise", "hub.wait", "hub.wait+signal"] as const;
const HTTP = ["floor", "floor+signal", "hub"] as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function shell(command: string): Promise<string> {
  const { stdout } = await new Deno.Command("sh", { args: ["-c", command], stdout: "piped" })
    .output();
  return decoder.decode(stdout).trim();
}

const softLimit = Number(await shell("ulimit -Sn"));
const hardLimit = await shell("ulimit -Hn"); // a number or "unlimited"
const requested = Deno.args.length > 0 ? Deno.args.map(Number) : [1000, 10_000];
const sizes = requested.map((n) => Math.min(n, softLimit - 100));
for (let i = 0; i < sizes.length; i++) {
  if (sizes[i] !== requested[i]) {
    console.log(`capped ${requested[i]} waiters to ${sizes[i]}: ulimit -n is ${softLimit} here`);
  }
}

function spawn(kind: string, waiters: number) {
  const args = ["run", "-A", ...(HAS_GC ? ["--v8-flags=--expose-gc"] : []), CHILD, kind];
  args.push(String(waiters));
  // Raise the child's soft fd limit to the hard one (no-op when already equal).
  return new Deno.Command("sh", {
    args: ["-c", `ulimit -n ${hardLimit} 2>/dev/null; exec "$0" "$@"`, Deno.execPath(), ...args],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
}

interface Sample {
  readonly before: Memory;
  readonly parked: Memory;
  readonly after: Memory;
  readonly parkMs: number;
  readonly releaseMs: number;
}

async function inProcess(kind: string, waiters: number): Promise<Sample> {
  const child = spawn(kind, waiters);
  child.stdin.close();
  const output = await child.output();
  if (!output.success) throw new Error(`${kind}: child failed`);
  return JSON.parse(decoder.decode(output.stdout).trim().split("\n").at(-1)!);
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** Reads one HTTP/1.1 response with a Content-Length body; returns its status and body text. */
async function readResponse(conn: Deno.Conn): Promise<{ status: number; body: string }> {
  const buffer = new Uint8Array(8192);
  let text = "";
  let headerEnd = -1;
  let length = -1;
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("connection closed before the whole response");
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
    if (headerEnd === -1) {
      headerEnd = text.indexOf("\r\n\r\n");
      if (headerEnd === -1) continue;
      const match = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, headerEnd));
      if (match === null) throw new Error("no Content-Length in the response");
      length = Number(match[1]);
    }
    // Bodies here are ASCII JSON: characters = bytes.
    if (text.length - headerEnd - 4 >= length) {
      return {
        status: Number(text.slice(9, 12)),
        body: text.slice(headerEnd + 4, headerEnd + 4 + length),
      };
    }
  }
}

/** Opens `n` connections, each sending one long-poll request; returns them and their answers. */
async function park(port: number, n: number) {
  const request = encoder.encode(
    `GET /channels/lp/longpoll?timeout=60 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`,
  );
  const conns: Deno.Conn[] = [];
  const answers: Promise<boolean>[] = [];
  for (let i = 0; i < n; i += CONNECT_BATCH) {
    await Promise.all(Array.from({ length: Math.min(CONNECT_BATCH, n - i) }, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      await writeAll(conn, request);
      answers.push(
        readResponse(conn).then(({ status, body }) => {
          const json = JSON.parse(body) as { messages: { data: unknown }[] };
          return status === 200 && json.messages.length === 1 && json.messages[0]!.data === "x";
        }),
      );
    }));
  }
  return { conns, answers };
}

async function publish(port: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/channels/lp`, {
    method: "POST",
    headers: { "Content-Type": "text/plain" },
    body: "x",
  });
  await response.body?.cancel();
  if (response.status !== 201) throw new Error(`publish answered ${response.status}`);
}

async function allWithin<T>(promises: Promise<T>[], ms: number): Promise<T[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      Promise.all(promises),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not every waiter answered in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function overHttp(kind: string, waiters: number): Promise<Sample> {
  const child = spawn(kind, waiters);
  const writer = child.stdin.getWriter();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
    new TextLineStream(),
  ).getReader();
  const readLine = async () => JSON.parse((await lines.read()).value!);
  const ask = async (command: string): Promise<Memory> => {
    await writer.write(encoder.encode(`${command}\n`));
    return (await readLine()).memory;
  };
  let conns: Deno.Conn[] = [];
  try {
    const { port } = await readLine();
    // Warm-up round: compile the paths, create lazy state, before the baseline.
    const warm = await park(port, 200);
    conns = warm.conns;
    await ask("WAIT 200");
    await publish(port);
    if ((await allWithin(warm.answers, RELEASE_LIMIT_MS)).some((ok) => !ok)) {
      throw new Error(`${kind}: a warm-up waiter missed the message`);
    }
    for (const conn of conns) conn.close();
    conns = [];
    const before = await ask("MEM");

    const start = performance.now();
    const round = await park(port, waiters);
    conns = round.conns;
    const parked = await ask(`WAIT ${waiters}`);
    const parkMs = performance.now() - start;
    const releaseStart = performance.now();
    await publish(port);
    const ok = await allWithin(round.answers, RELEASE_LIMIT_MS);
    const releaseMs = performance.now() - releaseStart;
    if (ok.some((got) => !got)) throw new Error(`${kind}: a waiter missed the message`);
    for (const conn of conns) conn.close();
    conns = [];
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the server see the closes
    const after = await ask("MEM");
    return { before, parked, after, parkMs, releaseMs };
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await writer.close().catch(() => {});
    await lines.cancel().catch(() => {});
    const status = await child.status;
    if (!status.success) console.log(`${kind}: server child exited with ${status.code}`);
  }
}

const bytes = (n: number) => n >= 10_240 ? `${(n / 1024).toFixed(1)} KiB` : `${Math.round(n)} B`;
const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

console.log(
  `Deno ${Deno.version.deno}, gc: ${HAS_GC ? "yes" : "no (pass --v8-flags=--expose-gc)"}, ` +
    `ulimit -n ${softLimit}/${hardLimit}, load ${await shell("cut -d' ' -f1-3 /proc/loadavg")}`,
);
for (const waiters of sizes) {
  const rows: Record<string, Record<string, string>> = {};
  const perWaiter = new Map<string, number>();
  const runs: [string, string, () => Promise<Sample>][] = [
    ...IN_PROCESS.map((kind) => ["in-process", kind, () => inProcess(kind, waiters)] as const),
    ...HTTP.map((kind) => ["HTTP", kind, () => overHttp(kind, waiters)] as const),
  ] as [string, string, () => Promise<Sample>][];
  for (const [where, kind, run] of runs) {
    const s = await run();
    const delta = (key: keyof Memory) => (s.parked[key] - s.before[key]) / waiters;
    perWaiter.set(`${where} ${kind}`, delta("rss"));
    rows[`${where}: ${kind}`] = {
      "heap/waiter": bytes(delta("heapUsed")),
      "external/waiter": bytes(delta("external")),
      "rss/waiter": bytes(delta("rss")),
      "rss before → parked → after": `${mib(s.before.rss)} → ${mib(s.parked.rss)} → ${
        mib(s.after.rss)
      }`,
      "heap after - before": bytes(s.after.heapUsed - s.before.heapUsed),
      "park ms": s.parkMs.toFixed(0),
      "release ms": s.releaseMs.toFixed(0),
    };
  }
  console.log(`\n${waiters} idle waiters (load ${await shell("cut -d' ' -f1-3 /proc/loadavg")})`);
  console.table(rows);
  const ratio = (a: string, b: string) => (perWaiter.get(a)! / perWaiter.get(b)!).toFixed(2);
  console.log(
    `rss/waiter ratios: hub.wait / promise ${
      ratio("in-process hub.wait", "in-process promise")
    }, ` +
      `HTTP hub / floor ${ratio("HTTP hub", "HTTP floor")}, ` +
      `HTTP hub / floor+signal ${ratio("HTTP hub", "HTTP floor+signal")}`,
  );
}
