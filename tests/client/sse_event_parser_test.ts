import assert from "node:assert/strict";
import { type SseEvent, SseEventParser } from "../../lib/client/sse_event_parser.ts";

const FIXTURE = '\ufeff: welcome\nretry: 3000\n\nid: c-1\ndata: {"a":1}\n\n' +
  "id: c-2\r\nevent: up\r\ndata: line one\r\ndata: line two\r\n\r\n" +
  'event: reset\rdata: {"cursor":"c-9"}\r\r' +
  "data\n\nevent: only-event\n\nid: c-3\ndata:no space\n\n";

const EXPECTED: SseEvent[] = [
  { id: "c-1", event: "message", data: '{"a":1}', hasId: true },
  { id: "c-2", event: "up", data: "line one\nline two", hasId: true },
  { id: "c-2", event: "reset", data: '{"cursor":"c-9"}', hasId: false },
  { id: "c-2", event: "message", data: "", hasId: false },
  { id: "c-3", event: "message", data: "no space", hasId: true },
];

Deno.test("SseEventParser parses LF, CRLF and CR streams fed whole", () => {
  assert.deepEqual(new SseEventParser().feed(FIXTURE), EXPECTED);
});

Deno.test("SseEventParser gives the same events at every split point", () => {
  for (let i = 0; i <= FIXTURE.length; i++) {
    const parser = new SseEventParser();
    const events = [...parser.feed(FIXTURE.slice(0, i)), ...parser.feed(FIXTURE.slice(i))];
    assert.deepEqual(events, EXPECTED, `split at ${i}`);
  }
});

Deno.test("SseEventParser gives the same events fed one character at a time", () => {
  const parser = new SseEventParser();
  const events: SseEvent[] = [];
  for (const char of FIXTURE) events.push(...parser.feed(char));
  assert.deepEqual(events, EXPECTED);
});

Deno.test("SseEventParser ignores an id holding NUL", () => {
  const events = new SseEventParser().feed("id: a\0b\ndata: x\n\n");
  assert.deepEqual(events, [{ id: "", event: "message", data: "x", hasId: false }]);
});

Deno.test("SseEventParser refuses an event over its limit", () => {
  const parser = new SseEventParser(16);
  assert.throws(() => parser.feed("data: 0123456789abcdef"), RangeError);
  assert.throws(
    () => new SseEventParser(16).feed("data: 0123456789\ndata: 0123456789\n"),
    RangeError,
  );
});
