// Response builders shared by the routes.
import type { ReadResult } from "../hub/broker.ts";
import type { HubError } from "../hub/hub_error.ts";
import { messageJson } from "../hub/message.ts";

const JSON_TYPE = "application/json; charset=utf-8";

/** A JSON response with `headers` (CORS) added. */
export function jsonResponse(status: number, json: string, headers: Headers): Response {
  // A header list, not a Headers copy: a release of 1,000 long-poll waiters builds 1,000 of these.
  const out: [string, string][] = [["Content-Type", JSON_TYPE], ["Cache-Control", "no-store"]];
  for (const entry of headers) out.push(entry);
  return new Response(json, { status, headers: out });
}

/** `{"error": message, "code": code}` with the error's status. */
export function errorResponse(error: HubError, headers: Headers, extra?: HeadersInit): Response {
  const response = jsonResponse(
    error.status,
    JSON.stringify({ error: error.message, code: error.code }),
    headers,
  );
  if (extra !== undefined) { for (const [k, v] of new Headers(extra)) response.headers.set(k, v); }
  return response;
}

const pollJsonCache = new WeakMap<ReadResult, string>();

/** The poll JSON: `{"messages":[...],"cursor":ID,"reset"?:true}`, each message's JSON cached. */
export function pollJson(result: ReadResult): string {
  // Waiters released together share one result object: serialize it once.
  const cached = pollJsonCache.get(result);
  if (cached !== undefined) return cached;
  let json = '{"messages":[';
  const messages = result.messages;
  for (let i = 0; i < messages.length; i++) {
    if (i > 0) json += ",";
    json += messageJson(messages[i]!);
  }
  json += `],"cursor":${JSON.stringify(result.cursor)}`;
  if (result.reset) json += ',"reset":true';
  json += "}";
  pollJsonCache.set(result, json);
  return json;
}

/** Headers of every streaming response: no caching, no proxy buffering. */
export function streamingHeaders(headers: Headers, contentType: string): Headers {
  const out = new Headers(headers);
  out.set("Content-Type", contentType);
  out.set("Cache-Control", "no-cache, no-transform");
  out.set("X-Accel-Buffering", "no");
  return out;
}
