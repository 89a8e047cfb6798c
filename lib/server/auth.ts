/**
 * Optional access control: HS256 JSON Web Tokens (RFC 7519, RFC 7515) naming the channels a
 * client may subscribe to and publish on. Verified with `crypto.subtle` (HMAC-SHA-256;
 * `subtle.verify` compares in constant time).
 *
 * Claims: `subscribe` and `publish` are arrays of channel patterns, each a channel name or a
 * prefix ending in `*` (`"chat.*"` grants `chat.room1`; `"*"` grants all). They are not named
 * `sub`/`pub` because `sub` is the registered "subject" claim (RFC 7519 §4.1.2). `exp` and
 * `nbf` (seconds since the epoch) are checked when present.
 *
 * A token is taken from `Authorization: Bearer TOKEN`, else `?token=TOKEN` (for transports
 * that cannot set headers: EventSource, iframes, plugin sockets), else the `pushwire_token`
 * cookie.
 *
 * @module
 */
import { type HubError, hubError } from "../hub/hub_error.ts";
import { decodeBase64Url, encodeBase64Url } from "./_base64url.ts";

/** The cookie a token may travel in. */
export const TOKEN_COOKIE = "pushwire_token";
/** The query parameter a token may travel in. */
export const TOKEN_PARAM = "token";

/** The claims pushwire reads from a token; others are kept and ignored. */
export interface TokenClaims {
  /** Channel patterns the bearer may subscribe to (poll, long poll, SSE, iframe, WebSocket). */
  readonly subscribe?: readonly string[];
  /** Channel patterns the bearer may publish on. */
  readonly publish?: readonly string[];
  /** RFC 7519 §4.1.4: expiry, seconds since the epoch. */
  readonly exp?: number;
  /** RFC 7519 §4.1.5: not valid before, seconds since the epoch. */
  readonly nbf?: number;
  /** Any other claim. */
  readonly [claim: string]: unknown;
}

/** What a token grants. */
export type TokenAction = "subscribe" | "publish";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const HEADER = encodeBase64Url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));

/**
 * Imports `secret` as an HMAC-SHA-256 key for {@linkcode verifyToken}; import once, verify
 * many times.
 *
 * @example Import a key
 * ```ts
 * import assert from "node:assert/strict";
 * import { importTokenKey } from "./auth.ts";
 * const key = await importTokenKey("s3cret");
 * assert.ok(key.algorithm.name === "HMAC");
 * ```
 */
export function importTokenKey(secret: string): Promise<CryptoKey> {
  if (secret.length === 0) throw new TypeError("Cannot import token key: the secret is empty");
  return crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/**
 * Signs `claims` as an HS256 JWT.
 *
 * @example A token for one chat room, valid one hour
 * ```ts
 * import assert from "node:assert/strict";
 * import { signToken } from "./auth.ts";
 * const token = await signToken(
 *   { subscribe: ["chat.*"], publish: ["chat.room1"], exp: Math.floor(Date.now() / 1000) + 3600 },
 *   "s3cret",
 * );
 * assert.ok(token.split(".").length === 3);
 * ```
 */
export async function signToken(
  claims: TokenClaims,
  secret: string | CryptoKey,
): Promise<string> {
  const key = typeof secret === "string" ? await importTokenKey(secret) : secret;
  const input = `${HEADER}.${encodeBase64Url(encoder.encode(JSON.stringify(claims)))}`;
  const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(input));
  return `${input}.${encodeBase64Url(new Uint8Array(signature))}`;
}

function unauthorized(reason: string): HubError {
  return hubError("HUB_ERR_UNAUTHORIZED", 401, `Cannot authenticate: ${reason}`);
}

function isPatternList(value: unknown): boolean {
  return value === undefined ||
    (Array.isArray(value) && value.every((item) => typeof item === "string"));
}

function parseJsonPart(part: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64Url(part);
  if (bytes === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies an HS256 JWT and returns its claims, or a `HubError` (401) when it is malformed,
 * not HS256, forged, expired (`exp`) or not yet valid (`nbf`). `now` is in milliseconds.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { signToken, verifyToken } from "./auth.ts";
 * const token = await signToken({ subscribe: ["news"] }, "s3cret");
 * const claims = await verifyToken(token, "s3cret");
 * assert.ok(!("type" in claims && claims.type === "error"));
 * const forged = await verifyToken(token, "other");
 * assert.ok("code" in forged && forged.code === "HUB_ERR_UNAUTHORIZED");
 * ```
 */
export async function verifyToken(
  token: string,
  secret: string | CryptoKey,
  now: number = Date.now(),
): Promise<TokenClaims | HubError> {
  const parts = token.split(".");
  if (parts.length !== 3) return unauthorized("the token is not a JWS compact serialization");
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = parseJsonPart(headerPart);
  // RFC 8725 §3.1: accept only the expected algorithm ("none" and others are refused).
  if (header === undefined || header.alg !== "HS256") {
    return unauthorized("the token header is malformed or not HS256");
  }
  const signature = decodeBase64Url(signaturePart);
  if (signature === undefined) return unauthorized("the token signature is malformed");
  const key = typeof secret === "string" ? await importTokenKey(secret) : secret;
  const valid = await crypto.subtle.verify(
    "HMAC",
    key,
    signature,
    encoder.encode(`${headerPart}.${payloadPart}`),
  );
  if (!valid) return unauthorized("the token signature is invalid");
  const claims = parseJsonPart(payloadPart);
  if (claims === undefined) return unauthorized("the token claims are malformed");
  if (!isPatternList(claims.subscribe) || !isPatternList(claims.publish)) {
    return unauthorized('the "subscribe" and "publish" claims must be arrays of strings');
  }
  const seconds = now / 1000;
  if (claims.exp !== undefined && !(typeof claims.exp === "number" && seconds < claims.exp)) {
    return unauthorized("the token has expired");
  }
  if (claims.nbf !== undefined && !(typeof claims.nbf === "number" && seconds >= claims.nbf)) {
    return unauthorized("the token is not valid yet");
  }
  return claims as TokenClaims;
}

/**
 * Reports whether `claims` grant `action` on `channel`: some pattern equals the channel, or
 * ends in `*` and the channel starts with what precedes it.
 *
 * @example Wildcards
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAllowed } from "./auth.ts";
 * const claims = { subscribe: ["news", "chat.*"] };
 * assert.ok(isAllowed(claims, "subscribe", "chat.room1"));
 * assert.ok(!isAllowed(claims, "subscribe", "chatroom"));
 * assert.ok(!isAllowed(claims, "publish", "news"));
 * ```
 */
export function isAllowed(claims: TokenClaims, action: TokenAction, channel: string): boolean {
  const patterns = claims[action];
  if (patterns === undefined) return false;
  for (const pattern of patterns) {
    if (pattern.endsWith("*")) {
      if (channel.startsWith(pattern.slice(0, -1))) return true;
    } else if (pattern === channel) {
      return true;
    }
  }
  return false;
}

/**
 * The token a request carries: `Authorization: Bearer`, else `?token=`, else the
 * `pushwire_token` cookie. Undefined when none.
 *
 * @example From a header or a cookie
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenOf } from "./auth.ts";
 * assert.ok(tokenOf(new Request("http://x/", { headers: { Authorization: "Bearer abc" } })) === "abc");
 * assert.ok(tokenOf(new Request("http://x/", { headers: { Cookie: "a=1; pushwire_token=t" } })) === "t");
 * assert.ok(tokenOf(new Request("http://x/?token=q")) === "q");
 * ```
 */
export function tokenOf(request: Request, url: URL = new URL(request.url)): string | undefined {
  const authorization = request.headers.get("Authorization");
  if (authorization !== null) {
    const match = /^Bearer +([^ ]+) *$/i.exec(authorization);
    if (match !== null) return match[1];
  }
  const param = url.searchParams.get(TOKEN_PARAM);
  if (param !== null && param !== "") return param;
  const cookie = request.headers.get("Cookie");
  if (cookie !== null) {
    for (const pair of cookie.split(";")) {
      const eq = pair.indexOf("=");
      if (eq !== -1 && pair.slice(0, eq).trim() === TOKEN_COOKIE) {
        const value = pair.slice(eq + 1).trim();
        if (value !== "") return value;
      }
    }
  }
  return undefined;
}

/**
 * Refuses a token that came only from the `pushwire_token` cookie on a request from another
 * site: a page elsewhere can make the browser send a form POST or open a WebSocket with the
 * victim's cookie attached (cross-site request forgery, cross-site WebSocket hijacking), but
 * it cannot set the `Authorization` header or know the `?token=`. The request's own host and
 * the origins in `trusted` are allowed; a request without `Origin` (not from a browser page,
 * or a same-origin GET) is allowed.
 *
 * @param request The request (only its headers are read).
 * @param url The request URL (`?token=` and the host the client addressed).
 * @param trusted Origins allowed with credentials (`"*"` trusts none of them for cookies).
 * @returns A 403 error when refused, else undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crossSiteCookieError } from "./auth.ts";
 * const url = new URL("http://hub.example/channels/news");
 * const forged = new Headers({ Cookie: "pushwire_token=t", Origin: "https://evil.example" });
 * assert.equal(crossSiteCookieError({ headers: forged }, url, "*")?.status, 403);
 * const own = new Headers({ Cookie: "pushwire_token=t", Origin: "http://hub.example" });
 * assert.equal(crossSiteCookieError({ headers: own }, url, "*"), undefined);
 * ```
 */
export function crossSiteCookieError(
  request: { readonly headers: Headers },
  url: URL,
  trusted: "*" | readonly string[] | undefined,
): HubError | undefined {
  const headers = request.headers;
  if (/^Bearer +[^ ]+ *$/i.test(headers.get("Authorization") ?? "")) return undefined;
  if ((url.searchParams.get(TOKEN_PARAM) ?? "") !== "") return undefined;
  const origin = headers.get("Origin");
  if (origin === null) return undefined;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined; // "null" (sandboxed pages, file:) and garbage: never the own host
  }
  // Hosts, not origins: behind a TLS-terminating proxy the URL says http while Origin says https.
  if (host === url.host) return undefined;
  if (trusted !== undefined && trusted !== "*" && trusted.includes(origin)) return undefined;
  return hubError(
    "HUB_ERR_FORBIDDEN",
    403,
    `Cannot authenticate: the token cookie is not accepted from origin "${
      origin.slice(0, 100)
    }" (send the token as Authorization: Bearer or ?token=)`,
  );
}
