// Plain-HTTP requests/s of every one-port option, compared with bare Deno.serve in the same run.
//
//   deno run -A bench/net/one_port_wrk.ts [--seconds 3] [--reps 3] [--options a,b,c,d,h,e1,e2]
//
// Each option runs in its own process (`_one_port_servers.ts`), one at a time, interleaved:
// for every repetition, every handler, every option (the order rotates each repetition so drift
// on a shared machine spreads evenly). wrk: 2 threads, 50 keep-alive connections. The table gives
// the median requests/s of each option and its ratio to the median of bare Deno.serve (a).
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    reps: { type: "string", default: "3" },
    options: { type: "string", default: "a,b,c,d,h,e1,e2" },
    handlers: { type: "string", default: "ok,json" },
  },
});
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const reps = Number(values.reps);
const options = values.options.split(",");
const handlers = values.handlers.split(",");
const PATHS: Record<string, string> = { ok: "/", json: "/channels/news?after=1" };
const server = new URL("./_one_port_servers.ts", import.meta.url).pathname;

async function wrk(
  port: number,
  path: string,
  secs: number,
): Promise<{ rps: number; errors: string }> {
  const out = await new Deno.Command("wrk", {
    args: ["-t2", "-c50", `-d${secs}s`, `http://127.0.0.1:${port}${path}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const errors = [/Socket errors:.*/.exec(text)?.[0], /Non-2xx.*/.exec(text)?.[0]]
    .filter(Boolean).join("; ");
  return { rps, errors };
}

async function runOne(option: string, handler: string): Promise<{ rps: number; errors: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", server, option, handler],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server ${option} exited before listening`);
    line += value;
  }
  const port = Number(line.trim().split("\n")[0]);
  try {
    // Check the answer once, so an option that fails is not counted.
    const res = await fetch(`http://127.0.0.1:${port}${PATHS[handler]}`);
    const body = await res.text();
    if (res.status !== 200 || body.length === 0) {
      throw new Error(`${option}: bad answer ${res.status}`);
    }
    if (warmup > 0) await wrk(port, PATHS[handler]!, warmup);
    return await wrk(port, PATHS[handler]!, seconds);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    reader.cancel().catch(() => {});
  }
}

const results = new Map<string, number[]>();
const errors = new Map<string, string[]>();
for (let rep = 0; rep < reps; rep++) {
  const order = options.map((_, i) => options[(i + rep) % options.length]!);
  for (const handler of handlers) {
    for (const option of order) {
      const key = `${option}/${handler}`;
      const r = await runOne(option, handler);
      results.set(key, [...(results.get(key) ?? []), r.rps]);
      if (r.errors) errors.set(key, [...(errors.get(key) ?? []), r.errors]);
      console.error(`rep ${rep + 1} ${key}: ${r.rps.toFixed(0)} req/s ${r.errors}`);
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
console.log(
  `\nwrk -t2 -c50 -d${seconds}s, ${reps} repetitions, medians (req/s); ratio to bare Deno.serve (a)\n`,
);
console.log(`| option | ${handlers.map((h) => `${h} req/s | ${h} ratio`).join(" | ")} |`);
console.log(`| --- | ${handlers.map(() => "---: | ---:").join(" | ")} |`);
for (const option of options) {
  const cells = handlers.map((h) => {
    const m = median(results.get(`${option}/${h}`)!);
    const base = median(results.get(`a/${h}`) ?? [NaN]);
    return `${m.toFixed(0)} | ${(m / base * 100).toFixed(0)}%`;
  });
  console.log(`| ${option} | ${cells.join(" | ")} |`);
}
console.log(`\nall runs: ${JSON.stringify(Object.fromEntries(results))}`);
if (errors.size) console.log(`errors: ${JSON.stringify(Object.fromEntries(errors))}`);
