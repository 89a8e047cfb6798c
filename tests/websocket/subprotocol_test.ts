import assert from "node:assert/strict";
import { parseSubprotocols, selectSubprotocol } from "../../lib/websocket/subprotocol.ts";

Deno.test("parseSubprotocols treats a missing header as no offer", () => {
  assert.deepEqual(parseSubprotocols(null), { ok: true, protocols: [] });
});

Deno.test("parseSubprotocols splits a comma-separated offer in client order", () => {
  assert.deepEqual(parseSubprotocols("chat, superchat"), {
    ok: true,
    protocols: ["chat", "superchat"],
  });
});

Deno.test("parseSubprotocols accepts repeated headers joined by Headers", () => {
  const headers = new Headers();
  headers.append("Sec-WebSocket-Protocol", "chat");
  headers.append("Sec-WebSocket-Protocol", "superchat, pushwire.v1");
  const result = parseSubprotocols(headers.get("sec-websocket-protocol"));
  assert.deepEqual(result, { ok: true, protocols: ["chat", "superchat", "pushwire.v1"] });
});

Deno.test("parseSubprotocols ignores empty list elements", () => {
  assert.deepEqual(parseSubprotocols(" ,chat,, superchat ,"), {
    ok: true,
    protocols: ["chat", "superchat"],
  });
});

Deno.test("parseSubprotocols rejects an element that is not a token", () => {
  for (const value of ["chat, super chat", "chat/1", '"chat"', "chät"]) {
    const result = parseSubprotocols(value);
    assert(!result.ok, value);
    assert.match(result.reason, /is not a token$/);
  }
});

Deno.test("parseSubprotocols rejects a repeated subprotocol", () => {
  const result = parseSubprotocols("chat, superchat, chat");
  assert(!result.ok);
  assert.equal(result.reason, 'Cannot upgrade: Sec-WebSocket-Protocol repeats "chat"');
});

Deno.test("parseSubprotocols rejects a header with no element", () => {
  for (const value of ["", "  ", ", ,"]) {
    const result = parseSubprotocols(value);
    assert(!result.ok, JSON.stringify(value));
    assert.equal(result.reason, "Cannot upgrade: Sec-WebSocket-Protocol lists no subprotocol");
  }
});

Deno.test("selectSubprotocol picks the server's most preferred offered subprotocol", () => {
  assert.equal(selectSubprotocol(["chat", "superchat"], ["superchat", "chat"]), "superchat");
  assert.equal(selectSubprotocol(["chat", "superchat"], ["mqtt", "chat"]), "chat");
});

Deno.test("selectSubprotocol returns undefined when nothing is shared", () => {
  assert.equal(selectSubprotocol(["chat"], ["pushwire.v1"]), undefined);
  assert.equal(selectSubprotocol([], ["pushwire.v1"]), undefined);
  assert.equal(selectSubprotocol(["chat"], []), undefined);
});

Deno.test("selectSubprotocol compares names case-sensitively", () => {
  assert.equal(selectSubprotocol(["Chat"], ["chat"]), undefined);
});
