import assert from "node:assert/strict";
import {
  type ExtensionOffer,
  formatExtensions,
  parseExtensions,
} from "../../lib/websocket/extension_header.ts";

function ok(value: string): readonly ExtensionOffer[] {
  const result = parseExtensions(value);
  assert(result.ok, result.ok ? "" : result.reason);
  return result.extensions;
}

function bad(value: string): string {
  const result = parseExtensions(value);
  assert(!result.ok, `expected ${JSON.stringify(value)} to be rejected`);
  assert.match(result.reason, /^Cannot parse Sec-WebSocket-Extensions: /);
  return result.reason;
}

Deno.test("parseExtensions parses Chromium's permessage-deflate offer", () => {
  assert.deepEqual(ok("permessage-deflate; client_max_window_bits"), [
    { name: "permessage-deflate", params: [["client_max_window_bits", true]] },
  ]);
});

Deno.test("parseExtensions parses Firefox's bare permessage-deflate offer", () => {
  assert.deepEqual(ok("permessage-deflate"), [{ name: "permessage-deflate", params: [] }]);
});

Deno.test("parseExtensions parses the RFC 7692 §5 multi-offer example", () => {
  assert.deepEqual(
    ok(
      "permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits",
    ),
    [
      {
        name: "permessage-deflate",
        params: [["client_max_window_bits", true], ["server_max_window_bits", "10"]],
      },
      { name: "permessage-deflate", params: [["client_max_window_bits", true]] },
    ],
  );
});

Deno.test("parseExtensions parses the RFC 6455 §9.1 example", () => {
  assert.deepEqual(ok("foo, bar; baz=2"), [
    { name: "foo", params: [] },
    { name: "bar", params: [["baz", "2"]] },
  ]);
});

Deno.test("parseExtensions unquotes a quoted-string value", () => {
  assert.deepEqual(ok('permessage-deflate; server_max_window_bits="10"')[0]!.params, [
    ["server_max_window_bits", "10"],
  ]);
});

Deno.test("parseExtensions unescapes quoted-pairs", () => {
  assert.deepEqual(ok('x; a="1\\0"; b="\\t\\o\\k"')[0]!.params, [["a", "10"], ["b", "tok"]]);
});

Deno.test("parseExtensions rejects a quoted value that is not a token once unescaped", () => {
  for (const value of ['x; a="1 0"', 'x; a=""', 'x; a="a,b"', 'x; a="\\""', 'x; a="a;b"']) {
    assert.match(bad(value), /not a token once unescaped/, value);
  }
});

Deno.test("parseExtensions rejects an unterminated quoted-string", () => {
  assert.match(bad('x; a="10'), /unterminated or invalid quoted-string at offset 5/);
  assert.match(bad('x; a="10\\'), /unterminated/);
});

Deno.test("parseExtensions rejects a control character inside a quoted-string", () => {
  assert.match(bad('x; a="1\x000"'), /invalid quoted-string/);
});

Deno.test("parseExtensions keeps repeated parameters in order", () => {
  assert.deepEqual(
    ok("permessage-deflate; server_max_window_bits=10; server_max_window_bits=11")[0]!.params,
    [["server_max_window_bits", "10"], ["server_max_window_bits", "11"]],
  );
});

Deno.test("parseExtensions allows optional whitespace around separators", () => {
  assert.deepEqual(ok('\t a \t;\t b \t=\t 1 \t;c , d ;e= "2"  '), [
    { name: "a", params: [["b", "1"], ["c", true]] },
    { name: "d", params: [["e", "2"]] },
  ]);
});

Deno.test("parseExtensions accepts several header lines joined by Headers", () => {
  const headers = new Headers();
  headers.append("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits");
  headers.append("Sec-WebSocket-Extensions", "x-webkit-deflate-frame");
  assert.deepEqual(ok(headers.get("sec-websocket-extensions")!).map((e) => e.name), [
    "permessage-deflate",
    "x-webkit-deflate-frame",
  ]);
});

Deno.test("parseExtensions ignores empty list elements", () => {
  assert.deepEqual(ok(", a ,, b ,").map((e) => e.name), ["a", "b"]);
});

Deno.test("parseExtensions rejects an empty list", () => {
  for (const value of ["", "   ", ",", " , ,"]) assert.match(bad(value), /the list is empty/);
});

Deno.test("parseExtensions rejects a trailing semicolon", () => {
  assert.match(bad("permessage-deflate;"), /expected a parameter name at offset 19/);
});

Deno.test("parseExtensions rejects an empty parameter name", () => {
  assert.match(bad("x; =1"), /expected a parameter name at offset 3/);
  assert.match(bad("x;;y"), /expected a parameter name at offset 2/);
});

Deno.test("parseExtensions rejects a missing parameter value", () => {
  assert.match(bad("x; a="), /expected a parameter value at offset 5/);
  assert.match(bad("x; a=, y"), /expected a parameter value/);
});

Deno.test("parseExtensions rejects a value on the extension name", () => {
  assert.match(bad("x=1"), /expected ",", ";" or the end at offset 1/);
});

Deno.test("parseExtensions rejects two tokens without a separator", () => {
  assert.match(bad("permessage deflate"), /expected ",", ";" or the end at offset 11/);
  assert.match(bad("x; a b"), /expected ",", ";" or the end/);
  assert.match(bad("x; a=1 2"), /expected ",", ";" or the end/);
  assert.match(bad('x; a="1"2'), /expected ",", ";" or the end/);
});

Deno.test("parseExtensions rejects characters outside the token grammar", () => {
  for (const value of ["a@b", "ä", "x; a=1/2", "x; a=[1]", "x\x00", ";x"]) bad(value);
});

Deno.test("parseExtensions keeps the extension name's case", () => {
  assert.equal(ok("PerMessage-Deflate")[0]!.name, "PerMessage-Deflate");
});

Deno.test("formatExtensions writes names and parameters", () => {
  assert.equal(
    formatExtensions([
      {
        name: "permessage-deflate",
        params: [["server_no_context_takeover", true], ["server_max_window_bits", "10"]],
      },
      { name: "x", params: [] },
    ]),
    "permessage-deflate; server_no_context_takeover; server_max_window_bits=10, x",
  );
});

Deno.test("formatExtensions output parses back to the same offers", () => {
  const offers = ok('a; b="1"; c, d; e=f; e=g');
  assert.deepEqual(ok(formatExtensions(offers)), offers);
});

Deno.test("formatExtensions rejects an empty list", () => {
  assert.throws(() => formatExtensions([]), TypeError);
});

Deno.test("formatExtensions rejects names and values that are not tokens", () => {
  assert.throws(() => formatExtensions([{ name: "a b", params: [] }]), TypeError);
  assert.throws(() => formatExtensions([{ name: "a", params: [["b c", true]] }]), TypeError);
  assert.throws(() => formatExtensions([{ name: "a", params: [["b", "1 2"]] }]), TypeError);
  assert.throws(() => formatExtensions([{ name: "a", params: [["b", ""]] }]), TypeError);
  assert.throws(
    () => formatExtensions([{ name: "a", params: [["b", 10 as unknown as string]] }]),
    TypeError,
  );
});
