/**
 * The server side of the WebSocket opening handshake (RFC 6455 §4.2), sans-I/O: validate
 * an upgrade request, compute `Sec-WebSocket-Accept`, and write the `101` or error head.
 *
 * Status choices (RFC 6455 §4.2.1 only says "an appropriate error code (such as 400)"):
 * - a method other than GET answers 405 with `Allow: GET` (RFC 9110 §15.5.6: the resource
 *   exists but supports only GET);
 * - a request without `Upgrade: websocket` answers 426 with `Upgrade: websocket`
 *   (RFC 9110 §15.5.22: the client must switch protocols to use this resource);
 * - a missing or other `Sec-WebSocket-Version` answers 426 with `Sec-WebSocket-Version: 13`
 *   (RFC 6455 §4.2.2) and `Upgrade: websocket` (RFC 9110 §15.5.22 MUST);
 * - every other defect answers 400.
 *
 * @module
 */
import { STATUS_TEXT } from "../http/_constants.ts";
import { isToken } from "../http/token.ts";
import { WEBSOCKET_GUID, WEBSOCKET_VERSION } from "./_constants.ts";
import { assertAsciiValue, isValidKey, listHas, writeFields } from "./_handshake_util.ts";
import { type ExtensionOffer, formatExtensions, parseExtensions } from "./extension_header.ts";
import { parseSubprotocols } from "./subprotocol.ts";

/** Stable identifiers of every handshake failure, server and client side; see docs/ERRORS.md. */
export type HandshakeErrorCode =
  | "WS_ERR_HANDSHAKE_METHOD"
  | "WS_ERR_HANDSHAKE_HTTP_VERSION"
  | "WS_ERR_HANDSHAKE_HOST"
  | "WS_ERR_HANDSHAKE_UPGRADE"
  | "WS_ERR_HANDSHAKE_CONNECTION"
  | "WS_ERR_HANDSHAKE_VERSION"
  | "WS_ERR_HANDSHAKE_KEY"
  | "WS_ERR_HANDSHAKE_PROTOCOL"
  | "WS_ERR_HANDSHAKE_EXTENSIONS"
  | "WS_ERR_HANDSHAKE_STATUS"
  | "WS_ERR_HANDSHAKE_ACCEPT";

/** The parts of an HTTP request the handshake looks at. */
export interface UpgradeRequest {
  /** The request method, e.g. `"GET"` (case-sensitive). */
  readonly method: string;
  /** The HTTP version digits, e.g. `"1.1"`. */
  readonly httpVersion: string;
  /** The request's header fields. */
  readonly headers: Headers;
}

/** A valid upgrade request: what the client asked for. */
export interface UpgradeAccepted {
  /** Discriminates acceptance from rejection. */
  readonly ok: true;
  /** The client's `Sec-WebSocket-Key`, input to {@linkcode computeAcceptKey}. */
  readonly key: string;
  /** The `Host` value. */
  readonly host: string;
  /** Offered subprotocols in the client's order (empty when none). */
  readonly protocols: readonly string[];
  /** Offered extensions in the client's order (empty when none). */
  readonly extensions: readonly ExtensionOffer[];
  /** The `Origin` value, when sent (browsers always send it; check it against an allow-list). */
  readonly origin?: string;
}

/** An invalid upgrade request: answer with {@linkcode buildRejectionResponse}. */
export interface UpgradeRejected {
  /** Discriminates acceptance from rejection. */
  readonly ok: false;
  /** The HTTP status to answer with. */
  readonly status: 400 | 405 | 426;
  /** Stable machine-readable identifier. */
  readonly code: HandshakeErrorCode;
  /** Human-readable explanation, e.g. "Cannot upgrade: Sec-WebSocket-Key must decode to 16 bytes". */
  readonly reason: string;
  /** Header fields the answer must carry (`Allow`, `Upgrade`, `Sec-WebSocket-Version`). */
  readonly headers: Headers;
}

/** What {@linkcode validateUpgradeRequest} returns. */
export type UpgradeValidation = UpgradeAccepted | UpgradeRejected;

/**
 * Checks a request against RFC 6455 §4.2.1 in this order: method GET, HTTP/1.1 or a later
 * 1.x, `Host`, `Upgrade` holding `websocket`, `Connection` holding `upgrade` (both
 * case-insensitive token lists), `Sec-WebSocket-Version: 13`, a `Sec-WebSocket-Key` that
 * is the base64 of exactly 16 bytes, then the syntax of `Sec-WebSocket-Protocol` and
 * `Sec-WebSocket-Extensions`. The first failure is returned as data, never thrown.
 *
 * @example Validate the RFC 6455 §1.3 sample request
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateUpgradeRequest } from "./handshake.ts";
 * const result = validateUpgradeRequest({
 *   method: "GET",
 *   httpVersion: "1.1",
 *   headers: new Headers({
 *     Host: "server.example.com",
 *     Upgrade: "websocket",
 *     Connection: "Upgrade",
 *     "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
 *     Origin: "http://example.com",
 *     "Sec-WebSocket-Protocol": "chat, superchat",
 *     "Sec-WebSocket-Version": "13",
 *   }),
 * });
 * if (!result.ok) throw new Error(result.reason);
 * assert(result.protocols.join() === "chat,superchat");
 * ```
 *
 * @param request The method, version and header fields of the request.
 * @returns The offer, or the status, reason and header fields to reject it with.
 */
export function validateUpgradeRequest(request: UpgradeRequest): UpgradeValidation {
  const { method, httpVersion, headers } = request;
  // RFC 6455 §4.1 / §4.2.1: the method MUST be GET.
  if (method !== "GET") {
    return reject(
      405,
      "WS_ERR_HANDSHAKE_METHOD",
      `Cannot upgrade: method must be GET, got ${method}`,
      { Allow: "GET" },
    );
  }
  // RFC 6455 §4.2.1: an HTTP/1.1 or higher GET request.
  const version = /^1\.([0-9])$/.exec(httpVersion);
  if (version === null || version[1] === "0") {
    return reject(
      400,
      "WS_ERR_HANDSHAKE_HTTP_VERSION",
      `Cannot upgrade: HTTP/1.1 or a later HTTP/1.x is required, got HTTP/${httpVersion}`,
    );
  }
  const host = headers.get("host");
  if (host === null) {
    return reject(400, "WS_ERR_HANDSHAKE_HOST", "Cannot upgrade: Host header is missing");
  }
  // RFC 6455 §4.2.1 item 3: Upgrade includes "websocket", ASCII case-insensitive.
  if (!listHas(headers.get("upgrade"), "websocket")) {
    return reject(
      426,
      "WS_ERR_HANDSHAKE_UPGRADE",
      "Cannot upgrade: Upgrade header must include websocket",
      { Upgrade: "websocket", "Sec-WebSocket-Version": WEBSOCKET_VERSION },
    );
  }
  // RFC 6455 §4.2.1 item 4: Connection includes the "Upgrade" token, ASCII case-insensitive.
  if (!listHas(headers.get("connection"), "upgrade")) {
    return reject(
      400,
      "WS_ERR_HANDSHAKE_CONNECTION",
      "Cannot upgrade: Connection header must include Upgrade",
    );
  }
  // RFC 6455 §4.2.2: an unsupported version answers 426 with the versions we speak.
  const wsVersion = headers.get("sec-websocket-version");
  if (wsVersion !== WEBSOCKET_VERSION) {
    return reject(
      426,
      "WS_ERR_HANDSHAKE_VERSION",
      wsVersion === null
        ? "Cannot upgrade: Sec-WebSocket-Version header is missing"
        : `Cannot upgrade: Sec-WebSocket-Version must be 13, got ${JSON.stringify(wsVersion)}`,
      { Upgrade: "websocket", "Sec-WebSocket-Version": WEBSOCKET_VERSION },
    );
  }
  // RFC 6455 §4.2.1 item 5: a base64-encoded value that decodes to 16 bytes.
  const key = headers.get("sec-websocket-key");
  if (key === null) {
    return reject(400, "WS_ERR_HANDSHAKE_KEY", "Cannot upgrade: Sec-WebSocket-Key is missing");
  }
  if (!isValidKey(key)) {
    return reject(
      400,
      "WS_ERR_HANDSHAKE_KEY",
      key.includes(",")
        ? "Cannot upgrade: Sec-WebSocket-Key must appear once"
        : "Cannot upgrade: Sec-WebSocket-Key must decode to 16 bytes",
    );
  }
  const protocols = parseSubprotocols(headers.get("sec-websocket-protocol"));
  if (!protocols.ok) return reject(400, "WS_ERR_HANDSHAKE_PROTOCOL", protocols.reason);
  const extensionsValue = headers.get("sec-websocket-extensions");
  let extensions: readonly ExtensionOffer[] = [];
  if (extensionsValue !== null) {
    const parsed = parseExtensions(extensionsValue);
    if (!parsed.ok) {
      return reject(400, "WS_ERR_HANDSHAKE_EXTENSIONS", `Cannot upgrade: ${parsed.reason}`);
    }
    extensions = parsed.extensions;
  }
  const origin = headers.get("origin");
  const accepted: UpgradeAccepted = {
    ok: true,
    key,
    host,
    protocols: protocols.protocols,
    extensions,
  };
  return origin === null ? accepted : { ...accepted, origin };
}

/**
 * Computes `Sec-WebSocket-Accept` (RFC 6455 §4.2.2 item 5.4):
 * base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
 *
 * @example The RFC 6455 §1.3 example
 * ```ts
 * import assert from "node:assert/strict";
 * import { computeAcceptKey } from "./handshake.ts";
 * assert(await computeAcceptKey("dGhlIHNhbXBsZSBub25jZQ==") === "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
 * ```
 *
 * @param key The client's `Sec-WebSocket-Key`, as sent.
 * @returns The base64 accept value.
 */
export async function computeAcceptKey(key: string): Promise<string> {
  const data = new TextEncoder().encode(key + WEBSOCKET_GUID);
  const digest = await crypto.subtle.digest("SHA-1", data);
  return new Uint8Array(digest).toBase64();
}

/** Options of {@linkcode buildHandshakeResponse}. */
export interface HandshakeResponseOptions {
  /** The `Sec-WebSocket-Accept` value from {@linkcode computeAcceptKey}. */
  accept: string;
  /** The selected subprotocol, one the client offered; omitted when none. */
  protocol?: string;
  /** The accepted extensions with their response parameters; omitted when none. */
  extensions?: readonly ExtensionOffer[];
  /** Extra header fields (e.g. `Set-Cookie`); printable ASCII values only. */
  headers?: HeadersInit;
}

const RESPONSE_RESERVED: ReadonlySet<string> = new Set([
  "upgrade",
  "connection",
  "sec-websocket-accept",
  "sec-websocket-protocol",
  "sec-websocket-extensions",
  "content-length",
  "transfer-encoding",
]);

/**
 * Writes the `101 Switching Protocols` head (RFC 6455 §4.2.2 item 5), ending with the
 * blank line. The string is ASCII; send it as `new TextEncoder().encode(head)`.
 *
 * @example Answer the RFC 6455 §1.3 sample request
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildHandshakeResponse, computeAcceptKey } from "./handshake.ts";
 * const head = buildHandshakeResponse({
 *   accept: await computeAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="),
 *   protocol: "chat",
 * });
 * assert(head === "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
 *   "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
 *   "Sec-WebSocket-Protocol: chat\r\n\r\n");
 * ```
 *
 * @param options The accept value, the chosen subprotocol and extensions, extra fields.
 * @returns The response head.
 * @throws {TypeError} When `accept` is not 28 base64 characters, `protocol` is not a token,
 * an extension cannot be formatted, or an extra header is reserved or not ASCII.
 */
export function buildHandshakeResponse(options: HandshakeResponseOptions): string {
  const context = "Cannot build handshake response";
  const { accept, protocol, extensions, headers } = options;
  if (typeof accept !== "string" || !/^[A-Za-z0-9+/]{27}=$/.test(accept)) {
    throw new TypeError(`${context}: accept must be the base64 of a SHA-1 digest`);
  }
  let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${accept}\r\n`;
  if (protocol !== undefined) {
    if (!isToken(protocol)) {
      throw new TypeError(`${context}: protocol ${JSON.stringify(protocol)} is not a token`);
    }
    head += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  }
  if (extensions !== undefined && extensions.length > 0) {
    head += `Sec-WebSocket-Extensions: ${formatExtensions(extensions)}\r\n`;
  }
  return head + writeFields(headers, RESPONSE_RESERVED, context) + "\r\n";
}

const REJECTION_RESERVED: ReadonlySet<string> = new Set([
  "connection",
  "content-length",
  "content-type",
  "transfer-encoding",
]);

/**
 * Writes a complete small error response: status line, `Content-Type: text/plain;
 * charset=utf-8`, `Content-Length`, `Connection: close` (plus the `Upgrade` option when an
 * `Upgrade` field is given, RFC 9110 §7.8), the given fields, and `reason` as the body.
 * The body may be any Unicode; send the whole string as `new TextEncoder().encode(text)`
 * (`Content-Length` counts UTF-8 bytes), then close the connection.
 *
 * @example Reject a request for an unsupported version
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildRejectionResponse, validateUpgradeRequest } from "./handshake.ts";
 * const result = validateUpgradeRequest({
 *   method: "GET",
 *   httpVersion: "1.1",
 *   headers: new Headers({ Host: "a", Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Version": "8" }),
 * });
 * if (result.ok) throw new Error("expected a rejection");
 * const text = buildRejectionResponse(result.status, result.reason, result.headers);
 * assert(text.startsWith("HTTP/1.1 426 Upgrade Required\r\n"));
 * assert(text.includes("\r\nsec-websocket-version: 13\r\n"));
 * ```
 *
 * @param status An error status, 400 to 599.
 * @param reason The plain-text body, e.g. a rejection's `reason`.
 * @param headers Extra header fields, e.g. a rejection's `headers`; printable ASCII only.
 * @returns The response head and body.
 * @throws {RangeError} When `status` is not an integer from 400 to 599.
 * @throws {TypeError} When a header is reserved or not ASCII.
 */
export function buildRejectionResponse(
  status: number,
  reason: string,
  headers?: HeadersInit,
): string {
  const context = "Cannot build rejection response";
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`${context}: status must be an integer from 400 to 599, got ${status}`);
  }
  const extra = headers === undefined ? new Headers() : new Headers(headers);
  const body = `${reason}\n`;
  const length = new TextEncoder().encode(body).length;
  const connection = extra.has("upgrade") ? "Upgrade, close" : "close";
  const text = STATUS_TEXT[status] ?? "";
  assertAsciiValue(text, "status text", context);
  return `HTTP/1.1 ${status} ${text}\r\n` +
    `Connection: ${connection}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${length}\r\n` + writeFields(extra, REJECTION_RESERVED, context) + "\r\n" +
    body;
}

/**
 * Turns a parsed request head into the input of {@linkcode validateUpgradeRequest}.
 *
 * @example Parse then validate
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeadParser } from "../http/head_parser.ts";
 * import { upgradeRequestFromHead, validateUpgradeRequest } from "./handshake.ts";
 * const parser = new HeadParser({ kind: "request" });
 * const event = parser.receive(new TextEncoder().encode(
 *   "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
 *     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
 * ));
 * if (event?.type !== "head") throw new Error("expected a head");
 * assert(validateUpgradeRequest(upgradeRequestFromHead(event.head)).ok);
 * ```
 *
 * @param head A `RequestHead` from a request `HeadParser` (lib/http), or anything with
 *   `method`, `httpVersion` and `headers`; other properties are left out.
 * @returns Its method, version and header fields.
 */
export function upgradeRequestFromHead(head: UpgradeRequest): UpgradeRequest {
  return { method: head.method, httpVersion: head.httpVersion, headers: head.headers };
}

function reject(
  status: 400 | 405 | 426,
  code: HandshakeErrorCode,
  reason: string,
  headers?: Record<string, string>,
): UpgradeRejected {
  return { ok: false, status, code, reason, headers: new Headers(headers) };
}
