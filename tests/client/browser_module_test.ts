import assert from "node:assert/strict";
import { PUSHWIRE_DTS, PUSHWIRE_JS, pushwireScriptRoute } from "../../lib/client/browser_module.ts";

Deno.test("pushwireScriptRoute serves the module with its type, validator and CORS", async () => {
  const response = pushwireScriptRoute(new Request("http://hub/pushwire.js"));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal(response.headers.get("cache-control"), "no-cache");
  assert.equal(response.headers.get("x-typescript-types"), "./pushwire.d.ts");
  assert.match(response.headers.get("etag")!, /^"pw-[0-9a-f]{16}-[0-9a-z]+"$/);
  assert.equal(await response.text(), PUSHWIRE_JS);
});

Deno.test("pushwireScriptRoute answers 304 to a matching If-None-Match, weak or listed", async () => {
  const etag = pushwireScriptRoute(new Request("http://hub/pushwire.js")).headers.get("etag")!;
  for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
    const response = pushwireScriptRoute(
      new Request("http://hub/pushwire.js", { headers: { "If-None-Match": header } }),
    );
    assert.equal(response.status, 304, header);
    assert.equal(response.body, null);
    assert.equal(response.headers.get("etag"), etag);
  }
  const stale = pushwireScriptRoute(
    new Request("http://hub/pushwire.js", { headers: { "If-None-Match": '"pw-0"' } }),
  );
  assert.equal(stale.status, 200);
  await stale.body?.cancel();
});

Deno.test("pushwireScriptRoute serves the declaration at a .d.ts path with its own ETag", async () => {
  const js = pushwireScriptRoute(new Request("http://hub/pushwire.js"));
  const dts = pushwireScriptRoute(new Request("http://hub/pushwire.d.ts"));
  assert.equal(dts.headers.get("content-type"), "application/typescript; charset=utf-8");
  assert.notEqual(dts.headers.get("etag"), js.headers.get("etag"));
  assert.equal(await dts.text(), PUSHWIRE_DTS);
  await js.body?.cancel();
});

Deno.test("pushwireScriptRoute answers HEAD without a body and refuses other methods", async () => {
  const head = pushwireScriptRoute(new Request("http://hub/pushwire.js", { method: "HEAD" }));
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
  const post = pushwireScriptRoute(new Request("http://hub/pushwire.js", { method: "POST" }));
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD, OPTIONS");
  assert.equal((await post.json()).code, "HUB_ERR_METHOD_NOT_ALLOWED");
  const options = pushwireScriptRoute(new Request("http://hub/pushwire.js", { method: "OPTIONS" }));
  assert.equal(options.status, 204);
});

Deno.test("PUSHWIRE_JS is one self-contained ES module: no import, no TypeScript left", () => {
  assert.doesNotMatch(PUSHWIRE_JS, /^\s*import\s/m);
  assert.doesNotMatch(PUSHWIRE_JS, /\bDeno\./);
  assert.match(PUSHWIRE_JS, /^export \{ PushwireClient, createClient, subscribe, publish, /m);
  // It parses as a module (TypeScript syntax such as `x: string` in a signature would not).
  new Function(PUSHWIRE_JS.replace(/^export \{[^}]*\};$/m, ""));
});

Deno.test("PUSHWIRE_DTS declares every value the module exports, and no other", () => {
  const exported = PUSHWIRE_JS.match(/^export \{ ([^}]*) \};$/m)![1]!.split(", ").sort();
  const declared = [...PUSHWIRE_DTS.matchAll(/^export declare (?:const|function|class) (\w+)/gm)]
    .map((m) => m[1]!).sort();
  assert.deepEqual(declared, exported);
});

Deno.test("the implementation type-checks against PUSHWIRE_DTS in both directions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pushwire-dts-" });
  try {
    const impl = new URL("../../lib/client/pushwire_client.ts", import.meta.url).href;
    const ws = new URL("../../lib/client/websocket_transport.ts", import.meta.url).href;
    await Deno.writeTextFile(`${dir}/pushwire.d.ts`, PUSHWIRE_DTS);
    await Deno.writeTextFile(
      `${dir}/check.ts`,
      `import type * as D from "./pushwire.d.ts";
import * as I from ${JSON.stringify(impl)};
import * as W from ${JSON.stringify(ws)};
export const subscribe: typeof D.subscribe = I.subscribe;
export const subprotocol: typeof D.PUSHWIRE_SUBPROTOCOL = W.PUSHWIRE_SUBPROTOCOL;
// Assignability misses an optional member one side lacks: the member names must be the same.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const sameMembers: [
  Same<keyof I.ClientOptions, keyof D.ClientOptions>,
  Same<keyof I.SubscribeOptions, keyof D.SubscribeOptions>,
  Same<keyof I.PublishOptions, keyof D.PublishOptions>,
  Same<keyof I.BackoffOptions, keyof D.BackoffOptions>,
  Same<keyof I.ClientStatus, keyof D.ClientStatus>,
  Same<keyof I.PushwireMessage, keyof D.PushwireMessage>,
  Same<keyof I.ResetEvent, keyof D.ResetEvent>,
  Same<keyof I.RefusalEvent, keyof D.RefusalEvent>,
  Same<keyof I.Subscription, keyof D.Subscription>,
  Same<keyof I.TransportMemory, keyof D.TransportMemory>,
  Same<keyof I.PushwireClient, keyof D.PushwireClient>,
  Same<I.TransportName, D.TransportName>,
  Same<I.ClientState, D.ClientState>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true];
export const publish: typeof D.publish = I.publish;
export const createClient: typeof D.createClient = I.createClient;
export const names: typeof D.TRANSPORT_NAMES = I.TRANSPORT_NAMES;
export function asDeclared(client: I.PushwireClient): D.PushwireClient {
  return client;
}
export function asImplemented(
  options: D.SubscribeOptions & D.ClientOptions,
  status: D.ClientStatus,
  message: D.PushwireMessage,
): [I.SubscribeOptions & I.ClientOptions, I.ClientStatus, I.PushwireMessage] {
  return [options, status, message];
}
export function results(a: I.PublishResult): D.PublishResult {
  const b: I.PublishResult = a as D.PublishResult;
  return b;
}
`,
    );
    const config = new URL("../../deno.json", import.meta.url).pathname;
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", config, `${dir}/check.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
