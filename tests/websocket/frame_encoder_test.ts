import assert from "node:assert/strict";
import {
  encodedFrameLength,
  encodeFrame,
  encodeFrameHeader,
  encodeFrameHeaderInto,
  encodeFrameInto,
} from "../../lib/websocket/frame_encoder.ts";
import { FrameDecoder } from "../../lib/websocket/frame_decoder.ts";

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const HELLO = new TextEncoder().encode("Hello");
const KEY = hex("37fa213d");

/** Decodes one frame as `role` would and checks nothing is left over. */
function decodeOne(role: "server" | "client", bytes: Uint8Array) {
  const decoder = new FrameDecoder({ role, maxFrameSize: 1 << 21 });
  decoder.receive(bytes.slice());
  const event = decoder.next();
  if (event?.type !== "frame") throw new Error(`expected a frame, got ${JSON.stringify(event)}`);
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.bufferedAmount, 0);
  return event.frame;
}

Deno.test("encodeFrame encodes the RFC 6455 unmasked Hello text frame", () => {
  assert.equal(toHex(encodeFrame(0x1, HELLO)), "810548656c6c6f");
});

Deno.test("encodeFrame masks the RFC 6455 Hello text frame with an explicit key", () => {
  assert.equal(toHex(encodeFrame(0x1, HELLO, { maskKey: KEY })), "818537fa213d7f9f4d5158");
  assert.equal(new TextDecoder().decode(HELLO), "Hello", "the payload is not modified");
});

Deno.test("encodeFrame encodes the RFC 6455 fragmented message and ping", () => {
  assert.equal(toHex(encodeFrame(0x1, HELLO.subarray(0, 3), { fin: false })), "010348656c");
  assert.equal(toHex(encodeFrame(0x0, HELLO.subarray(3))), "80026c6f");
  assert.equal(toHex(encodeFrame(0x9, HELLO)), "890548656c6c6f");
  assert.equal(toHex(encodeFrame(0xa, HELLO, { maskKey: KEY })), "8a8537fa213d7f9f4d5158");
});

Deno.test("encodeFrame picks the 7, 16 and 64-bit length encodings at their boundaries", () => {
  const cases: [number, string][] = [
    [0, "8200"],
    [125, "827d"],
    [126, "827e007e"],
    [256, "827e0100"],
    [65535, "827effff"],
    [65536, "827f0000000000010000"],
  ];
  for (const [length, header] of cases) {
    const frame = encodeFrame(0x2, new Uint8Array(length).fill(7));
    assert.equal(toHex(frame.subarray(0, header.length / 2)), header, `length ${length}`);
    assert.equal(frame.length, header.length / 2 + length);
    assert.ok(frame.subarray(header.length / 2).every((b) => b === 7));
  }
});

Deno.test("encodeFrame sets FIN and RSV1 from the options", () => {
  assert.equal(toHex(encodeFrame(0x1, HELLO, { fin: false }).subarray(0, 2)), "0105");
  assert.equal(toHex(encodeFrame(0x1, HELLO, { rsv1: true }).subarray(0, 2)), "c105");
  assert.equal(toHex(encodeFrame(0x0, HELLO, { fin: false, rsv1: true }).subarray(0, 2)), "4005");
});

Deno.test("encodeFrame with mask: true uses a fresh random key for every frame", () => {
  const keys = new Set<string>();
  // More frames than one refill of the key pool holds.
  for (let i = 0; i < 3000; i++) {
    const frame = encodeFrame(0x1, HELLO, { mask: true });
    assert.equal(frame[1], 0x85);
    keys.add(toHex(frame.subarray(2, 6)));
    assert.equal(new TextDecoder().decode(decodeOne("server", frame).payload), "Hello");
  }
  // 3000 draws of 32 random bits: a repeat is rare (p ~ 0.001), several mean a broken pool.
  assert.ok(keys.size >= 2995, `only ${keys.size} distinct keys in 3000 frames`);
});

Deno.test("encodeFrame round-trips through FrameDecoder at every size and source alignment", () => {
  for (const length of [0, 1, 3, 63, 64, 65, 125, 126, 1000, 65535, 65536, 70001]) {
    for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
      const payload = new Uint8Array(byteOffset + length).subarray(byteOffset);
      for (let i = 0; i < length; i++) payload[i] = (i * 13 + byteOffset) & 0xff;
      const before = payload.slice();
      const where = `length ${length} byteOffset ${byteOffset}`;
      const server = decodeOne("client", encodeFrame(0x2, payload));
      assert.deepEqual(server.payload, payload, `unmasked ${where}`);
      const client = decodeOne("server", encodeFrame(0x2, payload, { mask: true }));
      assert.deepEqual(client.payload, payload, `masked ${where}`);
      const keyed = encodeFrame(0x2, payload, { maskKey: KEY });
      assert.deepEqual(decodeOne("server", keyed).payload, payload, `keyed ${where}`);
      assert.deepEqual(payload, before, `payload changed: ${where}`);
    }
  }
});

Deno.test("encodeFrameHeader matches the header encodeFrame writes", () => {
  for (const length of [0, 5, 125, 126, 65535, 65536, 100000]) {
    const payload = new Uint8Array(length);
    const whole = encodeFrame(0x2, payload, { fin: false, rsv1: true });
    const header = encodeFrameHeader(0x2, length, { fin: false, rsv1: true });
    assert.deepEqual(header, whole.subarray(0, whole.length - length), `length ${length}`);
    const masked = encodeFrame(0x2, payload, { maskKey: KEY });
    assert.deepEqual(
      encodeFrameHeader(0x2, length, { maskKey: KEY }),
      masked.subarray(0, masked.length - length),
    );
  }
  assert.equal(toHex(encodeFrameHeader(0x2, 256)), "827e0100");
  assert.equal(toHex(encodeFrameHeader(0x2, 65536)), "827f0000000000010000");
});

Deno.test("encodeFrameHeader writes 64-bit lengths beyond 2^32", () => {
  assert.equal(toHex(encodeFrameHeader(0x2, 2 ** 32 + 5)), "827f0000000100000005");
  assert.equal(toHex(encodeFrameHeader(0x2, 2 ** 53 - 1)), "827f001fffffffffffff");
});

Deno.test("encodeFrameHeader refuses mask: true without an explicit key", () => {
  assert.throws(() => encodeFrameHeader(0x2, 10, { mask: true }), TypeError);
});

Deno.test("encodeFrame and encodeFrameHeader reject misuse", () => {
  for (const opcode of [-1, 16, 1.5, NaN]) {
    assert.throws(() => encodeFrame(opcode, HELLO), RangeError, `opcode ${opcode}`);
    assert.throws(() => encodeFrameHeader(opcode, 5), RangeError, `opcode ${opcode}`);
  }
  assert.throws(() => encodeFrame(0x9, new Uint8Array(126)), RangeError);
  assert.throws(() => encodeFrameHeader(0x8, 126), RangeError);
  assert.doesNotThrow(() => encodeFrame(0x9, new Uint8Array(125)));
  assert.throws(() => encodeFrame(0x9, HELLO, { fin: false }), RangeError);
  assert.throws(() => encodeFrame(0x1, HELLO, { maskKey: new Uint8Array(3) }), RangeError);
  assert.throws(
    () => encodeFrame(0x1, HELLO, { maskKey: [1, 2, 3, 4] as unknown as Uint8Array }),
    TypeError,
  );
  assert.throws(() => encodeFrame(0x1, "Hello" as unknown as Uint8Array), TypeError);
  assert.throws(() => encodeFrameHeader(0x1, -1), RangeError);
  assert.throws(() => encodeFrameHeader(0x1, 2.5), RangeError);
  assert.throws(() => encodeFrameHeader(0x1, 2 ** 53), RangeError);
});

Deno.test("encodeFrame results stay intact while later frames are encoded", () => {
  // Small frames share slabs: each must own its bytes.
  const frames: [Uint8Array, Uint8Array, boolean][] = [];
  for (let i = 0; i < 2000; i++) {
    const payload = new Uint8Array(i % 300).fill(i & 0xff);
    const masked = i % 3 === 0;
    frames.push([payload, encodeFrame(0x2, payload, masked ? { mask: true } : {}), masked]);
  }
  for (const [payload, frame, masked] of frames) {
    assert.deepEqual(decodeOne(masked ? "server" : "client", frame).payload, payload);
  }
});

// --- Encoding into a caller's buffer ------------------------------------------------------

Deno.test("encodeFrameInto writes the RFC 6455 examples at an offset and returns their length", () => {
  const target = new Uint8Array(32).fill(0xee);
  assert.equal(encodeFrameInto(target, 3, 0x1, HELLO), 7);
  assert.equal(encodeFrameInto(target, 10, 0x1, HELLO, { maskKey: KEY }), 11);
  assert.equal(
    toHex(target),
    "eeeeee" + "810548656c6c6f" + "818537fa213d7f9f4d5158" + "ee".repeat(11),
  );
  assert.equal(new TextDecoder().decode(HELLO), "Hello", "the payload is not modified");
});

Deno.test("encodeFrameInto writes the bytes encodeFrame returns, at every size, offset and alignment", () => {
  const lengths = [0, 1, 3, 4, 31, 32, 63, 64, 65, 125, 126, 1000, 2047, 2048, 65535, 65536];
  const target = new Uint8Array(70_000 + 64);
  for (const length of lengths) {
    for (const byteOffset of [0, 1, 2, 3]) {
      const payload = new Uint8Array(byteOffset + length).subarray(byteOffset);
      for (let i = 0; i < length; i++) payload[i] = (i * 7 + byteOffset) & 0xff;
      const before = payload.slice();
      for (const offset of [0, 1, 2, 3, 5]) {
        const where = `length ${length} byteOffset ${byteOffset} offset ${offset}`;
        const options = { fin: length % 2 === 0, rsv1: byteOffset === 1 };
        const expected = encodeFrame(0x2, payload, options);
        const n = encodeFrameInto(target, offset, 0x2, payload, options);
        assert.equal(n, expected.length, where);
        assert.equal(n, encodedFrameLength(length), where);
        assert.deepEqual(target.subarray(offset, offset + n), expected, `unmasked ${where}`);
        const keyed = encodeFrame(0x2, payload, { ...options, maskKey: KEY });
        assert.equal(
          encodeFrameInto(target, offset, 0x2, payload, { ...options, maskKey: KEY }),
          n + 4,
        );
        assert.deepEqual(target.subarray(offset, offset + n + 4), keyed, `keyed ${where}`);
        const masked = target.slice(
          offset,
          offset + encodeFrameInto(target, offset, 0x2, payload, { mask: true }),
        );
        assert.deepEqual(decodeOne("server", masked).payload, payload, `masked ${where}`);
        assert.deepEqual(payload, before, `payload changed: ${where}`);
      }
    }
  }
});

Deno.test("encodeFrameInto masks correctly into many targets, views and shared buffers in turn", () => {
  // The encoder keeps a word view of its last target: switching targets must not reuse it.
  const shared = new ArrayBuffer(4096);
  const targets = [
    new Uint8Array(1024),
    new Uint8Array(shared, 0, 2048),
    new Uint8Array(shared, 2049, 1024),
    new Uint8Array(new ArrayBuffer(2048, { maxByteLength: 8192 })),
    new Uint8Array(1024).subarray(3),
  ];
  const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  for (let round = 0; round < 3; round++) {
    for (const target of targets) {
      for (const offset of [0, 1, 2, 3, 100]) {
        const n = encodeFrameInto(target, offset, 0x2, payload, { maskKey: KEY });
        assert.deepEqual(
          target.subarray(offset, offset + n),
          encodeFrame(0x2, payload, { maskKey: KEY }),
          `target ${targets.indexOf(target)} offset ${offset}`,
        );
      }
    }
  }
  // A resizable buffer that shrank: the frame still lands in what is left of it.
  const resizable = new ArrayBuffer(4096, { maxByteLength: 8192 });
  const view = new Uint8Array(resizable);
  encodeFrameInto(view, 0, 0x2, payload, { maskKey: KEY });
  resizable.resize(1024);
  const n = encodeFrameInto(view, 500, 0x2, payload, { maskKey: KEY });
  assert.deepEqual(view.subarray(500, 500 + n), encodeFrame(0x2, payload, { maskKey: KEY }));
});

Deno.test("encodeFrameInto uses a fresh random key for every frame", () => {
  const target = new Uint8Array(16 * 3000);
  const keys = new Set<string>();
  for (let i = 0, at = 0; i < 3000; i++) {
    const n = encodeFrameInto(target, at, 0x1, HELLO, { mask: true });
    const frame = target.subarray(at, at + n);
    assert.equal(frame[1], 0x85);
    keys.add(toHex(frame.subarray(2, 6)));
    assert.equal(new TextDecoder().decode(decodeOne("server", frame).payload), "Hello");
    at += n;
  }
  assert.ok(keys.size >= 2995, `only ${keys.size} distinct keys in 3000 frames`);
});

Deno.test("encodeFrameHeaderInto writes the header encodeFrameHeader returns", () => {
  const target = new Uint8Array(20);
  for (const length of [0, 5, 125, 126, 65535, 65536, 2 ** 32 + 5]) {
    const options = { fin: false, rsv1: true };
    const header = encodeFrameHeader(0x2, length, options);
    assert.equal(encodeFrameHeaderInto(target, 6, 0x2, length, options), header.length);
    assert.deepEqual(target.subarray(6, 6 + header.length), header, `length ${length}`);
    const keyed = encodeFrameHeader(0x2, length, { maskKey: KEY });
    assert.equal(encodeFrameHeaderInto(target, 1, 0x2, length, { maskKey: KEY }), keyed.length);
    assert.deepEqual(target.subarray(1, 1 + keyed.length), keyed);
  }
});

Deno.test("encodedFrameLength counts header, masking key and payload", () => {
  for (const length of [0, 125, 126, 65535, 65536, 2 ** 40]) {
    const header = encodeFrameHeader(0x2, length).length;
    assert.equal(encodedFrameLength(length), header + length);
    assert.equal(encodedFrameLength(length, true), header + 4 + length);
  }
  for (const bad of [-1, 1.5, NaN, 2 ** 53]) {
    assert.throws(() => encodedFrameLength(bad), RangeError);
  }
});

Deno.test("encodeFrameInto and encodeFrameHeaderInto refuse a frame that does not fit, writing nothing", () => {
  const target = new Uint8Array(8);
  assert.throws(() => encodeFrameInto(target, 2, 0x1, HELLO), RangeError);
  assert.throws(() => encodeFrameInto(target, 0, 0x1, HELLO, { mask: true }), RangeError);
  assert.throws(() => encodeFrameHeaderInto(target, 7, 0x2, 200), RangeError);
  assert.throws(() => encodeFrameHeaderInto(target, 3, 0x2, 10, { maskKey: KEY }), RangeError);
  for (const offset of [-1, 1.5, NaN, 9]) {
    assert.throws(() => encodeFrameInto(target, offset, 0x1, new Uint8Array(0)), RangeError);
    assert.throws(() => encodeFrameHeaderInto(target, offset, 0x1, 0), RangeError);
  }
  assert.deepEqual(target, new Uint8Array(8), "nothing written");
  assert.equal(encodeFrameInto(target, 1, 0x1, HELLO), 7, "an exact fit is fine");
});

Deno.test("encodeFrameInto and encodeFrameHeaderInto reject misuse as their allocating forms do", () => {
  const target = new Uint8Array(300);
  assert.throws(() => encodeFrameInto(target, 0, 16, HELLO), RangeError);
  assert.throws(() => encodeFrameInto(target, 0, 0x9, new Uint8Array(126)), RangeError);
  assert.throws(() => encodeFrameInto(target, 0, 0x9, HELLO, { fin: false }), RangeError);
  assert.throws(
    () => encodeFrameInto(target, 0, 0x1, HELLO, { maskKey: new Uint8Array(3) }),
    RangeError,
  );
  assert.throws(() => encodeFrameInto(target, 0, 0x1, "Hello" as unknown as Uint8Array), TypeError);
  assert.throws(() => encodeFrameInto([] as unknown as Uint8Array, 0, 0x1, HELLO), TypeError);
  assert.throws(() => encodeFrameHeaderInto(target, 0, 0x2, 10, { mask: true }), TypeError);
  assert.throws(() => encodeFrameHeaderInto(target, 0, 0x2, -1), RangeError);
  assert.throws(() => encodeFrameHeaderInto({} as unknown as Uint8Array, 0, 0x2, 1), TypeError);
});
