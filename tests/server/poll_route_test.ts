import assert from "node:assert/strict";
import { parseTimeout } from "../../lib/server/poll_route.ts";

Deno.test("parseTimeout accepts seconds with up to 3 decimals within the maximum", () => {
  assert.equal(parseTimeout("0", 60_000), 0);
  assert.equal(parseTimeout("25", 60_000), 25_000);
  assert.equal(parseTimeout("0.001", 60_000), 1);
  assert.equal(parseTimeout("60", 60_000), 60_000);
});

Deno.test("parseTimeout cuts a longer wait to the maximum", () => {
  assert.equal(parseTimeout("60.001", 60_000), 60_000);
  assert.equal(parseTimeout("61", 60_000), 60_000);
  assert.equal(parseTimeout("999999999999.999", 60_000), 60_000);
  assert.equal(parseTimeout("3", 2_000), 2_000);
});

Deno.test("parseTimeout refuses anything else", () => {
  for (
    const text of [
      "",
      "-1",
      "1e2",
      " 1",
      "1.",
      ".5",
      "0x10",
      "NaN",
      "Infinity",
      "1.2345",
      "1234567890123",
    ]
  ) {
    assert.equal(parseTimeout(text, 60_000), undefined, text);
  }
});
