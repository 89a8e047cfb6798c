/**
 * Cross-origin access for every transport (Fetch standard, "CORS protocol").
 *
 * Default (`allowOrigins` unset or `"*"`): `Access-Control-Allow-Origin: *` without
 * credentials, which is safe for public channels: browsers then send no cookies cross-origin,
 * and tokens travel in `Authorization` or `?token=`. With a list of origins, a listed
 * `Origin` is echoed with `Access-Control-Allow-Credentials: true` (cookies allowed), and any
 * other origin gets no CORS header at all.
 *
 * @module
 */

/** Headers a preflight allows: what the transports and the browser client send. */
export const CORS_ALLOWED_HEADERS = "Content-Type, Authorization, Last-Event-ID, Cache-Control";
/** Methods a preflight allows. */
export const CORS_ALLOWED_METHODS = "GET, POST, OPTIONS";
/** Default seconds a browser may cache a preflight. */
export const DEFAULT_CORS_MAX_AGE = 600;

/** Who may call the hub from another origin. */
export interface CorsOptions {
  /**
   * `"*"`: any origin, without credentials. A list: exactly these origins
   * (`"https://app.example"`), with credentials.
   * @default {"*"}
   */
  readonly allowOrigins?: "*" | readonly string[];
  /**
   * Seconds a preflight answer may be cached.
   * @default {600}
   */
  readonly maxAge?: number;
}

/**
 * The CORS response headers for `request` (empty when its origin is not allowed or it sent no
 * `Origin`).
 *
 * @example A listed origin gets credentials
 * ```ts
 * import assert from "node:assert/strict";
 * import { corsHeaders } from "./cors.ts";
 * const request = new Request("http://hub/", { headers: { Origin: "https://app.example" } });
 * const headers = corsHeaders(request, { allowOrigins: ["https://app.example"] });
 * assert.ok(headers.get("Access-Control-Allow-Credentials") === "true");
 * ```
 */
export function corsHeaders(request: Request, options: CorsOptions = {}): Headers {
  const headers = new Headers();
  const origin = request.headers.get("Origin");
  const allow = options.allowOrigins ?? "*";
  if (allow === "*") {
    headers.set("Access-Control-Allow-Origin", "*");
  } else if (origin !== null && allow.includes(origin)) {
    // Fetch §3.2.5: a credentialed response must name the exact origin, never "*".
    headers.set("Access-Control-Allow-Origin", origin);
    headers.set("Access-Control-Allow-Credentials", "true");
  }
  if (allow !== "*") headers.set("Vary", "Origin");
  return headers;
}

/**
 * The answer to an `OPTIONS` preflight: `204` with the allowed methods and headers
 * (`Content-Type`, `Authorization`, `Last-Event-ID`) when the origin is allowed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preflightResponse } from "./cors.ts";
 * const response = preflightResponse(
 *   new Request("http://hub/channels/a", { method: "OPTIONS", headers: { Origin: "http://x" } }),
 * );
 * assert.ok(response.status === 204);
 * assert.ok(response.headers.get("Access-Control-Allow-Headers")!.includes("Last-Event-ID"));
 * ```
 */
export function preflightResponse(request: Request, options: CorsOptions = {}): Response {
  const headers = corsHeaders(request, options);
  if (headers.has("Access-Control-Allow-Origin")) {
    headers.set("Access-Control-Allow-Methods", CORS_ALLOWED_METHODS);
    headers.set("Access-Control-Allow-Headers", CORS_ALLOWED_HEADERS);
    headers.set("Access-Control-Max-Age", String(options.maxAge ?? DEFAULT_CORS_MAX_AGE));
  }
  headers.set("Allow", CORS_ALLOWED_METHODS);
  return new Response(null, { status: 204, headers });
}
