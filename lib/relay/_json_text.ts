// JSON text that XML 1.0 can carry once its markup characters are escaped.
// Private module: used by xml_escape.ts and relay_message.ts.

const NONCHARACTER = /[\uFFFE\uFFFF]/;
const NONCHARACTERS = /[\uFFFE\uFFFF]/g;

/**
 * JSON.stringify(value) (`null` for what it drops), with U+FFFE/U+FFFF written as `\uXXXX`.
 * Well-formed JSON.stringify already escapes every control character and lone surrogate, so
 * the result holds no character XML 1.0 forbids; only `& < >` remain to escape.
 */
export function jsonText(value: unknown): string {
  const json = JSON.stringify(value) ?? "null";
  // XML 1.0 §2.2 excludes U+FFFE/U+FFFF; in JSON text they can only sit inside a string.
  return NONCHARACTER.test(json)
    ? json.replace(NONCHARACTERS, (ch) => ch === "\ufffe" ? "\\ufffe" : "\\uffff")
    : json;
}
