import assert from "node:assert/strict";
import { Hub } from "../../lib/hub/hub.ts";
import { Relay } from "../../lib/relay/relay.ts";
import {
  createRelayHandler,
  type RelayHandlerOptions,
} from "../../lib/relay/relay_http_handler.ts";

function setup(options: RelayHandlerOptions = {}) {
  const hub = new Hub();
  const relay = new Relay({ source: hub, policyWindowMs: 0 });
  const handler = createRelayHandler(relay, { clock: () => 0, ...options });
  const conn = relay.open(0)!;
  const call = async (method: string, path: string) => {
    const response = await handler(new Request(`http://relay.test${path}`, { method }));
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      allow: response.headers.get("allow"),
      body: text === "" ? undefined : JSON.parse(text),
    };
  };
  return { hub, relay, conn, call };
}

Deno.test("RelayHandler subscribes with POST and answers the starting cursor", async () => {
  const { hub, conn, call } = setup();
  const m = await hub.publish("news", "x");
  const r = await call("POST", `/relay/${conn.id}/channels/news`);
  assert.equal(r.status, 200);
  assert.equal(r.type, "application/json; charset=utf-8");
  assert.deepEqual(r.body, { id: conn.id, channel: "news", cursor: await hub.position("news") });
  const resumed = await call("POST", `/relay/${conn.id}/channels/other?after=${m.id}`);
  assert.equal(resumed.status, 200);
  await hub.close();
});

Deno.test("RelayHandler leaves a channel with DELETE and reports channels with GET", async () => {
  const { hub, conn, call } = setup();
  await call("POST", `/relay/${conn.id}/channels/a`);
  await call("POST", `/relay/${conn.id}/channels/b`);
  assert.equal((await call("DELETE", `/relay/${conn.id}/channels/a`)).status, 204);
  await call("POST", `/relay/${conn.id}/channels/c`);
  // Flash can only GET and POST.
  assert.equal((await call("POST", `/relay/${conn.id}/channels/c?_method=DELETE`)).status, 204);
  const status = await call("GET", `/relay/${conn.id}`);
  assert.equal(status.status, 200);
  assert.deepEqual(Object.keys(status.body.channels), ["b"]);
  assert.equal(status.body.state, "open");
  await hub.close();
});

Deno.test("RelayHandler answers 404 for unknown or malformed ids", async () => {
  const { hub, call } = setup();
  for (
    const path of [
      "/relay/AAAAAAAAAAAAAAAAAAAAAA/channels/c",
      "/relay/%zz/channels/c",
      "/relay/x/channels/c",
    ]
  ) {
    const r = await call("POST", path);
    assert.equal(r.status, 404, path);
    assert.equal(r.body.code, "RELAY_ERR_UNKNOWN_ID");
  }
  assert.equal((await call("DELETE", "/relay/AAAAAAAAAAAAAAAAAAAAAA/channels/c")).status, 404);
  assert.equal((await call("GET", "/relay/AAAAAAAAAAAAAAAAAAAAAA")).status, 404);
  await hub.close();
});

Deno.test("RelayHandler answers 400 for a bad channel name", async () => {
  const { hub, conn, call } = setup();
  const r = await call("POST", `/relay/${conn.id}/channels/bad%20name`);
  assert.equal(r.status, 400);
  assert.equal(r.body.code, "RELAY_ERR_BAD_CHANNEL");
  await hub.close();
});

Deno.test("RelayHandler answers 405 with Allow for other methods and 404 for other paths", async () => {
  const { hub, conn, call } = setup();
  const put = await call("PUT", `/relay/${conn.id}/channels/c`);
  assert.equal(put.status, 405);
  assert.equal(put.allow, "POST, DELETE");
  const post = await call("POST", `/relay/${conn.id}`);
  assert.equal(post.status, 405);
  assert.equal(post.allow, "GET, HEAD");
  const other = await call("GET", `/relay/${conn.id}/elsewhere`);
  assert.equal(other.status, 404);
  assert.equal(other.body.code, "RELAY_ERR_NOT_FOUND");
  await hub.close();
});

Deno.test("RelayHandler answers 403 when the authorize hook refuses", async () => {
  const seen: string[] = [];
  const { hub, conn, call } = setup({
    authorize: (_request, channel) => {
      seen.push(channel);
      return channel !== "secret";
    },
  });
  assert.equal((await call("POST", `/relay/${conn.id}/channels/secret`)).status, 403);
  assert.equal((await call("POST", `/relay/${conn.id}/channels/open`)).status, 200);
  assert.deepEqual(seen, ["secret", "open"]);
  await hub.close();
});
