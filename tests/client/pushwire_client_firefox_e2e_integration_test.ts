// Smoke test of the served module in headless Firefox ESR: the page drives every transport in
// turn (subscribe, publish 20 messages with the module's own publish, receive them in order)
// and POSTs its results to the test server.
import assert from "node:assert/strict";
import { withTimeout } from "../_chromium.ts";
import { openInFirefox } from "./_firefox.ts";
import { RestartableHub } from "./_restartable_hub.ts";

const PAGE = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>pushwire firefox smoke</title></head><body>
<script type="module">
import * as pushwire from "/pushwire.js";
const wait = (check, ms) => new Promise((resolve, reject) => {
  const end = Date.now() + ms;
  const tick = () => check() ? resolve() : Date.now() > end ? reject(new Error("timeout")) : setTimeout(tick, 20);
  tick();
});
const report = {};
for (const transport of pushwire.TRANSPORT_NAMES) {
  const result = report[transport] = { ok: false };
  try {
    const client = pushwire.createClient("/", { transports: [transport], memory: null,
      shortPollIntervalMs: 50, longPollTimeoutS: 5 });
    const got = [];
    client.subscribe("ff." + transport, { onMessage: (m) => got.push(m.id) });
    await wait(() => client.state === "open", 30000);
    const sent = [];
    for (let i = 0; i < 20; i++) {
      const r = await pushwire.publish("/", "ff." + transport, { i });
      sent.push(r.id);
    }
    await wait(() => got.length >= 20, 30000);
    await new Promise((r) => setTimeout(r, 200));
    result.ok = JSON.stringify(got) === JSON.stringify(sent);
    result.got = got.length;
    result.transport = client.transport;
    client.close();
  } catch (error) {
    result.error = String(error);
  }
}
await fetch("/report", { method: "POST", body: JSON.stringify({ userAgent: navigator.userAgent, report }) });
</script></body></html>`;

Deno.test("pushwire.js works on every transport in headless Firefox ESR", async () => {
  let resolveReport!: (text: string) => void;
  const reported = new Promise<string>((resolve) => resolveReport = resolve);
  const server = new RestartableHub({
    routes: {
      "/": () => new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } }),
      "/report": async (request) => {
        resolveReport(await request.text());
        return new Response("ok");
      },
    },
  });
  const firefox = await openInFirefox(`${server.base}/`);
  try {
    // Generous: Firefox starts slowly on a loaded machine, then runs five transports.
    const text = await withTimeout(reported, 180_000, "the Firefox page's report").catch(
      (error) => {
        throw new Error(`${error.message}\nFirefox output:\n${firefox.output()}`);
      },
    );
    const { userAgent, report } = JSON.parse(text);
    assert.match(userAgent, /Firefox\//);
    for (const transport of ["websocket", "sse", "iframe", "longpoll", "shortpoll"]) {
      assert.deepEqual(report[transport], { ok: true, got: 20, transport }, transport);
    }
  } finally {
    await firefox.close();
    await server.close();
  }
});
