/**
 * The client side of the WebSocket opening handshake (RFC 6455 §4.1), sans-I/O: make a
 * key, write the GET head, and verify the server's `101` response.
 *
 * @module
 */
import { TARGET_CHAR } from "../http/_constants.ts";
import { isToken } from "../http/token.ts";
import { WEBSOCKET_VERSION } from "./_constants.ts";
import { assertAsciiValue, isValidKey, listHas, writeFields } from "./_handshake_util.ts";
import { type ExtensionOffer, formatExtensions, parseExtensions } from "./extension_header.ts";
import { computeAcceptKey, type HandshakeErrorCode } from "./handshake.ts";

/**
 * Makes a `Sec-WebSocket-Key`: 16 random bytes from `crypto.getRandomValues`, base64
 * (RFC 6455 §4.1 item 7: a nonce randomly selected for each connection).
 *
 * @example A fresh key each time
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateKey } from "./client_handshake.ts";
 * const key = generateKey();
 * assert(key.length === 24 && key.endsWith("==") && key !== generateKey());
 * ```
 *
 * @returns A 24-character base64 key.
 */
export function generateKey(): string {
  return crypto.getRandomValues(new Uint8Array(16)).toBase64();
}

/** Options of {@linkcode buildClientRequest}. */
export interface ClientRequestOptions {
  /** The `Host` value: the server's authority, e.g. `example.com:8080`. */
  host: string;
  /** The origin-form request-target, e.g. `/chat?room=1` (percent-encoded already). */
  path: string;
  /** The nonce from {@linkcode generateKey}. */
  key: string;
  /** Subprotocols to offer, most preferred first: unique tokens. */
  protocols?: readonly string[];
  /** Extensions to offer. */
  extensions?: readonly ExtensionOffer[];
  /** The `Origin` to send (browsers always do; other clients may). */
  origin?: string;
  /** Extra header fields (e.g. `Authorization`); printable ASCII values only. */
  headers?: HeadersInit;
}

const REQUEST_RESERVED: ReadonlySet<string> = new Set([
  "host",
  "upgrade",
  "connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-protocol",
  "sec-websocket-extensions",
  "origin",
  "content-length",
  "transfer-encoding",
]);

/**
 * Writes the opening handshake request head (RFC 6455 §4.1), ending with the blank line.
 * The string is ASCII; send it as `new TextEncoder().encode(head)`.
 *
 * @example The RFC 6455 §1.3 sample request
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildClientRequest } from "./client_handshake.ts";
 * const head = buildClientRequest({
 *   host: "server.example.com",
 *   path: "/chat",
 *   key: "dGhlIHNhbXBsZSBub25jZQ==",
 *   protocols: ["chat", "superchat"],
 *   origin: "http://example.com",
 * });
 * assert(head === "GET /chat HTTP/1.1\r\nHost: server.example.com\r\n" +
 *   "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
 *   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
 *   "Sec-WebSocket-Protocol: chat, superchat\r\nOrigin: http://example.com\r\n\r\n");
 * ```
 *
 * @param options Host, path, key and what to offer.
 * @returns The request head.
 * @throws {TypeError} On an invalid host, path, key, subprotocol, extension or header.
 */
export function buildClientRequest(options: ClientRequestOptions): string {
  const context = "Cannot build client request";
  const { host, path, key, protocols, extensions, origin, headers } = options;
  if (
    typeof host !== "string" ||
    !/^(?:\[[0-9A-Za-z:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]*)?$/.test(host)
  ) {
    throw new TypeError(`${context}: host ${JSON.stringify(host)} is not a valid authority`);
  }
  if (!isOriginForm(path)) {
    throw new TypeError(
      `${context}: path ${JSON.stringify(path)} must start with "/" and be percent-encoded`,
    );
  }
  if (!isValidKey(key)) {
    throw new TypeError(`${context}: key must be the base64 of 16 bytes (use generateKey())`);
  }
  let head = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
    `Sec-WebSocket-Version: ${WEBSOCKET_VERSION}\r\n`;
  if (protocols !== undefined && protocols.length > 0) {
    // RFC 6455 §4.1 item 10: non-empty, unique tokens.
    for (const protocol of protocols) {
      if (!isToken(protocol)) {
        throw new TypeError(`${context}: protocol ${JSON.stringify(protocol)} is not a token`);
      }
    }
    if (new Set(protocols).size !== protocols.length) {
      throw new TypeError(`${context}: protocols must be unique`);
    }
    head += `Sec-WebSocket-Protocol: ${protocols.join(", ")}\r\n`;
  }
  if (extensions !== undefined && extensions.length > 0) {
    head += `Sec-WebSocket-Extensions: ${formatExtensions(extensions)}\r\n`;
  }
  if (origin !== undefined) {
    if (origin.length === 0) throw new TypeError(`${context}: origin must not be empty`);
    assertAsciiValue(origin, "origin", context);
    head += `Origin: ${origin}\r\n`;
  }
  return head + writeFields(headers, REQUEST_RESERVED, context) + "\r\n";
}

/** The parts of the server's response the client checks (a `ResponseHead` fits). */
export interface HandshakeResponse {
  /** The status code. */
  readonly status: number;
  /** The response's header fields. */
  readonly headers: Headers;
}

/** What the client sent, needed to verify the response. */
export interface ClientOffer {
  /** The `Sec-WebSocket-Key` sent. */
  readonly key: string;
  /** The subprotocols offered, if any. */
  readonly protocols?: readonly string[];
  /** The extensions offered, if any. */
  readonly extensions?: readonly ExtensionOffer[];
}

/** What {@linkcode verifyServerResponse} returns. */
export type ClientHandshakeResult =
  | {
    /** The connection is established. */
    readonly ok: true;
    /** The subprotocol the server selected, or `undefined` when it selected none. */
    readonly protocol: string | undefined;
    /** The extensions the server accepted, with its parameters, in its order. */
    readonly extensions: readonly ExtensionOffer[];
  }
  | {
    /** The client MUST fail the WebSocket connection. */
    readonly ok: false;
    /** Stable machine-readable identifier. */
    readonly code: HandshakeErrorCode;
    /** Human-readable explanation. */
    readonly reason: string;
  };

/**
 * Checks the server's response against RFC 6455 §4.1 ("the client MUST Fail the WebSocket
 * Connection" unless): status 101; `Upgrade` equal to `websocket` (case-insensitive);
 * `Connection` holding the `upgrade` token (case-insensitive); `Sec-WebSocket-Accept`
 * equal to the expected value; every extension in `Sec-WebSocket-Extensions` one the
 * client offered, each at most once; a `Sec-WebSocket-Protocol`, when present, one
 * subprotocol the client offered. A response without a subprotocol is accepted even
 * when some were offered (RFC 6455; browsers fail that case, the caller may too).
 *
 * @example Verify the RFC 6455 §1.3 sample response
 * ```ts
 * import assert from "node:assert/strict";
 * import { verifyServerResponse } from "./client_handshake.ts";
 * const result = await verifyServerResponse(
 *   {
 *     status: 101,
 *     headers: new Headers({
 *       Upgrade: "websocket",
 *       Connection: "Upgrade",
 *       "Sec-WebSocket-Accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
 *       "Sec-WebSocket-Protocol": "chat",
 *     }),
 *   },
 *   { key: "dGhlIHNhbXBsZSBub25jZQ==", protocols: ["chat", "superchat"] },
 * );
 * assert(result.ok && result.protocol === "chat");
 * ```
 *
 * @param response The status and header fields of the server's response.
 * @param offer The key, subprotocols and extensions the client sent.
 * @returns The negotiated subprotocol and extensions, or why the connection fails.
 */
export async function verifyServerResponse(
  response: HandshakeResponse,
  offer: ClientOffer,
): Promise<ClientHandshakeResult> {
  const { status, headers } = response;
  if (status !== 101) {
    return fail("WS_ERR_HANDSHAKE_STATUS", `Cannot connect: expected status 101, got ${status}`);
  }
  // RFC 6455 §4.1 item 2: Upgrade MUST be an ASCII case-insensitive match for "websocket".
  const upgrade = headers.get("upgrade");
  if (upgrade === null || upgrade.toLowerCase() !== "websocket") {
    return fail(
      "WS_ERR_HANDSHAKE_UPGRADE",
      `Cannot connect: Upgrade must be websocket, got ${JSON.stringify(upgrade)}`,
    );
  }
  // RFC 6455 §4.1 item 3: Connection MUST hold "Upgrade" (a token list, RFC 9110 §7.6.1).
  if (!listHas(headers.get("connection"), "upgrade")) {
    return fail(
      "WS_ERR_HANDSHAKE_CONNECTION",
      `Cannot connect: Connection must include Upgrade, got ${
        JSON.stringify(headers.get("connection"))
      }`,
    );
  }
  // RFC 6455 §4.1 item 4: Sec-WebSocket-Accept MUST be base64(SHA-1(key + GUID)).
  const accept = headers.get("sec-websocket-accept");
  const expected = await computeAcceptKey(offer.key);
  if (accept !== expected) {
    return fail(
      "WS_ERR_HANDSHAKE_ACCEPT",
      accept === null
        ? "Cannot connect: Sec-WebSocket-Accept is missing"
        : `Cannot connect: Sec-WebSocket-Accept is ${JSON.stringify(accept)}, expected ${expected}`,
    );
  }
  // RFC 6455 §4.1 item 5: an extension not present in the client's handshake fails.
  let extensions: readonly ExtensionOffer[] = [];
  const extensionsValue = headers.get("sec-websocket-extensions");
  if (extensionsValue !== null) {
    const parsed = parseExtensions(extensionsValue);
    if (!parsed.ok) return fail("WS_ERR_HANDSHAKE_EXTENSIONS", `Cannot connect: ${parsed.reason}`);
    const offered = new Set((offer.extensions ?? []).map((extension) => extension.name));
    const seen = new Set<string>();
    for (const { name } of parsed.extensions) {
      if (!offered.has(name)) {
        return fail(
          "WS_ERR_HANDSHAKE_EXTENSIONS",
          `Cannot connect: server accepted extension ${name}, which was not offered`,
        );
      }
      if (seen.has(name)) {
        return fail(
          "WS_ERR_HANDSHAKE_EXTENSIONS",
          `Cannot connect: server accepted extension ${name} more than once`,
        );
      }
      seen.add(name);
    }
    extensions = parsed.extensions;
  }
  // RFC 6455 §4.1 item 6: a subprotocol not present in the client's handshake fails.
  const protocol = headers.get("sec-websocket-protocol");
  if (protocol !== null) {
    if (!isToken(protocol)) {
      return fail(
        "WS_ERR_HANDSHAKE_PROTOCOL",
        `Cannot connect: Sec-WebSocket-Protocol must be one token, got ${JSON.stringify(protocol)}`,
      );
    }
    if (!(offer.protocols ?? []).includes(protocol)) {
      return fail(
        "WS_ERR_HANDSHAKE_PROTOCOL",
        `Cannot connect: server selected subprotocol ${protocol}, which was not offered`,
      );
    }
  }
  return { ok: true, protocol: protocol ?? undefined, extensions };
}

function fail(code: HandshakeErrorCode, reason: string): ClientHandshakeResult {
  return { ok: false, code, reason };
}

/** RFC 9112 §3.2.1 origin-form: "/" path, optional "?" query; RFC 3986 characters only. */
function isOriginForm(path: unknown): boolean {
  if (typeof path !== "string" || path.charCodeAt(0) !== 0x2f) return false;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c > 0xff || TARGET_CHAR[c] !== 1) return false;
    if (c === 0x25 && !/^[0-9A-Fa-f]{2}$/.test(path.slice(i + 1, i + 3))) return false;
  }
  return true;
}
