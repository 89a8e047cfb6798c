import assert from "node:assert/strict";
import { decodeUtf8, Utf8StreamDecoder } from "../../lib/websocket/utf8.ts";
import { hex, utf8 } from "./_connection_helpers.ts";

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
