// Helpers shared by the server and client handshakes. Private: never re-exported.
import { FIELD_VALUE_CHAR } from "../http/_constants.ts";
import { splitList } from "../http/token.ts";

/** RFC 6455 §4.1: a nonce of 16 bytes is 24 base64 characters ending in "==". */
const KEY_SHAPE = /^[A-Za-z0-9+/]{22}==$/;

/** Tells whether `key` is the canonical base64 encoding of exactly 16 bytes. */
export function isValidKey(key: string): boolean {
  if (!KEY_SHAPE.test(key)) return false;
  try {
    // RFC 4648 §3.5: canonical encoding, so the unused bits of the last symbol must be 0.
    return Uint8Array.fromBase64(key, { lastChunkHandling: "strict" }).length === 16;
  } catch {
    return false;
  }
}

/** Tells whether the comma-separated list `value` holds `token`, case-insensitively. */
export function listHas(value: string | null, token: string): boolean {
  if (value === null) return false;
  for (const element of splitList(value)) if (element.toLowerCase() === token) return true;
  return false;
}

/**
 * Serializes header fields as `name: value\r\n` lines, refusing names in `reserved`
 * (lower case) and any value that is not printable ASCII, so that the head encodes to the
 * same bytes with TextEncoder.
 */
export function writeFields(
  init: HeadersInit | undefined,
  reserved: ReadonlySet<string>,
  context: string,
): string {
  if (init === undefined) return "";
  let headers: Headers;
  try {
    headers = new Headers(init);
  } catch (error) {
    throw new TypeError(`${context}: invalid headers (${(error as Error).message})`);
  }
  let out = "";
  for (const [name, value] of headers) {
    if (reserved.has(name)) {
      throw new TypeError(`${context}: header ${name} is set by the handshake itself`);
    }
    assertAsciiValue(value, name, context);
    out += `${name}: ${value}\r\n`;
  }
  return out;
}

/** Throws a TypeError unless `value` is a field value of printable ASCII, SP and HTAB. */
export function assertAsciiValue(value: string, name: string, context: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7e || FIELD_VALUE_CHAR[c] !== 1) {
      throw new TypeError(
        `${context}: value of ${name} must be printable ASCII, found U+${
          c.toString(16).toUpperCase().padStart(4, "0")
        }`,
      );
    }
  }
}
