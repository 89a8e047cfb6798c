/**
 * Relay ids: 128 bits from the platform's cryptographic random source, base64url without
 * padding (22 characters), so an id can be neither guessed nor enumerated.
 *
 * @module
 */

const RELAY_ID = /^[A-Za-z0-9_-]{22}$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Returns a fresh relay id: 16 random bytes from `crypto.getRandomValues`, base64url.
 *
 * @example Make an id
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateRelayId, isRelayId } from "./relay_id.ts";
 * const id = generateRelayId();
 * assert(id.length === 22 && isRelayId(id));
 * ```
 */
export function generateRelayId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let out = "";
  // 16 bytes = 5 groups of 3 bytes (20 chars) + 1 byte (2 chars).
  for (let i = 0; i < 15; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! +
      ALPHABET[n & 63]!;
  }
  const last = bytes[15]!;
  return out + ALPHABET[last >> 2]! + ALPHABET[(last & 3) << 4]!;
}

/**
 * Reports whether `text` has the shape of a relay id (22 base64url characters).
 *
 * @example Validate a path segment
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRelayId } from "./relay_id.ts";
 * assert(isRelayId("AAAAAAAAAAAAAAAAAAAAAA"));
 * assert(!isRelayId("../etc/passwd"));
 * ```
 */
export function isRelayId(text: string): boolean {
  return RELAY_ID.test(text);
}
