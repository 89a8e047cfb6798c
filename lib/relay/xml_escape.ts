/**
 * XML 1.0 escaping for the relay's documents. A Flash `XMLSocket` ends a document at the
 * first NUL byte, and XML 1.0 cannot carry U+0000 at all, not even as `&#0;`
 * (XML 1.0 §2.2 `Char`; §4.1 WFC "Legal Character"). So data travels as JSON text, whose
 * `\uXXXX` escapes can name any code unit in plain ASCII; what is left is escaped for XML.
 *
 * @module
 */

import { jsonText } from "./_json_text.ts";

// XML 1.0 §2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const MARKUP = /[&<>]/;
const ATTRIBUTE_SPECIAL = /[&<>"'\t\n\r]/g;

const ENTITY: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  // XML 1.0 §3.3.3: a literal tab, CR or LF in an attribute value is normalized to a space.
  "\t": "&#9;",
  "\n": "&#10;",
  // XML 1.0 §2.11: a literal CR is turned into LF by every parser.
  "\r": "&#13;",
};

/**
 * Reports whether every character of `text` is allowed in an XML 1.0 document.
 *
 * @example Check for a NUL
 * ```ts
 * import assert from "node:assert/strict";
 * import { isXmlText } from "./xml_escape.ts";
 * assert(isXmlText("héllo 🎉"));
 * assert(!isXmlText("a\u0000b"));
 * ```
 */
export function isXmlText(text: string): boolean {
  return !NOT_XML_CHAR.test(text);
}

/**
 * Escapes `value` for a double- or single-quoted XML attribute: `& < > " '` as entities and
 * tab, LF and CR as character references, so a parser reads back exactly `value`.
 *
 * @throws {TypeError} when `value` holds a character XML 1.0 cannot carry (e.g. U+0000).
 *
 * @example Escape an attribute
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeXmlAttribute } from "./xml_escape.ts";
 * assert(escapeXmlAttribute(`a"b<c`) === "a&quot;b&lt;c");
 * ```
 */
export function escapeXmlAttribute(value: string): string {
  if (!isXmlText(value)) {
    throw new TypeError(
      `Cannot escape XML attribute: ${JSON.stringify(value)} holds a character XML 1.0 forbids`,
    );
  }
  return value.replace(ATTRIBUTE_SPECIAL, (ch) => ENTITY[ch]!);
}

/**
 * Serializes `value` as JSON and escapes the JSON text for XML character data. The result
 * never holds a NUL or any other character XML 1.0 forbids: JSON.stringify already writes
 * control characters and lone surrogates as `\uXXXX`, and the two it leaves raw (U+FFFE,
 * U+FFFF) are written the same way, which is valid because JSON text can hold them only
 * inside a string. `undefined` (and anything else JSON.stringify drops) becomes `null`.
 *
 * @throws {TypeError} when JSON.stringify does (a BigInt, a cycle).
 *
 * @example A NUL in data cannot end a message early
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonForXml } from "./xml_escape.ts";
 * const text = jsonForXml({ text: "a\u0000<b>" });
 * assert(text === '{"text":"a\\u0000&lt;b&gt;"}');
 * assert(!text.includes("\u0000"));
 * ```
 */
export function jsonForXml(value: unknown): string {
  const json = jsonText(value);
  return MARKUP.test(json)
    ? json.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    : json;
}
