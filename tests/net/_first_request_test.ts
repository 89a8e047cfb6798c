import assert from "node:assert/strict";
import { HeadParser, type RequestHead } from "../../lib/http/head_parser.ts";
import { BodyCollector, type BodyResult, planFirstRequest } from "../../lib/net/_first_request.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function head(text: string): RequestHead {
  const event = new HeadParser({ kind: "request" }).receive(encoder.encode(text));
  assert(event?.type === "head");
  return event.head;
}

Deno.test("planFirstRequest serves a plain GET with its URL and keep-alive", () => {
  assert.deepEqual(planFirstRequest(head("GET /a?b=1 HTTP/1.1\r\nHost: h:8\r\n\r\n"), 100), {
    type: "serve",
    url: "http://h:8/a?b=1",
    framing: { type: "none" },
    keepAlive: true,
  });
});

Deno.test("planFirstRequest closes after Connection: close and HTTP/1.0", () => {
  const close = planFirstRequest(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n"), 9);
  assert(close.type === "serve" && close.keepAlive === false);
  const old = planFirstRequest(head("GET / HTTP/1.0\r\nHost: a\r\n\r\n"), 9);
  assert(old.type === "serve" && old.keepAlive === false);
});

Deno.test("planFirstRequest frames Content-Length and chunked bodies", () => {
  const length = planFirstRequest(
    head("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"),
    9,
  );
  assert(length.type === "serve");
  assert.deepEqual(length.framing, { type: "length", length: 5 });
  const chunked = planFirstRequest(
    head("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n"),
    9,
  );
  assert(chunked.type === "serve");
  assert.deepEqual(chunked.framing, { type: "chunked" });
});

Deno.test("planFirstRequest leaves unusual requests to the relay", () => {
  const cases = [
    "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n",
  ];
  for (const text of cases) assert.equal(planFirstRequest(head(text), 9).type, "relay", text);
});

/** Feeds `wire` split at `at`, returning the final result. */
function collect(collector: BodyCollector, wire: Uint8Array, at: number): BodyResult {
  const first = collector.receive(wire.subarray(0, at));
  if (first.type === "done") {
    // Bytes after the body stay the caller's: the later split joins them.
    return { ...first, rest: new Uint8Array([...first.rest, ...wire.subarray(at)]) };
  }
  if (first.type !== "more") return first;
  return collector.receive(wire.subarray(at));
}

Deno.test("BodyCollector reads a Content-Length body at every split point", () => {
  const wire = encoder.encode("hello world" + "GET /next");
  for (let at = 0; at <= wire.length; at++) {
    const result = collect(new BodyCollector({ type: "length", length: 11 }, 100), wire, at);
    assert(result.type === "done", `split ${at}`);
    assert.equal(decoder.decode(result.body), "hello world");
    assert.equal(decoder.decode(result.rest), "GET /next");
  }
});

Deno.test("BodyCollector decodes a chunked body at every split point", () => {
  // "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\nNEXT"
  const wire = encoder.encode("5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\nNEXT");
  for (let at = 0; at <= wire.length; at++) {
    const result = collect(new BodyCollector({ type: "chunked" }, 100), wire, at);
    assert(result.type === "done", `split ${at}`);
    assert.equal(decoder.decode(result.body), "hello world");
    assert.equal(decoder.decode(result.rest), "NEXT");
  }
});

Deno.test("BodyCollector relays a chunked body over the limit or malformed", () => {
  const big = new BodyCollector({ type: "chunked" }, 4);
  assert.equal(big.receive(encoder.encode("5\r\nhello\r\n")).type, "relay");
  const bad = new BodyCollector({ type: "chunked" }, 100);
  assert.equal(bad.receive(encoder.encode("zz\r\n")).type, "relay");
});
