import assert from "node:assert/strict";
import { escapeXmlAttribute, isXmlText, jsonForXml } from "../../lib/relay/xml_escape.ts";

// XML 1.0 §2.2 Char, as a predicate on code points.
function isXmlCodePoint(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

function unescapeText(text: string): string {
  return text.replace(
    /&(lt|gt|amp|#13);/g,
    (_, n: string) => ({ lt: "<", gt: ">", amp: "&", "#13": "\r" })[n]!,
  );
}

Deno.test("jsonForXml carries every UTF-16 code unit, each alone, as XML-legal text that round-trips", () => {
  for (let unit = 0; unit <= 0xffff; unit++) {
    const data = `a${String.fromCharCode(unit)}b`;
    const text = jsonForXml(data);
    for (const ch of text) {
      assert.ok(
        isXmlCodePoint(ch.codePointAt(0)!),
        `U+${unit.toString(16)} leaks as ${JSON.stringify(ch)}`,
      );
    }
    assert.ok(!/[<>]|&(?!lt;|gt;|amp;|#13;)/.test(text));
    assert.equal(JSON.parse(unescapeText(text)), data);
  }
});

Deno.test("jsonForXml never emits a NUL byte in UTF-8, for random strings and nested values", () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let round = 0; round < 500; round++) {
    let s = "";
    for (let i = 0; i < 40; i++) {
      const pick = random();
      s += pick < 0.3
        ? String.fromCharCode(Math.floor(random() * 0x20))
        : pick < 0.4
        ? String.fromCharCode(0xd800 + Math.floor(random() * 0x800))
        : pick < 0.5
        ? String.fromCharCode(0xfffe + Math.floor(random() * 2))
        : String.fromCodePoint(Math.floor(random() * 0x10ffff) & ~0x800);
    }
    const value = { s, list: [s, 1, null, true], nested: { [s]: s } };
    const bytes = new TextEncoder().encode(jsonForXml(value));
    assert.equal(bytes.indexOf(0), -1);
    assert.deepEqual(JSON.parse(unescapeText(new TextDecoder().decode(bytes))), value);
  }
});

Deno.test("jsonForXml escapes markup and writes undefined as null", () => {
  assert.equal(jsonForXml("<a>&</a>"), '"&lt;a&gt;&amp;&lt;/a&gt;"');
  assert.equal(jsonForXml("]]>"), '"]]&gt;"');
  assert.equal(jsonForXml(undefined), "null");
  assert.equal(jsonForXml({ a: 1 }), '{"a":1}');
});

Deno.test("jsonForXml throws a TypeError for a BigInt", () => {
  assert.throws(() => jsonForXml(1n), TypeError);
});

Deno.test("escapeXmlAttribute escapes quotes, markup and whitespace that parsers normalize", () => {
  assert.equal(escapeXmlAttribute(`a"b'c<d>e&f`), "a&quot;b&apos;c&lt;d&gt;e&amp;f");
  assert.equal(escapeXmlAttribute("t\tn\nr\r"), "t&#9;n&#10;r&#13;");
  assert.equal(escapeXmlAttribute("news:1_2-3.x"), "news:1_2-3.x");
});

Deno.test("escapeXmlAttribute refuses a character XML 1.0 forbids", () => {
  assert.throws(() => escapeXmlAttribute("a\u0000b"), TypeError);
  assert.throws(() => escapeXmlAttribute("\ufffe"), TypeError);
  assert.throws(() => escapeXmlAttribute("\udc00"), TypeError);
});

Deno.test("isXmlText accepts astral characters and rejects controls and lone surrogates", () => {
  assert.ok(isXmlText("🎉 \t\n\r é"));
  assert.ok(!isXmlText("\u0001"));
  assert.ok(!isXmlText("\ud83c"));
  assert.ok(!isXmlText("\uffff"));
});
