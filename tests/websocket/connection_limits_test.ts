// WebSocketConnection: Autobahn category 9 (large messages) and the size limits (1009).
import assert from "node:assert/strict";
import {
  assertFailed,
  concat,
  connection,
  feed,
  feedChunked,
  frame,
  hex,
  KEY,
  utf8,
} from "./_connection_helpers.ts";
import { PROBE_SIZE, probeTinyPieces } from "./_tiny_pieces_heap.ts";

const MiB = 1024 * 1024;
const KiB = 1024;

/** `size` bytes of UTF-8 text mixing 1-, 2- and 3-byte characters, so fragments split them. */
function textOf(size: number): Uint8Array {
  const unit = utf8("pushwire µ€ ");
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += unit.length) out.set(unit.subarray(0, size - i), i);
  // Cutting the last unit may leave a partial character: pad with ASCII.
  let end = size;
  while (end > 0 && out[end - 1]! >= 0x80) out[--end] = 0x2e;
  return out;
}

/** The message as masked frames of `fragment` bytes (one frame when it is undefined). */
function framesOf(opcode: number, payload: Uint8Array, fragment?: number): Uint8Array[] {
  if (fragment === undefined) return [frame(opcode, payload)];
  const frames: Uint8Array[] = [];
  for (let i = 0; i < payload.length; i += fragment) {
    const end = Math.min(i + fragment, payload.length);
    frames.push(
      frame(i === 0 ? opcode : 0x0, payload.subarray(i, end), { fin: end === payload.length }),
    );
  }
  return frames;
}

for (const size of [1 * MiB, 8 * MiB]) {
  for (const opcode of [0x1, 0x2]) {
    const kind = opcode === 0x1 ? "text" : "binary";
    for (const fragment of [undefined, 64 * KiB, 4 * KiB]) {
      const layout = fragment === undefined ? "one frame" : `${fragment / KiB} KiB fragments`;
      Deno.test(`WebSocketConnection receives a ${size / MiB} MiB ${kind} message in ${layout} (Autobahn 9)`, () => {
        const payload = opcode === 0x1 ? textOf(size) : new Uint8Array(size).fill(0xa5);
        const conn = connection();
        // Delivered in 64 KiB reads, as a socket would.
        const events = feedChunked(conn, concat(...framesOf(opcode, payload, fragment)), 64 * KiB);
        assert.equal(events.length, 1);
        const event = events[0]!;
        if (opcode === 0x1) {
          assert.ok(event.type === "text" && !event.compressed);
          assert.equal(event.data.length, new TextDecoder().decode(payload).length);
          assert.deepEqual(utf8(event.data), payload);
        } else {
          assert.ok(event.type === "binary");
          assert.equal(event.data.length, size);
          assert.ok(event.data.every((b) => b === 0xa5));
        }
        assert.equal(conn.outgoingBytes, 0);
      });
    }
  }
}

Deno.test("WebSocketConnection fails with 1009 at the fragment that crosses maxMessageSize", () => {
  const conn = connection({ maxMessageSize: MiB });
  const frames = framesOf(0x2, new Uint8Array(2 * MiB), 64 * KiB);
  // 16 fragments make exactly 1 MiB: accepted so far, no verdict.
  for (const f of frames.slice(0, 16)) assert.deepEqual(feed(conn, f), []);
  // The 17th crosses the limit: the connection fails now, long before the message's end.
  const events = feed(conn, frames[16]!);
  assertFailed(conn, events, 1009, "WS_ERR_MESSAGE_TOO_BIG");
  assert.deepEqual(feed(conn, ...frames.slice(17)), []);
});

Deno.test("WebSocketConnection accepts a message of exactly maxMessageSize in fragments", () => {
  const conn = connection({ maxMessageSize: 100 });
  const events = feed(conn, ...framesOf(0x1, utf8("x".repeat(100)), 30));
  assert.equal(events[0]?.type === "text" && events[0].data.length, 100);
});

Deno.test("WebSocketConnection fails with 1009 on a text message over maxMessageSize", () => {
  const conn = connection({ maxMessageSize: 100 });
  const events = feed(conn, ...framesOf(0x1, utf8("x".repeat(101)), 30));
  assertFailed(conn, events, 1009, "WS_ERR_MESSAGE_TOO_BIG");
});

Deno.test("WebSocketConnection refuses an oversized frame from its header alone, buffering nothing", () => {
  const conn = connection({ maxMessageSize: MiB });
  // A masked binary frame announcing 2 GiB: only the 14-byte header is ever sent.
  const events = feed(conn, hex("82 ff 00 00 00 00 80 00 00 00 37 fa 21 3d"));
  assertFailed(conn, events, 1009, "WS_ERR_FRAME_TOO_BIG");
});

Deno.test("WebSocketConnection applies maxFrameSize to each frame", () => {
  const conn = connection({ maxFrameSize: 32 * KiB });
  const ok = feed(conn, ...framesOf(0x2, new Uint8Array(64 * KiB), 32 * KiB));
  assert.equal(ok[0]?.type === "binary" && ok[0].data.length, 64 * KiB);
  const events = feed(conn, frame(0x2, new Uint8Array(32 * KiB + 1)));
  assertFailed(conn, events, 1009, "WS_ERR_FRAME_TOO_BIG");
});

Deno.test("WebSocketConnection counts compressed messages by their received bytes", () => {
  const conn = connection({ allowRsv1: true, maxMessageSize: 10 });
  const events = feed(
    conn,
    frame(0x1, new Uint8Array(6), { rsv1: true, fin: false }),
    frame(0x0, new Uint8Array(6)),
  );
  assertFailed(conn, events, 1009, "WS_ERR_MESSAGE_TOO_BIG");
});

/** The message as masked 1-byte fragments (7 bytes each), in one buffer. */
function byteFragments(opcode: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(7 * payload.length);
  for (let i = 0; i < payload.length; i++) {
    const fin = i === payload.length - 1 ? 0x80 : 0;
    out.set([fin | (i === 0 ? opcode : 0x0), 0x81, ...KEY, payload[i]! ^ KEY[0]!], 7 * i);
  }
  return out;
}

Deno.test("WebSocketConnection joins 1 MiB of binary sent as 1-byte fragments", () => {
  const payload = Uint8Array.from({ length: MiB }, (_, i) => (i * 13) & 0xff);
  const conn = connection();
  const events = feedChunked(conn, byteFragments(0x2, payload), 64 * KiB);
  assert.equal(events.length, 1);
  assert.ok(events[0]!.type === "binary");
  assert.deepEqual(events[0]!.data, payload);
});

Deno.test("WebSocketConnection joins 256 KiB of text sent as 1-byte fragments, characters split", () => {
  // 1-, 2-, 3- and 4-byte characters, 19 bytes a unit.
  const payload = utf8("pushwire µ€𝄞 ".repeat(Math.ceil(256 * KiB / 19)));
  const conn = connection();
  const events = feedChunked(conn, byteFragments(0x1, payload), 64 * KiB);
  assert.equal(events.length, 1);
  assert.ok(events[0]!.type === "text" && !events[0]!.compressed);
  assert.equal(events[0]!.data, new TextDecoder().decode(payload));
});

Deno.test("WebSocketConnection joins text fragments alternating 2000 bytes and 300 of 1 byte", () => {
  const payload = textOf(256 * KiB);
  const frames: Uint8Array[] = [];
  for (let at = 0, i = 0; at < payload.length; i++) {
    const end = Math.min(at + (i % 301 === 0 ? 2000 : 1), payload.length);
    const fin = end === payload.length;
    frames.push(frame(at === 0 ? 0x1 : 0x0, payload.subarray(at, end), { fin }));
    at = end;
  }
  const conn = connection();
  const events = feedChunked(conn, concat(...frames), 64 * KiB);
  assert.equal(events.length, 1);
  assert.ok(events[0]!.type === "text" && !events[0]!.compressed);
  assert.deepEqual(utf8(events[0]!.data), payload);
});

Deno.test("WebSocketConnection fails with 1007 at the 1-byte fragment that makes the text invalid", () => {
  const conn = connection();
  const valid = byteFragments(0x1, utf8("κόσμε ".repeat(10_000)));
  // Everything but the final fragment: a long valid prefix, no verdict yet.
  assert.deepEqual(feedChunked(conn, valid.subarray(0, valid.length - 7), 64 * KiB), []);
  assert.deepEqual(feed(conn, frame(0x0, hex("ed"), { fin: false })), []);
  // `ed a0` starts a surrogate: certainly invalid, long before the message ends.
  const events = feed(conn, frame(0x0, hex("a0"), { fin: false }));
  assertFailed(conn, events, 1007, "WS_ERR_INVALID_UTF8");
});

Deno.test("WebSocketConnection fails with 1009 at the 1-byte fragment that crosses maxMessageSize", () => {
  const conn = connection({ maxMessageSize: 64 * KiB });
  const wire = byteFragments(0x2, new Uint8Array(64 * KiB + 2));
  // 65 536 fragments make exactly the limit: accepted, no verdict.
  assert.deepEqual(feedChunked(conn, wire.subarray(0, 7 * 64 * KiB), 64 * KiB), []);
  const events = feed(conn, wire.subarray(7 * 64 * KiB, 7 * (64 * KiB + 1)));
  assertFailed(conn, events, 1009, "WS_ERR_MESSAGE_TOO_BIG");
});

for (const kind of ["binary", "text"] as const) {
  Deno.test(`WebSocketConnection holds about 1 MiB, not one view per fragment, for 1 MiB of ${kind} in 1-byte fragments`, async () => {
    const { heldBytes, correct } = await probeTinyPieces(kind);
    assert.ok(correct);
    // The payload itself is 1 MiB; one view per fragment held ~120 MB, one string ~10 MB.
    assert.ok(heldBytes < 4 * PROBE_SIZE, `${heldBytes} bytes held`);
  });
}
