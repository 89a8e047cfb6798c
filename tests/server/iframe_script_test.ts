import assert from "node:assert/strict";
import {
  escapeJsonForScript,
  IFRAME_PADDING_BYTES,
  iframePrelude,
  iframeScript,
  isCallbackName,
} from "../../lib/server/iframe_script.ts";

Deno.test("isCallbackName accepts dotted identifier paths and nothing else", () => {
  for (const name of ["cb", "$", "_x1", "a.b.c", "window.parent$.f_2"]) {
    assert.ok(isCallbackName(name), name);
  }
  for (
    const name of ["", "1a", "a.", ".a", "a..b", "a-b", "a(b)", "a[0]", "a b", "é", "x".repeat(129)]
  ) {
    assert.ok(!isCallbackName(name), name);
  }
});

Deno.test("escapeJsonForScript removes every character that can end a script or a line", () => {
  const value = { s: "</script><!--<script>&amp;\u2028\u2029]]>", n: 1 };
  const escaped = escapeJsonForScript(JSON.stringify(value));
  assert.ok(!/[<>&\u2028\u2029]/.test(escaped));
  assert.deepEqual(JSON.parse(escaped), value);
  // Also a valid JavaScript expression with the same value.
  assert.deepEqual(new Function(`return ${escaped};`)(), value);
});

Deno.test("iframePrelude is padded past the old browsers' buffering threshold", () => {
  const prelude = iframePrelude();
  assert.ok(new TextEncoder().encode(prelude).length > IFRAME_PADDING_BYTES);
  assert.ok(prelude.startsWith("<!DOCTYPE html>"));
});

Deno.test("iframeScript calls parent.CALLBACK and refuses an unsafe callback", () => {
  assert.equal(iframeScript("a.b", "1"), "<script>parent.a.b(1);</script>\n");
  assert.throws(() => iframeScript("alert(1)//", "1"), TypeError);
});

Deno.test("isCallbackName refuses paths through constructor, prototype and __proto__", () => {
  for (const name of ["a.constructor.constructor", "constructor", "x.prototype.y", "__proto__.z"]) {
    assert.equal(isCallbackName(name), false, name);
  }
  assert.equal(isCallbackName("parent.app.onMessage"), true);
});
