/**
 * Encoders for every document the relay writes on a socket. Each returns the UTF-8 bytes
 * of one XML document followed by the NUL byte that ends it for a Flash `XMLSocket`; none
 * can hold a NUL before that terminator.
 *
 * @module
 */
import { jsonText } from "./_json_text.ts";
import { escapeXmlAttribute } from "./xml_escape.ts";

const encoder = new TextEncoder();
const MESSAGE_END = /* @__PURE__ */ encoder.encode("</message>\0");
const MARKUP = /[&<>]/;
const AMP = 0x26;
const LT = 0x3c;
const GT = 0x3e;
const SEMICOLON = 0x3b;

/** A hub message as the relay delivers it (the hub's JSON message shape). */
export interface RelayMessage {
  /** Opaque id, strictly increasing within its channel in publish order. */
  readonly id: string;
  /** The channel the message was published to. */
  readonly channel: string;
  /** The event name given at publish time, if any. */
  readonly event?: string;
  /** The payload: any JSON value. */
  readonly data: unknown;
  /** Publish time, ms since the epoch. */
  readonly time: number;
}

function document(xml: string): Uint8Array {
  return encoder.encode(xml + "\0");
}

/**
 * Encodes the greeting written on connect: `<pushwire id="RELAY_ID"/>` + NUL.
 *
 * @example Greet a connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeGreeting } from "./relay_message.ts";
 * const bytes = encodeGreeting("q1w2e3");
 * assert(new TextDecoder().decode(bytes) === '<pushwire id="q1w2e3"/>\0');
 * ```
 */
export function encodeGreeting(id: string): Uint8Array {
  return document(`<pushwire id="${escapeXmlAttribute(id)}"/>`);
}

/**
 * Encodes one message:
 * `<message channel="CH" id="ID">JSON of data</message>` + NUL, with `event="NAME"` after
 * `id` when the message has an event. The JSON text is XML-escaped exactly as `jsonForXml`
 * does, so a client reads it back with any XML parser and `JSON.parse`.
 * Encode a message once and hand the same bytes to every connection.
 *
 * @throws {TypeError} when the channel, id or event holds a character XML 1.0 forbids.
 *
 * @example Encode a message
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRelayMessage } from "./relay_message.ts";
 * const bytes = encodeRelayMessage({ id: "7", channel: "news", data: "a<b", time: 0 });
 * const text = new TextDecoder().decode(bytes);
 * assert(text === '<message channel="news" id="7">"a&lt;b"</message>\0');
 * ```
 */
export function encodeRelayMessage(message: RelayMessage): Uint8Array {
  const event = message.event === undefined ? "" : ` event="${escapeXmlAttribute(message.event)}"`;
  const start = `<message channel="${escapeXmlAttribute(message.channel)}" id="${
    escapeXmlAttribute(message.id)
  }"${event}>`;
  const json = jsonText(message.data);
  // Most payloads hold no markup: one string, one encode.
  if (!MARKUP.test(json)) return encoder.encode(start + json + "</message>\0");
  const head = encoder.encode(start);
  // Markup is escaped on the UTF-8 bytes, in one allocation: `& < >` are ASCII and never
  // occur inside a multi-byte sequence.
  const body = encoder.encode(json);
  let extra = 0;
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b === AMP) extra += 4;
    else if (b === LT || b === GT) extra += 3;
  }
  const out = new Uint8Array(head.length + body.length + extra + MESSAGE_END.length);
  out.set(head);
  let j = head.length;
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    // Entities byte by byte: a typed-array set() per entity costs more than it copies.
    if (b === AMP) {
      out[j] = AMP;
      out[j + 1] = 0x61; // a
      out[j + 2] = 0x6d; // m
      out[j + 3] = 0x70; // p
      out[j + 4] = SEMICOLON;
      j += 5;
    } else if (b === LT || b === GT) {
      out[j] = AMP;
      out[j + 1] = b === LT ? 0x6c : 0x67; // l, g
      out[j + 2] = 0x74; // t
      out[j + 3] = SEMICOLON;
      j += 4;
    } else {
      out[j++] = b;
    }
  }
  out.set(MESSAGE_END, j);
  return out;
}

/**
 * Encodes `<reset channel="CH"/>` + NUL: messages after the client's cursor on `CH` were
 * already dropped from history, so what follows is not contiguous with what it had.
 *
 * @example Tell a client it lost messages
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeReset } from "./relay_message.ts";
 * assert(new TextDecoder().decode(encodeReset("news")) === '<reset channel="news"/>\0');
 * ```
 */
export function encodeReset(channel: string): Uint8Array {
  return document(`<reset channel="${escapeXmlAttribute(channel)}"/>`);
}

/**
 * Encodes `<error code="CODE"/>` + NUL, written before the relay turns a connection away
 * (e.g. `RELAY_ERR_TOO_MANY_CONNECTIONS`).
 *
 * @example Refuse a connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRelayError } from "./relay_message.ts";
 * const text = new TextDecoder().decode(encodeRelayError("RELAY_ERR_TOO_MANY_CONNECTIONS"));
 * assert(text === '<error code="RELAY_ERR_TOO_MANY_CONNECTIONS"/>\0');
 * ```
 */
export function encodeRelayError(code: string): Uint8Array {
  return document(`<error code="${escapeXmlAttribute(code)}"/>`);
}
