import assert from "node:assert/strict";
import { generateRelayId, isRelayId } from "../../lib/relay/relay_id.ts";

Deno.test("generateRelayId returns 22 base64url characters, distinct every time", () => {
  const ids = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = generateRelayId();
    assert.match(id, /^[A-Za-z0-9_-]{21}[AQgw]$/); // 128 bits: the last char holds 2 bits
    ids.add(id);
  }
  assert.equal(ids.size, 2000);
});

Deno.test("generateRelayId uses the whole alphabet (bits are not stuck)", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) for (const ch of generateRelayId().slice(0, 21)) seen.add(ch);
  assert.equal(seen.size, 64);
});

Deno.test("isRelayId rejects anything but 22 base64url characters", () => {
  assert.ok(isRelayId("abcdefghijklmnopqrstu-"));
  for (
    const bad of [
      "",
      "short",
      "abcdefghijklmnopqrstu-x",
      "abcdefghijklmnopqrst/+",
      "../../../../../../etc/",
    ]
  ) {
    assert.ok(!isRelayId(bad), bad);
  }
});
