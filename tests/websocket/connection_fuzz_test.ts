// WebSocketConnection property test: seeded random byte streams and mutated valid streams, fed
// in random chunks to both roles. Properties: receive/nextEvent never throw; exactly one close
// event, last; everything queued parses as valid frames for the peer; close codes on the wire
// are legal; nothing follows a close frame; a failure queues the error's close code.
import assert from "node:assert/strict";
import { isValidCloseCode } from "../../lib/websocket/close.ts";
import { type ConnectionEvent, WebSocketConnection } from "../../lib/websocket/connection.ts";
import type { Frame, Role } from "../../lib/websocket/frame.ts";
import { encodeFrame } from "../../lib/websocket/frame_encoder.ts";
import { closeCodeOf, decodeSent } from "./_connection_helpers.ts";

/** mulberry32: a small seeded PRNG, so every failure is reproducible from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (rand: Rand, n: number) => Math.floor(rand() * n);

function randomBytes(rand: Rand, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = int(rand, 256);
  return out;
}

function randomText(rand: Rand, length: number): string {
  let s = "";
  const ranges = [[0x20, 0x7f], [0x80, 0x800], [0x800, 0xd800], [0xe000, 0x10000], [
    0x10000,
    0x110000,
  ]];
  for (let i = 0; i < length; i++) {
    const [lo, hi] = ranges[int(rand, ranges.length)]!;
    s += String.fromCodePoint(lo! + int(rand, hi! - lo!));
  }
  return s;
}

/** A valid stream as `role`'s peer would send it, and the events it should produce. */
function validStream(
  rand: Rand,
  receiver: Role,
): { bytes: Uint8Array; expected: ConnectionEvent[] } {
  const mask = receiver === "server";
  const frames: Uint8Array[] = [];
  const expected: ConnectionEvent[] = [];
  const encoder = new TextEncoder();
  const count = 1 + int(rand, 6);
  for (let m = 0; m < count; m++) {
    const kind = int(rand, 4);
    if (kind === 0) {
      const data = randomBytes(rand, int(rand, 126));
      frames.push(encodeFrame(int(rand, 2) ? 0x9 : 0xa, data, { mask }));
      continue;
    }
    const text = kind === 1;
    const textData = randomText(rand, int(rand, 40));
    const payload = text ? encoder.encode(textData) : randomBytes(rand, int(rand, 300));
    const pieces = 1 + int(rand, 4);
    const size = Math.ceil(payload.length / pieces) || 1;
    for (let start = 0, first = true; first || start < payload.length; first = false) {
      const end = Math.min(start + size, payload.length);
      frames.push(
        encodeFrame(first ? (text ? 0x1 : 0x2) : 0x0, payload.subarray(start, end), {
          fin: end === payload.length,
          mask,
        }),
      );
      // Control frames may come between fragments (RFC 6455 §5.4).
      if (end < payload.length && int(rand, 3) === 0) {
        frames.push(encodeFrame(0x9, randomBytes(rand, int(rand, 10)), { mask }));
      }
      start = end;
    }
    expected.push(
      text
        ? { type: "text", data: textData, compressed: false }
        : { type: "binary", data: payload, compressed: false },
    );
  }
  if (int(rand, 2) === 0) {
    frames.push(encodeFrame(0x8, new Uint8Array([0x03, 0xe8, 0x6f, 0x6b]), { mask }));
  }
  const total = frames.reduce((n, f) => n + f.length, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const f of frames) {
    bytes.set(f, offset);
    offset += f.length;
  }
  return { bytes, expected };
}

/** Bit flips, truncation, duplication, insertion or deletion of a slice. */
function mutate(rand: Rand, bytes: Uint8Array): Uint8Array {
  let out = bytes;
  const rounds = 1 + int(rand, 3);
  for (let r = 0; r < rounds; r++) {
    const at = int(rand, out.length + 1);
    switch (int(rand, 5)) {
      case 0: { // bit flip
        if (out.length === 0) break;
        out = out.slice();
        out[Math.min(at, out.length - 1)]! ^= 1 << int(rand, 8);
        break;
      }
      case 1: // truncation
        out = out.slice(0, at);
        break;
      case 2: { // duplication of a slice
        const end = Math.min(out.length, at + int(rand, 40));
        const copy = new Uint8Array(out.length + end - at);
        copy.set(out.subarray(0, end));
        copy.set(out.subarray(at), end);
        out = copy;
        break;
      }
      case 3: { // insertion of random bytes
        const extra = randomBytes(rand, 1 + int(rand, 8));
        const copy = new Uint8Array(out.length + extra.length);
        copy.set(out.subarray(0, at));
        copy.set(extra, at);
        copy.set(out.subarray(at), at + extra.length);
        out = copy;
        break;
      }
      default: { // deletion
        const end = Math.min(out.length, at + 1 + int(rand, 8));
        const copy = new Uint8Array(out.length - (end - at));
        copy.set(out.subarray(0, at));
        copy.set(out.subarray(end), at);
        out = copy;
      }
    }
  }
  return out;
}

/** Random chunking: fresh copies, since the connection owns what it receives. */
function chunks(rand: Rand, bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = 1 + int(rand, int(rand, 2) ? 8 : 200);
    out.push(bytes.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Decodes what `conn` sent as its peer would; asserts the wire properties. */
function checkWire(conn: WebSocketConnection, sent: Uint8Array[]): Frame[] {
  const frames = decodeSent(conn.role, sent);
  const closeAt = frames.findIndex((f) => f.opcode === 0x8);
  if (closeAt !== -1) {
    assert.equal(closeAt, frames.length - 1, "nothing follows a close frame");
    const payload = frames[closeAt]!.payload;
    assert.notEqual(payload.length, 1);
    const code = closeCodeOf(payload);
    assert.ok(
      payload.length === 0 || isValidCloseCode(code),
      `illegal close code ${code} on the wire`,
    );
  }
  return frames;
}

interface Outcome {
  events: ConnectionEvent[];
  frames: Frame[];
}

/** Feeds the chunks, sometimes sending between them, and checks every property. */
function run(rand: Rand, role: Role, input: Uint8Array[], label: string): Outcome {
  const conn = new WebSocketConnection({
    role,
    maxMessageSize: 1024,
    maxFrameSize: 512,
    allowRsv1: int(rand, 2) === 0,
  });
  const events: ConnectionEvent[] = [];
  const sent: Uint8Array[] = [];
  let closeSentBeforeEvent = false;
  let closed = false;
  const drain = () => {
    for (let e = conn.nextEvent(); e !== undefined; e = conn.nextEvent()) {
      assert.ok(!closed, `${label}: an event after the close`);
      closed = e.type === "close";
      events.push(e);
    }
  };
  try {
    for (const chunk of input) {
      conn.receive(chunk);
      drain();
      if (conn.state === "open" && int(rand, 8) === 0) {
        const action = int(rand, 4);
        if (action === 0) conn.sendText("x".repeat(int(rand, 300)), { fragmentSize: 100 });
        else if (action === 1) conn.ping("p");
        else if (action === 2) conn.sendBinary(new Uint8Array(int(rand, 20)));
        else {
          conn.close(1000);
          closeSentBeforeEvent = true;
        }
      }
      sent.push(...conn.takeOutgoing());
    }
    if (conn.state === "closed") {
      // After "closed", more bytes change nothing.
      conn.receive(new Uint8Array([0x89, 0x80, 1, 2, 3, 4]));
      assert.equal(conn.nextEvent(), undefined);
      assert.equal(conn.outgoingBytes, 0);
    }
    conn.receiveEnd();
    drain();
    sent.push(...conn.takeOutgoing());
  } catch (error) {
    throw new Error(`${label}: the connection threw on peer input`, { cause: error });
  }

  assert.equal(conn.state, "closed", label);
  const closes = events.filter((e) => e.type === "close");
  assert.equal(closes.length, 1, `${label}: exactly one close event`);
  const close = events.at(-1)!;
  assert.equal(close.type, "close", `${label}: the close event is the last`);
  const frames = checkWire(conn, sent);
  const last = frames.at(-1);
  const lastSent = last?.opcode === 0x8 ? closeCodeOf(last.payload) : undefined;
  if (close.type === "close") {
    if (close.error !== undefined) {
      assert.equal(close.wasClean, false);
      assert.equal(close.code, close.error.closeCode);
      // A failure while open queues the error's code; after our own close, nothing more.
      if (!closeSentBeforeEvent) assert.equal(lastSent, close.error.closeCode, label);
    } else if (close.wasClean) {
      assert.notEqual(lastSent, undefined, `${label}: a clean close has our close frame`);
      if (close.initiator === "peer") assert.equal(lastSent, close.code, `${label}: echo`);
    } else {
      assert.equal(close.code, 1006, label);
    }
  }
  return { events, frames };
}

const ROLES: Role[] = ["server", "client"];

Deno.test("WebSocketConnection survives random byte streams in random chunks (fuzz)", () => {
  let failures = 0;
  for (let seed = 1; seed <= 1500; seed++) {
    const rand = prng(seed);
    for (const role of ROLES) {
      const bytes = randomBytes(rand, int(rand, 400));
      const { events } = run(rand, role, chunks(rand, bytes), `random seed ${seed} ${role}`);
      // Random bytes are not a closing handshake: the end is a failure or an abnormal 1006.
      const close = events.at(-1);
      assert.ok(close?.type === "close" && !close.wasClean, `random seed ${seed} ${role}`);
      failures += close.error === undefined ? 0 : 1;
    }
  }
  assert.ok(failures > 2500, `only ${failures} of 3000 random streams met a protocol error`);
});

Deno.test("WebSocketConnection delivers valid random streams exactly, in any chunking (fuzz)", () => {
  for (let seed = 1; seed <= 800; seed++) {
    const rand = prng(seed);
    for (const role of ROLES) {
      const { bytes, expected } = validStream(rand, role);
      const conn = new WebSocketConnection({ role });
      const events: ConnectionEvent[] = [];
      for (const chunk of chunks(rand, bytes)) {
        conn.receive(chunk);
        for (let e = conn.nextEvent(); e !== undefined; e = conn.nextEvent()) events.push(e);
      }
      const messages = events.filter((e) => e.type === "text" || e.type === "binary");
      assert.deepEqual(messages, expected, `valid seed ${seed} ${role}`);
      assert.ok(events.every((e) => e.type !== "close" || (e.wasClean && !e.error)));
    }
  }
});

Deno.test("WebSocketConnection fails cleanly on mutated valid streams (fuzz)", () => {
  const seen = new Set<string>();
  for (let seed = 1; seed <= 2500; seed++) {
    const rand = prng(seed);
    for (const role of ROLES) {
      const { bytes } = validStream(rand, role);
      const mutated = mutate(rand, bytes);
      const { events } = run(rand, role, chunks(rand, mutated), `mutated seed ${seed} ${role}`);
      const close = events.at(-1);
      if (close?.type === "close") seen.add(close.error?.code ?? `clean:${close.wasClean}`);
    }
  }
  // The mutations reach the interesting paths, not just one of them.
  for (
    const outcome of [
      "clean:true",
      "clean:false",
      "WS_ERR_RESERVED_BITS",
      "WS_ERR_RESERVED_OPCODE",
      "WS_ERR_UNEXPECTED_CONTINUATION",
      "WS_ERR_EXPECTED_CONTINUATION",
      "WS_ERR_INVALID_UTF8",
      "WS_ERR_INVALID_CLOSE_CODE",
      "WS_ERR_FRAME_TOO_BIG",
      "WS_ERR_CONTROL_TOO_BIG",
    ]
  ) {
    assert.ok(seen.has(outcome), `no mutated stream ended with ${outcome}: ${[...seen]}`);
  }
});
