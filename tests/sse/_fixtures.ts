// Wire fixtures for the event-stream parser: one per rule of WHATWG HTML §9.2.5-§9.2.6.
// Shared by the parser tests (every split point, random chunkings) and the interop tests
// (Chromium, Deno's EventSource and npm eventsource must dispatch the same events).

/** One dispatched event as a client sees it. */
export interface SeenEvent {
  readonly type: string;
  readonly data: string;
  readonly lastEventId: string;
}

/** A stream and what a conforming parser makes of it. */
export interface Fixture {
  /** Names the rule, e.g. "a line without a colon is a field with an empty value". */
  readonly name: string;
  /** The bytes on the wire. */
  readonly wire: Uint8Array;
  /** Events dispatched, in order. */
  readonly events: readonly SeenEvent[];
  /** The last event id string once the stream ended. */
  readonly lastEventId: string;
  /** Reconnection times set by `retry:` fields, in order. */
  readonly retries?: readonly number[];
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Bytes from a hex string with optional spaces, e.g. "ef bb bf". */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
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

const message = (data: string, lastEventId = "", type = "message"): SeenEvent => ({
  type,
  data,
  lastEventId,
});

export const FIXTURES: readonly Fixture[] = [
  {
    name: "a blank line dispatches a message event",
    wire: utf8("data: hello\n\n"),
    events: [message("hello")],
    lastEventId: "",
  },
  {
    name: "one leading BOM is stripped at stream start",
    wire: concat(hex("ef bb bf"), utf8("data: a\n\n")),
    events: [message("a")],
    lastEventId: "",
  },
  {
    name: "a second leading BOM is kept and spoils the field name",
    wire: concat(hex("ef bb bf ef bb bf"), utf8("data: a\n\ndata: b\n\n")),
    events: [message("b")],
    lastEventId: "",
  },
  {
    name: "a BOM after stream start is not stripped",
    wire: concat(utf8("data: a\n\n"), hex("ef bb bf"), utf8("data: b\n\ndata: c\n\n")),
    events: [message("a"), message("c")],
    lastEventId: "",
  },
  {
    name: "CR, LF and CRLF line endings mix",
    wire: utf8("data: a\rdata: b\nid: 1\r\n\r\ndata: c\r\r"),
    events: [message("a\nb", "1"), message("c", "1")],
    lastEventId: "1",
  },
  {
    name: "a CRLF split across chunks ends one line",
    wire: utf8("data: a\r\ndata: b\r\n\r\n"),
    events: [message("a\nb")],
    lastEventId: "",
  },
  {
    name: "CR CR is two line ends and dispatches",
    wire: utf8("data: x\r\r"),
    events: [message("x")],
    lastEventId: "",
  },
  {
    name: "LF CR LF is a line end then a CRLF blank line",
    wire: utf8("data: x\n\r\n"),
    events: [message("x")],
    lastEventId: "",
  },
  {
    name: "a line without a colon is a field with an empty value",
    wire: utf8("data\n\ndata\ndata\n\nevent\ndata: x\n\n"),
    events: [message(""), message("\n"), message("x")],
    lastEventId: "",
  },
  {
    name: "exactly one leading space is removed from a value",
    wire: utf8("data:  two\n\ndata:none\n\ndata: \n\n"),
    events: [message(" two"), message("none"), message("")],
    lastEventId: "",
  },
  {
    name: "only the first colon separates field and value",
    wire: utf8("data: a:b: c\n\n"),
    events: [message("a:b: c")],
    lastEventId: "",
  },
  {
    name: "data lines join with LF and one trailing LF is removed",
    wire: utf8("data: a\ndata:\ndata: b\n\ndata: c\ndata:\n\n"),
    events: [message("a\n\nb"), message("c\n")],
    lastEventId: "",
  },
  {
    name: "no event is dispatched for empty data and the event type is reset",
    wire: utf8("event: add\n\ndata: y\n\n"),
    events: [message("y")],
    lastEventId: "",
  },
  {
    name: "the event field names the event type",
    wire: utf8("event: add\ndata: 1\n\nevent:\ndata: 2\n\n"),
    events: [message("1", "", "add"), message("2")],
    lastEventId: "",
  },
  {
    name: "field names are case-sensitive",
    wire: utf8("Data: x\n\nDATA: y\n\nEvent: add\nID: 4\ndata: z\n\n"),
    events: [message("z")],
    lastEventId: "",
  },
  {
    name: "an id containing NUL is ignored",
    wire: utf8("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"),
    events: [message("a", "1"), message("b", "1")],
    lastEventId: "1",
  },
  {
    name: "an empty id resets the last event id",
    wire: utf8("id: 1\ndata: a\n\nid\ndata: b\n\nid: 2\ndata: c\n\nid:\ndata: d\n\n"),
    events: [message("a", "1"), message("b", ""), message("c", "2"), message("d", "")],
    lastEventId: "",
  },
  {
    name: "the last event id persists across events",
    wire: utf8("id: 7\ndata: a\n\ndata: b\n\nevent: e\ndata: c\n\n"),
    events: [message("a", "7"), message("b", "7"), message("c", "7", "e")],
    lastEventId: "7",
  },
  {
    name: "an id-only block sets the last event id without an event",
    wire: utf8("id: 3\n\ndata: after\n\n"),
    events: [message("after", "3")],
    lastEventId: "3",
  },
  {
    name: "an id without a blank line is not applied",
    wire: utf8("data: a\n\nid: 9\n"),
    events: [message("a")],
    lastEventId: "",
  },
  {
    name: "retry is taken only when all ASCII digits",
    wire: utf8(
      "retry: 1500\nretry: 15a\nretry:\nretry: -1\nretry: 1.5\nretry:  12\nretry\nretry: 0\ndata: r\n\n",
    ),
    events: [message("r")],
    lastEventId: "",
    retries: [1500, 0],
  },
  {
    name: "an unterminated event at end of stream is dropped",
    wire: utf8("data: a\n\ndata: b\n"),
    events: [message("a")],
    lastEventId: "",
  },
  {
    name: "a last line without a line end is dropped",
    wire: utf8("data: a\n\ndata: b\n\ndata: c"),
    events: [message("a"), message("b")],
    lastEventId: "",
  },
  {
    name: "unknown fields and comments are ignored inside an event",
    wire: utf8(": hello\nfoo: bar\ndata: a\n:\ndata: b\n\n"),
    events: [message("a\nb")],
    lastEventId: "",
  },
  {
    name: "multi-byte UTF-8 survives any split",
    wire: utf8("data: héllo wörld — 你好 😀\n\n"),
    events: [message("héllo wörld — 你好 😀")],
    lastEventId: "",
  },
  {
    name: "invalid UTF-8 decodes to U+FFFD",
    wire: concat(utf8("data: "), hex("ff c3"), utf8("\n\n")),
    events: [message("\uFFFD\uFFFD")],
    lastEventId: "",
  },
  {
    name: "NUL in data is kept",
    wire: utf8("data: a\0b\n\n"),
    events: [message("a\0b")],
    lastEventId: "",
  },
  {
    name: "a unicode id is reported",
    wire: utf8("id: ключ-🔑\ndata: k\n\n"),
    events: [message("k", "ключ-🔑")],
    lastEventId: "ключ-🔑",
  },
];
