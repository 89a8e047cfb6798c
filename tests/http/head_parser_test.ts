import assert from "node:assert/strict";
import {
  HeadParser,
  type HeadParserEvent,
  type HeadParserOptions,
  type RequestHead,
  type ResponseHead,
} from "../../lib/http/head_parser.ts";
import {
  AIOHTTP_REQUEST,
  AIOHTTP_RESPONSE,
  CHROMIUM_REQUEST,
  DENO_RESPONSE,
  FIREFOX_REQUEST,
  PYTHON_WEBSOCKETS_REQUEST,
  PYTHON_WEBSOCKETS_RESPONSE,
  RFC6455_REQUEST,
} from "../websocket/_handshake_fixtures.ts";

const encoder = new TextEncoder();

/** ISO-8859-1 encoding, so tests can write any byte as \xNN in a string. */
function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError("fixture must be latin1");
    out[i] = c;
  }
  return out;
}

function parse(
  input: string | Uint8Array,
  options: HeadParserOptions = { kind: "request" },
): HeadParserEvent | undefined {
  return new HeadParser(options).receive(typeof input === "string" ? bytes(input) : input);
}

function request(input: string, options?: Partial<HeadParserOptions>): RequestHead {
  const event = parse(input, { kind: "request", ...options });
  assert.equal(event?.type, "head", JSON.stringify(event));
  assert(event?.type === "head" && event.head.kind === "request");
  return event.head;
}

function response(input: string): ResponseHead {
  const event = parse(input, { kind: "response" });
  assert.equal(event?.type, "head", JSON.stringify(event));
  assert(event?.type === "head" && event.head.kind === "response");
  return event.head;
}

function error(input: string, options: HeadParserOptions = { kind: "request" }) {
  const event = parse(input, options);
  assert.equal(event?.type, "error", `expected an error for ${JSON.stringify(input)}`);
  assert(event?.type === "error");
  return event;
}

/** A comparable view of an event: headers as entries, rest as an array. */
function snapshot(event: HeadParserEvent | undefined): unknown {
  if (event === undefined || event.type === "error") return event;
  return {
    ...event.head,
    headers: [...event.head.headers],
    rest: [...event.rest],
  };
}

/**
 * Feeds `input` in the given chunks until an event; the bytes not consumed by the head
 * (the event's rest plus chunks never fed) must match the one-chunk result.
 */
function feed(chunks: Uint8Array[], options: HeadParserOptions): unknown {
  const parser = new HeadParser(options);
  for (let i = 0; i < chunks.length; i++) {
    const event = parser.receive(chunks[i]!);
    if (event === undefined) continue;
    if (event.type === "error") return event;
    const unread = chunks.slice(i + 1).flatMap((chunk) => [...chunk]);
    return { ...(snapshot(event) as object), rest: [...event.rest, ...unread] };
  }
  return undefined;
}

/** Feeds `input` split at every point into two chunks; each must give the one-chunk result. */
function assertEverySplit(input: Uint8Array, options: HeadParserOptions): void {
  const whole = snapshot(new HeadParser(options).receive(input));
  assert.notEqual(whole, undefined);
  for (let split = 0; split <= input.length; split++) {
    const chunks = [input.subarray(0, split), input.subarray(split)];
    assert.deepEqual(feed(chunks, options), whole, `split at ${split}`);
  }
}

/** Feeds `input` one byte at a time; must give the one-chunk result. */
function assertBytewise(input: Uint8Array, options: HeadParserOptions): void {
  const whole = snapshot(new HeadParser(options).receive(input));
  assert.notEqual(whole, undefined);
  const chunks = Array.from(input, (_, i) => input.subarray(i, i + 1));
  assert.deepEqual(feed(chunks, options), whole);
}

// --- Real clients and servers -------------------------------------------------------------

Deno.test("HeadParser parses a Chromium upgrade request", () => {
  const head = request(CHROMIUM_REQUEST);
  assert.equal(head.method, "GET");
  assert.equal(head.target, "/chat?room=1");
  assert.equal(head.httpVersion, "1.1");
  assert.equal(head.headers.get("sec-websocket-key"), "kI5BWID9PYnrlxFns96Vcg==");
  assert.equal(head.headers.get("sec-websocket-protocol"), "chat, superchat");
  assert.equal(head.rawHeaders.length, 13);
  assert.deepEqual(head.rawHeaders[0], ["Host", "127.0.0.1:40969"]);
});

Deno.test("HeadParser parses a Firefox upgrade request", () => {
  const head = request(FIREFOX_REQUEST);
  assert.equal(head.target, "/chat");
  assert.equal(head.headers.get("connection"), "keep-alive, Upgrade");
});

Deno.test("HeadParser parses a Python websockets upgrade request", () => {
  const head = request(PYTHON_WEBSOCKETS_REQUEST);
  assert.equal(head.target, "/py/path?x=1");
  assert.equal(head.headers.get("user-agent"), "Python/3.11 websockets/10.4");
});

Deno.test("HeadParser parses an aiohttp upgrade request", () => {
  assert.equal(request(AIOHTTP_REQUEST).headers.get("connection"), "upgrade");
});

Deno.test("HeadParser parses the RFC 6455 sample request", () => {
  assert.equal(request(RFC6455_REQUEST).headers.get("origin"), "http://example.com");
});

Deno.test("HeadParser parses 101 responses from Python websockets, aiohttp and Deno", () => {
  for (const fixture of [PYTHON_WEBSOCKETS_RESPONSE, AIOHTTP_RESPONSE, DENO_RESPONSE]) {
    const head = response(fixture);
    assert.equal(head.status, 101);
    assert.equal(head.statusText, "Switching Protocols");
    assert.equal(head.httpVersion, "1.1");
    assert.equal(head.headers.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  }
});

// --- Chunking -----------------------------------------------------------------------------

Deno.test("HeadParser gives the same result at every split point of every fixture", () => {
  for (const fixture of [CHROMIUM_REQUEST, FIREFOX_REQUEST, PYTHON_WEBSOCKETS_REQUEST]) {
    assertEverySplit(bytes(fixture + "\x81\x85\x37\xfa\x21\x3d"), { kind: "request" });
  }
  for (const fixture of [PYTHON_WEBSOCKETS_RESPONSE, DENO_RESPONSE]) {
    assertEverySplit(bytes(fixture + "\x81\x05hello"), { kind: "response" });
  }
});

Deno.test("HeadParser gives the same result one byte at a time", () => {
  assertBytewise(bytes(CHROMIUM_REQUEST + "\x81\x80"), { kind: "request" });
  assertBytewise(bytes(AIOHTTP_RESPONSE), { kind: "response" });
});

Deno.test("HeadParser gives the same result for random re-chunkings", () => {
  let seed = 0x9e3779b9; // xorshift32, fixed seed: reproducible
  const random = (limit: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % limit;
  };
  const fixtures = [CHROMIUM_REQUEST, FIREFOX_REQUEST, AIOHTTP_REQUEST, RFC6455_REQUEST];
  for (const fixture of fixtures) {
    const input = bytes(fixture + "\x81\x00");
    const whole = snapshot(new HeadParser({ kind: "request" }).receive(input));
    for (let round = 0; round < 50; round++) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < input.length;) {
        const size = 1 + random(40);
        chunks.push(input.subarray(at, at + size));
        at += size;
      }
      assert.deepEqual(feed(chunks, { kind: "request" }), whole, `round ${round}`);
    }
  }
});

Deno.test("HeadParser gives the same error at every split point", () => {
  const cases = [
    "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", // obs-fold
    "GET / HTTP/1.1\r\nHost : a\r\n\r\n", // whitespace before colon
    "GET / HTTP/1.1\nHost: a\r\n\r\n", // bare LF
    "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", // bare CR
    "GET / HTTP/2.0\r\nHost: a\r\n\r\n", // 505
    "GET / HTTP/1.1\r\nX: a\x00b\r\nHost: a\r\n\r\n", // NUL
  ];
  for (const text of cases) {
    assertEverySplit(bytes(text), { kind: "request" });
    assertBytewise(bytes(text), { kind: "request" });
  }
  assertEverySplit(bytes("GET / HTTP/1.1\r\nHost: a\r\nX: " + "x".repeat(200) + "\r\n\r\n"), {
    kind: "request",
    maxHeadSize: 128,
  });
});

Deno.test("HeadParser returns undefined until the blank line and for an empty chunk", () => {
  const parser = new HeadParser({ kind: "request" });
  assert.equal(parser.receive(new Uint8Array(0)), undefined);
  assert.equal(parser.state, "start-line");
  assert.equal(parser.receive(bytes("GET / HTTP/1.1\r\n")), undefined);
  assert.equal(parser.state, "field-line");
  assert.equal(parser.receive(bytes("Host: a\r\n")), undefined);
  assert.equal(parser.receive(bytes("\r")), undefined);
  const event = parser.receive(bytes("\n"));
  assert.equal(event?.type, "head");
  assert.equal(parser.state, "done");
});

Deno.test("HeadParser returns the bytes after the head as a copy", () => {
  const chunk = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n\x81\x00\xff");
  const event = new HeadParser({ kind: "request" }).receive(chunk);
  assert(event?.type === "head");
  assert.deepEqual([...event.rest], [0x81, 0x00, 0xff]);
  chunk.fill(0);
  assert.deepEqual([...event.rest], [0x81, 0x00, 0xff]);
});

Deno.test("HeadParser returns an empty rest when the chunk ends with the head", () => {
  const event = parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert(event?.type === "head");
  assert.equal(event.rest.length, 0);
});

Deno.test("HeadParser throws a TypeError when fed after its event", () => {
  const done = new HeadParser({ kind: "request" });
  done.receive(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  assert.throws(() => done.receive(bytes("x")), TypeError);
  const failed = new HeadParser({ kind: "request" });
  assert.equal(failed.receive(bytes("GET / HTTP/1.1\n"))?.type, "error");
  assert.equal(failed.state, "failed");
  assert.throws(() => failed.receive(bytes("x")), TypeError);
});

Deno.test("HeadParser constructor rejects bad options", () => {
  assert.throws(() => new HeadParser({ kind: "body" as "request" }), TypeError);
  assert.throws(() => new HeadParser({ kind: "request", maxHeadSize: 0 }), RangeError);
  assert.throws(() => new HeadParser({ kind: "request", maxHeadSize: 1.5 }), RangeError);
  assert.throws(() => new HeadParser({ kind: "request", maxHeaders: -1 }), RangeError);
});

// --- Line endings -------------------------------------------------------------------------

Deno.test("HeadParser rejects a bare LF ending the request-line", () => {
  const event = error("GET / HTTP/1.1\nHost: a\r\n\r\n");
  assert.equal(event.code, "HTTP_ERR_BARE_LF");
  assert.equal(event.status, 400);
});

Deno.test("HeadParser rejects a bare LF ending a field line", () => {
  assert.equal(error("GET / HTTP/1.1\r\nHost: a\n\r\n").code, "HTTP_ERR_BARE_LF");
});

Deno.test("HeadParser rejects a bare LF as the blank line", () => {
  assert.equal(error("GET / HTTP/1.1\r\nHost: a\r\n\n").code, "HTTP_ERR_BARE_LF");
});

Deno.test("HeadParser rejects a bare CR inside a line", () => {
  const event = error("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r2\r\n\r\n");
  assert.equal(event.code, "HTTP_ERR_BARE_CR");
  assert.equal(event.status, 400);
});

Deno.test("HeadParser ignores empty lines before a request-line", () => {
  const head = request("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal(head.method, "GET");
});

Deno.test("HeadParser rejects an empty line before a status-line", () => {
  const event = error("\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n", { kind: "response" });
  assert.equal(event.code, "HTTP_ERR_INVALID_STATUS_LINE");
});

// --- Request-line -------------------------------------------------------------------------

Deno.test("HeadParser rejects a request-line with two spaces between parts", () => {
  const event = error("GET  / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal(event.code, "HTTP_ERR_INVALID_REQUEST_LINE");
  assert.equal(event.status, 400);
});

Deno.test("HeadParser rejects a request-line with a trailing space", () => {
  assert.equal(error("GET / HTTP/1.1 \r\nHost: a\r\n\r\n").code, "HTTP_ERR_INVALID_REQUEST_LINE");
});

Deno.test("HeadParser rejects a request-line without a version", () => {
  assert.equal(error("GET /\r\nHost: a\r\n\r\n").code, "HTTP_ERR_INVALID_REQUEST_LINE");
});

Deno.test("HeadParser rejects a request-line separated by HTAB", () => {
  assert.equal(error("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n").code, "HTTP_ERR_INVALID_REQUEST_LINE");
});

Deno.test("HeadParser rejects a method that is not a token", () => {
  for (const method of ["GE(T", "G\xc9T", "GET\x00", ""]) {
    const event = error(`${method} / HTTP/1.1\r\nHost: a\r\n\r\n`);
    assert.equal(event.code, "HTTP_ERR_INVALID_METHOD", method);
  }
});

Deno.test("HeadParser keeps the method's case", () => {
  assert.equal(request("get / HTTP/1.1\r\nHost: a\r\n\r\n").method, "get");
});

Deno.test("HeadParser rejects a malformed HTTP-version with 400", () => {
  for (const version of ["http/1.1", "HTTP/1.10", "HTTP/11", "HTTP/1", "HTTP/1.x", "HTTP/1.1.1"]) {
    const event = error(`GET / ${version}\r\nHost: a\r\n\r\n`);
    assert.equal(event.code, "HTTP_ERR_INVALID_VERSION", version);
    assert.equal(event.status, 400);
  }
});

Deno.test("HeadParser rejects an unsupported major version with 505", () => {
  for (const version of ["HTTP/2.0", "HTTP/0.9", "HTTP/3.0"]) {
    const event = error(`GET / ${version}\r\nHost: a\r\n\r\n`);
    assert.equal(event.code, "HTTP_ERR_UNSUPPORTED_VERSION", version);
    assert.equal(event.status, 505);
  }
});

Deno.test("HeadParser accepts HTTP/1.0 without Host and reports the version", () => {
  const head = request("GET / HTTP/1.0\r\n\r\n");
  assert.equal(head.httpVersion, "1.0");
});

Deno.test("HeadParser accepts a later HTTP/1.x minor version as written", () => {
  assert.equal(request("GET / HTTP/1.2\r\nHost: a\r\n\r\n").httpVersion, "1.2");
});

Deno.test("HeadParser accepts origin-form and absolute-form targets", () => {
  const targets = ["/", "/a/b?c=d&e=%2F", "/~user/@x:1;p=(a)!$'*+,", "http://a.example:80/x?y"];
  for (const target of targets) {
    assert.equal(request(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`).target, target);
  }
});

Deno.test("HeadParser accepts asterisk-form only for OPTIONS", () => {
  assert.equal(request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").target, "*");
  assert.equal(error("GET * HTTP/1.1\r\nHost: a\r\n\r\n").code, "HTTP_ERR_INVALID_TARGET");
});

Deno.test("HeadParser accepts authority-form only for CONNECT", () => {
  assert.equal(
    request("CONNECT a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n").target,
    "a.example:443",
  );
  assert.equal(error("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n").code, "HTTP_ERR_INVALID_TARGET");
  assert.equal(
    error("GET 127.0.0.1:443 HTTP/1.1\r\nHost: a\r\n\r\n").code,
    "HTTP_ERR_INVALID_TARGET",
  );
});

Deno.test("HeadParser rejects invalid request-targets", () => {
  const targets = [
    "chat",
    "/a#frag",
    "/a%2",
    "/a%zz",
    "/\xc3\xa4",
    '/a"b',
    "/a<b>",
    "/a{b}",
    "/a|b",
  ];
  for (const target of targets) {
    const event = error(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`);
    assert.equal(event.code, "HTTP_ERR_INVALID_TARGET", target);
    assert.equal(event.status, 400);
  }
});

// --- Status-line --------------------------------------------------------------------------

Deno.test("HeadParser accepts a status-line without a reason phrase", () => {
  assert.equal(response("HTTP/1.1 101\r\n\r\n").statusText, "");
  assert.equal(response("HTTP/1.1 101 \r\n\r\n").statusText, "");
});

Deno.test("HeadParser decodes an obs-text reason phrase as latin1", () => {
  assert.equal(response("HTTP/1.1 400 Mauvaise requ\xeate\r\n\r\n").statusText, "Mauvaise requête");
});

Deno.test("HeadParser rejects malformed status-lines", () => {
  const lines = [
    "HTTP/1.1 99 Too Small",
    "HTTP/1.1 600 Too Big",
    "HTTP/1.1 1010 Long",
    "HTTP/1.1  101 Space",
    "HTTP/1.1 1x1 Letters",
    "HTTP/1.1 101 Bad\x01Reason",
    "HTTP/1.1",
  ];
  for (const line of lines) {
    const event = error(`${line}\r\n\r\n`, { kind: "response" });
    assert.equal(event.code, "HTTP_ERR_INVALID_STATUS_LINE", line);
  }
});

Deno.test("HeadParser rejects a malformed or unsupported version in a status-line", () => {
  const bad = error("HTTP/2 101 Switching\r\n\r\n", { kind: "response" });
  assert.equal(bad.code, "HTTP_ERR_INVALID_STATUS_LINE");
  const lower = error("http/1.1 101 Switching\r\n\r\n", { kind: "response" });
  assert.equal(lower.code, "HTTP_ERR_INVALID_VERSION");
  const two = error("HTTP/2.0 101 Switching\r\n\r\n", { kind: "response" });
  assert.equal(two.code, "HTTP_ERR_UNSUPPORTED_VERSION");
  assert.equal(two.status, 505);
});

Deno.test("HeadParser does not require Host in a response", () => {
  assert.equal(response("HTTP/1.1 200 OK\r\n\r\n").headers.has("host"), false);
});

// --- Field lines --------------------------------------------------------------------------

Deno.test("HeadParser rejects whitespace between field name and colon", () => {
  for (const line of ["Host : a", "Host\t: a"]) {
    const event = error(`GET / HTTP/1.1\r\n${line}\r\n\r\n`);
    assert.equal(event.code, "HTTP_ERR_WHITESPACE_BEFORE_COLON", line);
    assert.equal(event.status, 400);
  }
});

Deno.test("HeadParser rejects obs-fold", () => {
  for (const fold of [" continued", "\tcontinued"]) {
    const event = error(`GET / HTTP/1.1\r\nHost: a\r\nX-Long: first\r\n${fold}\r\n\r\n`);
    assert.equal(event.code, "HTTP_ERR_OBS_FOLD");
    assert.equal(event.status, 400);
  }
});

Deno.test("HeadParser rejects whitespace between the start-line and the first field", () => {
  assert.equal(error("GET / HTTP/1.1\r\n Host: a\r\n\r\n").code, "HTTP_ERR_OBS_FOLD");
});

Deno.test("HeadParser rejects field names that are not tokens", () => {
  const lines = ["Bad Name: x", ": x", "NoColon", "Na\xefve: x", "X(y): z", "\x00: z"];
  for (const line of lines) {
    const event = error(`GET / HTTP/1.1\r\nHost: a\r\n${line}\r\n\r\n`);
    assert.equal(event.code, "HTTP_ERR_INVALID_FIELD_NAME", line);
    assert.equal(event.status, 400);
  }
});

Deno.test("HeadParser strips optional whitespace around field values", () => {
  const head = request(
    "GET / HTTP/1.1\r\nHost: a\r\nX:  \t a \t b \t \r\nEmpty:\r\nBlank:   \r\n\r\n",
  );
  assert.equal(head.headers.get("x"), "a \t b");
  assert.equal(head.headers.get("empty"), "");
  assert.deepEqual(head.rawHeaders.slice(1), [["X", "a \t b"], ["Empty", ""], ["Blank", ""]]);
});

Deno.test("HeadParser rejects control characters in field values", () => {
  for (const ctl of ["\x00", "\x01", "\x1f", "\x7f"]) {
    const event = error(`GET / HTTP/1.1\r\nHost: a\r\nX: a${ctl}b\r\n\r\n`);
    assert.equal(event.code, "HTTP_ERR_INVALID_FIELD_VALUE", JSON.stringify(ctl));
    assert.equal(event.status, 400);
  }
});

Deno.test("HeadParser decodes obs-text in field values as latin1", () => {
  const head = request("GET / HTTP/1.1\r\nHost: a\r\nX-Name: Jos\xe9 \xff\r\n\r\n");
  assert.equal(head.headers.get("x-name"), "Jos\u00e9 \u00ff");
  // UTF-8 bytes arrive unchanged as one unit per byte, recoverable by the caller.
  const utf8 = request(`GET / HTTP/1.1\r\nHost: a\r\nX: \xc3\xa9\r\n\r\n`).headers.get("x")!;
  const recovered = new TextDecoder().decode(Uint8Array.from(utf8, (c) => c.charCodeAt(0)));
  assert.equal(recovered, "é");
});

Deno.test("HeadParser keeps raw field names, order and repeats", () => {
  const head = request(
    "GET / HTTP/1.1\r\nHost: a\r\nsec-websocket-protocol: chat\r\nSec-WebSocket-Protocol: superchat\r\n\r\n",
  );
  assert.deepEqual(head.rawHeaders, [
    ["Host", "a"],
    ["sec-websocket-protocol", "chat"],
    ["Sec-WebSocket-Protocol", "superchat"],
  ]);
  assert.equal(head.headers.get("sec-websocket-protocol"), "chat, superchat");
});

// --- Host ---------------------------------------------------------------------------------

Deno.test("HeadParser rejects an HTTP/1.1 request without Host", () => {
  const event = error("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n");
  assert.equal(event.code, "HTTP_ERR_MISSING_HOST");
  assert.equal(event.status, 400);
});

Deno.test("HeadParser rejects a request with two Host field lines", () => {
  const event = error("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n");
  assert.equal(event.code, "HTTP_ERR_DUPLICATE_HOST");
  assert.equal(event.status, 400);
});

Deno.test("HeadParser rejects an invalid Host value", () => {
  for (const host of ["a b", "a/b", "a@b", "a:8o"]) {
    const event = error(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    assert.equal(event.code, "HTTP_ERR_INVALID_HOST", host);
  }
});

Deno.test("HeadParser accepts Host forms: name, port, IPv6 literal, empty", () => {
  for (const host of ["example.com", "example.com:8080", "[::1]:9001", "127.0.0.1", ""]) {
    assert.equal(request(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`).headers.get("host"), host);
  }
});

// --- Limits -------------------------------------------------------------------------------

Deno.test("HeadParser accepts a head of exactly maxHeadSize bytes", () => {
  const base = "GET / HTTP/1.1\r\nHost: a\r\nX: \r\n\r\n";
  const text = base.replace("X: ", "X: " + "v".repeat(200 - base.length));
  assert.equal(text.length, 200);
  assert.equal(request(text, { maxHeadSize: 200 }).headers.get("x")?.length, 200 - base.length);
});

Deno.test("HeadParser rejects a head one byte over maxHeadSize with 431", () => {
  const base = "GET / HTTP/1.1\r\nHost: a\r\nX: \r\n\r\n";
  const text = base.replace("X: ", "X: " + "v".repeat(201 - base.length));
  const event = error(text, { kind: "request", maxHeadSize: 200 });
  assert.equal(event.code, "HTTP_ERR_HEAD_TOO_LARGE");
  assert.equal(event.status, 431);
});

Deno.test("HeadParser rejects an endless line as soon as it passes maxHeadSize", () => {
  const parser = new HeadParser({ kind: "request", maxHeadSize: 1024 });
  assert.equal(parser.receive(bytes("GET /" + "a".repeat(1000))), undefined);
  const event = parser.receive(bytes("a".repeat(100)));
  assert.equal(event?.type === "error" && event.code, "HTTP_ERR_HEAD_TOO_LARGE");
});

Deno.test("HeadParser counts bytes after the head against nothing", () => {
  const head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  const event = parse(bytes(head + "x".repeat(10_000)), { kind: "request", maxHeadSize: 64 });
  assert(event?.type === "head");
  assert.equal(event.rest.length, 10_000);
});

Deno.test("HeadParser uses a default maxHeadSize of 8192", () => {
  const head = (n: number) => `GET / HTTP/1.1\r\nHost: a\r\nX: ${"v".repeat(n)}\r\n\r\n`;
  const fits = 8192 - head(0).length;
  assert.equal(parse(head(fits))?.type, "head");
  assert.equal(error(head(fits + 1)).status, 431);
});

Deno.test("HeadParser accepts exactly maxHeaders field lines", () => {
  const fields = Array.from({ length: 4 }, (_, i) => `X-${i}: ${i}\r\n`).join("");
  assert.equal(
    request(`GET / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`, { maxHeaders: 5 }).rawHeaders.length,
    5,
  );
});

Deno.test("HeadParser rejects more than maxHeaders field lines with 431", () => {
  const fields = Array.from({ length: 5 }, (_, i) => `X-${i}: ${i}\r\n`).join("");
  const event = error(`GET / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`, {
    kind: "request",
    maxHeaders: 5,
  });
  assert.equal(event.code, "HTTP_ERR_TOO_MANY_HEADERS");
  assert.equal(event.status, 431);
});

Deno.test("HeadParser uses a default maxHeaders of 100", () => {
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-${i}: ${i}\r\n`).join("");
  assert.equal(parse(`GET / HTTP/1.1\r\nHost: a\r\n${fields(99)}\r\n`)?.type, "head");
  assert.equal(
    error(`GET / HTTP/1.1\r\nHost: a\r\n${fields(100)}\r\n`).code,
    "HTTP_ERR_TOO_MANY_HEADERS",
  );
});

Deno.test("HeadParser error messages start with 'Cannot parse head'", () => {
  const event = error("GET / HTTP/1.1\r\nHost : a\r\n\r\n");
  assert.match(event.message, /^Cannot parse head: /);
  assert.equal(encoder.encode(event.message).length > 20, true);
});
