import assert from "node:assert/strict";
import {
  createEventStreamParser,
  type EventStreamParserEvent,
  type EventStreamParserOptions,
} from "../../lib/sse/parser.ts";
import { type Fixture, FIXTURES, hex, type SeenEvent } from "./_fixtures.ts";
import { seededRandom as prng } from "../_random.ts";

interface Outcome {
  events: SeenEvent[];
  retries: number[];
  comments: string[];
  errors: string[];
  lastEventId: string;
}

function parse(
  chunks: Iterable<Uint8Array | string>,
  options: Partial<EventStreamParserOptions> = {},
): Outcome {
  const out: Outcome = { events: [], retries: [], comments: [], errors: [], lastEventId: "" };
  const parser = createEventStreamParser({
    ...options,
    onEvent(event: EventStreamParserEvent) {
      switch (event.type) {
        case "event":
          out.events.push({ type: event.event, data: event.data, lastEventId: event.lastEventId });
          break;
        case "retry":
          out.retries.push(event.retry);
          break;
        case "comment":
          out.comments.push(event.comment);
          break;
        case "error":
          out.errors.push(event.error.code);
          break;
      }
    },
  });
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  out.lastEventId = parser.lastEventId;
  return out;
}

/** Every way to cut `wire` in two, one byte at a time, and 25 random chunkings. */
function* chunkings(wire: Uint8Array, seed: number): Generator<Uint8Array[]> {
  for (let cut = 0; cut <= wire.length; cut++) yield [wire.subarray(0, cut), wire.subarray(cut)];
  yield Array.from(wire, (_, i) => wire.subarray(i, i + 1));
  const random = prng(seed);
  for (let round = 0; round < 25; round++) {
    const chunks: Uint8Array[] = [];
    let at = 0;
    while (at < wire.length) {
      const size = 1 + Math.floor(random() * 8);
      chunks.push(wire.subarray(at, at + size));
      at += size;
    }
    yield chunks;
  }
}

function expectFixture(fixture: Fixture, outcome: Outcome, how: string): void {
  assert.deepEqual(outcome.events, fixture.events, `${fixture.name} (${how})`);
  assert.equal(outcome.lastEventId, fixture.lastEventId, `${fixture.name} (${how}) lastEventId`);
  assert.deepEqual(outcome.retries, fixture.retries ?? [], `${fixture.name} (${how}) retries`);
}

for (const [index, fixture] of FIXTURES.entries()) {
  Deno.test(`EventStreamParser: ${fixture.name}`, () => {
    expectFixture(fixture, parse([fixture.wire]), "whole");
    for (const chunks of chunkings(fixture.wire, index + 1)) {
      expectFixture(fixture, parse(chunks), chunks.map((c) => c.length).join("+"));
    }
  });

  Deno.test(`EventStreamParser: ${fixture.name}, fed as text at every split point`, () => {
    // Text decoded with ignoreBOM (as documented): the parser strips the BOM itself.
    const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(fixture.wire);
    for (let cut = 0; cut <= text.length; cut++) {
      expectFixture(fixture, parse([text.slice(0, cut), text.slice(cut)]), `text cut ${cut}`);
    }
  });
}

Deno.test("EventStreamParser reports comments with one leading space removed", () => {
  const outcome = parse([":\n: ping\n:  two\n:x\n"]);
  assert.deepEqual(outcome.comments, ["", "ping", " two", "x"]);
  assert.deepEqual(outcome.events, []);
});

Deno.test("EventStreamParser strips the BOM again after end() starts a new stream", () => {
  const events: string[] = [];
  const parser = createEventStreamParser({
    onEvent: (event) => event.type === "event" && events.push(event.data),
  });
  parser.feed(hex("ef bb bf 64 61 74 61 3a 61 0a 0a")); // BOM "data:a\n\n"
  parser.end();
  parser.feed(hex("ef bb bf 64 61 74 61 3a 62 0a 0a")); // BOM "data:b\n\n"
  assert.deepEqual(events, ["a", "b"]);
});

Deno.test("EventStreamParser end() discards a pending event and keeps the last event id", () => {
  const seen: SeenEvent[] = [];
  const parser = createEventStreamParser({
    onEvent: (e) =>
      e.type === "event" && seen.push({ type: e.event, data: e.data, lastEventId: e.lastEventId }),
  });
  parser.feed("id: 5\ndata: a\n\nid: 6\ndata: pending\n");
  parser.end();
  assert.equal(parser.lastEventId, "5");
  // A new connection: an event without id still carries the id from before (as browsers do).
  parser.feed("data: b\n\n");
  assert.deepEqual(seen, [
    { type: "message", data: "a", lastEventId: "5" },
    { type: "message", data: "b", lastEventId: "5" },
  ]);
});

Deno.test("EventStreamParser end() ends a line left by a trailing CR", () => {
  // The CR already ended the line; the pending event is still dropped at end of stream.
  assert.deepEqual(parse(["data: a\r"]).events, []);
  assert.deepEqual(parse(["data: a\r", "\r"]).events, [
    { type: "message", data: "a", lastEventId: "" },
  ]);
});

Deno.test("EventStreamParser starts from the lastEventId option and reset() replaces it", () => {
  const ids: string[] = [];
  const parser = createEventStreamParser({
    lastEventId: "41",
    onEvent: (e) => e.type === "event" && ids.push(e.lastEventId),
  });
  parser.feed("data: a\n\n");
  parser.reset("x");
  parser.feed("data: b\n\n");
  parser.reset();
  parser.feed("data: c\n\n");
  assert.deepEqual(ids, ["41", "x", ""]);
});

Deno.test("EventStreamParser reports an oversized line once and drops that event only", () => {
  const wire = "data: ok\n\ndata: " + "x".repeat(100) + "\nid: 9\ndata: more\n\ndata: next\n\n";
  for (let cut = 0; cut <= wire.length; cut += 7) {
    const outcome = parse([wire.slice(0, cut), wire.slice(cut)], { maxEventSize: 32 });
    assert.deepEqual(outcome.errors, ["SSE_ERR_EVENT_TOO_BIG"], `cut ${cut}`);
    assert.deepEqual(
      outcome.events.map((e) => e.data),
      ["ok", "next"],
      `cut ${cut}`,
    );
    assert.equal(outcome.lastEventId, "", `cut ${cut}`);
  }
});

Deno.test("EventStreamParser bounds many data lines that together exceed maxEventSize", () => {
  const wire = "data: 0123456789\n".repeat(10) + "\ndata: small\n\n";
  const outcome = parse([wire], { maxEventSize: 64 });
  assert.deepEqual(outcome.errors, ["SSE_ERR_EVENT_TOO_BIG"]);
  assert.deepEqual(outcome.events.map((e) => e.data), ["small"]);
});

Deno.test("EventStreamParser keeps memory bounded on an endless line fed in chunks", () => {
  let errors = 0;
  let events = 0;
  const parser = createEventStreamParser({
    maxEventSize: 1024,
    onEvent: (e) => {
      if (e.type === "error") errors++;
      if (e.type === "event") events++;
    },
  });
  const chunk = "y".repeat(4096);
  parser.feed("data: ");
  for (let i = 0; i < 1000; i++) parser.feed(chunk); // 4 MB of one line
  parser.feed("\n\ndata: after\n\n");
  assert.equal(errors, 1);
  assert.equal(events, 1);
});

Deno.test("EventStreamParser accepts an event exactly at maxEventSize", () => {
  // "data: " + 10 chars is a 16-character line; data buffer stays below the bound too.
  const outcome = parse(["data: 0123456789\n\n"], { maxEventSize: 16 });
  assert.deepEqual(outcome.errors, []);
  assert.deepEqual(outcome.events.map((e) => e.data), ["0123456789"]);
});

Deno.test("createEventStreamParser refuses a missing onEvent and a non-positive bound", () => {
  assert.throws(
    () => createEventStreamParser({} as EventStreamParserOptions),
    TypeError,
  );
  assert.throws(() => createEventStreamParser({ onEvent() {}, maxEventSize: 0 }), RangeError);
});
