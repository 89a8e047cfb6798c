/**
 * RFC 9110 field syntax helpers: the `token` grammar (§5.6.2) and comma-separated
 * lists (§5.6.1) as used by `Connection`, `Upgrade` and `Sec-WebSocket-Protocol`.
 *
 * @module
 */
import { HTAB, SP, TCHAR } from "./_constants.ts";

/**
 * Tells whether `value` is an RFC 9110 §5.6.2 `token`: one or more tchar
 * (ALPHA, DIGIT and ``!#$%&'*+-.^_`|~``).
 *
 * @example Check a subprotocol name
 * ```ts
 * import assert from "node:assert/strict";
 * import { isToken } from "./token.ts";
 * assert(isToken("pushwire.v1"));
 * assert(!isToken("two words"));
 * assert(!isToken(""));
 * ```
 *
 * @param value The string to check.
 * @returns `true` when `value` is a non-empty token.
 */
export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || TCHAR[c] !== 1) return false;
  }
  return true;
}

/**
 * Splits an RFC 9110 §5.6.1 list (`#element`) on commas, trims optional whitespace
 * (SP, HTAB) around each element and drops empty elements, which §5.6.1 says a
 * recipient MUST accept and ignore. Elements are not validated; see
 * {@linkcode parseTokenList} for token lists.
 *
 * @example Split a Connection header
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitList } from "./token.ts";
 * assert(splitList("keep-alive, ,Upgrade").join("|") === "keep-alive|Upgrade");
 * ```
 *
 * @param value A field value, possibly several field lines joined with ", ".
 * @returns The non-empty elements, in order.
 */
export function splitList(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(",")) {
    const element = trimOws(part);
    if (element.length > 0) out.push(element);
  }
  return out;
}

/**
 * Parses a comma-separated list of tokens (`#token`, RFC 9110 §5.6.1).
 *
 * @example Parse Sec-WebSocket-Protocol
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTokenList } from "./token.ts";
 * assert(parseTokenList("chat, superchat")?.length === 2);
 * assert(parseTokenList("chat, super chat") === undefined);
 * ```
 *
 * @param value A field value, possibly several field lines joined with ", ".
 * @returns The tokens in order (empty elements ignored), or `undefined` when an
 * element is not a token.
 */
export function parseTokenList(value: string): string[] | undefined {
  const out = splitList(value);
  for (const element of out) if (!isToken(element)) return undefined;
  return out;
}

/** Strips RFC 9110 §5.6.3 OWS (SP / HTAB) from both ends. */
function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}
