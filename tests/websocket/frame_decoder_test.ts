import assert from "node:assert/strict";
import {
  FrameDecoder,
  type FrameDecoderEvent,
  type FrameDecoderOptions,
} from "../../lib/websocket/frame_decoder.ts";
import type { Role } from "../../lib/websocket/frame.ts";
import { PROBE_SIZE, probeTinyPieces } from "./_tiny_pieces_heap.ts";
import { seededRandom as random } from "../_random.ts";

function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const bytes = new Uint8Array(clean.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function drain(decoder: FrameDecoder): FrameDecoderEvent[] {
  const events: FrameDecoderEvent[] = [];
  for (let event = decoder.next(); event !== undefined; event = decoder.next()) {
    events.push(event);
  }
  return events;
}

/** Feeds `chunks` (fresh copies: the decoder unmasks in place) and drains after each. */
function decodeChunks(
  options: FrameDecoderOptions,
  chunks: readonly Uint8Array[],
): FrameDecoderEvent[] {
  const decoder = new FrameDecoder(options);
  const events: FrameDecoderEvent[] = [];
  for (const chunk of chunks) {
    decoder.receive(chunk.slice());
    events.push(...drain(decoder));
  }
  return events;
}

/** Comparable form of events: payloads as plain arrays. */
function plain(events: FrameDecoderEvent[]): unknown[] {
  return events.map((event) =>
    event.type === "frame"
      ? { ...event, frame: { ...event.frame, payload: Array.from(event.frame.payload) } }
      : event
  );
}

/** Decodes `bytes` whole, split at every byte boundary, and byte by byte; all must agree. */
function decodeEverySplit(options: FrameDecoderOptions, bytes: Uint8Array): FrameDecoderEvent[] {
  const whole = decodeChunks(options, [bytes]);
  const expected = plain(whole);
  for (let split = 0; split <= bytes.length; split++) {
    const events = decodeChunks(options, [bytes.subarray(0, split), bytes.subarray(split)]);
    assert.deepEqual(plain(events), expected, `split at ${split}`);
  }
  const bytewise = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  assert.deepEqual(plain(decodeChunks(options, bytewise)), expected, "byte by byte");
  return whole;
}

function frameOf(event: FrameDecoderEvent | undefined) {
  assert.equal(event?.type, "frame");
  if (event?.type !== "frame") throw new Error("unreachable");
  return event.frame;
}

function errorOf(event: FrameDecoderEvent | undefined) {
  assert.equal(event?.type, "error");
  if (event?.type !== "error") throw new Error("unreachable");
  return event.error;
}

/** Decodes `bytes` (whole) and returns the single error it must produce. */
function decodeError(role: Role, bytes: Uint8Array, maxFrameSize?: number) {
  const events = decodeChunks({ role, maxFrameSize }, [bytes]);
  assert.equal(events.length, 1, "one event");
  return errorOf(events[0]);
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("FrameDecoder decodes the RFC 6455 unmasked Hello text frame", () => {
  const [event, ...rest] = decodeEverySplit({ role: "client" }, hex("810548656c6c6f"));
  assert.deepEqual(rest, []);
  const frame = frameOf(event);
  assert.deepEqual(
    { fin: frame.fin, rsv1: frame.rsv1, rsv2: frame.rsv2, rsv3: frame.rsv3, op: frame.opcode },
    { fin: true, rsv1: false, rsv2: false, rsv3: false, op: 0x1 },
  );
  assert.equal(text(frame.payload), "Hello");
});

Deno.test("FrameDecoder unmasks the RFC 6455 masked Hello text frame", () => {
  const [event, ...rest] = decodeEverySplit({ role: "server" }, hex("818537fa213d7f9f4d5158"));
  assert.deepEqual(rest, []);
  const frame = frameOf(event);
  assert.equal(frame.opcode, 0x1);
  assert.equal(text(frame.payload), "Hello");
});

Deno.test("FrameDecoder decodes the RFC 6455 fragmented text message as two frames", () => {
  const events = decodeEverySplit({ role: "client" }, hex("010348656c 80026c6f"));
  assert.equal(events.length, 2);
  const first = frameOf(events[0]);
  const second = frameOf(events[1]);
  assert.deepEqual([first.fin, first.opcode, text(first.payload)], [false, 0x1, "Hel"]);
  assert.deepEqual([second.fin, second.opcode, text(second.payload)], [true, 0x0, "lo"]);
});

Deno.test("FrameDecoder decodes the RFC 6455 ping and masked pong frames", () => {
  const ping = frameOf(decodeEverySplit({ role: "client" }, hex("890548656c6c6f"))[0]);
  assert.deepEqual([ping.opcode, text(ping.payload)], [0x9, "Hello"]);
  const pong = frameOf(decodeEverySplit({ role: "server" }, hex("8a8537fa213d7f9f4d5158"))[0]);
  assert.deepEqual([pong.opcode, text(pong.payload)], [0xa, "Hello"]);
});

Deno.test("FrameDecoder decodes a 256-byte binary frame with a 16-bit length", () => {
  const payload = Uint8Array.from({ length: 256 }, (_, i) => i);
  const events = decodeEverySplit({ role: "client" }, concat(hex("827e0100"), payload));
  const frame = frameOf(events[0]);
  assert.equal(frame.opcode, 0x2);
  assert.deepEqual(frame.payload, payload);
});

Deno.test("FrameDecoder decodes a 64 KiB binary frame with a 64-bit length", () => {
  const payload = Uint8Array.from({ length: 65536 }, (_, i) => (i * 31) & 0xff);
  const bytes = concat(hex("827f0000000000010000"), payload);
  // Every split point would decode 64 KiB 65k times; split every header byte and then at a
  // stride through the payload, plus random chunkings below.
  const options = { role: "client" } as const;
  for (const split of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 4096, 65545, bytes.length]) {
    const events = decodeChunks(options, [bytes.subarray(0, split), bytes.subarray(split)]);
    assert.equal(events.length, 1, `split ${split}`);
    assert.deepEqual(frameOf(events[0]).payload, payload, `split ${split}`);
  }
});

Deno.test("FrameDecoder decodes a masked 64 KiB frame under random chunkings", () => {
  const next = random(7);
  const payload = Uint8Array.from({ length: 65536 }, () => Math.floor(next() * 256));
  const key = [0x01, 0x80, 0xfe, 0x33];
  const masked = payload.map((b, i) => b ^ key[i & 3]!);
  const stream = concat(
    hex("82ff0000000000010000"),
    new Uint8Array(key),
    masked,
    hex("818537fa213d7f9f4d5158"), // then a small masked frame
  );
  for (let run = 0; run < 30; run++) {
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < stream.length;) {
      const size = 1 + Math.floor(next() * (run < 15 ? 20 : 20000));
      chunks.push(stream.subarray(at, at + size));
      at += size;
    }
    const events = decodeChunks({ role: "server" }, chunks);
    assert.equal(events.length, 2, `run ${run}`);
    assert.deepEqual(frameOf(events[0]).payload, payload, `run ${run}`);
    assert.equal(text(frameOf(events[1]).payload), "Hello", `run ${run}`);
  }
});

Deno.test("FrameDecoder decodes a stream of mixed frames under random chunkings", () => {
  const next = random(8);
  const stream = concat(
    hex("810548656c6c6f"),
    hex("8100"), // empty text frame
    hex("010348656c 80026c6f"),
    hex("890548656c6c6f"),
    hex("827e0100"),
    Uint8Array.from({ length: 256 }, (_, i) => i),
    hex("887e0002 03e8"), // close 1000 with a non-minimal 16-bit length
  );
  const expected = plain(decodeEverySplit({ role: "client" }, stream));
  assert.equal(expected.length, 7);
  for (let run = 0; run < 200; run++) {
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < stream.length;) {
      const size = 1 + Math.floor(next() * 12);
      chunks.push(stream.subarray(at, at + size));
      at += size;
    }
    assert.deepEqual(plain(decodeChunks({ role: "client" }, chunks)), expected, `run ${run}`);
  }
});

Deno.test("FrameDecoder returns a zero-copy view when the frame lies in one chunk", () => {
  const chunk = hex("818537fa213d7f9f4d5158 818537fa213d7f9f4d5158");
  const decoder = new FrameDecoder({ role: "server" });
  decoder.receive(chunk);
  const first = frameOf(decoder.next());
  const second = frameOf(decoder.next());
  assert.equal(first.payload.buffer, chunk.buffer);
  assert.equal(first.payload.byteOffset, chunk.byteOffset + 6);
  assert.equal(second.payload.buffer, chunk.buffer);
  assert.equal(second.payload.byteOffset, chunk.byteOffset + 17);
  // The decoder owns the chunk: the payload was unmasked in place.
  assert.equal(text(chunk.subarray(6, 11)), "Hello");
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.bufferedAmount, 0);
});

Deno.test("FrameDecoder copies a payload spanning chunks once into an exact-size buffer", () => {
  const payload = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
  const bytes = concat(hex("827e03e8"), payload);
  const chunks = [bytes.slice(0, 100), bytes.slice(100, 600), bytes.slice(600)];
  const decoder = new FrameDecoder({ role: "client" });
  for (const chunk of chunks) decoder.receive(chunk);
  const frame = frameOf(decoder.next());
  assert.deepEqual(frame.payload, payload);
  assert.equal(frame.payload.byteOffset, 0);
  assert.equal(frame.payload.buffer.byteLength, 1000);
  for (const chunk of chunks) assert.notEqual(frame.payload.buffer, chunk.buffer);
});

Deno.test("FrameDecoder keeps a view of a chunk of 1 KiB or more that arrives behind buffered bytes", () => {
  const payload = Uint8Array.from({ length: 2000 }, (_, i) => i & 0xff);
  const bytes = concat(hex("827e07d0"), payload);
  const decoder = new FrameDecoder({ role: "client" });
  decoder.receive(bytes.slice(0, 1)); // half a header waits in the decoder
  const rest = bytes.slice(1);
  decoder.receive(rest);
  const frame = frameOf(decoder.next());
  assert.deepEqual(frame.payload, payload);
  assert.equal(frame.payload.buffer, rest.buffer);
  assert.equal(frame.payload.byteOffset, 3);
});

Deno.test("FrameDecoder copies a small chunk that arrives behind buffered bytes", () => {
  const decoder = new FrameDecoder({ role: "server" });
  decoder.receive(hex("8185"));
  const rest = hex("37fa213d7f9f4d5158");
  decoder.receive(rest);
  assert.equal(text(frameOf(decoder.next()).payload), "Hello");
  // Copied on arrival rather than kept as a view: the chunk was not unmasked in place.
  assert.deepEqual(rest, hex("37fa213d7f9f4d5158"));
});

/** A masked binary frame of `payload` with a 64-bit length; key 01 80 fe 33. */
function maskedFrame64(payload: Uint8Array): Uint8Array {
  const key = [0x01, 0x80, 0xfe, 0x33];
  const header = new Uint8Array(14);
  header.set([0x82, 0xff]);
  new DataView(header.buffer).setBigUint64(2, BigInt(payload.length));
  header.set(key, 10);
  return concat(header, payload.map((b, i) => b ^ key[i & 3]!));
}

for (const [label, size] of [["256 KiB", 256 * 1024], ["1 MiB", 1024 * 1024]] as const) {
  Deno.test(`FrameDecoder decodes a ${label} masked frame fed byte by byte`, () => {
    // Each byte as its own chunk, as from 1-byte TCP segments. Holding the chunks as a list
    // taken with Array.prototype.shift made this quadratic: 5 s at 256 KiB, minutes at 1 MiB.
    const next = random(size);
    const payload = Uint8Array.from({ length: size }, () => Math.floor(next() * 256));
    const stream = concat(maskedFrame64(payload), hex("818537fa213d7f9f4d5158"));
    const decoder = new FrameDecoder({ role: "server" });
    const events: FrameDecoderEvent[] = [];
    for (let i = 0; i < stream.length; i++) {
      decoder.receive(stream.subarray(i, i + 1));
      events.push(...drain(decoder));
      if (i < stream.length - 12) assert.equal(events.length, 0, `a frame before byte ${i}`);
    }
    assert.equal(events.length, 2);
    assert.deepEqual(frameOf(events[0]).payload, payload);
    assert.equal(text(frameOf(events[1]).payload), "Hello");
    assert.equal(decoder.bufferedAmount, 0);
  });
}

Deno.test("FrameDecoder decodes a 1 MiB frame from chunks alternating 1 KiB and 1 byte", () => {
  const next = random(11);
  const payload = Uint8Array.from({ length: 1024 * 1024 }, () => Math.floor(next() * 256));
  const stream = maskedFrame64(payload);
  const chunks: Uint8Array[] = [];
  for (let at = 0, big = true; at < stream.length; big = !big) {
    const size = big ? 1024 : 1;
    chunks.push(stream.subarray(at, at + size));
    at += size;
  }
  const events = decodeChunks({ role: "server" }, chunks);
  assert.equal(events.length, 1);
  assert.deepEqual(frameOf(events[0]).payload, payload);
});

Deno.test("FrameDecoder holds about 1 MiB, not one view per byte, for a 1 MiB frame fed byte by byte", async () => {
  const { heldBytes, correct } = await probeTinyPieces("decoder");
  assert.ok(correct);
  // The payload itself is 1 MiB; one view per chunk held ~100 MiB.
  assert.ok(heldBytes < 4 * PROBE_SIZE, `${heldBytes} bytes held`);
});

Deno.test("FrameDecoder reports RSV bits as they arrive", () => {
  const frame = frameOf(decodeEverySplit({ role: "client" }, hex("f10548656c6c6f"))[0]);
  assert.deepEqual([frame.fin, frame.rsv1, frame.rsv2, frame.rsv3], [true, true, true, true]);
  const only2 = frameOf(decodeChunks({ role: "client" }, [hex("a100")])[0]);
  assert.deepEqual([only2.rsv1, only2.rsv2, only2.rsv3], [false, true, false]);
});

Deno.test("FrameDecoder leaves continuation sequencing to the connection", () => {
  // A continuation frame with nothing to continue is still a well-formed frame.
  const frame = frameOf(decodeChunks({ role: "client" }, [hex("80026c6f")])[0]);
  assert.deepEqual([frame.opcode, text(frame.payload)], [0x0, "lo"]);
});

Deno.test("FrameDecoder decodes empty payloads, masked and unmasked", () => {
  const unmasked = frameOf(decodeEverySplit({ role: "client" }, hex("8200"))[0]);
  assert.equal(unmasked.payload.length, 0);
  const masked = frameOf(decodeEverySplit({ role: "server" }, hex("828037fa213d"))[0]);
  assert.equal(masked.payload.length, 0);
});

Deno.test("FrameDecoder accepts non-minimal length encodings", () => {
  const sixteen = frameOf(decodeEverySplit({ role: "client" }, hex("817e000548656c6c6f"))[0]);
  assert.equal(text(sixteen.payload), "Hello");
  const sixtyFour = frameOf(
    decodeEverySplit({ role: "client" }, hex("817f000000000000000548656c6c6f"))[0],
  );
  assert.equal(text(sixtyFour.payload), "Hello");
  const ping = frameOf(decodeEverySplit({ role: "client" }, hex("897e000548656c6c6f"))[0]);
  assert.equal(text(ping.payload), "Hello");
});

Deno.test("FrameDecoder rejects a 64-bit length with the most significant bit set", () => {
  const error = decodeError("client", hex("827f8000000000000001"));
  assert.equal(error.code, "WS_ERR_INVALID_LENGTH");
  assert.equal(error.closeCode, 1002);
});

Deno.test("FrameDecoder as a server rejects an unmasked frame", () => {
  const error = decodeError("server", hex("810548656c6c6f"));
  assert.deepEqual([error.code, error.closeCode], ["WS_ERR_EXPECTED_MASK", 1002]);
});

Deno.test("FrameDecoder as a client rejects a masked frame", () => {
  const error = decodeError("client", hex("818537fa213d7f9f4d5158"));
  assert.deepEqual([error.code, error.closeCode], ["WS_ERR_UNEXPECTED_MASK", 1002]);
});

Deno.test("FrameDecoder rejects every reserved opcode", () => {
  for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    const error = decodeError("client", new Uint8Array([0x80 | opcode, 0x00]));
    assert.deepEqual([error.code, error.closeCode], ["WS_ERR_RESERVED_OPCODE", 1002]);
    assert.match(error.message, new RegExp(`0x${opcode.toString(16)}`));
  }
  for (const opcode of [0x0, 0x1, 0x2, 0x8, 0x9, 0xa]) {
    const events = decodeChunks({ role: "client" }, [new Uint8Array([0x80 | opcode, 0x00])]);
    assert.equal(frameOf(events[0]).opcode, opcode);
  }
});

Deno.test("FrameDecoder rejects a fragmented control frame", () => {
  for (const opcode of [0x8, 0x9, 0xa]) {
    const error = decodeError("client", new Uint8Array([opcode, 0x00]));
    assert.deepEqual([error.code, error.closeCode], ["WS_ERR_CONTROL_FRAGMENTED", 1002]);
  }
});

Deno.test("FrameDecoder rejects a control frame payload over 125 bytes", () => {
  const error = decodeError("client", concat(hex("897e007e"), new Uint8Array(126)));
  assert.deepEqual([error.code, error.closeCode], ["WS_ERR_CONTROL_TOO_BIG", 1002]);
  // Reported from the header alone, without waiting for the payload.
  const early = decodeError("server", hex("88fe007e"));
  assert.equal(early.code, "WS_ERR_CONTROL_TOO_BIG");
  const max = frameOf(
    decodeChunks({ role: "client" }, [concat(hex("897d"), new Uint8Array(125))])[0],
  );
  assert.equal(max.payload.length, 125);
});

Deno.test("FrameDecoder rejects a frame over maxFrameSize from its header alone", () => {
  // Only the header of a 1025-byte frame: the error comes before any payload byte arrives.
  const error = decodeError("client", hex("827e0401"), 1024);
  assert.deepEqual([error.code, error.closeCode], ["WS_ERR_FRAME_TOO_BIG", 1009]);
  const exact = decodeChunks({ role: "client", maxFrameSize: 1024 }, [
    concat(hex("827e0400"), new Uint8Array(1024)),
  ]);
  assert.equal(frameOf(exact[0]).payload.length, 1024);
  // A 2^62-byte claim under the default 16 MiB limit.
  const huge = decodeError("client", hex("827f4000000000000000"));
  assert.equal(huge.code, "WS_ERR_FRAME_TOO_BIG");
  const small = decodeError("server", hex("828637fa213d"), 5);
  assert.equal(small.code, "WS_ERR_FRAME_TOO_BIG");
});

Deno.test("FrameDecoder stays failed after an error: reported once, later input ignored", () => {
  const decoder = new FrameDecoder({ role: "server" });
  decoder.receive(hex("810548656c6c6f 818537fa213d7f9f4d5158"));
  assert.equal(errorOf(decoder.next()).code, "WS_ERR_EXPECTED_MASK");
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.bufferedAmount, 0);
  decoder.receive(hex("818537fa213d7f9f4d5158"));
  assert.equal(decoder.bufferedAmount, 0);
  assert.equal(decoder.next(), undefined);
});

Deno.test("FrameDecoder frames before an error are still delivered", () => {
  const events = decodeEverySplit({ role: "client" }, hex("810548656c6c6f 8300 810548656c6c6f"));
  assert.equal(events.length, 2);
  assert.equal(text(frameOf(events[0]).payload), "Hello");
  assert.equal(errorOf(events[1]).code, "WS_ERR_RESERVED_OPCODE");
});

Deno.test("FrameDecoder bufferedAmount counts received bytes not yet consumed", () => {
  const decoder = new FrameDecoder({ role: "client" });
  assert.equal(decoder.bufferedAmount, 0);
  decoder.receive(hex("8105"));
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.bufferedAmount, 0); // the header was consumed
  decoder.receive(hex("48656c"));
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.bufferedAmount, 3);
  decoder.receive(hex("6c6f 81"));
  assert.equal(text(frameOf(decoder.next()).payload), "Hello");
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.bufferedAmount, 1);
  decoder.receive(new Uint8Array(0));
  assert.equal(decoder.bufferedAmount, 1);
});

Deno.test("FrameDecoder rejects misuse with TypeError and RangeError", () => {
  const decoder = new FrameDecoder({ role: "client" });
  assert.throws(() => decoder.receive("8100" as unknown as Uint8Array), TypeError);
  assert.throws(() => decoder.receive(new ArrayBuffer(2) as unknown as Uint8Array), TypeError);
  assert.throws(() => new FrameDecoder({ role: "peer" as Role }), TypeError);
  assert.throws(() => new FrameDecoder(undefined as unknown as FrameDecoderOptions), TypeError);
  assert.throws(() => new FrameDecoder({ role: "client", maxFrameSize: -1 }), RangeError);
  assert.throws(() => new FrameDecoder({ role: "client", maxFrameSize: 1.5 }), RangeError);
  assert.throws(() => new FrameDecoder({ role: "client", maxFrameSize: Infinity }), RangeError);
});
