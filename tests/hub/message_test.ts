import assert from "node:assert/strict";
import { dataText, type Message, messageJson, messageSize } from "../../lib/hub/message.ts";

Deno.test("messageJson orders keys id, channel, event, data, time and omits a missing event", () => {
  assert.equal(
    messageJson({ id: "a-1", channel: "c", event: "e", data: [1], time: 2 }),
    '{"id":"a-1","channel":"c","event":"e","data":[1],"time":2}',
  );
  assert.equal(
    messageJson({ id: "a-1", channel: "c", data: null, time: 2 }),
    '{"id":"a-1","channel":"c","data":null,"time":2}',
  );
});

Deno.test("messageJson is computed once per message", () => {
  const message: Message = { id: "a-1", channel: "c", data: { n: 1 }, time: 0 };
  assert.equal(messageJson(message), messageJson(message));
  (message.data as { n: number }).n = 2; // cached: a mutation after the first encoding is not seen
  assert.equal(messageJson(message), '{"id":"a-1","channel":"c","data":{"n":1},"time":0}');
});

Deno.test("dataText keeps strings and JSON-encodes other values", () => {
  assert.equal(dataText({ id: "1", channel: "c", data: "a\nb", time: 0 }), "a\nb");
  assert.equal(dataText({ id: "1", channel: "c", data: 5, time: 0 }), "5");
  assert.equal(dataText({ id: "1", channel: "c", data: { x: "y" }, time: 0 }), '{"x":"y"}');
});

Deno.test("messageSize is the UTF-8 byte length of the JSON", () => {
  for (const data of ["ascii", "é", "€", "😀", "\u2028"]) {
    const message: Message = { id: "1", channel: "c", data, time: 0 };
    assert.equal(messageSize(message), new TextEncoder().encode(messageJson(message)).length);
  }
});
