// FrameDecoder.peekPayload: the bytes of a frame still arriving, unmasked, contiguous, for
// checks that must not wait for the whole frame (UTF-8 fail-fast within a frame).
import assert from "node:assert/strict";
import { FrameDecoder } from "../../lib/websocket/frame_decoder.ts";
import { frame, hex, toHex } from "./_connection_helpers.ts";

/** Feeds `chunk` (a copy), drains every frame, then peeks once. */
function step(decoder: FrameDecoder, chunk: Uint8Array) {
  decoder.receive(chunk.slice());
  const frames = [];
  for (let e = decoder.next(); e !== undefined; e = decoder.next()) {
    if (e.type === "error") assert.fail(e.error.message);
    frames.push(e.frame);
  }
  return { frames, peek: decoder.peekPayload() };
}

Deno.test("FrameDecoder.peekPayload hands out a masked frame's bytes unmasked as they arrive, at every key phase", () => {
  const payload = hex("00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11");
  const wire = frame(0x1, payload); // masked with a fixed key, 6-byte header
  for (const size of [1, 2, 3, 5, 7]) {
    const decoder = new FrameDecoder({ role: "server" });
    const seen: string[] = [];
    let offset = 0;
    for (let i = 0; i < wire.length; i += size) {
      const { frames, peek } = step(decoder, wire.subarray(i, i + size));
      if (i + size >= wire.length) {
        // The last piece completes the frame: `next` returns it whole, nothing to peek.
        assert.equal(frames.length, 1);
        assert.equal(toHex(frames[0]!.payload), toHex(payload));
        assert.equal(peek, undefined);
        continue;
      }
      if (peek === undefined) continue; // header bytes only
      assert.equal(peek.offset, offset, `pieces of ${size}: contiguous`);
      seen.push(toHex(peek.bytes));
      offset += peek.bytes.length;
    }
    const received = seen.join("");
    assert.equal(received, toHex(payload.subarray(0, offset)), `pieces of ${size}`);
    assert.ok(offset > 0);
  }
});

Deno.test("FrameDecoder.peekPayload gives bytes after the header in the same chunk, then only new ones", () => {
  const decoder = new FrameDecoder({ role: "client" });
  const wire = frame(0x0, "abcdefgh", { masked: false, fin: false, rsv2: true });
  const first = step(decoder, wire.subarray(0, 5));
  assert.equal(decoder.payloadInProgress, 0x20, "RSV2 and opcode 0, FIN left out");
  assert.deepEqual(
    { ...first.peek, bytes: toHex(first.peek!.bytes) },
    { offset: 0, bytes: toHex(new TextEncoder().encode("abc")) },
  );
  assert.equal(decoder.peekPayload(), undefined, "nothing new");
  const second = step(decoder, wire.subarray(5, 7));
  assert.equal(second.peek?.offset, 3);
  assert.equal(new TextDecoder().decode(second.peek?.bytes), "de");
});

Deno.test("FrameDecoder.peekPayload stops for a frame once a chunk went unpeeked, and starts again with the next frame", () => {
  const decoder = new FrameDecoder({ role: "server" });
  const wire = frame(0x1, "0123456789");
  assert.equal(step(decoder, wire.subarray(0, 8)).peek?.offset, 0);
  decoder.receive(wire.slice(8, 10)); // not peeked
  assert.equal(step(decoder, wire.subarray(10, 12)).peek, undefined, "not contiguous");
  assert.equal(step(decoder, wire.subarray(12, 14)).peek, undefined, "none more for this frame");
  const { frames } = step(decoder, wire.subarray(14));
  assert.equal(new TextDecoder().decode(frames[0]!.payload), "0123456789");
  const next = frame(0x2, "xyz");
  const { peek } = step(decoder, next.subarray(0, 7));
  assert.equal(decoder.payloadInProgress, 0x2);
  assert.equal(new TextDecoder().decode(peek?.bytes), "x");
});

Deno.test("FrameDecoder.payloadInProgress and peekPayload have nothing while a header arrives, or for a failed decoder", () => {
  const decoder = new FrameDecoder({ role: "server" });
  assert.equal(decoder.payloadInProgress, -1);
  assert.equal(step(decoder, frame(0x9, "ping").subarray(0, 3)).peek, undefined);
  assert.equal(decoder.payloadInProgress, -1, "a header is in progress, not a payload");
  assert.equal(step(decoder, frame(0x9, "ping").subarray(3, 7)).peek?.offset, 0);
  assert.equal(decoder.payloadInProgress, 0x9);
  const failed = new FrameDecoder({ role: "server" });
  failed.receive(hex("83 80 00 00 00 00")); // reserved opcode
  assert.equal(failed.next()?.type, "error");
  assert.equal(failed.peekPayload(), undefined);
});
