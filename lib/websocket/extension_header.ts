/**
 * The `Sec-WebSocket-Extensions` header grammar (RFC 6455 §9.1), parse and serialize.
 * Negotiation of a particular extension (permessage-deflate, RFC 7692) builds on this.
 *
 * ```
 * Sec-WebSocket-Extensions = extension-list
 * extension-list = 1#extension
 * extension = extension-token *( ";" extension-param )
 * extension-param = token [ "=" (token | quoted-string) ]
 * ```
 *
 * Optional whitespace (SP, HTAB) is allowed around `,`, `;` and `=` (the RFC's implied
 * `*LWS`), empty list elements are ignored (RFC 9110 §5.6.1), and a quoted-string value
 * must still be a token once unescaped (RFC 6455 §9.1). Parameters keep their order and
 * duplicates, because RFC 7692 §7 requires rejecting a repeated parameter.
 *
 * @module
 */
import { isToken } from "../http/token.ts";

/** One extension parameter: its name and its value, or `true` when it has none. */
export type ExtensionParam = readonly [name: string, value: string | true];

/** One element of an extension list: a name and its parameters in order, duplicates kept. */
export interface ExtensionOffer {
  /** The extension token, case preserved, e.g. `permessage-deflate`. */
  readonly name: string;
  /** Parameters in the order sent; a repeated name appears twice. */
  readonly params: readonly ExtensionParam[];
}

/** What {@linkcode parseExtensions} returns: the offers or why the header is malformed. */
export type ExtensionParseResult =
  | { readonly ok: true; readonly extensions: readonly ExtensionOffer[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Parses a `Sec-WebSocket-Extensions` value. Several header lines must be joined with
 * ", " first (as `Headers.get` does). Peer input is never thrown on: a malformed value
 * gives `{ ok: false, reason }`.
 *
 * @example Parse a browser's offer
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseExtensions } from "./extension_header.ts";
 * const result = parseExtensions("permessage-deflate; client_max_window_bits, x-foo; a=\"1\"");
 * if (!result.ok) throw new Error(result.reason);
 * assert(result.extensions[0]!.name === "permessage-deflate");
 * assert(result.extensions[0]!.params[0]![1] === true);
 * assert(result.extensions[1]!.params[0]![1] === "1");
 * ```
 *
 * @example Reject a malformed value
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseExtensions } from "./extension_header.ts";
 * const result = parseExtensions("permessage-deflate; =15");
 * assert(!result.ok);
 * ```
 *
 * @param value The header value.
 * @returns The extensions in order, or the reason the value is malformed.
 */
export function parseExtensions(value: string): ExtensionParseResult {
  const extensions: ExtensionOffer[] = [];
  const cursor = { pos: 0 };
  const n = value.length;
  while (true) {
    skipOws(value, cursor);
    if (cursor.pos >= n) break;
    if (value[cursor.pos] === ",") { // RFC 9110 §5.6.1: ignore empty list elements
      cursor.pos++;
      continue;
    }
    const name = readToken(value, cursor);
    if (name === undefined) {
      return fail(`expected an extension name at offset ${cursor.pos}`, value);
    }
    const params: ExtensionParam[] = [];
    skipOws(value, cursor);
    while (value[cursor.pos] === ";") {
      cursor.pos++;
      skipOws(value, cursor);
      const paramName = readToken(value, cursor);
      if (paramName === undefined) {
        return fail(`expected a parameter name at offset ${cursor.pos}`, value);
      }
      skipOws(value, cursor);
      let paramValue: string | true = true;
      if (value[cursor.pos] === "=") {
        cursor.pos++;
        skipOws(value, cursor);
        if (value[cursor.pos] === '"') {
          const start = cursor.pos;
          const unquoted = readQuotedString(value, cursor);
          if (unquoted === undefined) {
            return fail(`unterminated or invalid quoted-string at offset ${start}`, value);
          }
          // RFC 6455 §9.1: the unescaped quoted-string MUST conform to the token ABNF.
          if (!isToken(unquoted)) {
            return fail(`quoted value at offset ${start} is not a token once unescaped`, value);
          }
          paramValue = unquoted;
        } else {
          const token = readToken(value, cursor);
          if (token === undefined) {
            return fail(`expected a parameter value at offset ${cursor.pos}`, value);
          }
          paramValue = token;
        }
        skipOws(value, cursor);
      }
      params.push([paramName, paramValue]);
    }
    extensions.push({ name, params });
    if (cursor.pos < n && value[cursor.pos] !== ",") {
      return fail(`expected ",", ";" or the end at offset ${cursor.pos}`, value);
    }
  }
  if (extensions.length === 0) return fail("the list is empty", value);
  return { ok: true, extensions };
}

/**
 * Serializes extensions for a `Sec-WebSocket-Extensions` header: `name; param=value`,
 * elements joined by ", ". Values are written as bare tokens.
 *
 * @example Answer a permessage-deflate offer
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatExtensions } from "./extension_header.ts";
 * const header = formatExtensions([
 *   { name: "permessage-deflate", params: [["server_no_context_takeover", true], ["client_max_window_bits", "10"]] },
 * ]);
 * assert(header === "permessage-deflate; server_no_context_takeover; client_max_window_bits=10");
 * ```
 *
 * @param offers At least one extension.
 * @returns The header value.
 * @throws {TypeError} When the list is empty or a name or value is not a token.
 */
export function formatExtensions(offers: readonly ExtensionOffer[]): string {
  if (offers.length === 0) {
    throw new TypeError("Cannot format extensions: the list must hold at least one extension");
  }
  const parts: string[] = [];
  for (const offer of offers) {
    if (!isToken(offer.name)) {
      throw new TypeError(
        `Cannot format extensions: extension name ${JSON.stringify(offer.name)} is not a token`,
      );
    }
    let part = offer.name;
    for (const [name, value] of offer.params) {
      if (!isToken(name)) {
        throw new TypeError(
          `Cannot format extensions: parameter name ${JSON.stringify(name)} is not a token`,
        );
      }
      if (value === true) {
        part += `; ${name}`;
        continue;
      }
      if (typeof value !== "string" || !isToken(value)) {
        throw new TypeError(
          `Cannot format extensions: value of ${name} must be a token or true, got ${
            JSON.stringify(value)
          }`,
        );
      }
      part += `; ${name}=${value}`;
    }
    parts.push(part);
  }
  return parts.join(", ");
}

interface Cursor {
  pos: number;
}

function fail(detail: string, value: string): ExtensionParseResult {
  return {
    ok: false,
    reason: `Cannot parse Sec-WebSocket-Extensions: ${detail} in ${JSON.stringify(value)}`,
  };
}

function skipOws(value: string, cursor: Cursor): void {
  while (cursor.pos < value.length) {
    const c = value.charCodeAt(cursor.pos);
    if (c !== 0x20 && c !== 0x09) return;
    cursor.pos++;
  }
}

/** Reads a maximal run of tchar; `undefined` when empty. */
function readToken(value: string, cursor: Cursor): string | undefined {
  const start = cursor.pos;
  while (cursor.pos < value.length && isToken(value[cursor.pos]!)) cursor.pos++;
  return cursor.pos === start ? undefined : value.slice(start, cursor.pos);
}

/**
 * Reads an RFC 9110 §5.6.4 quoted-string starting at the opening DQUOTE and returns its
 * unescaped content, or `undefined` when it is unterminated or holds an invalid byte.
 */
function readQuotedString(value: string, cursor: Cursor): string | undefined {
  let out = "";
  let pos = cursor.pos + 1;
  while (pos < value.length) {
    const c = value.charCodeAt(pos);
    if (c === 0x22) {
      cursor.pos = pos + 1;
      return out;
    }
    if (c === 0x5c) { // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      const next = value.charCodeAt(pos + 1);
      if (!(next === 0x09 || (next >= 0x20 && next <= 0x7e) || (next >= 0x80 && next <= 0xff))) {
        return undefined;
      }
      out += value[pos + 1];
      pos += 2;
      continue;
    }
    // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
    if (!(c === 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff))) return undefined;
    out += value[pos];
    pos++;
  }
  return undefined;
}
