/**
 * Negotiation of the permessage-deflate extension (RFC 7692 §5, §7.1), sans-I/O: the server
 * picks the first acceptable offer and builds its response; the client builds its offer and
 * checks the server's response. The result is a {@linkcode DeflateParams} agreement that
 * `deflate_codec.ts` turns into a per-connection compressor and decompressor.
 *
 * Peer input is never thrown on: an invalid offer is declined (RFC 7692 §5.1: the server
 * "MUST decline" it, the handshake still succeeds without compression), an invalid response
 * is a reason for the client to fail the connection (RFC 7692 §5.2).
 *
 * @module
 */
import type { ExtensionOffer } from "./extension_header.ts";

/** RFC 7692 §7: the registered extension name. */
export const PERMESSAGE_DEFLATE = "permessage-deflate";

/** RFC 7692 §7.1.2: the smallest LZ77 window size (in bits) a peer may ask for. */
export const MIN_WINDOW_BITS = 8;
/** RFC 7692 §7.1.2: the largest (and default) LZ77 window size, 32 KiB. */
export const MAX_WINDOW_BITS = 15;

/**
 * What both ends agreed on for one connection. Window bits are 8–15; a parameter absent
 * from the response means 15 (RFC 7692 §7.1.2).
 */
export interface DeflateParams {
  /** The server resets its compressor after every message (RFC 7692 §7.1.1.1). */
  readonly serverNoContextTakeover: boolean;
  /** The client resets its compressor after every message (RFC 7692 §7.1.1.2). */
  readonly clientNoContextTakeover: boolean;
  /** The largest window the server compresses with (RFC 7692 §7.1.2.1). */
  readonly serverMaxWindowBits: number;
  /** The largest window the client compresses with (RFC 7692 §7.1.2.2). */
  readonly clientMaxWindowBits: number;
}

/** How a connection compresses, once permessage-deflate is agreed (see `deflate_codec.ts`). */
export interface DeflateTuning {
  /**
   * zlib compression level, 0 (store) to 9 (smallest).
   * @default {6}
   */
  readonly level?: number;
  /**
   * zlib memory level, 1–9: the size of the compressor's hash tables.
   * @default {8}
   */
  readonly memLevel?: number;
  /**
   * Messages smaller than this many bytes are sent uncompressed: without a shared window
   * they barely shrink (JSON of 256 B: ratio 1.6) and each costs a zlib call.
   * @default {1024}
   */
  readonly threshold?: number;
  /**
   * With outgoing context takeover: milliseconds the compressor may stay unused before
   * its zlib stream (~250 KiB in this Deno build) is freed. The next message then starts
   * from an empty window, which RFC 7692 allows: takeover is something a compressor MAY
   * use, and the peer's inflater, which keeps its longer window, decodes output that
   * never refers back to it. Checked by `DeflateCodec.trim()`, which sessions call
   * on their heartbeat (at most one second late). `0` keeps the stream for the whole
   * connection.
   * @default {30000}
   */
  readonly compressorIdleMs?: number;
}

/** The server's policy: whether and how it accepts permessage-deflate. */
export interface PerMessageDeflateOptions extends DeflateTuning {
  /**
   * Accept permessage-deflate offers at all.
   * @default {true}
   */
  readonly enabled?: boolean;
  /**
   * Compress every message from scratch (answer `server_no_context_takeover`). The server's
   * compressor then holds no state between messages: nothing is allocated while a
   * connection is idle, and one compressed broadcast can be shared by every connection.
   * @default {true}
   */
  readonly serverNoContextTakeover?: boolean;
  /**
   * Ask the client to compress every message from scratch (answer
   * `client_no_context_takeover`), so the server inflates each message on its own and
   * keeps no inflate state between messages.
   * @default {true}
   */
  readonly clientNoContextTakeover?: boolean;
  /**
   * Largest window the server compresses with, 8–15. Sent as `server_max_window_bits`
   * only when the client offered that parameter (some browsers fail on an unrequested one);
   * a smaller window than announced is always decodable.
   * @default {15}
   */
  readonly serverMaxWindowBits?: number;
  /**
   * Largest window the client may compress with, 8–15. Sent as `client_max_window_bits`
   * only when the client offered that parameter (RFC 7692 §7.1.2.2 forbids it otherwise).
   * @default {15}
   */
  readonly clientMaxWindowBits?: number;
}

/** What {@linkcode negotiatePerMessageDeflate} returns. */
export type PerMessageDeflateNegotiation =
  | {
    /** An offer was accepted: answer with `response`, build the codec from `params`. */
    readonly accepted: true;
    /** The element to put in `Sec-WebSocket-Extensions` of the 101 response. */
    readonly response: ExtensionOffer;
    /** The agreement. */
    readonly params: DeflateParams;
    /** Why earlier offers were declined (for logs), in offer order. */
    readonly declined: readonly string[];
  }
  | {
    /** No offer was accepted: answer without permessage-deflate. */
    readonly accepted: false;
    /** Why each permessage-deflate offer was declined, in offer order (empty if none). */
    readonly declined: readonly string[];
  };

/**
 * The server side: picks the first permessage-deflate offer it can accept (RFC 7692 §5.1)
 * and builds the response. Offers with an unknown, duplicate or invalid parameter are
 * declined; every valid offer can be met (a server may always reset its context, and a
 * requested `server_max_window_bits` is honoured by compressing with at most that window).
 *
 * @example Accept Chromium's offer with the default policy
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatExtensions, parseExtensions } from "./extension_header.ts";
 * import { negotiatePerMessageDeflate } from "./permessage_deflate.ts";
 * const offers = parseExtensions("permessage-deflate; client_max_window_bits");
 * if (!offers.ok) throw new Error(offers.reason);
 * const result = negotiatePerMessageDeflate(offers.extensions);
 * assert(result.accepted);
 * assert(formatExtensions([result.response]) ===
 *   "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
 * ```
 *
 * @example Decline an invalid offer, accept the fallback
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseExtensions } from "./extension_header.ts";
 * import { negotiatePerMessageDeflate } from "./permessage_deflate.ts";
 * const offers = parseExtensions(
 *   "permessage-deflate; server_max_window_bits=16, permessage-deflate",
 * );
 * if (!offers.ok) throw new Error(offers.reason);
 * const result = negotiatePerMessageDeflate(offers.extensions, { serverNoContextTakeover: false });
 * assert(result.accepted && result.declined.length === 1);
 * assert(result.params.serverNoContextTakeover === false);
 * ```
 *
 * @param offers Every extension the client offered (other extensions are skipped).
 * @param options The server's policy.
 * @returns The response element and the agreement, or the reasons nothing was accepted.
 * @throws {RangeError} If a window-bits option is not an integer from 8 to 15.
 */
export function negotiatePerMessageDeflate(
  offers: readonly ExtensionOffer[],
  options: PerMessageDeflateOptions = {},
): PerMessageDeflateNegotiation {
  const policy = serverPolicy(options);
  const declined: string[] = [];
  if (!policy.enabled) return { accepted: false, declined };
  for (const offer of offers) {
    if (offer.name.toLowerCase() !== PERMESSAGE_DEFLATE) continue;
    const parsed = parseParams(offer, "offer");
    if (!parsed.ok) {
      declined.push(parsed.reason);
      continue;
    }
    const p = parsed.params;
    // RFC 7692 §7.1.1.1: the server may always reset its own context; it must when asked.
    const serverNoContextTakeover = policy.serverNoContextTakeover ||
      p.serverNoContextTakeover === true;
    // RFC 7692 §7.1.1.2: the server may ask the client to reset even if not offered.
    const clientNoContextTakeover = policy.clientNoContextTakeover ||
      p.clientNoContextTakeover === true;
    // RFC 7692 §7.1.2.1: answer server_max_window_bits with the same or a smaller value.
    const serverMaxWindowBits = Math.min(policy.serverMaxWindowBits, p.serverMaxWindowBits ?? 15);
    // RFC 7692 §7.1.2.2: client_max_window_bits may be answered only when it was offered.
    const clientOffered = p.clientMaxWindowBits !== undefined;
    const clientMaxWindowBits = clientOffered
      ? Math.min(
        policy.clientMaxWindowBits,
        p.clientMaxWindowBits === true ? MAX_WINDOW_BITS : p.clientMaxWindowBits!,
      )
      : MAX_WINDOW_BITS;
    const params: [string, string | true][] = [];
    if (serverNoContextTakeover) params.push(["server_no_context_takeover", true]);
    if (clientNoContextTakeover) params.push(["client_no_context_takeover", true]);
    if (p.serverMaxWindowBits !== undefined) {
      params.push(["server_max_window_bits", String(serverMaxWindowBits)]);
    }
    if (clientOffered && clientMaxWindowBits < MAX_WINDOW_BITS) {
      params.push(["client_max_window_bits", String(clientMaxWindowBits)]);
    }
    return {
      accepted: true,
      response: { name: PERMESSAGE_DEFLATE, params },
      params: {
        serverNoContextTakeover,
        clientNoContextTakeover,
        serverMaxWindowBits,
        clientMaxWindowBits,
      },
      declined,
    };
  }
  return { accepted: false, declined };
}

/** What a client offers and requires (RFC 7692 §7.1), and how it compresses. */
export interface PerMessageDeflateClientOptions extends DeflateTuning {
  /**
   * Ask the server to reset its compressor after every message (`server_no_context_takeover`).
   * @default {false}
   */
  readonly serverNoContextTakeover?: boolean;
  /**
   * Declare that the client resets its compressor after every message
   * (`client_no_context_takeover`): no compress state is kept between messages.
   * @default {false}
   */
  readonly clientNoContextTakeover?: boolean;
  /**
   * Ask the server to compress with at most this window, 8–15 (`server_max_window_bits`);
   * omit to let the server use up to 15.
   * @default {undefined}
   */
  readonly serverMaxWindowBits?: number;
  /**
   * Limit the client's own window, 8–15 (`client_max_window_bits=N`); `true` sends the
   * parameter without a value, telling the server it may choose one.
   * @default {true}
   */
  readonly clientMaxWindowBits?: number | true;
}

/**
 * The client side: builds the permessage-deflate element of the request's
 * `Sec-WebSocket-Extensions`. Pass the same options to
 * {@linkcode acceptPerMessageDeflateResponse}.
 *
 * @example The default offer, as browsers send it
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatExtensions } from "./extension_header.ts";
 * import { createPerMessageDeflateOffer } from "./permessage_deflate.ts";
 * assert(formatExtensions([createPerMessageDeflateOffer()]) ===
 *   "permessage-deflate; client_max_window_bits");
 * ```
 *
 * @param options What to request of the server and declare of the client.
 * @returns The offer element.
 * @throws {RangeError} If a window-bits option is not an integer from 8 to 15.
 */
export function createPerMessageDeflateOffer(
  options: PerMessageDeflateClientOptions = {},
): ExtensionOffer {
  const params: [string, string | true][] = [];
  if (options.serverNoContextTakeover === true) params.push(["server_no_context_takeover", true]);
  if (options.clientNoContextTakeover === true) params.push(["client_no_context_takeover", true]);
  if (options.serverMaxWindowBits !== undefined) {
    params.push([
      "server_max_window_bits",
      String(windowBitsOption(options.serverMaxWindowBits, "serverMaxWindowBits")),
    ]);
  }
  const client = options.clientMaxWindowBits ?? true;
  params.push([
    "client_max_window_bits",
    client === true ? true : String(windowBitsOption(client, "clientMaxWindowBits")),
  ]);
  return { name: PERMESSAGE_DEFLATE, params };
}

/** What {@linkcode acceptPerMessageDeflateResponse} returns. */
export type PerMessageDeflateResponseResult =
  | {
    /** The response is acceptable. */
    readonly ok: true;
    /** The agreement, or `undefined` when the server declined permessage-deflate. */
    readonly params: DeflateParams | undefined;
  }
  | {
    /** RFC 7692 §5.2: the client MUST fail the WebSocket connection. */
    readonly ok: false;
    /** Human-readable explanation. */
    readonly reason: string;
  };

/**
 * The client side: checks the server's accepted extensions (from `verifyServerResponse`)
 * against what was offered (RFC 7692 §5.2, §7.1): no unknown, duplicate or invalid
 * parameter; `server_no_context_takeover` and a `server_max_window_bits` no larger than
 * requested are present when requested; `client_max_window_bits` only if offered.
 *
 * @example Python websockets' answer to the default offer
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   acceptPerMessageDeflateResponse,
 *   createPerMessageDeflateOffer,
 * } from "./permessage_deflate.ts";
 * const offer = createPerMessageDeflateOffer();
 * const result = acceptPerMessageDeflateResponse([
 *   { name: "permessage-deflate", params: [["server_max_window_bits", "12"], ["client_max_window_bits", "12"]] },
 * ], offer);
 * assert(result.ok && result.params?.clientMaxWindowBits === 12);
 * ```
 *
 * @param accepted The extensions the server accepted, in its order.
 * @param offer The element sent, from {@linkcode createPerMessageDeflateOffer}.
 * @returns The agreement (or `undefined` if not accepted), or why the connection fails.
 */
export function acceptPerMessageDeflateResponse(
  accepted: readonly ExtensionOffer[],
  offer: ExtensionOffer,
): PerMessageDeflateResponseResult {
  const responses = accepted.filter((e) => e.name.toLowerCase() === PERMESSAGE_DEFLATE);
  if (responses.length === 0) return { ok: true, params: undefined };
  if (responses.length > 1) {
    return { ok: false, reason: failure("the server accepted permessage-deflate twice") };
  }
  const parsedOffer = parseParams(offer, "offer");
  if (!parsedOffer.ok) {
    throw new TypeError(`Cannot check the response: the offer is invalid: ${parsedOffer.reason}`);
  }
  const sent = parsedOffer.params;
  const parsed = parseParams(responses[0]!, "response");
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const got = parsed.params;
  // RFC 7692 §7.1.1.1: a server accepting server_no_context_takeover includes it.
  if (sent.serverNoContextTakeover && !got.serverNoContextTakeover) {
    return { ok: false, reason: failure("server_no_context_takeover was requested, not granted") };
  }
  // RFC 7692 §7.1.2.1: the answer is the same or a smaller value than requested.
  if (sent.serverMaxWindowBits !== undefined) {
    if (got.serverMaxWindowBits === undefined) {
      return { ok: false, reason: failure("server_max_window_bits was requested, not granted") };
    }
    if (got.serverMaxWindowBits > sent.serverMaxWindowBits) {
      return {
        ok: false,
        reason: failure(
          `server_max_window_bits=${got.serverMaxWindowBits} exceeds the requested ${sent.serverMaxWindowBits}`,
        ),
      };
    }
  }
  // The client's own limit: what it declared, lowered by the server's answer.
  let clientLimit = typeof sent.clientMaxWindowBits === "number"
    ? sent.clientMaxWindowBits
    : MAX_WINDOW_BITS;
  // RFC 7692 §7.1.2.2: client_max_window_bits only in answer to one offered. (A response
  // value is never `true`: parseParams requires one.)
  if (typeof got.clientMaxWindowBits === "number") {
    if (sent.clientMaxWindowBits === undefined) {
      return { ok: false, reason: failure("client_max_window_bits was not offered") };
    }
    if (got.clientMaxWindowBits > clientLimit) {
      return {
        ok: false,
        reason: failure(
          `client_max_window_bits=${got.clientMaxWindowBits} exceeds the offered ${clientLimit}`,
        ),
      };
    }
    clientLimit = got.clientMaxWindowBits;
  }
  return {
    ok: true,
    params: {
      serverNoContextTakeover: got.serverNoContextTakeover === true,
      // The client may always reset its own context; it must when the server asks.
      clientNoContextTakeover: got.clientNoContextTakeover === true || sent.clientNoContextTakeover,
      serverMaxWindowBits: got.serverMaxWindowBits ?? MAX_WINDOW_BITS,
      clientMaxWindowBits: clientLimit,
    },
  };
}

interface ParsedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true`: offered without a value (offers only). */
  clientMaxWindowBits: number | true | undefined;
}

type ParseResult =
  | { readonly ok: true; readonly params: ParsedParams }
  | { readonly ok: false; readonly reason: string };

/** RFC 7692 §7.1: the four parameters, each at most once, with valid values. */
function parseParams(element: ExtensionOffer, side: "offer" | "response"): ParseResult {
  const params: ParsedParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  const what = side === "offer" ? "offer" : "response";
  for (const [rawName, value] of element.params) {
    const name = rawName.toLowerCase();
    // RFC 7692 §7: an element with a duplicate parameter is invalid.
    if (seen.has(name)) return invalid(what, `parameter ${name} appears twice`);
    seen.add(name);
    switch (name) {
      case "server_no_context_takeover":
      case "client_no_context_takeover":
        // RFC 7692 §7.1.1: these parameters have no value.
        if (value !== true) return invalid(what, `${name} must not have a value`);
        if (name === "server_no_context_takeover") params.serverNoContextTakeover = true;
        else params.clientNoContextTakeover = true;
        break;
      case "server_max_window_bits": {
        // RFC 7692 §7.1.2.1: always with a value.
        const bits = value === true ? undefined : parseWindowBits(value);
        if (bits === undefined) {
          return invalid(what, `${name} must be an integer from 8 to 15, got ${show(value)}`);
        }
        params.serverMaxWindowBits = bits;
        break;
      }
      case "client_max_window_bits": {
        // RFC 7692 §7.1.2.2: an offer may omit the value, a response may not.
        if (value === true && side === "offer") {
          params.clientMaxWindowBits = true;
          break;
        }
        const bits = value === true ? undefined : parseWindowBits(value);
        if (bits === undefined) {
          return invalid(what, `${name} must be an integer from 8 to 15, got ${show(value)}`);
        }
        params.clientMaxWindowBits = bits;
        break;
      }
      default:
        // RFC 7692 §5.1 / §5.2: an unknown parameter invalidates the element.
        return invalid(what, `unknown parameter ${name}`);
    }
  }
  return { ok: true, params };
}

/** RFC 7692 §7.1.2: "a decimal integer value without leading zeroes between 8 to 15". */
function parseWindowBits(value: string): number | undefined {
  if (!/^(?:8|9|1[0-5])$/.test(value)) return undefined;
  return Number(value);
}

function show(value: string | true): string {
  return value === true ? "no value" : JSON.stringify(value);
}

function invalid(side: string, detail: string): ParseResult {
  return {
    ok: false,
    reason: side === "offer" ? `Declined permessage-deflate offer: ${detail}` : failure(detail),
  };
}

function failure(detail: string): string {
  return `Cannot accept permessage-deflate response: ${detail}`;
}

interface ServerPolicy {
  enabled: boolean;
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

function serverPolicy(options: PerMessageDeflateOptions): ServerPolicy {
  return {
    enabled: options.enabled ?? true,
    serverNoContextTakeover: options.serverNoContextTakeover ?? true,
    clientNoContextTakeover: options.clientNoContextTakeover ?? true,
    serverMaxWindowBits: windowBitsOption(
      options.serverMaxWindowBits ?? MAX_WINDOW_BITS,
      "serverMaxWindowBits",
    ),
    clientMaxWindowBits: windowBitsOption(
      options.clientMaxWindowBits ?? MAX_WINDOW_BITS,
      "clientMaxWindowBits",
    ),
  };
}

function windowBitsOption(value: number, name: string): number {
  if (!Number.isInteger(value) || value < MIN_WINDOW_BITS || value > MAX_WINDOW_BITS) {
    throw new RangeError(`Invalid ${name}: ${value} is not an integer from 8 to 15`);
  }
  return value;
}
