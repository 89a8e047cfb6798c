import assert from "node:assert/strict";
import {
  isAllowed,
  signToken,
  type TokenClaims,
  tokenOf,
  verifyToken,
} from "../../lib/server/auth.ts";
import type { HubError } from "../../lib/hub/hub_error.ts";

const b64url = (text: string) =>
  btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function code(result: TokenClaims | HubError): string | undefined {
  return (result as HubError).type === "error" ? (result as HubError).code : undefined;
}

Deno.test("signToken produces an HS256 JWT that verifyToken accepts", async () => {
  const token = await signToken({ subscribe: ["a"], custom: 1 }, "k");
  const [header] = token.split(".");
  assert.deepEqual(JSON.parse(atob(header!.replace(/-/g, "+").replace(/_/g, "/"))), {
    alg: "HS256",
    typ: "JWT",
  });
  const claims = await verifyToken(token, "k");
  assert.deepEqual(claims, { subscribe: ["a"], custom: 1 });
});

Deno.test("verifyToken matches an RFC 7515 style HS256 token computed independently", async () => {
  // A token built by hand with WebCrypto, as any JWT library would build it.
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode("secret"),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const input = `${b64url('{"alg":"HS256"}')}.${b64url('{"publish":["x"]}')}`;
  const signature = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)),
  );
  const token = `${input}.${b64url(String.fromCharCode(...signature))}`;
  assert.deepEqual(await verifyToken(token, "secret"), { publish: ["x"] });
});

Deno.test("verifyToken refuses alg none, other algorithms, tampering and malformed tokens", async () => {
  const good = await signToken({ publish: ["a"] }, "k");
  const [header, payload, signature] = good.split(".");
  const tampered = `${header}.${b64url('{"publish":["*"]}')}.${signature}`;
  const none = `${b64url('{"alg":"none"}')}.${payload}.`;
  const hs512 = `${b64url('{"alg":"HS512"}')}.${payload}.${signature}`;
  for (const token of [tampered, none, hs512, "a.b", "a.b.c.d", "", `${header}.${payload}.%%%`]) {
    assert.equal(code(await verifyToken(token, "k")), "HUB_ERR_UNAUTHORIZED", token);
  }
});

Deno.test("verifyToken checks exp and nbf against the given time", async () => {
  const token = await signToken({ exp: 2000, nbf: 1000 }, "k");
  assert.equal(code(await verifyToken(token, "k", 999_000)), "HUB_ERR_UNAUTHORIZED");
  assert.equal(code(await verifyToken(token, "k", 1_000_000)), undefined);
  assert.equal(code(await verifyToken(token, "k", 1_999_999)), undefined);
  assert.equal(code(await verifyToken(token, "k", 2_000_000)), "HUB_ERR_UNAUTHORIZED");
  const bad = await signToken({ exp: "soon" } as unknown as TokenClaims, "k");
  assert.equal(code(await verifyToken(bad, "k")), "HUB_ERR_UNAUTHORIZED");
  const badList = await signToken({ subscribe: "news" } as unknown as TokenClaims, "k");
  assert.equal(code(await verifyToken(badList, "k")), "HUB_ERR_UNAUTHORIZED");
});

Deno.test("isAllowed matches exact names and trailing * prefixes only", () => {
  const claims: TokenClaims = { subscribe: ["news", "chat.*"], publish: ["*"] };
  assert.ok(isAllowed(claims, "subscribe", "news"));
  assert.ok(isAllowed(claims, "subscribe", "chat.a"));
  assert.ok(isAllowed(claims, "subscribe", "chat."));
  assert.ok(!isAllowed(claims, "subscribe", "news2"));
  assert.ok(!isAllowed(claims, "subscribe", "chat"));
  assert.ok(isAllowed(claims, "publish", "anything"));
  assert.ok(!isAllowed({}, "publish", "a"));
  assert.ok(!isAllowed({ publish: ["a*b"] }, "publish", "axb")); // * only at the end
});

Deno.test("tokenOf prefers the Authorization header, then ?token=, then the cookie", () => {
  const request = new Request("http://x/?token=q", {
    headers: { Authorization: "Bearer h", Cookie: "pushwire_token=c" },
  });
  assert.equal(tokenOf(request), "h");
  assert.equal(
    tokenOf(new Request("http://x/?token=q", { headers: { Cookie: "pushwire_token=c" } })),
    "q",
  );
  assert.equal(
    tokenOf(new Request("http://x/", { headers: { Cookie: "a=b; pushwire_token=c" } })),
    "c",
  );
  assert.equal(
    tokenOf(new Request("http://x/", { headers: { Authorization: "Basic abc" } })),
    undefined,
  );
  assert.equal(tokenOf(new Request("http://x/")), undefined);
});
