// The pushwire.v1 protocol core (lib/server/ws/mux_protocol.ts): request parsing and reply
// encoding, every refusal as data.
import assert from "node:assert/strict";
import {
  encodeMuxReply,
  MAX_REQUEST_ID_LENGTH,
  muxMessageText,
  parseMuxRequest,
} from "../../lib/server/ws/mux_protocol.ts";
import { messageJson } from "../../lib/hub/message.ts";

Deno.test("parseMuxRequest reads each request type, ignoring unknown keys", () => {
  assert.deepEqual(parseMuxRequest('{"type":"ping"}'), { type: "ping", id: undefined });
  assert.deepEqual(
    parseMuxRequest('{"type":"subscribe","channel":"a.b","extra":true}'),
    { type: "subscribe", channel: "a.b", after: undefined, id: undefined },
  );
  assert.deepEqual(
    parseMuxRequest('{"type":"unsubscribe","channel":"a","id":"x"}'),
    { type: "unsubscribe", channel: "a", id: "x" },
  );
  assert.deepEqual(
    parseMuxRequest('{"type":"publish","channel":"a","data":null,"event":"e:1","id":0}'),
    { type: "publish", channel: "a", data: null, event: "e:1", id: 0 },
  );
});

Deno.test("parseMuxRequest refuses malformed requests with stable codes, echoing a valid id", () => {
  const cases: [string, string][] = [
    ["", "MUX_ERR_INVALID_JSON"],
    ["{", "MUX_ERR_INVALID_JSON"],
    ["null", "MUX_ERR_INVALID_REQUEST"],
    ['"ping"', "MUX_ERR_INVALID_REQUEST"],
    ["[]", "MUX_ERR_INVALID_REQUEST"],
    ["{}", "MUX_ERR_INVALID_REQUEST"],
    ['{"type":1}', "MUX_ERR_INVALID_REQUEST"],
    ['{"type":"ping","id":{}}', "MUX_ERR_INVALID_REQUEST"],
    [`{"type":"ping","id":"${"x".repeat(MAX_REQUEST_ID_LENGTH + 1)}"}`, "MUX_ERR_INVALID_REQUEST"],
    ['{"type":"Subscribe","channel":"a"}', "MUX_ERR_UNKNOWN_TYPE"],
    ['{"type":"subscribe","channel":5}', "MUX_ERR_INVALID_REQUEST"],
    ['{"type":"subscribe","channel":""}', "HUB_ERR_INVALID_CHANNEL"],
    ['{"type":"subscribe","channel":"a/b"}', "HUB_ERR_INVALID_CHANNEL"],
    ['{"type":"subscribe","channel":"a","after":7}', "MUX_ERR_INVALID_REQUEST"],
    ['{"type":"publish","channel":"a"}', "MUX_ERR_INVALID_REQUEST"],
    ['{"type":"publish","channel":"a","data":1,"event":""}', "HUB_ERR_INVALID_EVENT"],
    ['{"type":"publish","channel":"a","data":1,"event":"reset"}', "HUB_ERR_INVALID_EVENT"],
    ['{"type":"publish","channel":"a","data":1,"event":3}', "HUB_ERR_INVALID_EVENT"],
  ];
  for (const [frame, code] of cases) {
    const result = parseMuxRequest(frame);
    assert.equal(result.type, "error", frame);
    assert.equal((result as { code: string }).code, code, frame);
  }
  const withId = parseMuxRequest('{"type":"publish","channel":"a","id":"r1"}');
  assert.ok(withId.type === "error");
  assert.equal(withId.id, "r1");
  assert.equal(withId.channel, "a");
});

Deno.test("encodeMuxReply leaves out undefined keys and writes message_id", () => {
  assert.equal(encodeMuxReply({ type: "pong", id: undefined }), '{"type":"pong"}');
  assert.equal(
    encodeMuxReply({
      type: "error",
      code: "MUX_ERR_INVALID_JSON",
      message: "m",
      id: 3,
      channel: undefined,
    }),
    '{"type":"error","code":"MUX_ERR_INVALID_JSON","message":"m","id":3}',
  );
  assert.equal(
    encodeMuxReply({
      type: "unsubscribed",
      channel: "c",
      id: undefined,
      reason: "slow_consumer",
      cursor: "a-9",
    }),
    '{"type":"unsubscribed","channel":"c","reason":"slow_consumer","cursor":"a-9"}',
  );
  assert.equal(
    encodeMuxReply({ type: "reset", channel: "c", cursor: "a-1" }),
    '{"type":"reset","channel":"c","cursor":"a-1"}',
  );
});

Deno.test("muxMessageText embeds the cached message JSON unchanged", () => {
  const message = { id: "a-1", channel: "c", event: "e", data: { "é": [1] }, time: 2 };
  const text = muxMessageText(message);
  assert.equal(text, `{"type":"message","message":${messageJson(message)}}`);
  assert.deepEqual(JSON.parse(text), { type: "message", message });
});
