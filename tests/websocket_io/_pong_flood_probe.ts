// Measures the memory a server session holds while a raw TCP peer floods it with empty pings
// and never reads: every ping owes a 2-byte pong, which piles up behind the blocked socket
// until the slow-consumer bound closes the session. Runs in a subprocess with --expose-gc, so
// that garbage not yet collected does not blur the number.
import { type SessionCloseEvent, WebSocketSession } from "../../lib/websocket_io/session.ts";

/** The session's maxBufferedAmount in the probe. */
export const FLOOD_LIMIT = 1024 * 1024;

/** What a probe run reports. */
export interface PongFloodResult {
  /** Close code the session reported. */
  readonly code: number;
  /** Its error code, if any. */
  readonly errorCode: string | undefined;
  /** Most heap and external (ArrayBuffer) bytes held above the start while pongs queued. */
  readonly peakHeldBytes: number;
  /** The session's bufferedAmount at that moment. */
  readonly bufferedAtPeak: number;
  /** Pings written before the session closed. */
  readonly pings: number;
}

/** Runs the probe in a fresh process. */
export async function probePongFlood(): Promise<PongFloodResult> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", "--v8-flags=--expose-gc", import.meta.filename!],
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  if (code !== 0) throw new Error(`pong flood probe failed: ${decoder.decode(stderr)}`);
  return JSON.parse(decoder.decode(stdout));
}

function held(gc: () => void): number {
  gc(); // twice: one pass may leave freed buffers still counted
  gc();
  const { heapUsed, external } = Deno.memoryUsage();
  return heapUsed + external;
}

async function probe(): Promise<PongFloodResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const peer = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const conn = await listener.accept();
  listener.close();
  const closed = Promise.withResolvers<SessionCloseEvent>();
  let over = false;
  let before = 0;
  let peakHeldBytes = 0;
  let bufferedAtPeak = 0;
  // Sampled before each read of the session, when the pongs of the last one are queued.
  const read = conn.read.bind(conn);
  conn.read = (buffer) => {
    const buffered = session.bufferedAmount; // reads start after the session exists
    if (buffered > FLOOD_LIMIT / 2) {
      const bytes = held(gc) - before;
      if (bytes > peakHeldBytes) {
        peakHeldBytes = bytes;
        bufferedAtPeak = buffered;
      }
    }
    return read(buffer);
  };
  const session = new WebSocketSession({
    conn,
    role: "server",
    handler: { message: () => {}, close: (event) => (over = true, closed.resolve(event)) },
    options: {
      maxBufferedAmount: FLOOD_LIMIT,
      pingInterval: 0,
      idleTimeout: 0,
      closeTimeout: 300,
    },
  });
  // Empty masked pings, 6 bytes each, 64 KiB of them per write.
  const PING = [0x89, 0x80, 1, 2, 3, 4];
  const perWrite = Math.floor(64 * 1024 / PING.length);
  const batch = new Uint8Array(perWrite * PING.length);
  for (let i = 0; i < batch.length; i++) batch[i] = PING[i % PING.length]!;
  before = held(gc);
  session.start();
  let pings = 0;
  // Bounded: at most 64 MiB of pings, far more pongs than the kernel buffers hold.
  for (let i = 0; i < 1024 && !over; i++) {
    try {
      let offset = 0;
      while (offset < batch.length) offset += await peer.write(batch.subarray(offset));
    } catch {
      break; // the session closed the transport
    }
    pings += perWrite;
  }
  const event = await closed.promise;
  peer.close();
  return { code: event.code, errorCode: event.error?.code, peakHeldBytes, bufferedAtPeak, pings };
}

if (import.meta.main) console.log(JSON.stringify(await probe()));
