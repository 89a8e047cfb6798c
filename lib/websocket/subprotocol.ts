/**
 * The `Sec-WebSocket-Protocol` header (RFC 6455 §4.1, §4.2.2, §11.3.4): parsing a client's
 * offer and choosing one subprotocol.
 *
 * @module
 */
import { isToken, splitList } from "../http/token.ts";

/** What {@linkcode parseSubprotocols} returns: the offered names or why they are invalid. */
export type SubprotocolParseResult =
  | { readonly ok: true; readonly protocols: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Parses a client's `Sec-WebSocket-Protocol` value (`1#token`). Several header lines must
 * be joined with ", " first (as `Headers.get` does); `null` (no header) means no offer.
 * Empty list elements are ignored (RFC 9110 §5.6.1); an element that is not a token, a
 * repeated name (RFC 6455 §4.1: the values MUST be unique) or a value with no element at
 * all is invalid.
 *
 * @example Parse an offer
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSubprotocols } from "./subprotocol.ts";
 * const result = parseSubprotocols("chat, superchat");
 * assert(result.ok && result.protocols.length === 2);
 * assert(!parseSubprotocols("chat, chat").ok);
 * ```
 *
 * @param value The header value, or `null` when the header is absent.
 * @returns The offered subprotocols in the client's order, or the reason they are invalid.
 */
export function parseSubprotocols(value: string | null): SubprotocolParseResult {
  if (value === null) return { ok: true, protocols: [] };
  const protocols = splitList(value);
  if (protocols.length === 0) {
    return { ok: false, reason: "Cannot upgrade: Sec-WebSocket-Protocol lists no subprotocol" };
  }
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (!isToken(protocol)) {
      return {
        ok: false,
        reason: `Cannot upgrade: Sec-WebSocket-Protocol element ${
          JSON.stringify(protocol)
        } is not a token`,
      };
    }
    if (seen.has(protocol)) {
      return {
        ok: false,
        reason: `Cannot upgrade: Sec-WebSocket-Protocol repeats ${JSON.stringify(protocol)}`,
      };
    }
    seen.add(protocol);
  }
  return { ok: true, protocols };
}

/**
 * Chooses the subprotocol to answer with, in the SERVER's order of preference: the first
 * entry of `supported` that the client offered. Names compare exactly (case-sensitive,
 * like browsers). `undefined` means answer without `Sec-WebSocket-Protocol` (RFC 6455
 * §4.2.2 allows accepting with no subprotocol; the caller may reject instead).
 *
 * @example Server preference wins over client order
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectSubprotocol } from "./subprotocol.ts";
 * assert(selectSubprotocol(["chat", "pushwire.v1"], ["pushwire.v1", "chat"]) === "pushwire.v1");
 * assert(selectSubprotocol(["mqtt"], ["pushwire.v1"]) === undefined);
 * ```
 *
 * @param offered The client's subprotocols, from {@linkcode parseSubprotocols}.
 * @param supported The server's subprotocols, most preferred first.
 * @returns The chosen subprotocol, or `undefined` when none is shared.
 */
export function selectSubprotocol(
  offered: readonly string[],
  supported: readonly string[],
): string | undefined {
  for (const protocol of supported) if (offered.includes(protocol)) return protocol;
  return undefined;
}
