import assert from "node:assert/strict";
import {
  decodeUtf8,
  unfinishedTail,
  Utf8Probe,
  Utf8StreamDecoder,
} from "../../lib/websocket/utf8.ts";
import { hex, seeded, utf8 } from "./_connection_helpers.ts";

const SAMPLES = [
  "",
  "ascii",
  "Hello-µ@ßöäüàá-UTF-8!!",
  "κόσμε",
  "€ 😀 漢字 \u{10ffff}",
  "\ufeffBOM",
];

Deno.test("decodeUtf8 decodes valid UTF-8 and keeps a leading U+FEFF", () => {
  for (const text of SAMPLES) assert.equal(decodeUtf8(utf8(text)), text);
  assert.equal(decodeUtf8(hex("ef bb bf 41")), "\ufeffA");
});

Deno.test("decodeUtf8 returns undefined for invalid or truncated UTF-8", () => {
  for (const h of ["ff", "c0 af", "ed a0 80", "f4 90 80 80", "e2 82", "80", "f8 88 80 80 80"]) {
    assert.equal(decodeUtf8(hex(h)), undefined, h);
  }
  // A failure leaves no state behind for the next call.
  assert.equal(decodeUtf8(hex("41")), "A");
});

Deno.test("Utf8StreamDecoder decodes text split at every byte position", () => {
  for (const text of SAMPLES) {
    const bytes = utf8(text);
    for (let at = 0; at <= bytes.length; at++) {
      const decoder = new Utf8StreamDecoder();
      const head = decoder.push(bytes.subarray(0, at));
      const tail = decoder.end(bytes.subarray(at));
      assert.equal(head! + tail!, text, `split at ${at}`);
    }
  }
});

Deno.test("Utf8StreamDecoder fails with the byte that makes the input certainly invalid", () => {
  const decoder = new Utf8StreamDecoder();
  assert.equal(decoder.push(hex("ce ba e1 bd b9 ce bc ce b5")), "\u03ba\u1f79\u03bc\u03b5");
  assert.equal(decoder.push(hex("ed")), "");
  assert.equal(decoder.push(hex("a0")), undefined);

  for (const [prefix, bad] of [["f4", "90"], ["e0", "80"], ["f0", "80"], ["c2", "41"]]) {
    const d = new Utf8StreamDecoder();
    assert.equal(d.push(hex(prefix!)), "", prefix);
    assert.equal(d.push(hex(bad!)), undefined, `${prefix} ${bad}`);
  }
  assert.equal(new Utf8StreamDecoder().push(hex("f5")), undefined);
});

Deno.test("Utf8StreamDecoder.end fails on a truncated character and then starts afresh", () => {
  const decoder = new Utf8StreamDecoder();
  assert.equal(decoder.push(hex("e2 82")), "");
  assert.equal(decoder.end(), undefined);
  assert.equal(decoder.end(hex("41")), "A");
});

Deno.test("Utf8StreamDecoder is usable again after a failure or a reset", () => {
  const decoder = new Utf8StreamDecoder();
  assert.equal(decoder.push(hex("ff")), undefined);
  assert.equal(decoder.push(hex("41")), "A");
  assert.equal(decoder.push(hex("e2 82")), "");
  decoder.reset();
  assert.equal(decoder.end(hex("42")), "B");
});

Deno.test("decodeUtf8 tells a sent U+FFFD from a decoding error", () => {
  assert.equal(decodeUtf8(hex("41 ef bf bd 42")), "A\ufffdB");
  assert.equal(decodeUtf8(hex("ef bf bd ff")), undefined);
  assert.equal(decodeUtf8(hex("ef bf bd e2 82")), undefined);
});

/** Pushes `pieces`; the index of the piece after which the input is certainly invalid, or -1. */
function verdictOf(push: (piece: Uint8Array) => boolean, pieces: Uint8Array[]): number {
  return pieces.findIndex((piece) => !push(piece));
}

Deno.test("Utf8Probe fails with exactly the piece Utf8StreamDecoder fails with, for random bytes and cuts", () => {
  const random = seeded(0x7692);
  // Bytes drawn mostly from the interesting ranges: ASCII, continuation bytes, lead bytes.
  const pick = () => {
    const r = random();
    if (r < 0.3) return 0x61;
    if (r < 0.6) return 0x80 + Math.floor(random() * 0x40);
    if (r < 0.95) return 0xc0 + Math.floor(random() * 0x38);
    return Math.floor(random() * 256);
  };
  let invalid = 0;
  let valid = 0;
  for (let round = 0; round < 5000; round++) {
    const text = round % 3 === 0
      ? utf8(SAMPLES[round % SAMPLES.length]! + "κ€😀".repeat(round % 7))
      : Uint8Array.from({ length: 1 + Math.floor(random() * 12) }, pick);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < text.length;) {
      const size = 1 + Math.floor(random() * 5);
      pieces.push(text.subarray(at, at + size));
      at += size;
    }
    const reference = new Utf8StreamDecoder();
    const expected = verdictOf((piece) => reference.push(piece) !== undefined, pieces);
    const probe = new Utf8Probe();
    assert.equal(
      verdictOf((piece) => probe.push(piece), pieces),
      expected,
      `${Array.from(text, (b) => b.toString(16).padStart(2, "0")).join(" ")} in ${
        pieces.map((p) => p.length)
      }`,
    );
    if (expected >= 0) invalid++;
    else valid++;
  }
  assert.ok(invalid > 1000 && valid > 1000, `both kinds drawn: ${invalid} invalid, ${valid} valid`);
});

Deno.test("Utf8Probe carries a cut character over, checks its second byte's range, and resets", () => {
  const probe = new Utf8Probe();
  assert.equal(probe.push(hex("ce ba f4")), true);
  assert.equal(probe.push(hex("90")), false, "f4 90 is past U+10FFFF (Autobahn 6.4.4)");
  probe.reset();
  assert.equal(probe.push(hex("e2")), true);
  assert.equal(probe.push(hex("82")), true);
  assert.equal(probe.push(hex("ac 61")), true);
  assert.equal(probe.push(hex("e2 82")), true);
  assert.equal(probe.push(hex("61")), false, "a character left unfinished before an ASCII byte");
  probe.reset();
  assert.equal(probe.push(hex("e2 82")), true);
  probe.reset();
  assert.equal(probe.push(hex("61")), true, "reset forgets the unfinished character");
});

Deno.test("unfinishedTail finds the character a valid prefix ends inside of, across pieces", () => {
  const none: Uint8Array = new Uint8Array(0);
  assert.deepEqual(unfinishedTail(none, hex("61 62")), none);
  assert.deepEqual(unfinishedTail(none, hex("61 e2 82")), hex("e2 82"));
  assert.deepEqual(unfinishedTail(none, hex("e2 82 ac")), none, "a finished euro sign");
  assert.deepEqual(unfinishedTail(hex("f0 9f"), hex("98")), hex("f0 9f 98"), "begun before");
  assert.deepEqual(unfinishedTail(hex("f0 9f 98"), hex("80")), none, "finished across pieces");
  assert.deepEqual(unfinishedTail(hex("f0"), none), hex("f0"), "an empty piece keeps the tail");
  // Every cut of valid text, piece by piece: the tail is exactly what the cut leaves over.
  const text = utf8("a€😀ß漢x");
  for (let cut = 0; cut <= text.length; cut++) {
    let tail: Uint8Array = none;
    for (let i = 0; i < cut; i++) tail = unfinishedTail(tail, text.subarray(i, i + 1));
    const whole = unfinishedTail(none, text.subarray(0, cut));
    assert.deepEqual(tail, whole, `cut ${cut}`);
    assert.equal(decodeUtf8(text.subarray(0, cut - tail.length)) !== undefined, true);
  }
});

Deno.test("Utf8Probe.reset(tail) goes on from a character begun before", () => {
  const probe = new Utf8Probe();
  probe.reset(hex("e2 82"));
  assert.equal(probe.push(hex("ac 61")), true, "the tail finished");
  probe.reset(hex("e2 82"));
  assert.equal(probe.push(hex("61")), false, "an ASCII byte where the last byte should be");
  probe.reset(hex("ed"));
  assert.equal(probe.push(hex("a0")), false, "a surrogate begun before");
  probe.reset(hex("f0"));
  assert.equal(probe.push(hex("9f")), true, "still unfinished, still possible");
});
