// permessage-deflate: speed (`deno bench`), compression ratio and memory per idle connection.
//
//   deno bench -A bench/websocket/deflate_bench.ts
//   deno run -A bench/websocket/deflate_bench.ts ratio
//   deno run -A --v8-flags=--expose-gc bench/websocket/deflate_bench.ts memory MODE [N]
//
// MODE is one of: off, default, takeover, takeover-small, inbound-takeover,
// takeover-trimmed, outbound-takeover-trimmed. Each memory run is a fresh process: N
// (default 1000) server-side codecs each compress one message and inflate one and are
// kept; the process reports the rss / external / heap delta per kept codec after GC.
// WARM=1 first does the same with N codecs that are then closed and dropped.
// The *-trimmed modes free each compressor (DeflateCodec.trim) once it went idle: right
// after its message, so one compressor is alive at a time (connections that went quiet one
// after another), or with BURST=1 only after all N compressed (all busy at once, then all
// idle). LIBC_TRIM=1 calls glibc's malloc_trim(0) before the last reading, to show how much
// of the rss is memory freed inside the allocator but not yet returned to the OS.
import { DeflateCodec, deflateMessage } from "../../lib/websocket/deflate_codec.ts";
import type { DeflateParams } from "../../lib/websocket/permessage_deflate.ts";
import { PreparedMessage } from "../../lib/websocket_io/prepared_message.ts";

const encoder = new TextEncoder();

/** A hub message as sent to subscribers: `{"id","channel","event","data","time"}`. */
function tick(i: number): Uint8Array {
  return encoder.encode(JSON.stringify({
    id: `${1763800000000 + i}-0`,
    channel: "prices.eu",
    event: "tick",
    data: {
      symbol: ["ABC", "DEF", "GHI", "JKL"][i % 4],
      bid: Math.round((100 + Math.sin(i) * 3) * 100) / 100,
      ask: Math.round((100.2 + Math.sin(i) * 3) * 100) / 100,
      volume: 1000 + ((i * 7919) % 5000),
      venue: "XETRA",
      flags: ["open", "regular"],
    },
    time: 1763800000000 + i * 13,
  }));
}

/** A larger message: a snapshot of 80 ticks (~16 KiB). */
function snapshot(start: number): Uint8Array {
  const items = [];
  for (let i = start; i < start + 80; i++) {
    items.push(JSON.parse(new TextDecoder().decode(tick(i))));
  }
  return encoder.encode(JSON.stringify({ id: `${start}-1`, channel: "prices.eu", data: items }));
}

const TICKS = Array.from({ length: 1000 }, (_, i) => tick(i));
const SNAPSHOT = snapshot(0);
// Distinct snapshots in rotation, so a shared window cannot simply find the last message.
const SNAPSHOTS = Array.from({ length: 12 }, (_, i) => snapshot(i * 80));
let s = 0;
const snapshotNext = () => SNAPSHOTS[s++ % SNAPSHOTS.length]!;

const NO_TAKEOVER: DeflateParams = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};
const TAKEOVER: DeflateParams = {
  ...NO_TAKEOVER,
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
};

// ---------------------------------------------------------------------------------------
// deno bench

let n = 0;
const tickNext = () => TICKS[n++ % TICKS.length]!;

Deno.bench({
  name: "copy 200 B JSON tick (no compression)",
  group: "deflate 200 B JSON tick",
  baseline: true,
  fn: () => {
    tickNext().slice();
  },
});
Deno.bench({
  name: "deflate 200 B JSON tick, no context takeover, level 6",
  group: "deflate 200 B JSON tick",
  fn: () => {
    deflateMessage(tickNext());
  },
});
Deno.bench({
  name: "deflate 200 B JSON tick, no context takeover, level 1",
  group: "deflate 200 B JSON tick",
  fn: () => {
    deflateMessage(tickNext(), { level: 1 });
  },
});
const streamCodec6 = new DeflateCodec({ role: "server", params: TAKEOVER, threshold: 0 });
const streamCodec1 = new DeflateCodec({ role: "server", params: TAKEOVER, threshold: 0, level: 1 });
Deno.bench({
  name: "deflate 200 B JSON tick, context takeover, level 6",
  group: "deflate 200 B JSON tick",
  fn: async () => {
    await streamCodec6.compress(tickNext());
  },
});
Deno.bench({
  name: "deflate 200 B JSON tick, context takeover, level 1",
  group: "deflate 200 B JSON tick",
  fn: async () => {
    await streamCodec1.compress(tickNext());
  },
});

Deno.bench({
  name: "copy 16 KiB JSON snapshot (no compression)",
  group: "deflate 16 KiB JSON snapshot",
  baseline: true,
  fn: () => {
    snapshotNext().slice();
  },
});
Deno.bench({
  name: "deflate 16 KiB JSON snapshot, no context takeover, level 6",
  group: "deflate 16 KiB JSON snapshot",
  fn: () => {
    deflateMessage(snapshotNext());
  },
});
Deno.bench({
  name: "deflate 16 KiB JSON snapshot, no context takeover, level 1",
  group: "deflate 16 KiB JSON snapshot",
  fn: () => {
    deflateMessage(snapshotNext(), { level: 1 });
  },
});
Deno.bench({
  name: "deflate 16 KiB JSON snapshot, context takeover, level 6",
  group: "deflate 16 KiB JSON snapshot",
  fn: async () => {
    await streamCodec6.compress(snapshotNext());
  },
});

const SNAPSHOT_DEFLATED = deflateMessage(SNAPSHOT);
const inflateOnce = new DeflateCodec({ role: "client", params: NO_TAKEOVER });
const inflateStream = new DeflateCodec({
  role: "client",
  params: { ...NO_TAKEOVER, serverNoContextTakeover: false },
});
Deno.bench({
  name: "copy 16 KiB JSON snapshot (no compression)",
  group: "inflate 16 KiB JSON snapshot",
  baseline: true,
  fn: () => {
    SNAPSHOT.slice();
  },
});
Deno.bench({
  name: "inflate 16 KiB JSON snapshot, no context takeover (one-shot)",
  group: "inflate 16 KiB JSON snapshot",
  fn: async () => {
    await inflateOnce.decompress(SNAPSHOT_DEFLATED);
  },
});
Deno.bench({
  name: "inflate 16 KiB JSON snapshot, context takeover (stream)",
  group: "inflate 16 KiB JSON snapshot",
  fn: async () => {
    // Every message compressed from scratch is also valid on a shared window.
    await inflateStream.decompress(SNAPSHOT_DEFLATED);
  },
});

const fanout = Array.from(
  { length: 100 },
  () => new DeflateCodec({ role: "server", params: TAKEOVER, threshold: 0 }),
);
Deno.bench({
  name: "broadcast 16 KiB JSON snapshot to 100 connections, compressed once",
  group: "broadcast 16 KiB JSON snapshot to 100 connections",
  baseline: true,
  fn: () => {
    deflateMessage(SNAPSHOT);
  },
});
const SHARED = { level: 6, memLevel: 8, windowBits: 15 };
Deno.bench({
  name: "broadcast 16 KiB JSON snapshot to 100 connections, PreparedMessage.compressedFrame",
  group: "broadcast 16 KiB JSON snapshot to 100 connections",
  fn: () => {
    const message = new PreparedMessage(SNAPSHOT);
    for (let i = 0; i < 100; i++) message.compressedFrame(SHARED);
  },
});
Deno.bench({
  name: "broadcast 16 KiB JSON snapshot to 100 connections, context takeover per connection",
  group: "broadcast 16 KiB JSON snapshot to 100 connections",
  fn: async () => {
    await Promise.all(fanout.map((codec) => codec.compress(SNAPSHOT)));
  },
});

// What freeing an idle compressor costs the next message: a new zlib stream.
const kept = new DeflateCodec({ role: "server", params: TAKEOVER, threshold: 0 });
const trimmed = new DeflateCodec({
  role: "server",
  params: TAKEOVER,
  threshold: 0,
  compressorIdleMs: 1,
});
let clock = 0;
Deno.bench({
  name: "deflate 200 B JSON tick on a kept compressor",
  group: "deflate after the compressor was freed",
  baseline: true,
  fn: async () => {
    await kept.compress(tickNext());
  },
});
Deno.bench({
  name: "deflate 200 B JSON tick on a compressor freed after the last one",
  group: "deflate after the compressor was freed",
  fn: async () => {
    await trimmed.compress(tickNext());
    trimmed.trim(clock);
    trimmed.trim(clock += 1);
  },
});

// ---------------------------------------------------------------------------------------
// deno run ... ratio | memory MODE [N]

async function ratio(): Promise<void> {
  const raw = TICKS.reduce((sum, t) => sum + t.length, 0);
  const rows: string[] = [];
  for (const level of [1, 6]) {
    let once = 0;
    for (const t of TICKS) once += deflateMessage(t, { level }).length;
    for (const [label, params] of [["context takeover", TAKEOVER]] as const) {
      const codec = new DeflateCodec({ role: "server", params, threshold: 0, level });
      let shared = 0;
      for (const t of TICKS) shared += (await codec.compress(t)).length;
      codec.close();
      rows.push(
        `1000 ticks (${raw} B, avg ${(raw / TICKS.length).toFixed(0)} B), level ${level}: ` +
          `no context takeover ${once} B (ratio ${(raw / once).toFixed(2)}), ` +
          `${label} ${shared} B (ratio ${(raw / shared).toFixed(2)})`,
      );
    }
    const rawSnap = SNAPSHOTS.reduce((sum, x) => sum + x.length, 0);
    const snapOnce = SNAPSHOTS.reduce((sum, x) => sum + deflateMessage(x, { level }).length, 0);
    const codec = new DeflateCodec({ role: "server", params: TAKEOVER, threshold: 0, level });
    let snapShared = 0;
    for (const x of SNAPSHOTS) snapShared += (await codec.compress(x)).length;
    codec.close();
    rows.push(
      `12 distinct 16 KiB snapshots (${rawSnap} B), level ${level}: no context takeover ` +
        `${snapOnce} B (ratio ${(rawSnap / snapOnce).toFixed(2)}), context takeover ` +
        `${snapShared} B (ratio ${(rawSnap / snapShared).toFixed(2)})`,
    );
  }
  for (const size of [256, 512, 1024, 2048]) {
    const msgs = TICKS.slice(0, 200).map((_, i) => {
      let s = "[";
      for (let j = i; s.length < size; j++) s += new TextDecoder().decode(tick(j)) + ",";
      return encoder.encode(s.slice(0, size));
    });
    const rawSize = msgs.reduce((sum, m) => sum + m.length, 0);
    const out = msgs.reduce((sum, m) => sum + deflateMessage(m).length, 0);
    rows.push(
      `${size} B JSON messages, no context takeover, level 6: ratio ${(rawSize / out).toFixed(2)}`,
    );
  }
  console.log(rows.join("\n"));
  await new Promise((resolve) => setTimeout(resolve, 10));
}

async function memory(mode: string, count: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new TypeError("Run with --v8-flags=--expose-gc");
  const settings: Record<
    string,
    { params: DeflateParams; memLevel?: number; trim?: boolean } | undefined
  > = {
    off: undefined,
    default: { params: NO_TAKEOVER },
    takeover: { params: TAKEOVER },
    "takeover-small": {
      params: { ...TAKEOVER, serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
      memLevel: 1,
    },
    "inbound-takeover": { params: { ...TAKEOVER, serverNoContextTakeover: true } },
    "takeover-trimmed": { params: TAKEOVER, trim: true },
    "outbound-takeover-trimmed": {
      params: { ...TAKEOVER, clientNoContextTakeover: true },
      trim: true,
    },
  };
  const burst = Deno.env.get("BURST") === "1";
  if (!(mode in settings)) throw new TypeError(`Unknown mode ${mode}`);
  const chosen = settings[mode];
  // What each client sends first: compressed by a fresh client codec (valid on any fresh
  // server codec, with or without a shared window).
  let first: Uint8Array | undefined;
  if (chosen !== undefined) {
    const client = new DeflateCodec({ role: "client", params: chosen.params, threshold: 0 });
    first = await client.compress(TICKS[1]!);
    client.close();
    await client.settled();
  }
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const open = async (codecs: unknown[]) => {
    for (let i = 0; i < count; i++) {
      if (chosen === undefined) {
        codecs.push({ id: i });
        continue;
      }
      const codec = new DeflateCodec({
        role: "server",
        params: chosen.params,
        threshold: 0,
        memLevel: chosen.memLevel,
        compressorIdleMs: 1,
      });
      await codec.compress(TICKS[i % TICKS.length]!);
      const got = await codec.decompress(first!);
      if (!got.ok) throw new Error(got.error.message);
      if (chosen.trim && !burst) release(codec);
      codecs.push(codec);
    }
    if (chosen?.trim && burst) {
      for (const codec of codecs) if (codec instanceof DeflateCodec) release(codec);
    }
  };
  // Two looks at the clock, 1 ms apart, with compressorIdleMs 1: freed.
  const release = (codec: DeflateCodec) => {
    codec.trim(0);
    if (!codec.trim(1)) throw new Error("the compressor was not freed");
  };
  // Warm-up: the same work once, then everything closed and dropped, so the allocator's
  // high-water mark from the zlib calls themselves is not counted as per-connection cost.
  if (Deno.env.get("WARM") === "1") {
    const warm: unknown[] = [];
    await open(warm);
    for (const codec of warm) if (codec instanceof DeflateCodec) codec.close();
    warm.length = 0;
    await settle();
  }
  const before = Deno.memoryUsage();
  const codecs: unknown[] = [];
  await open(codecs);
  await settle();
  if (Deno.env.get("LIBC_TRIM") === "1") {
    const libc = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    libc.symbols.malloc_trim(0n);
    libc.close();
    await settle();
  }
  const after = Deno.memoryUsage();
  const per = (key: "rss" | "external" | "heapUsed") =>
    ((after[key] - before[key]) / count / 1024).toFixed(1);
  console.log(
    `${mode}: ${count} codecs after one message each way: ` +
      `rss ${per("rss")} KiB, external ${per("external")} KiB, heap ${
        per("heapUsed")
      } KiB per codec`,
  );
  for (const codec of codecs) if (codec instanceof DeflateCodec) codec.close();
}

if (import.meta.main) {
  const [command, mode, count] = Deno.args;
  if (command === "ratio") await ratio();
  else if (command === "memory") await memory(mode ?? "default", Number(count ?? 1000));
  else console.log("usage: deflate_bench.ts ratio | memory MODE [N]");
  for (
    const codec of [
      streamCodec6,
      streamCodec1,
      inflateOnce,
      inflateStream,
      kept,
      trimmed,
      ...fanout,
    ]
  ) {
    codec.close();
  }
}
