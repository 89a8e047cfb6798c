import assert from "node:assert/strict";
import { accept, jsonCodec, reject } from "../../lib/websocket_io/endpoint.ts";
import { parseCookies } from "../../lib/websocket_io/_cookies.ts";

Deno.test("accept and reject build discriminated decisions; reject checks the status", () => {
  assert.deepEqual(accept(), { type: "accept" });
  assert.deepEqual(accept({ protocol: "p" }), { type: "accept", protocol: "p" });
  assert.deepEqual(reject(403, "no"), { type: "reject", status: 403, reason: "no" });
  assert.throws(() => reject(200), RangeError);
  assert.throws(() => reject(600), RangeError);
});

Deno.test("jsonCodec refuses binary messages and invalid JSON", () => {
  const codec = jsonCodec();
  assert.throws(() => codec.decode(new Uint8Array([0x7b, 0x7d])), TypeError);
  assert.throws(() => codec.decode("{"), SyntaxError);
  assert.deepEqual(codec.decode('[1,"a"]'), [1, "a"]);
});

Deno.test("parseCookies reads name=value pairs, unquotes values and keeps the first of a name", () => {
  const cookies = parseCookies('a=1; b="two"; a=3; bad; =x; c=');
  assert.deepEqual([...cookies], [["a", "1"], ["b", "two"], ["c", ""]]);
  assert.equal(parseCookies(null).size, 0);
});
