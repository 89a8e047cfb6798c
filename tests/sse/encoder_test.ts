import assert from "node:assert/strict";
import { encodeServerSentEvent, type ServerSentEvent } from "../../lib/sse/encoder.ts";
import { createEventStreamParser } from "../../lib/sse/parser.ts";
import { hex } from "./_fixtures.ts";

const text = (event: ServerSentEvent): string =>
  new TextDecoder().decode(encodeServerSentEvent(event));

Deno.test("encodeServerSentEvent writes every field, LF-only, ending with a blank line", () => {
  assert.deepEqual(
    encodeServerSentEvent({ comment: "c", retry: 10, id: "1", event: "e", data: "d" }),
    // ": c\nretry: 10\nid: 1\nevent: e\ndata: d\n\n"
    hex("3a2063 0a 72657472793a203130 0a 69643a2031 0a 6576656e743a2065 0a 646174613a2064 0a 0a"),
  );
});

Deno.test("encodeServerSentEvent splits multi-line data on CRLF, CR and LF", () => {
  assert.equal(text({ data: "a\nb\r\nc\rd" }), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  assert.equal(text({ data: "\n" }), "data: \ndata: \n\n");
  assert.equal(text({ data: "a\r" }), "data: a\ndata: \n\n");
  assert.equal(text({ data: "\r\n\r\n" }), "data: \ndata: \ndata: \n\n");
});

Deno.test("encodeServerSentEvent writes empty values as a field with an empty value", () => {
  assert.equal(text({ data: "" }), "data: \n\n");
  assert.equal(text({ id: "" }), "id: \n\n");
  assert.equal(text({ comment: "" }), ": \n\n");
  assert.equal(text({}), "\n");
});

Deno.test("encodeServerSentEvent keeps a value's own leading space", () => {
  assert.equal(text({ data: " x" }), "data:  x\n\n");
});

Deno.test("encodeServerSentEvent splits multi-line comments into several comment lines", () => {
  assert.equal(text({ comment: "a\ndata: forged" }), ": a\n: data: forged\n\n");
});

Deno.test("encodeServerSentEvent encodes Unicode as UTF-8, short and long", () => {
  assert.deepEqual(encodeServerSentEvent({ data: "é😀" }), hex("646174613a20 c3a9 f09f9880 0a0a"));
  const long = "é😀中".repeat(200);
  assert.equal(
    text({ data: long, id: long.slice(0, 28) }),
    `id: ${long.slice(0, 28)}\ndata: ${long}\n\n`,
  );
  // A lone surrogate becomes U+FFFD, as TextEncoder does.
  assert.deepEqual(encodeServerSentEvent({ data: "\ud800" }), hex("646174613a20 efbfbd 0a0a"));
});

Deno.test("encodeServerSentEvent encodes data of several MiB", () => {
  const big = "x".repeat(3 * 1024 * 1024) + "\n" + "ü".repeat(1024 * 1024);
  const bytes = encodeServerSentEvent({ data: big });
  assert.equal(bytes.length, 6 + 3 * 1024 * 1024 + 1 + 6 + 2 * 1024 * 1024 + 2);
  assert.ok(bytes.buffer.byteLength <= bytes.length / 0.75, "a large event keeps little slack");
  // The next small event is unaffected by the grown scratch buffer.
  assert.equal(text({ data: "small" }), "data: small\n\n");
});

for (const field of ["event", "id"] as const) {
  for (const bad of ["a\nb", "a\rb", "a\r\nb", "a\0b", "\n"]) {
    Deno.test(`encodeServerSentEvent refuses ${field} ${JSON.stringify(bad)} with a TypeError`, () => {
      assert.throws(
        () => encodeServerSentEvent({ [field]: bad, data: "x" }),
        (error: unknown) =>
          error instanceof TypeError &&
          error.message.includes(`"${field}" must not contain CR, LF or NUL`),
      );
    });
  }
}

Deno.test("encodeServerSentEvent refuses a retry that is not a non-negative integer", () => {
  for (const retry of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
    assert.throws(() => encodeServerSentEvent({ retry }), RangeError, String(retry));
  }
  assert.throws(() => encodeServerSentEvent({ retry: "5" as unknown as number }), RangeError);
  assert.equal(text({ retry: 0 }), "retry: 0\n\n");
});

Deno.test("encodeServerSentEvent refuses fields of the wrong type", () => {
  assert.throws(() => encodeServerSentEvent({ data: 5 as unknown as string }), TypeError);
  assert.throws(() => encodeServerSentEvent({ event: 5 as unknown as string }), TypeError);
  assert.throws(() => encodeServerSentEvent({ id: null as unknown as string }), TypeError);
  assert.throws(() => encodeServerSentEvent({ comment: {} as unknown as string }), TypeError);
});

Deno.test("encodeServerSentEvent output can never forge a second event (random fuzz)", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const alphabet = [
    "a",
    " ",
    ":",
    "\n",
    "\r",
    "\r\n",
    "\0",
    "é",
    "😀",
    "data: x",
    "id: 1",
    "event: e",
  ];
  const pick = (n: number) =>
    Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
  for (let i = 0; i < 500; i++) {
    const data = pick(Math.floor(random() * 12));
    const comment = pick(Math.floor(random() * 6));
    const seen: { data: string; id: string; type: string }[] = [];
    const parser = createEventStreamParser({
      onEvent: (e) =>
        e.type === "event" && seen.push({ data: e.data, id: e.lastEventId, type: e.event }),
    });
    parser.feed(encodeServerSentEvent({ comment, id: "7", event: "t", data }));
    // Exactly one event, with the data's line breaks normalized to LF.
    assert.deepEqual(seen, [{ data: data.replace(/\r\n?/g, "\n"), id: "7", type: "t" }]);
  }
});

Deno.test("encodeServerSentEvent hands out views that later events never overwrite", () => {
  const kept = Array.from(
    { length: 500 },
    (_, i) => [i, encodeServerSentEvent({ id: String(i), data: "v".repeat(i % 300) })] as const,
  );
  for (const [i, bytes] of kept) {
    assert.equal(new TextDecoder().decode(bytes), `id: ${i}\ndata: ${"v".repeat(i % 300)}\n\n`);
  }
});
