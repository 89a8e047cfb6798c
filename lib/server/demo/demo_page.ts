/**
 * The demo page a newcomer sees at `GET /` of `deno task start`: three panes showing the classic
 * uses of server push live (a chat room on `demo.chat`, a stock-quote ticker on `demo.quotes`, a
 * monitoring board on `demo.sensors`), each with a transport selector (WebSocket, SSE, long poll,
 * short poll, hidden iframe) that switches live and resumes from the last message id it saw.
 *
 * The page is one self-contained HTML document held in this module (no file reads, so it works
 * when the library is imported from JSR) with no external scripts, fonts or stylesheets.
 *
 * @module
 */
import { DEMO_SCRIPT } from "./_demo_script.ts";
import { DEMO_STYLE } from "./_demo_style.ts";

const TRANSPORT_OPTIONS: ReadonlyArray<readonly [string, string]> = [
  ["websocket", "WebSocket"],
  ["sse", "Server-Sent Events"],
  ["longpoll", "Long poll"],
  ["shortpoll", "Short poll"],
  ["iframe", "Hidden iframe"],
];

function transportSelect(pane: string): string {
  const options = TRANSPORT_OPTIONS.map(([value, label]) =>
    `<option value="${value}">${label}</option>`
  ).join("");
  return `<label class="picker"><span class="sr-only">Transport for the ${pane} pane</span>` +
    `<select class="transport" aria-label="Transport for the ${pane} pane">${options}</select></label>`;
}

function statusBar(): string {
  return `<div class="status" role="status"><span class="dot" aria-hidden="true"></span>` +
    `<span class="via"></span><span class="state">idle</span><span class="count">0 messages</span></div>` +
    `<div class="reset-notice" role="alert" hidden><span>⚠</span><span><strong>reset</strong> — ` +
    `messages after this pane's last id were already dropped from the hub's history: some data ` +
    `was lost.</span><button type="button" aria-label="Dismiss">×</button></div>`;
}

const BODY = `
<header class="wrap top">
  <div class="brand">
    <span class="logo" aria-hidden="true"></span>
    <div>
      <h1>pushwire <span>live demo</span></h1>
      <p class="tagline">Every way a server pushes data to a browser, behind one hub.</p>
    </div>
  </div>
  <label class="feed" title="Publish synthetic quotes and sensor readings from this tab with POST">
    <input type="checkbox" id="feed-toggle">
    <span class="track" aria-hidden="true"></span>
    <span class="label">Simulate feed</span>
    <span class="hint">off</span>
  </label>
</header>
<div class="wrap">
  <p class="intro">Three classic uses of server push, live. Each pane picks its own transport;
  <strong>switch it at any time</strong>: the pane resumes from the last message id it saw, so nothing
  is lost, and if the hub already dropped what it missed, the pane says so.</p>
</div>
<main class="wrap grid">
  <section class="pane" id="pane-chat" data-state="idle" data-count="0" aria-labelledby="chat-title">
    <header class="pane-head">
      <div class="pane-title">
        <h2 id="chat-title">Chat <code>demo.chat</code></h2>
        <p>Instant messaging: open this page in a second window.</p>
      </div>
      ${transportSelect("chat")}
    </header>
    ${statusBar()}
    <div class="pane-body">
      <p class="empty">No messages yet. Say hello!</p>
      <ol class="chat-log" aria-live="polite"></ol>
    </div>
    <form class="chat-form" autocomplete="off">
      <label class="sr-only" for="chat-name">Your name</label>
      <input type="text" class="name" id="chat-name" maxlength="40" placeholder="Name">
      <label class="sr-only" for="chat-text">Message</label>
      <input type="text" class="text" id="chat-text" maxlength="2000" placeholder="Write a message…">
      <button class="btn" type="submit">Send</button>
      <p class="note">Over WebSocket a message goes up the socket; otherwise with POST.</p>
    </form>
  </section>

  <section class="pane" id="pane-quotes" data-state="idle" data-count="0" aria-labelledby="quotes-title">
    <header class="pane-head">
      <div class="pane-title">
        <h2 id="quotes-title">Stock ticker <code>demo.quotes</code></h2>
        <p>Prices stream in; rows flash on every tick.</p>
      </div>
      ${transportSelect("quotes")}
    </header>
    ${statusBar()}
    <div class="pane-body">
      <table class="quotes">
        <thead><tr><th scope="col">Symbol</th><th scope="col" class="num">Price</th>
        <th scope="col" class="num">Change</th><th scope="col" class="num">Trend</th></tr></thead>
        <tbody></tbody>
      </table>
      <div class="breadth-wrap">
        <div class="section-title"><span>Market breadth</span><span class="breadth-text">no ticks yet</span></div>
        <div class="breadth" aria-hidden="true"><span class="bar-up"></span><span class="bar-down"></span></div>
      </div>
      <p class="ticker-foot updated">Waiting for the first tick…</p>
    </div>
  </section>

  <section class="pane" id="pane-sensors" data-state="idle" data-count="0" aria-labelledby="sensors-title">
    <header class="pane-head">
      <div class="pane-title">
        <h2 id="sensors-title">Monitoring <code>demo.sensors</code></h2>
        <p>Readings on <span class="sensor-name">rack-7</span>, hot-plug events below.</p>
      </div>
      ${transportSelect("sensors")}
    </header>
    ${statusBar()}
    <div class="pane-body sensors-body">
      <div class="readouts">
        <div class="readout"><div class="label"><span class="swatch temp"></span>Temperature</div>
          <div class="value"><span class="temp-value">—</span><small>°C</small></div></div>
        <div class="readout"><div class="label"><span class="swatch volt"></span>Voltage</div>
          <div class="value"><span class="volt-value">—</span><small>V</small></div></div>
      </div>
      <div class="chart-wrap">
        <canvas class="chart" role="img" aria-label="Temperature and voltage over the last minute"></canvas>
      </div>
      <div class="section-title"><span>Hot-plug events</span></div>
      <div class="hotplug-wrap">
        <p class="empty hotplug-empty">No devices plugged or unplugged yet.</p>
        <ol class="hotplug" aria-live="polite"></ol>
      </div>
    </div>
  </section>
</main>
<footer class="wrap foot">
  <div>
    <h3>Publish from anywhere</h3>
    <p>Every pane listens to a channel; anything posted to it shows up in every open tab.</p>
    <pre>curl -H 'content-type: application/json' \\
  -d '{"name":"curl","text":"hello"}' \\
  http://<span class="host">127.0.0.1:8000</span>/channels/demo.chat</pre>
  </div>
  <div>
    <h3>Where the quotes and readings come from</h3>
    <p><strong>Simulate feed</strong> publishes synthetic quotes and readings from this tab with
    <code>POST /channels/demo.quotes</code> and <code>/channels/demo.sensors</code>, so the demo needs
    nothing but the hub. It turns itself on when nothing else is publishing (a server-side simulator
    or another tab); <code>?feed=on</code> or <code>?feed=off</code> forces it.</p>
  </div>
  <div>
    <h3>The transports</h3>
    <dl>
      <dt>WebSocket</dt><dd><code>/channels/{ch}/ws</code>, one text frame per message</dd>
      <dt>SSE</dt><dd><code>/channels/{ch}/events</code>, resumes after <code>lastEventId</code></dd>
      <dt>Long poll</dt><dd><code>/channels/{ch}/longpoll?after=ID</code></dd>
      <dt>Short poll</dt><dd><code>/channels/{ch}?after=ID</code>, once a second</dd>
      <dt>iframe</dt><dd><code>/channels/{ch}/iframe?callback=NAME</code>, a forever frame</dd>
    </dl>
    <p class="small">A browser opens at most 6 HTTP/1.1 connections to one host, shared by all its
    tabs, and each SSE, long-poll or iframe pane holds one. A tab hidden for a minute lets go of
    its connections and resumes from its last ids when shown again.</p>
  </div>
</footer>`;

/**
 * The demo page: one HTML document with its CSS and script inlined.
 *
 * Query parameters it understands: `?chat=`, `?quotes=`, `?sensors=` pick a pane's first
 * transport (`websocket`, `sse`, `longpoll`, `shortpoll`, `iframe`); `?feed=on|off` forces the
 * simulated feed; `?name=` presets the chat name; `?pause=SECONDS` sets how long a hidden tab
 * keeps its connections (default 60).
 *
 * @example Serve it next to a hub handler
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEMO_PAGE_HTML } from "./demo_page.ts";
 *
 * assert.ok(DEMO_PAGE_HTML.startsWith("<!doctype html>"));
 * ```
 */
export const DEMO_PAGE_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="description" content="pushwire live demo: chat, stock quotes and sensor monitoring over WebSocket, SSE, long polling, short polling and iframe streaming.">
<title>pushwire · live demo</title>
<link rel="icon" href="data:,">
<style>${DEMO_STYLE}</style>
</head>
<body>${BODY}
<script>${DEMO_SCRIPT}</script>
</body>
</html>
`;

/**
 * The Content-Security-Policy the demo page is served with: nothing loads from anywhere but the
 * page itself and its own origin (the inline script and style are the page's own).
 */
export const DEMO_PAGE_CSP: string = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  "img-src data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join("; ");

/**
 * Answers `GET /` with the demo page: `200`, `text/html; charset=utf-8`, no caching, and a
 * Content-Security-Policy that blocks every external script, font and stylesheet.
 *
 * @returns A fresh `Response` each call (a body can be read only once).
 *
 * @example Mount it in front of the hub
 * ```ts
 * import assert from "node:assert/strict";
 * import { demoPageResponse } from "./demo_page.ts";
 *
 * const handler = (request: Request): Response => {
 *   const { pathname } = new URL(request.url);
 *   if (request.method === "GET" && pathname === "/") return demoPageResponse();
 *   return new Response("not found", { status: 404 });
 * };
 * const response = handler(new Request("http://127.0.0.1:8000/"));
 * assert.ok(response.headers.get("content-type") === "text/html; charset=utf-8");
 * await response.body?.cancel();
 * ```
 */
export function demoPageResponse(): Response {
  return new Response(DEMO_PAGE_HTML, {
    status: 200,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-cache",
      "content-security-policy": DEMO_PAGE_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    },
  });
}

/**
 * A route for the hub's router: `GET` / `HEAD` answer {@linkcode demoPageResponse}, any other
 * method `405` with `Allow: GET, HEAD`.
 *
 * @example Mount it at `/` of the hub
 * ```ts ignore
 * import { Hub } from "../../hub/hub.ts";
 * import { createHubHandler } from "../hub_handler.ts";
 * import { demoPageRoute } from "./demo_page.ts";
 *
 * const hub = new Hub();
 * Deno.serve(createHubHandler(hub, { routes: { "/": demoPageRoute } }));
 * ```
 *
 * @example Other methods are refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { demoPageRoute } from "./demo_page.ts";
 *
 * const response = demoPageRoute(new Request("http://hub/", { method: "POST", body: "x" }));
 * assert.equal(response.status, 405);
 * assert.equal(response.headers.get("allow"), "GET, HEAD");
 * ```
 */
export function demoPageRoute(request: Request): Response {
  if (request.method === "GET" || request.method === "HEAD") return demoPageResponse();
  request.body?.cancel().catch(() => {});
  return new Response("405 Method Not Allowed: the demo page answers GET and HEAD\n", {
    status: 405,
    headers: { "allow": "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
  });
}
