// Measures the memory a decoder or connection holds while a peer sends 1 MiB in the smallest
// pieces: 1-byte chunks of one frame ("decoder"), or 1-byte fragments of one binary or text
// message ("binary", "text"). The measuring runs in a subprocess with --expose-gc, so that
// garbage not yet collected does not blur the number.
import { WebSocketConnection } from "../../lib/websocket/connection.ts";
import { FrameDecoder } from "../../lib/websocket/frame_decoder.ts";

/** Payload bytes sent in 1-byte pieces. */
export const PROBE_SIZE = 1024 * 1024;

/** What a probe run reports. */
export interface ProbeResult {
  /** Heap and external (ArrayBuffer) bytes held just before the last piece arrived. */
  readonly heldBytes: number;
  /** The frame or message delivered after the last piece was the one sent. */
  readonly correct: boolean;
}

/** Runs one probe in a fresh process. */
export async function probeTinyPieces(kind: "decoder" | "binary" | "text"): Promise<ProbeResult> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--v8-flags=--expose-gc", import.meta.filename!, kind],
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  if (code !== 0) throw new Error(`probe ${kind} failed: ${decoder.decode(stderr)}`);
  return JSON.parse(decoder.decode(stdout));
}

function held(gc: () => void): number {
  gc(); // twice: one pass may leave freed buffers still counted
  gc();
  const { heapUsed, external } = Deno.memoryUsage();
  return heapUsed + external;
}

/** Feeds every piece but the last, measures, then feeds the last one. */
function measure(pieces: number, feed: (i: number) => void, done: () => boolean): ProbeResult {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  const before = held(gc);
  for (let i = 0; i < pieces - 1; i++) feed(i);
  const heldBytes = held(gc) - before;
  feed(pieces - 1);
  return { heldBytes, correct: done() };
}

function probe(kind: string): ProbeResult {
  const payload = Uint8Array.from({ length: PROBE_SIZE }, (_, i) => 0x61 + (i % 26));
  const same = (got: Uint8Array | undefined) =>
    got !== undefined && got.length === PROBE_SIZE && got.every((b, i) => b === payload[i]);
  if (kind === "decoder") {
    // An unmasked binary frame to a client, one byte per chunk.
    const wire = new Uint8Array(10 + PROBE_SIZE);
    wire.set([0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 0]);
    wire.set(payload, 10);
    const decoder = new FrameDecoder({ role: "client" });
    let got: Uint8Array | undefined;
    return measure(wire.length, (i) => {
      decoder.receive(wire.slice(i, i + 1));
      const event = decoder.next();
      if (event?.type === "frame") got = event.frame.payload;
    }, () => same(got));
  }
  // Unmasked 1-byte fragments to a client, 3 bytes each, read 64 KiB at a time.
  const wire = new Uint8Array(3 * PROBE_SIZE);
  for (let i = 0; i < PROBE_SIZE; i++) {
    const opcode = i === 0 ? (kind === "text" ? 0x1 : 0x2) : 0x0;
    wire.set([(i === PROBE_SIZE - 1 ? 0x80 : 0) | opcode, 1, payload[i]!], 3 * i);
  }
  const conn = new WebSocketConnection({ role: "client" });
  const READ = 64 * 1024;
  let got: Uint8Array | string | undefined;
  return measure(Math.ceil(wire.length / READ), (i) => {
    conn.receive(wire.slice(i * READ, (i + 1) * READ));
    for (let event = conn.nextEvent(); event; event = conn.nextEvent()) {
      if (event.type === "binary" || event.type === "text") got = event.data;
    }
  }, () => typeof got === "string" ? got === new TextDecoder().decode(payload) : same(got));
}

if (import.meta.main) console.log(JSON.stringify(probe(Deno.args[0]!)));
