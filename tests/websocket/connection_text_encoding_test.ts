// WebSocketConnection.sendText with a string: the frames carry exactly what TextEncoder gives
// (lone surrogates as U+FFFD), whatever the mix of ASCII and other characters, and many short
// messages queued before one take never share or overwrite each other's bytes.
import assert from "node:assert/strict";
import { WebSocketConnection } from "../../lib/websocket/connection.ts";
import { concat, connection, drain, toHex, utf8 } from "./_connection_helpers.ts";

/** The frames a server connection queues for `texts`, as one byte string. */
function sent(texts: readonly string[], take: "all" | "into" = "all"): Uint8Array {
  const conn = connection();
  for (const text of texts) conn.sendText(text);
  if (take === "all") return concat(...conn.takeOutgoing());
  const target = new Uint8Array(conn.outgoingBytes);
  assert.equal(conn.takeOutgoingInto(target, 0), target.length);
  return target;
}

/** The same frames built from TextEncoder's bytes. */
function expected(texts: readonly string[]): Uint8Array {
  return concat(...texts.map((text) => WebSocketConnection.encodeMessage(0x1, utf8(text))));
}

/** Index of the first byte where `a` and `b` differ, -1 if they are equal. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

const SAMPLES = [
  "",
  "0123456789abcdef",
  "héllo",
  "a€b",
  "😀",
  "x\uD800y", // lone high surrogate inside ASCII
  "\uDC00", // lone low surrogate
  "ab\uD83D", // high surrogate cut off at the end
  "\uD83D\uDE00tail",
  "é".repeat(1024),
  "€".repeat(1024),
  "a".repeat(1025),
  "€".repeat(1025),
  "a".repeat(1023) + "😀",
];

Deno.test("WebSocketConnection.sendText frames a string as TextEncoder encodes it", () => {
  for (const text of SAMPLES) {
    assert.equal(toHex(sent([text])), toHex(expected([text])), JSON.stringify(text.slice(0, 20)));
  }
  assert.equal(toHex(sent(SAMPLES, "into")), toHex(expected(SAMPLES)));
});

Deno.test("WebSocketConnection.sendText keeps every queued short message's bytes apart", () => {
  // Far more than one shared buffer holds, all queued before anything is taken.
  const texts = Array.from(
    { length: 300 },
    (_, i) => i % 3 === 0 ? `m${i}-` + "€".repeat(i) : i % 3 === 1 ? `m${i}`.repeat(40) : `é${i}😀`,
  );
  assert.equal(firstDifference(sent(texts), expected(texts)), -1);
  assert.equal(firstDifference(sent(texts, "into"), expected(texts)), -1);
});

Deno.test("WebSocketConnection.sendText from a client masks the encoded text", () => {
  const client = connection({ role: "client" });
  const server = connection();
  for (const text of SAMPLES) client.sendText(text);
  server.receive(concat(...client.takeOutgoing()));
  const texts = drain(server).map((event) => {
    assert(event.type === "text" && !event.compressed);
    return event.data;
  });
  assert.deepEqual(texts, SAMPLES.map((text) => text.toWellFormed()));
});
