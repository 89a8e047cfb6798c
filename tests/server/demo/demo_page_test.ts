import assert from "node:assert/strict";
import {
  DEMO_PAGE_CSP,
  DEMO_PAGE_HTML,
  demoPageResponse,
  demoPageRoute,
} from "../../../lib/server/demo/demo_page.ts";
import { DEMO_SCRIPT } from "../../../lib/server/demo/_demo_script.ts";
import { DEMO_STYLE } from "../../../lib/server/demo/_demo_style.ts";

Deno.test("demoPageResponse answers an uncached HTML page with a self-only CSP", async () => {
  const response = demoPageResponse();
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(response.headers.get("cache-control"), "no-cache");
  assert.equal(response.headers.get("content-security-policy"), DEMO_PAGE_CSP);
  assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  assert.equal(await response.text(), DEMO_PAGE_HTML);
  // A fresh body every call: a Response body can be read once.
  assert.equal(await demoPageResponse().text(), DEMO_PAGE_HTML);
});

Deno.test("DEMO_PAGE_CSP allows nothing from another origin", () => {
  assert.doesNotMatch(DEMO_PAGE_CSP, /https?:|\*|wss?:/);
  assert.match(DEMO_PAGE_CSP, /default-src 'none'/);
  assert.match(DEMO_PAGE_CSP, /connect-src 'self'/);
});

Deno.test("DEMO_PAGE_HTML loads no external script, stylesheet, font or image", () => {
  assert.doesNotMatch(DEMO_PAGE_HTML, /<script[^>]*\ssrc=/i);
  assert.doesNotMatch(DEMO_PAGE_HTML, /<link[^>]*rel="stylesheet"/i);
  assert.doesNotMatch(DEMO_PAGE_HTML, /\s(?:src|href)="(?:https?:)?\/\//i);
  assert.doesNotMatch(DEMO_STYLE, /@import|@font-face|url\(/i);
  assert.equal(DEMO_PAGE_HTML.match(/<script>/g)?.length, 1);
  assert.equal(DEMO_PAGE_HTML.match(/<\/script>/g)?.length, 1);
});

Deno.test("DEMO_SCRIPT compiles and never turns data into markup", () => {
  new Function(DEMO_SCRIPT); // a syntax error throws here; nothing runs
  assert.doesNotMatch(DEMO_SCRIPT, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  assert.doesNotMatch(DEMO_SCRIPT, /<\/script|<!--/i);
});

Deno.test("DEMO_PAGE_HTML offers every transport in each of its three panes", () => {
  for (const pane of ["chat", "quotes", "sensors"]) {
    const section = DEMO_PAGE_HTML.slice(DEMO_PAGE_HTML.indexOf(`id="pane-${pane}"`));
    const select = section.slice(section.indexOf("<select"), section.indexOf("</select>"));
    const values = [...select.matchAll(/<option value="([a-z]+)">/g)].map((m) => m[1]);
    assert.deepEqual(values, ["websocket", "sse", "longpoll", "shortpoll", "iframe"], pane);
  }
});

Deno.test("demoPageRoute serves GET and HEAD and refuses other methods with 405", async () => {
  const get = demoPageRoute(new Request("http://hub/"));
  assert.equal(get.status, 200);
  assert.equal(await get.text(), DEMO_PAGE_HTML);
  const head = demoPageRoute(new Request("http://hub/", { method: "HEAD" }));
  assert.equal(head.status, 200);
  await head.body?.cancel();
  for (const method of ["POST", "PUT", "DELETE"]) {
    const response = demoPageRoute(new Request("http://hub/", { method, body: "x" }));
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.get("allow"), "GET, HEAD");
    await response.body?.cancel();
  }
});
