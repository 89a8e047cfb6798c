// Frame encoding: encodeFrame / encodeFrameHeader against ws's Sender.frame in the same group,
// for each payload size, masked (client) and unmasked (server). ws runs without its optional
// native `bufferutil`, as installed here.
//
// The two APIs differ in shape, which the case names say: ws's Sender.frame returns
// [header, payload] and, with readOnly: false, masks the caller's payload in place;
// encodeFrame returns one buffer and leaves the payload untouched (masked while copied);
// encodeFrameHeader is the unmasked no-copy path, the same work as ws's unmasked frame().
//
// The "into" cases write into one reused write buffer, filled frame after frame and started
// over when full, as the session's write batches are: encodeFrameInto puts the header and the
// (masked) payload there, encodeFrameHeaderInto only the header. Like ws's [header, data],
// their output is ready for the socket write, and they allocate nothing.
import { Buffer } from "node:buffer";
import { Sender } from "npm:ws@8";
import {
  encodedFrameLength,
  encodeFrame,
  encodeFrameHeader,
  encodeFrameHeaderInto,
  encodeFrameInto,
} from "../../lib/websocket/frame_encoder.ts";

const SIZES: [string, number][] = [
  ["2 B", 2],
  ["125 B", 125],
  ["1 KiB", 1024],
  ["64 KiB", 64 * 1024],
  ["1 MiB", 1024 * 1024],
];

const MASKED = { mask: true } as const;
const WS_MASKED = { fin: true, opcode: 0x2, mask: true, readOnly: false, rsv1: false };
const WS_UNMASKED = { fin: true, opcode: 0x2, mask: false, readOnly: false, rsv1: false };

/** A write buffer of at least 128 KiB (the session's batch size) that holds a whole frame. */
function writeBuffer(size: number): { buffer: Uint8Array; end: number } {
  return { buffer: new Uint8Array(Math.max(128 * 1024, encodedFrameLength(size, true))), end: 0 };
}

for (const [label, size] of SIZES) {
  const payload = new Uint8Array(size).map((_, i) => i & 0xff);
  const theirs = Buffer.from(payload);
  const batch = writeBuffer(size);
  const masked = encodedFrameLength(size, true);
  const unmasked = encodedFrameLength(size);
  const header = unmasked - size;

  {
    const group = `encode ${label} masked`;
    const name = `encode ${label} masked binary frame`;
    Deno.bench({
      name: `ws Sender.frame: ${name}`,
      group,
      baseline: true,
      fn() {
        const list = Sender.frame(theirs, WS_MASKED);
        if (list.length === 0) throw new Error("no frame");
      },
    });
    Deno.bench({
      name: `encodeFrame: ${name}`,
      group,
      fn() {
        const frame = encodeFrame(0x2, payload, MASKED);
        if (frame.length < size) throw new Error("no frame");
      },
    });
    Deno.bench({
      name: `encodeFrameInto (write buffer): ${name}`,
      group,
      fn() {
        if (batch.end + masked > batch.buffer.length) batch.end = 0;
        batch.end += encodeFrameInto(batch.buffer, batch.end, 0x2, payload, MASKED);
      },
    });
  }

  {
    const group = `encode ${label} unmasked`;
    const name = `encode ${label} unmasked binary frame`;
    Deno.bench({
      name: `ws Sender.frame: ${name}`,
      group,
      baseline: true,
      fn() {
        const list = Sender.frame(theirs, WS_UNMASKED);
        if (list.length === 0) throw new Error("no frame");
      },
    });
    Deno.bench({
      name: `encodeFrameHeader (no copy): ${name}`,
      group,
      fn() {
        const header = encodeFrameHeader(0x2, size);
        if (header.length === 0) throw new Error("no header");
      },
    });
    Deno.bench({
      name: `encodeFrame (one buffer): ${name}`,
      group,
      fn() {
        const frame = encodeFrame(0x2, payload);
        if (frame.length < size) throw new Error("no frame");
      },
    });
    Deno.bench({
      name: `encodeFrameHeaderInto (write buffer, no copy): ${name}`,
      group,
      fn() {
        if (batch.end + header > batch.buffer.length) batch.end = 0;
        batch.end += encodeFrameHeaderInto(batch.buffer, batch.end, 0x2, size);
      },
    });
    Deno.bench({
      name: `encodeFrameInto (write buffer): ${name}`,
      group,
      fn() {
        if (batch.end + unmasked > batch.buffer.length) batch.end = 0;
        batch.end += encodeFrameInto(batch.buffer, batch.end, 0x2, payload);
      },
    });
  }
}

// The floor under every small encode: each side hands out one new typed array. ws gets it from
// Node's Buffer pool (a view on an 8 KiB slab); encodeFrame / encodeFrameHeader cut a view from
// their own 32 KiB slab; a fresh `new Uint8Array(n)` (its own ArrayBuffer) is what both avoid.
{
  const group = "allocate 8 B";
  const slab = new ArrayBuffer(32 * 1024);
  let offset = 0;
  Deno.bench({
    name: "Buffer.allocUnsafe (ws): allocate 8 B from a pool",
    group,
    baseline: true,
    fn() {
      if (Buffer.allocUnsafe(8).length !== 8) throw new Error("no buffer");
    },
  });
  Deno.bench({
    name: "new Uint8Array(slab, offset, 8) (ours): allocate 8 B as a view on a slab",
    group,
    fn() {
      offset = (offset + 8) & (32 * 1024 - 1);
      if (new Uint8Array(slab, offset, 8).length !== 8) throw new Error("no view");
    },
  });
  Deno.bench({
    name: "new Uint8Array(8): allocate 8 B with its own ArrayBuffer",
    group,
    fn() {
      if (new Uint8Array(8).length !== 8) throw new Error("no array");
    },
  });
}
