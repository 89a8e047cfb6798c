import assert from "node:assert/strict";
import { corsHeaders, preflightResponse } from "../../lib/server/cors.ts";

const from = (origin?: string, method = "GET") =>
  new Request("http://hub/channels/c", { method, headers: origin ? { Origin: origin } : {} });

Deno.test("corsHeaders allows any origin without credentials by default", () => {
  const headers = corsHeaders(from("http://a.test"));
  assert.equal(headers.get("Access-Control-Allow-Origin"), "*");
  assert.equal(headers.get("Access-Control-Allow-Credentials"), null);
});

Deno.test("corsHeaders echoes a listed origin with credentials, never *", () => {
  const options = { allowOrigins: ["http://a.test"] };
  const ok = corsHeaders(from("http://a.test"), options);
  assert.equal(ok.get("Access-Control-Allow-Origin"), "http://a.test");
  assert.equal(ok.get("Access-Control-Allow-Credentials"), "true");
  assert.equal(ok.get("Vary"), "Origin");
  assert.equal(
    corsHeaders(from("http://b.test"), options).get("Access-Control-Allow-Origin"),
    null,
  );
  assert.equal(corsHeaders(from(), options).get("Access-Control-Allow-Origin"), null);
});

Deno.test("preflightResponse allows the transports' request headers and caches", () => {
  const response = preflightResponse(from("http://a.test", "OPTIONS"), { maxAge: 60 });
  assert.equal(response.status, 204);
  assert.equal(
    response.headers.get("Access-Control-Allow-Headers"),
    "Content-Type, Authorization, Last-Event-ID, Cache-Control",
  );
  assert.equal(response.headers.get("Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  assert.equal(response.headers.get("Access-Control-Max-Age"), "60");
  const refused = preflightResponse(from("http://b.test", "OPTIONS"), { allowOrigins: [] });
  assert.equal(refused.headers.get("Access-Control-Allow-Methods"), null);
});
