import assert from "node:assert/strict";
import {
  encodeGreeting,
  encodeRelayError,
  encodeRelayMessage,
  encodeReset,
} from "../../lib/relay/relay_message.ts";
import { jsonForXml } from "../../lib/relay/xml_escape.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("encodeGreeting writes <pushwire id=.../> and one NUL", () => {
  // <pushwire id="abc"/> NUL
  assert.equal(hex(encodeGreeting("abc")), "3c70757368776972652069643d22616263222f3e00");
});

Deno.test("encodeRelayMessage writes channel and id attributes and the XML-escaped JSON of data", () => {
  const text = new TextDecoder().decode(
    encodeRelayMessage({ id: "9", channel: "news", data: { a: "<&>" }, time: 1 }),
  );
  assert.equal(text, '<message channel="news" id="9">{"a":"&lt;&amp;&gt;"}</message>\0');
});

Deno.test("encodeRelayMessage adds an event attribute after id when the message has one", () => {
  const text = new TextDecoder().decode(
    encodeRelayMessage({ id: "1", channel: "c", event: "up.date", data: 1, time: 0 }),
  );
  assert.equal(text, '<message channel="c" id="1" event="up.date">1</message>\0');
});

Deno.test("encodeRelayMessage never puts a NUL before the terminator, whatever the data", () => {
  for (
    const data of ["\u0000", "a\u0000\u0000b", ["\u0000"], { "\u0000": "\u0000" }, "\uffff\ud800"]
  ) {
    const bytes = encodeRelayMessage({ id: "1", channel: "c", data, time: 0 });
    assert.equal(bytes.indexOf(0), bytes.length - 1);
  }
});

Deno.test("encodeRelayMessage escapes an id with quotes and refuses one with a NUL", () => {
  const text = new TextDecoder().decode(
    encodeRelayMessage({ id: 'a"b', channel: "c", data: 0, time: 0 }),
  );
  assert.equal(text, '<message channel="c" id="a&quot;b">0</message>\0');
  assert.throws(
    () => encodeRelayMessage({ id: "a\u0000", channel: "c", data: 0, time: 0 }),
    TypeError,
  );
});

Deno.test("encodeReset and encodeRelayError write one empty element and one NUL", () => {
  assert.equal(new TextDecoder().decode(encodeReset("news")), '<reset channel="news"/>\0');
  assert.equal(new TextDecoder().decode(encodeRelayError("X")), '<error code="X"/>\0');
});

Deno.test("encodeRelayMessage escapes data exactly like jsonForXml, for every UTF-16 code unit", () => {
  const decoder = new TextDecoder();
  for (let unit = 0; unit <= 0xffff; unit++) {
    const data = { s: `<${String.fromCharCode(unit)}&>` };
    const text = decoder.decode(encodeRelayMessage({ id: "1", channel: "c", data, time: 0 }));
    assert.equal(text, `<message channel="c" id="1">${jsonForXml(data)}</message>\0`);
  }
});
