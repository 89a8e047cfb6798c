// WebSocketConnection: Autobahn category 6 (UTF-8 handling), including fail-fast: an invalid
// text message fails with the fragment that makes it certainly invalid, not at its end.
import assert from "node:assert/strict";
import type { ConnectionEvent } from "../../lib/websocket/connection.ts";
import {
  assertFailed,
  concat,
  connection,
  feed,
  frame,
  hex,
  sentFrames,
  texts,
  utf8,
} from "./_connection_helpers.ts";

/** Valid texts (Autobahn 6.2, 6.5-6.7, 6.20-6.23). */
const VALID: string[] = [
  "",
  "Hello-µ@ßöäüàá-UTF-8!!", // 6.2
  "κόσμε", // 6.5.1
  "\u0000", // 6.6: first possible sequence of each length
  "\u0080",
  "\u0800",
  "\u{10000}",
  "\u007f", // 6.7: last possible sequence of each length
  "\u07ff",
  "\uffff",
  "\u{10ffff}",
  "\ud7ff", // 6.8: other boundaries around the surrogates
  "\ue000",
  "\ufffd",
  "\ufffe", // 6.20: noncharacters are valid UTF-8
  "\u{1fffe}\u{10fffe}",
  "\ufeffBOM kept", // a leading U+FEFF is text, not stripped
  "emoji 😀 and CJK 漢字",
];

/** Invalid byte sequences (Autobahn 6.3, 6.8-6.19 and the f5..ff bytes), as hex. */
const INVALID: string[] = [
  "ce ba e1 bd b9 ce bc ce b5 ed a0 80 65 64 69 74 65 64", // 6.3: κόσμε + a surrogate + "edited"
  "f8 88 80 80 80", // 6.8: 5- and 6-byte forms
  "fc 84 80 80 80 80",
  "fb bf bf bf bf", // 6.9
  "fd bf bf bf bf bf",
  "f4 90 80 80", // 6.10/6.11: beyond U+10FFFF
  "f7 bf bf bf",
  "80", // 6.12: unexpected continuation bytes
  "bf",
  "80 bf",
  "80 bf 80",
  "80 bf 80 bf",
  "80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f 90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 ba bb bc bd be bf",
  "c0 20 c1 20 c2 20", // 6.13: lonely start bytes
  "e0 20 ef 20",
  "f0 20 f4 20",
  "f8 20",
  "fc 20",
  "c0", // 6.14: sequences with the last byte missing
  "e0 80",
  "f0 80 80",
  "df",
  "ef bf",
  "f7 bf bf",
  "c2", // truncated but valid so far: certain only at the end
  "e2 82",
  "f0 9f 98",
  "41 42 c2",
  "c0 e0 80 f0 80 80 df ef bf f7 bf bf", // 6.15: concatenated incomplete sequences
  "fe", // 6.16: impossible bytes
  "ff",
  "fe fe ff ff",
  "c0 af", // 6.17: overlongs
  "e0 80 af",
  "f0 80 80 af",
  "c1 bf",
  "e0 9f bf",
  "f0 8f bf bf",
  "c0 80",
  "e0 80 80",
  "f0 80 80 80",
  "ed a0 80", // 6.18: single surrogates
  "ed ad bf",
  "ed ae 80",
  "ed af bf",
  "ed b0 80",
  "ed be 80",
  "ed bf bf",
  "ed a0 80 ed b0 80", // 6.19: paired surrogates (CESU-8)
  "ed ad bf ed bf bf",
  "ed af bf ed bf bf",
  ...Array.from({ length: 11 }, (_, i) => (0xf5 + i).toString(16)), // f5..ff
];

/**
 * Reference: the number of bytes after which `bytes` is certainly not UTF-8 (no continuation
 * can make it valid), from the Unicode well-formed byte sequence table (Table 3-7); or
 * `undefined` when every prefix could still become valid.
 */
function certainlyInvalidAfter(bytes: Uint8Array): number | undefined {
  let need = 0;
  let lower = 0x80;
  let upper = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (need === 0) {
      if (b <= 0x7f) continue;
      if (b >= 0xc2 && b <= 0xdf) need = 1;
      else if (b >= 0xe0 && b <= 0xef) need = 2;
      else if (b >= 0xf0 && b <= 0xf4) need = 3;
      else return i + 1;
      lower = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
      upper = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
      continue;
    }
    if (b < lower || b > upper) return i + 1;
    lower = 0x80;
    upper = 0xbf;
    need--;
  }
  return undefined;
}

Deno.test("certainlyInvalidAfter (the test's reference) agrees with strict decoding", () => {
  for (const h of INVALID) {
    const bytes = hex(h);
    const k = certainlyInvalidAfter(bytes);
    assert.ok(k === undefined || k <= bytes.length);
  }
  for (const text of VALID) assert.equal(certainlyInvalidAfter(utf8(text)), undefined);
  assert.equal(certainlyInvalidAfter(hex("ce ba ed a0 80")), 4);
});

/** Feeds `bytes` as a text message of one frame per byte; returns the events after each frame. */
function feedBytePerFrame(
  bytes: Uint8Array,
): { conn: ReturnType<typeof connection>; after: ConnectionEvent[][] } {
  const conn = connection();
  const after: ConnectionEvent[][] = [];
  for (let i = 0; i < Math.max(bytes.length, 1); i++) {
    const opcode = i === 0 ? 0x1 : 0x0;
    after.push(feed(conn, frame(opcode, bytes.subarray(i, i + 1), { fin: i >= bytes.length - 1 })));
    if (conn.state === "closed") break;
  }
  return { conn, after };
}

for (const text of VALID) {
  Deno.test(`WebSocketConnection accepts valid UTF-8 ${JSON.stringify(text)} whole, split and byte per frame (Autobahn 6)`, () => {
    const bytes = utf8(text);
    assert.deepEqual(texts(feed(connection(), frame(0x1, bytes))), [text]);
    for (let at = 0; at <= bytes.length; at++) {
      const conn = connection();
      const events = feed(
        conn,
        frame(0x1, bytes.subarray(0, at), { fin: false }),
        frame(0x0, bytes.subarray(at)),
      );
      assert.deepEqual(texts(events), [text], `split at ${at}`);
    }
    const { after } = feedBytePerFrame(bytes);
    assert.deepEqual(texts(after.flat()), [text]);
    assert.ok(after.slice(0, -1).every((events) => events.length === 0));
  });
}

for (const h of INVALID) {
  Deno.test(`WebSocketConnection fails with 1007 on ${h.length > 40 ? h.slice(0, 40) + "…" : h} whole, split and byte per frame (Autobahn 6)`, () => {
    const bytes = hex(h);
    const whole = connection();
    assertFailed(whole, feed(whole, frame(0x1, bytes)), 1007, "WS_ERR_INVALID_UTF8");

    const certainAt = certainlyInvalidAfter(bytes);
    for (let at = 0; at <= bytes.length; at++) {
      const conn = connection();
      const first = feed(conn, frame(0x1, bytes.subarray(0, at), { fin: false }));
      if (certainAt !== undefined && at >= certainAt) {
        // Fail fast: the first fragment already holds the certainly invalid byte.
        assertFailed(conn, first, 1007, "WS_ERR_INVALID_UTF8");
        continue;
      }
      assert.deepEqual(first, [], `no verdict before the invalid byte (split at ${at})`);
      assertFailed(conn, feed(conn, frame(0x0, bytes.subarray(at))), 1007, "WS_ERR_INVALID_UTF8");
    }

    // One frame per byte: the close comes with the frame of byte `certainAt` exactly, or
    // with the final frame for sequences only cut short.
    const { conn, after } = feedBytePerFrame(bytes);
    const failedWith = after.findIndex((events) => events.some((e) => e.type === "close"));
    assert.equal(failedWith + 1, certainAt ?? bytes.length);
    assertFailed(conn, after[failedWith]!, 1007, "WS_ERR_INVALID_UTF8");
  });
}

Deno.test("WebSocketConnection fails fast on ce ba e1 bd b9 ce bc ce b5 ed a0 80 with the fragment holding ed a0", () => {
  const conn = connection();
  assert.deepEqual(feed(conn, frame(0x1, hex("ce ba e1 bd b9 ce bc ce b5"), { fin: false })), []);
  assert.deepEqual(feed(conn, frame(0x0, hex("ed"), { fin: false })), []);
  const events = feed(conn, frame(0x0, hex("a0"), { fin: false }));
  assertFailed(conn, events, 1007, "WS_ERR_INVALID_UTF8");
  // The rest of the message is never needed.
  assert.deepEqual(feed(conn, frame(0x0, hex("80"))), []);
});

Deno.test("WebSocketConnection fails on the middle fragment of κόσμε + f4 90 80 80 + edited (Autobahn 6.4.1, 6.4.2)", () => {
  const layouts = [
    ["ce ba e1 bd b9 cf 83 ce bc ce b5", "f4 90 80 80", "65 64 69 74 65 64"],
    ["ce ba e1 bd b9 cf 83 ce bc ce b5 f4", "90 80 80", "65 64 69 74 65 64"],
  ];
  for (const [a, b, c] of layouts) {
    const conn = connection();
    assert.deepEqual(feed(conn, frame(0x1, hex(a!), { fin: false })), []);
    const events = feed(conn, frame(0x0, hex(b!), { fin: false }));
    assertFailed(conn, events, 1007, "WS_ERR_INVALID_UTF8");
    assert.deepEqual(feed(conn, frame(0x0, hex(c!))), []);
  }
});

Deno.test("WebSocketConnection discards a failed text message and queues nothing after the close", () => {
  const conn = connection();
  const events = feed(
    conn,
    frame(0x1, "ok"),
    frame(0x1, hex("ff"), { fin: false }),
    frame(0x9, "never answered"),
  );
  assert.deepEqual(texts(events), ["ok"]);
  assertFailed(conn, events, 1007, "WS_ERR_INVALID_UTF8");
});

Deno.test("WebSocketConnection validates each text message on its own after a valid one", () => {
  const conn = connection();
  // A message ending with a complete character leaves no state for the next one.
  const events = feed(
    conn,
    frame(0x1, hex("e2 82"), { fin: false }),
    frame(0x0, hex("ac")),
    frame(0x1, hex("82 ac")),
  );
  assert.deepEqual(texts(events), ["€"]);
  assertFailed(conn, events, 1007, "WS_ERR_INVALID_UTF8");
});

Deno.test("WebSocketConnection does not validate binary messages as UTF-8", () => {
  const conn = connection();
  const events = feed(
    conn,
    concat(
      frame(0x2, hex("ff fe ed a0 80")),
      frame(0x2, hex("c0"), { fin: false }),
      frame(0x0, hex("af")),
    ),
  );
  assert.deepEqual(events.map((e) => e.type), ["binary", "binary"]);
  assert.equal(sentFrames(conn).length, 0);
});

/** Feeds `wire` a byte at a time; returns the events after each byte. */
function feedBytewise(conn: ReturnType<typeof connection>, wire: Uint8Array): ConnectionEvent[][] {
  const after: ConnectionEvent[][] = [];
  for (let i = 0; i < wire.length && conn.state !== "closed"; i++) {
    after.push(feed(conn, wire.subarray(i, i + 1)));
  }
  return after;
}

// A masked frame under 126 bytes has a 6-byte header: payload byte i is wire byte 6 + i.
const HEADER = 6;

/**
 * After how many payload bytes of its frame an invalid text fails, when the fragments before
 * it held `before`: at the byte that makes the whole text certainly invalid; a sequence only
 * cut short, at the frame's end.
 */
function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function expectedVerdictAt(before: Uint8Array, bytes: Uint8Array): number {
  const early = certainlyInvalidAfter(concat(before, bytes));
  return early === undefined ? bytes.length : early - before.length;
}

for (const h of INVALID) {
  Deno.test(`WebSocketConnection fails with 1007 within one frame at the byte that makes ${h.length > 40 ? h.slice(0, 40) + "…" : h} certainly invalid`, () => {
    const bytes = hex(h);
    // A first frame; a continuation after a whole character; and one after half a euro sign,
    // which its first byte may or may not finish.
    for (const before of [undefined, "61 62", "e2 82"]) {
      const conn = connection();
      const prior = before === undefined ? new Uint8Array(0) : hex(before);
      // e2 82 + 80 is U+2080: a lone continuation byte becomes valid text.
      if (isUtf8(concat(prior, bytes))) continue;
      if (before !== undefined) assert.deepEqual(feed(conn, frame(0x1, prior, { fin: false })), []);
      const after = feedBytewise(conn, frame(before === undefined ? 0x1 : 0x0, bytes));
      const failedWith = after.findIndex((events) => events.some((e) => e.type === "close"));
      assert.equal(failedWith, HEADER + expectedVerdictAt(prior, bytes) - 1, `after ${before}`);
      assertFailed(conn, after[failedWith]!, 1007, "WS_ERR_INVALID_UTF8");
    }
  });
}

Deno.test("WebSocketConnection fails a continuation at its first byte when that byte cannot finish the previous fragment's character", () => {
  // e2 82 | 41: "A" where the euro sign's last byte should be. Once the frame was only judged
  // when complete; now the verdict comes with its first byte.
  const conn = connection();
  assert.deepEqual(feed(conn, frame(0x1, hex("61 e2"), { fin: false })), []);
  assert.deepEqual(feed(conn, frame(0x0, hex("82"), { fin: false })), []);
  const wire = frame(0x0, new Uint8Array(200).fill(0x41));
  assertFailed(conn, feed(conn, wire.subarray(0, 8 + 1)), 1007, "WS_ERR_INVALID_UTF8");
});

for (const text of VALID) {
  Deno.test(`WebSocketConnection accepts ${JSON.stringify(text)} arriving a byte at a time inside its frames, a character split between them`, () => {
    const bytes = utf8(text);
    const whole = connection();
    assert.deepEqual(texts(feedBytewise(whole, frame(0x1, bytes)).flat()), [text]);
    for (let at = 0; at <= bytes.length; at++) {
      const conn = connection();
      const events = [
        ...feed(conn, frame(0x1, bytes.subarray(0, at), { fin: false })),
        ...feedBytewise(conn, frame(0x0, bytes.subarray(at))).flat(),
      ];
      assert.deepEqual(texts(events), [text], `split at ${at}`);
      assert.equal(conn.state, "open");
    }
  });
}

Deno.test("WebSocketConnection fails κόσμε + f4 90 80 80 + edited in one frame before its end (Autobahn 6.4.3, 6.4.4)", () => {
  const wire = frame(0x1, hex("ce ba e1 bd b9 cf 83 ce bc ce b5 f4 90 80 80 65 64 69 74 65 64"));
  for (const cut of [HEADER + 11 + 4, HEADER + 11 + 2]) {
    const conn = connection();
    assert.deepEqual(feed(conn, wire.subarray(0, HEADER + 11)), []);
    assertFailed(conn, feed(conn, wire.subarray(HEADER + 11, cut)), 1007, "WS_ERR_INVALID_UTF8");
    assert.deepEqual(feed(conn, wire.subarray(cut)), [], "the rest is never needed");
  }
});

Deno.test("WebSocketConnection fails an invalid long text frame as its first bytes arrive, unmasked at any phase", () => {
  const payload = new Uint8Array(100_000).fill(0x61);
  payload.set(hex("ed a0 80"), 4097);
  const wire = frame(0x1, payload);
  const conn = connection();
  assert.deepEqual(feed(conn, wire.subarray(0, 4000), wire.subarray(4000, HEADER + 4097 + 1)), []);
  assertFailed(conn, feed(conn, wire.subarray(HEADER + 4098, 5000)), 1007, "WS_ERR_INVALID_UTF8");
});

Deno.test("WebSocketConnection as a client fails an unmasked text frame within the frame too", () => {
  const conn = connection({ role: "client" });
  const wire = frame(0x1, hex("68 69 c0 af 68 69 68 69"), { masked: false });
  const after = feedBytewise(conn, wire);
  assert.equal(after.length, 2 + 3); // c0 can start nothing: failed with it, wire byte 5
  assertFailed(conn, after.at(-1)!, 1007, "WS_ERR_INVALID_UTF8");
});

Deno.test("WebSocketConnection gives a partial frame's other faults their own close code, not 1007", () => {
  const invalid = new Uint8Array(300).fill(0xff);
  // RSV2 set: 1002 once the frame is complete, whatever its bytes.
  const rsv = connection();
  const wire = frame(0x1, invalid, { rsv2: true });
  assert.deepEqual(feed(rsv, wire.subarray(0, 100)), []);
  assertFailed(rsv, feed(rsv, wire.subarray(100)), 1002, "WS_ERR_RESERVED_BITS");
  // A text frame while a fragmented message is in progress: 1002.
  const nested = connection();
  const text = frame(0x1, invalid);
  assert.deepEqual(feed(nested, frame(0x1, "a", { fin: false }), text.subarray(0, 100)), []);
  assertFailed(nested, feed(nested, text.subarray(100)), 1002, "WS_ERR_EXPECTED_CONTINUATION");
  // Compressed (RSV1 with permessage-deflate): bytes are not text until inflated.
  const deflate = connection({ allowRsv1: true });
  const compressed = frame(0x1, invalid, { rsv1: true });
  const events = feed(deflate, compressed.subarray(0, 100), compressed.subarray(100));
  assert.deepEqual(events.map((e) => [e.type, e.type === "text" && e.compressed]), [[
    "text",
    true,
  ]]);
  // A continuation of a binary message.
  const binary = connection();
  const more = frame(0x0, invalid);
  const got = feed(
    binary,
    frame(0x2, "b", { fin: false }),
    more.subarray(0, 100),
    more.subarray(100),
  );
  assert.deepEqual(got.map((e) => e.type), ["binary"]);
});

Deno.test("WebSocketConnection checks nothing early once it is closing", () => {
  const conn = connection();
  conn.close(1000);
  conn.takeOutgoing();
  const wire = frame(0x1, new Uint8Array(300).fill(0xff));
  assert.deepEqual(feed(conn, wire.subarray(0, 100)), []);
  assert.equal(conn.state, "closing");
});
