import assert from "node:assert/strict";
import { signToken } from "../../lib/server/auth.ts";
import { BodyReader, post, startHub } from "./_harness.ts";

const SECRET = "test-secret";

Deno.test("With a secret, channel routes answer 401 without a valid token", async () => {
  const t = startHub({ secret: SECRET });
  try {
    const forged = await signToken({ subscribe: ["*"], publish: ["*"] }, "other-secret");
    const expired = await signToken(
      { publish: ["*"], exp: Math.floor(Date.now() / 1000) - 10 },
      SECRET,
    );
    const early = await signToken(
      { publish: ["*"], nbf: Math.floor(Date.now() / 1000) + 600 },
      SECRET,
    );
    for (
      const auth of [
        undefined,
        "Bearer nope",
        `Bearer ${forged}`,
        `Bearer ${expired}`,
        `Bearer ${early}`,
      ]
    ) {
      const headers: Record<string, string> = auth === undefined ? {} : { Authorization: auth };
      const response = await post(t.base, "/channels/c", "x", "text/plain", headers);
      assert.equal(response.status, 401, auth);
      assert.equal((await response.json()).code, "HUB_ERR_UNAUTHORIZED");
    }
    for (
      const path of [
        "/channels/c",
        "/channels/c/longpoll?timeout=0",
        "/channels/c/events",
        "/channels/c/iframe",
      ]
    ) {
      const response = await fetch(`${t.base}${path}`);
      assert.equal(response.status, 401, path);
      await response.body?.cancel();
    }
    assert.equal(t.hub.stats.published, 0);
    const health = await fetch(`${t.base}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("With a secret, a valid token that does not grant the channel answers 403", async () => {
  const t = startHub({ secret: SECRET });
  try {
    const token = await signToken({ subscribe: ["news"], publish: ["chat.*"] }, SECRET);
    const publish = await post(t.base, "/channels/news", "x", "text/plain", {
      Authorization: `Bearer ${token}`,
    });
    assert.equal(publish.status, 403);
    assert.equal((await publish.json()).code, "HUB_ERR_FORBIDDEN");
    const subscribe = await fetch(`${t.base}/channels/chat.room/events?token=${token}`);
    assert.equal(subscribe.status, 403);
    await subscribe.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("With a secret, tokens from a header, a cookie or ?token= grant their channels", async () => {
  const t = startHub({ secret: SECRET });
  try {
    const token = await signToken(
      { subscribe: ["news"], publish: ["chat.*", "news"], exp: Math.floor(Date.now() / 1000) + 60 },
      SECRET,
    );
    const published = await post(t.base, "/channels/chat.room1", "hi", "text/plain", {
      Authorization: `Bearer ${token}`,
    });
    assert.equal(published.status, 201);
    await published.body?.cancel();
    const poll = await fetch(`${t.base}/channels/news`, {
      headers: { Cookie: `other=1; pushwire_token=${token}` },
    });
    assert.equal(poll.status, 200);
    await poll.body?.cancel();
    const reader = new BodyReader(await fetch(`${t.base}/channels/news/events?token=${token}`));
    const sent = await post(t.base, "/channels/news", "live", "text/plain", {
      Authorization: `Bearer ${token}`,
    });
    await sent.body?.cancel();
    await reader.waitFor((s) => s.includes("data: live"));
    await reader.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("With a secret, a cookie token is refused from another site's page, accepted from the hub's own", async () => {
  const t = startHub({ secret: SECRET });
  try {
    const token = await signToken({ subscribe: ["news"], publish: ["news"] }, SECRET);
    const cookie = `pushwire_token=${token}`;
    const own = new URL(t.base).origin;
    // A form POST from another site carries the cookie but cannot set a header: forgery.
    const forged = await post(t.base, "/channels/news", "x", "text/plain", {
      Cookie: cookie,
      Origin: "https://evil.example",
    });
    assert.equal(forged.status, 403);
    assert.equal((await forged.json()).code, "HUB_ERR_FORBIDDEN");
    const sse = await fetch(`${t.base}/channels/news/events`, {
      headers: { Cookie: cookie, Origin: "null" },
    });
    assert.equal(sse.status, 403);
    await sse.body?.cancel();
    assert.equal(t.hub.stats.published, 0);
    for (
      const headers of [
        { Cookie: cookie, Origin: own } as Record<string, string>,
        { Cookie: cookie }, // no Origin: not a cross-site page
        { Authorization: `Bearer ${token}`, Origin: "https://evil.example" },
      ]
    ) {
      const response = await post(t.base, "/channels/news", "ok", "text/plain", headers);
      assert.equal(response.status, 201, JSON.stringify(headers));
      await response.body?.cancel();
    }
  } finally {
    await t.close();
  }
});

Deno.test("With a secret and --allow-origin, a listed origin may use the cookie", async () => {
  const t = startHub({ secret: SECRET, allowOrigins: ["https://app.example"] });
  try {
    const token = await signToken({ publish: ["news"] }, SECRET);
    const listed = await post(t.base, "/channels/news", "x", "text/plain", {
      Cookie: `pushwire_token=${token}`,
      Origin: "https://app.example",
    });
    assert.equal(listed.status, 201);
    await listed.body?.cancel();
    const other = await post(t.base, "/channels/news", "x", "text/plain", {
      Cookie: `pushwire_token=${token}`,
      Origin: "https://other.example",
    });
    assert.equal(other.status, 403);
    await other.body?.cancel();
  } finally {
    await t.close();
  }
});
