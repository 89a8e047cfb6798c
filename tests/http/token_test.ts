import assert from "node:assert/strict";
import { isToken, parseTokenList, splitList } from "../../lib/http/token.ts";

Deno.test("isToken accepts every tchar", () => {
  assert(isToken("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"));
});

Deno.test("isToken rejects the empty string, delimiters, controls and non-ASCII", () => {
  for (
    const value of ["", "a b", "a,b", "a;b", "a=b", '"a"', "a/b", "a:b", "a\tb", "\x7f", "é", "☃"]
  ) {
    assert.equal(isToken(value), false, JSON.stringify(value));
  }
});

Deno.test("splitList trims OWS and ignores empty elements", () => {
  assert.deepEqual(splitList(" a ,\t b\t,, ,c"), ["a", "b", "c"]);
  assert.deepEqual(splitList(""), []);
  assert.deepEqual(splitList(" , ,"), []);
});

Deno.test("splitList keeps elements that are not tokens", () => {
  assert.deepEqual(splitList("HTTP/2.0, websocket"), ["HTTP/2.0", "websocket"]);
});

Deno.test("parseTokenList returns tokens in order", () => {
  assert.deepEqual(parseTokenList("keep-alive, Upgrade"), ["keep-alive", "Upgrade"]);
});

Deno.test("parseTokenList rejects an element that is not a token", () => {
  assert.equal(parseTokenList("chat, super chat"), undefined);
  assert.equal(parseTokenList("a, b/c"), undefined);
});
