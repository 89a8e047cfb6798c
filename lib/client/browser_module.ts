/**
 * The browser module served at `GET /pushwire.js`, built at import time from the client's
 * TypeScript source with no build step: every class and function of `lib/client/` is already
 * JavaScript once the runtime has loaded it, so the module text is their `toString()` joined,
 * after the few constants they share, with an `export` list at the end. Tests load the result
 * in Deno and in Chromium, so a part missing from the list fails them.
 *
 * Mount with `createHubHandler(hub, {routes: {"/pushwire.js": pushwireScriptRoute,
 * "/pushwire.d.ts": pushwireScriptRoute}})`.
 *
 * @module
 */
import { Backoff } from "./backoff.ts";
import { ChannelCursor } from "./channel_cursor.ts";
import { IframeTransport } from "./iframe_transport.ts";
import { LongPollTransport, ShortPollTransport } from "./poll_transports.ts";
import {
  browserEnvironment,
  createClient,
  publish,
  PushwireClient,
  subscribe,
} from "./pushwire_client.ts";
import { PUSHWIRE_DTS } from "./pushwire_dts.ts";
import { SseEventParser } from "./sse_event_parser.ts";
import { SseTransport } from "./sse_transport.ts";
import { TRANSPORT_NAMES, TransportSelector } from "./transport_selector.ts";
import { PUSHWIRE_SUBPROTOCOL, WebSocketTransport } from "./websocket_transport.ts";
import {
  applyBatch,
  channelUrl,
  failureOf,
  isRefusal,
  parseData,
  placeChannel,
  reportFailure,
  requestJson,
  sleep,
} from "./_http.ts";
import { ChannelLoops } from "./_channel_loops.ts";
import { SubscriptionImpl } from "./_subscription.ts";
import { callApp, isChannelName, positive } from "./_util.ts";

// Every class and function the client needs, a base class before its subclasses.
// deno-lint-ignore ban-types
const PARTS: readonly Function[] = [
  Backoff,
  ChannelCursor,
  TransportSelector,
  SseEventParser,
  channelUrl,
  isRefusal,
  failureOf,
  reportFailure,
  requestJson,
  applyBatch,
  placeChannel,
  sleep,
  parseData,
  callApp,
  positive,
  isChannelName,
  SubscriptionImpl,
  ChannelLoops,
  SseTransport,
  LongPollTransport,
  ShortPollTransport,
  IframeTransport,
  WebSocketTransport,
  browserEnvironment,
  PushwireClient,
  createClient,
  subscribe,
  publish,
];

const EXPORTS = [
  "PushwireClient",
  "createClient",
  "subscribe",
  "publish",
  "TRANSPORT_NAMES",
  "PUSHWIRE_SUBPROTOCOL",
];

function buildModule(): string {
  const lines = [
    "// pushwire browser client (ES module, no dependencies). Types: ./pushwire.d.ts",
    `const TRANSPORT_NAMES = Object.freeze(${JSON.stringify(TRANSPORT_NAMES)});`,
    `const PUSHWIRE_SUBPROTOCOL = ${JSON.stringify(PUSHWIRE_SUBPROTOCOL)};`,
    "const sharedClients = new Map();",
  ];
  for (const part of PARTS) lines.push(part.toString());
  lines.push(`export { ${EXPORTS.join(", ")} };`, "");
  return lines.join("\n");
}

/** The JavaScript text of `GET /pushwire.js`. */
export const PUSHWIRE_JS: string = buildModule();

export { PUSHWIRE_DTS };

/** A strong validator of `text`: two 32-bit FNV-1a hashes (different offsets) and the length. */
function etagOf(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return `"pw-${hex(a)}${hex(b)}-${text.length.toString(36)}"`;
}

const JS_ETAG = etagOf(PUSHWIRE_JS);
const DTS_ETAG = etagOf(PUSHWIRE_DTS);

/** Whether an `If-None-Match` value matches `etag` (weak comparison, RFC 9110 §13.1.2). */
function matches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

/**
 * Serves the client: `GET`/`HEAD` of a path ending in `.d.ts` gets the declaration, any other
 * path the module. `ETag` + `Cache-Control: no-cache` (a cheap `304` once cached),
 * `Access-Control-Allow-Origin: *` (a page on another origin may import it), `nosniff`.
 *
 * @example Serve and revalidate
 * ```ts
 * import assert from "node:assert/strict";
 * import { pushwireScriptRoute } from "./browser_module.ts";
 * const first = pushwireScriptRoute(new Request("http://hub/pushwire.js"));
 * assert.equal(first.headers.get("Content-Type"), "text/javascript; charset=utf-8");
 * await first.body?.cancel();
 * const again = pushwireScriptRoute(new Request("http://hub/pushwire.js", {
 *   headers: { "If-None-Match": first.headers.get("ETag")! },
 * }));
 * assert.equal(again.status, 304);
 * ```
 */
export function pushwireScriptRoute(request: Request): Response {
  const declaration = new URL(request.url).pathname.endsWith(".d.ts");
  const headers = new Headers({
    "Access-Control-Allow-Origin": "*",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "cross-origin",
  });
  if (request.method === "OPTIONS") {
    headers.set("Allow", "GET, HEAD, OPTIONS");
    headers.set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
    return new Response(null, { status: 204, headers });
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    headers.set("Allow", "GET, HEAD, OPTIONS");
    headers.set("Content-Type", "application/json; charset=utf-8");
    return new Response(
      JSON.stringify({
        error: `Cannot route: ${request.method} is not GET`,
        code: "HUB_ERR_METHOD_NOT_ALLOWED",
      }),
      { status: 405, headers },
    );
  }
  const etag = declaration ? DTS_ETAG : JS_ETAG;
  headers.set("ETag", etag);
  headers.set(
    "Content-Type",
    declaration ? "application/typescript; charset=utf-8" : "text/javascript; charset=utf-8",
  );
  if (!declaration) headers.set("X-TypeScript-Types", "./pushwire.d.ts");
  if (matches(request.headers.get("If-None-Match"), etag)) {
    return new Response(null, { status: 304, headers });
  }
  const body = request.method === "HEAD" ? null : (declaration ? PUSHWIRE_DTS : PUSHWIRE_JS);
  return new Response(body, { headers });
}
