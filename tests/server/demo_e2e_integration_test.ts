// The demo page end to end: the hub on 127.0.0.1:0 with the page mounted at `/`, on the same
// stack `deno task start` serves (lib/cli/start.ts: the one-port server, WebSocket upgrades to
// the WebSocket routes, every other request to the hub handler), driven in headless Chromium
// over the DevTools protocol. The page's panes talk to the hub with the browser's own fetch,
// EventSource, iframe and WebSocket.
import assert from "node:assert/strict";
import { demoPageRoute } from "../../lib/server/demo/demo_page.ts";
import { type CdpPage, type Chromium, launchChromium, withTimeout } from "../_cdp.ts";
import { pushwireScriptRoute } from "../../lib/client/browser_module.ts";
import { Hub } from "../../lib/hub/hub.ts";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import { serveOnePort } from "../../lib/net/one_port_server.ts";
import { createHubHandler } from "../../lib/server/hub_handler.ts";
import { Metrics } from "../../lib/server/metrics.ts";
import { createWebSocketRoutes } from "../../lib/server/ws/websocket_routes.ts";

/** Every transport a demo pane offers, WebSocket first. */
const TRANSPORTS = ["websocket", "sse", "longpoll", "shortpoll", "iframe"] as const;

/** The transports that run over plain HTTP requests. */
const HTTP_TRANSPORTS = ["sse", "longpoll", "shortpoll", "iframe"] as const;

/** History kept per channel in these tests; the reset test overflows it. */
const HISTORY_MAX_MESSAGES = 50;

/** Bound of the waits on a page: a failure detector, generous for a loaded machine. */
const WAIT_MS = 60_000;

interface TestServer {
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * The hub wired as `main` in lib/cli/start.ts wires it (no relay, no secret, any origin), but
 * on an ephemeral port and with a small history for the reset test.
 */
function startServer(): TestServer {
  const hub = new Hub({
    broker: new MemoryBroker({ history: { maxMessages: HISTORY_MAX_MESSAGES } }),
  });
  const metrics = new Metrics(hub);
  const websocket = createWebSocketRoutes(hub, { metrics });
  const server = serveOnePort(
    { hostname: "127.0.0.1", port: 0 },
    {
      upgrade: websocket.server.handleUpgrade,
      fetch: createHubHandler(hub, {
        metrics,
        // An upgrade arriving later on a kept-alive connection reaches the handler instead.
        channelRoutes: { ws: websocket.channelRoute },
        routes: {
          "/": demoPageRoute,
          "/ws": websocket.wsRoute,
          "/pushwire.js": pushwireScriptRoute,
          "/pushwire.d.ts": pushwireScriptRoute,
        },
      }),
    },
  );
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      // start.ts's order: the server and the WebSocket sessions (1001) together, then the hub.
      try {
        await withTimeout(
          Promise.all([server.shutdown(), websocket.shutdown()]),
          30_000,
          "the server and its WebSocket sessions did not shut down",
        );
      } finally {
        await withTimeout(hub.close(), 30_000, "the hub did not close");
      }
    },
  };
}

/** Runs `body` with a server and a browser, and ends both in every path (browser first). */
async function withDemo(body: (server: TestServer, browser: Chromium) => Promise<void>) {
  const server = startServer();
  let browser: Chromium | undefined;
  try {
    browser = await launchChromium();
    await body(server, browser);
  } finally {
    await browser?.close();
    await server.close();
  }
}

async function publishChat(origin: string, name: string, text: string): Promise<string> {
  const response = await fetch(`${origin}/channels/demo.chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, text }),
  });
  assert.equal(response.status, 201, `POST /channels/demo.chat answered ${response.status}`);
  const { id } = await response.json() as { id: string };
  return id;
}

const chatTexts = `[...document.querySelectorAll("#pane-chat .chat-log .msg-text")]
  .map((node) => node.textContent)`;

function paneIs(pane: string, transport: string, state: string): string {
  return `(() => { const p = document.getElementById("pane-${pane}");
    return p.dataset.transport === "${transport}" && p.dataset.state === "${state}"; })()`;
}

async function openDemo(page: CdpPage, url: string, chatTransport: string): Promise<void> {
  await page.goto(url);
  await page.waitFor(
    paneIs("chat", chatTransport, "live"),
    `the chat pane live on ${chatTransport}`,
  );
}

async function switchChat(page: CdpPage, transport: string): Promise<void> {
  await page.evaluate(`(() => { const s = document.querySelector("#pane-chat select.transport");
    s.value = "${transport}"; s.dispatchEvent(new Event("change")); })()`);
}

/** Waits until the chat pane shows `texts` (all of them). */
async function waitForChat(page: CdpPage, texts: readonly string[], what: string) {
  const expression = `(() => { const shown = ${chatTexts};
    return ${JSON.stringify(texts)}.every((t) => shown.includes(t)) && shown; })()`;
  return await page.waitFor<string[]>(expression, what, { timeoutMs: WAIT_MS });
}

function assertNoPageErrors(page: CdpPage): void {
  assert.deepEqual(page.exceptions, [], "the page threw");
  assert.deepEqual(page.consoleErrors, [], "the page logged errors");
}

Deno.test("demo page chat pane switches through SSE, long poll, short poll and iframe losing nothing", async () => {
  await withDemo(async (server, browser) => {
    const page = await browser.newPage();
    await openDemo(page, `${server.origin}/?chat=sse&feed=off&name=tester`, "sse");
    const expected: string[] = [];
    let previous = "sse";
    for (const transport of [...HTTP_TRANSPORTS, "sse"]) {
      // One message while the previous transport still runs, one while the new one connects,
      // one once it is live: each must show exactly once, in publish order.
      const before = `before ${transport} (on ${previous})`;
      await publishChat(server.origin, "server", before);
      await switchChat(page, transport);
      const during = `while ${transport} connects`;
      await publishChat(server.origin, "server", during);
      await page.waitFor(paneIs("chat", transport, "live"), `the chat pane live on ${transport}`);
      const after = `after ${transport} is live`;
      await publishChat(server.origin, "server", after);
      expected.push(before, during, after);
      await waitForChat(page, expected, `the chat messages so far on ${transport}`);
      previous = transport;
    }
    assert.deepEqual(await page.evaluate(chatTexts), expected);
    const count = await page.evaluate(`document.getElementById("pane-chat").dataset.count`);
    assert.equal(count, String(expected.length));
    assertNoPageErrors(page);
  });
});

/** Types `text` into the chat form and submits it; resolves with the note the form shows. */
async function sendChat(page: CdpPage, text: string): Promise<string> {
  await page.evaluate(`(() => { const f = document.querySelector("#pane-chat .chat-form");
    f.querySelector("input.text").value = ${JSON.stringify(text)}; f.requestSubmit(); })()`);
  // The note says which way the message left: a WebSocket frame, or a POST.
  return await page.waitFor<string>(
    `document.querySelector("#pane-chat .chat-form .note").textContent`,
    "the chat form's note on how the message was sent",
  );
}

Deno.test("demo page chat input reaches panes on WebSocket, SSE, long poll, short poll and iframe, both ways", async () => {
  await withDemo(async (server, browser) => {
    const pages = new Map<string, CdpPage>();
    for (const transport of TRANSPORTS) {
      const page = await browser.newPage(900, 700, true); // one user each
      await openDemo(
        page,
        `${server.origin}/?chat=${transport}&feed=off&name=${transport}-user`,
        transport,
      );
      pages.set(transport, page);
    }
    const textOf = (transport: string) => `hello <b>from</b> ${transport} & "friends"`;
    // WebSocket to HTTP: a text frame up the socket reaches every HTTP transport.
    const ws = pages.get("websocket")!;
    assert.equal(await sendChat(ws, textOf("websocket")), "Sent as a WebSocket text frame.");
    for (const transport of HTTP_TRANSPORTS) {
      await waitForChat(
        pages.get(transport)!,
        [textOf("websocket")],
        `the WebSocket tab's message on ${transport}`,
      );
    }
    // HTTP to WebSocket: a POST from each HTTP tab reaches the socket, and every other tab.
    for (const transport of HTTP_TRANSPORTS) {
      const note = await sendChat(pages.get(transport)!, textOf(transport));
      assert.equal(note, "Sent with POST /channels/demo.chat", `${transport} tab`);
      await waitForChat(ws, [textOf(transport)], `the ${transport} tab's message on WebSocket`);
    }
    const sent = TRANSPORTS.map(textOf);
    for (const [transport, page] of pages) {
      const shown = await waitForChat(page, sent, `every chat message on ${transport}`);
      assert.deepEqual([...shown].sort(), [...sent].sort(), `${transport} tab`);
      // Still live on the transport it opened with: no switch or reconnect in between.
      assert.ok(await page.evaluate(paneIs("chat", transport, "live")), `${transport} pane`);
      // Content is text, never markup: no <b> element came out of a message.
      assert.equal(await page.evaluate(`document.querySelectorAll("#pane-chat b").length`), 0);
      const mine = await page.evaluate<string[]>(`[...document.querySelectorAll(
        "#pane-chat .msg.mine .who")].map((n) => n.textContent)`);
      assert.deepEqual(mine, [`${transport}-user`]);
      assertNoPageErrors(page);
    }
  });
});

Deno.test("demo page shows a reset notice when the hub already dropped what a pane missed", async () => {
  await withDemo(async (server, browser) => {
    const page = await browser.newPage();
    await openDemo(page, `${server.origin}/?chat=shortpoll&feed=off`, "shortpoll");
    await publishChat(server.origin, "server", "seen before the outage");
    await waitForChat(page, ["seen before the outage"], "the message before the outage");
    // Take the tab offline; while its polls fail, overflow the channel's history.
    const network = (offline: boolean) =>
      page.send("Network.emulateNetworkConditions", {
        offline,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
    await page.send("Network.enable");
    await network(true);
    await page.waitFor(
      paneIs("chat", "shortpoll", "reconnecting"),
      "the pane reconnecting offline",
    );
    const missed = HISTORY_MAX_MESSAGES + 10;
    for (let i = 0; i < missed; i++) await publishChat(server.origin, "server", `missed ${i}`);
    await network(false);
    await page.waitFor(
      `document.getElementById("pane-chat").dataset.reset === "1"`,
      "the pane to record one reset",
      { timeoutMs: WAIT_MS },
    );
    const notice = await page.evaluate<{ hidden: boolean; text: string }>(`(() => {
      const n = document.querySelector("#pane-chat .reset-notice");
      return { hidden: n.hidden, text: n.textContent }; })()`);
    assert.equal(notice.hidden, false, "the reset notice is hidden");
    assert.match(notice.text, /reset/);
    // What the hub still had arrives; what it dropped does not, and nothing is shown twice.
    const shown = await waitForChat(page, [`missed ${missed - 1}`], "the retained messages");
    assert.ok(!shown.includes("missed 0"), "a dropped message was shown");
    assert.equal(new Set(shown).size, shown.length, "a message was shown twice");
    await page.waitFor(paneIs("chat", "shortpoll", "live"), "the pane live again");
    assert.deepEqual(page.exceptions, [], "the page threw");
  });
});

Deno.test("demo page lets go of its connections while hidden and resumes from its last ids", async () => {
  await withDemo(async (server, browser) => {
    const page = await browser.newPage();
    await openDemo(page, `${server.origin}/?chat=iframe&feed=off&pause=0`, "iframe");
    await page.waitFor(paneIs("sensors", "longpoll", "live"), "the sensors pane live");
    await publishChat(server.origin, "server", "seen while visible");
    await waitForChat(page, ["seen while visible"], "the first message");
    const setHidden = (hidden: boolean) =>
      page.evaluate(`(() => {
        Object.defineProperty(document, "hidden", { configurable: true, get: () => ${hidden} });
        document.dispatchEvent(new Event("visibilitychange")); })()`);
    await setHidden(true);
    for (const pane of ["chat", "quotes", "sensors"]) {
      await page.waitFor(
        `document.getElementById("pane-${pane}").dataset.state === "paused"`,
        `the ${pane} pane paused`,
      );
    }
    await page.waitFor(`document.querySelectorAll("iframe").length === 0`, "the iframe removed");
    await publishChat(server.origin, "server", "sent while hidden");
    await setHidden(false);
    await page.waitFor(paneIs("chat", "iframe", "live"), "the chat pane live again");
    const shown = await waitForChat(page, ["sent while hidden"], "the message sent while hidden");
    assert.deepEqual(shown, ["seen while visible", "sent while hidden"]);
    assertNoPageErrors(page);
  });
});

Deno.test("demo page chat pane on WebSocket sends frames and receives from the other transports", async () => {
  await withDemo(async (server, browser) => {
    const ws = await browser.newPage(1440, 1000, true);
    await openDemo(ws, `${server.origin}/?chat=websocket&feed=off&name=ws-user`, "websocket");
    const sse = await browser.newPage(1440, 1000, true);
    await openDemo(sse, `${server.origin}/?chat=sse&feed=off&name=sse-user`, "sse");
    assert.equal(await sendChat(ws, "up the socket"), "Sent as a WebSocket text frame.");
    await waitForChat(ws, ["up the socket"], "the message sent up the socket");
    await publishChat(server.origin, "server", "down the socket");
    await waitForChat(ws, ["up the socket", "down the socket"], "both messages on WebSocket");
    await waitForChat(sse, ["up the socket", "down the socket"], "both messages on SSE");
    // Switch away from the socket and back: the pane resumes from the last id it saw.
    await switchChat(ws, "longpoll");
    await ws.waitFor(paneIs("chat", "longpoll", "live"), "the chat pane live on long poll");
    await switchChat(ws, "websocket");
    await publishChat(server.origin, "server", "after the switch");
    await ws.waitFor(paneIs("chat", "websocket", "live"), "the chat pane live on WebSocket");
    const shown = await waitForChat(ws, ["after the switch"], "the message after the switch");
    assert.deepEqual(shown, ["up the socket", "down the socket", "after the switch"]);
    assertNoPageErrors(ws);
    assertNoPageErrors(sse);
  });
});

async function publishJson(origin: string, channel: string, data: unknown): Promise<void> {
  const response = await fetch(`${origin}/channels/${channel}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(data),
  });
  assert.equal(response.status, 201, `POST /channels/${channel} answered ${response.status}`);
  await response.body?.cancel();
}

/** History for the screenshot: the last 40 s of readings, a few hot-plug events, a chat. */
async function publishHistory(origin: string): Promise<void> {
  const now = Date.now();
  for (let i = 40; i > 0; i--) {
    const t = now - i * 1000;
    await publishJson(origin, "demo.sensors", {
      kind: "reading",
      sensor: "rack-7",
      t,
      // The curves of the page's simulated feed, so history and live readings join up.
      temperature: Math.round((41 + 4 * Math.sin(t / 19000) + 1.2 * Math.sin(t / 4300)) * 10) / 10,
      voltage: Math.round((12 + 0.12 * Math.sin(t / 11000 + 1)) * 1000) / 1000,
    });
    if (i === 31 || i === 17 || i === 6) {
      await publishJson(origin, "demo.sensors", {
        kind: "hotplug",
        sensor: "rack-7",
        t,
        device: i === 17 ? "psu-b" : "usb-1",
        action: i === 31 ? "attached" : "detached",
      });
    }
  }
  const chat = [
    ["Grace", "Deploy 142 is rolling out to the edge nodes."],
    ["Linus", "Watching the temperature on rack-7, it spiked a bit."],
    ["Grace", "Fans kicked in, back under 43 °C."],
    ["Ada", "Nice. Switch your pane to long poll: nothing gets lost."],
    ["Linus", "Just did, still here."],
  ];
  for (const [name, text] of chat) await publishChat(origin, name!, text!);
}

/** A rendered dashboard compresses to far more than this; a blank page to far less. */
const MIN_SCREENSHOT_BYTES = 20 * 1024;

/** Reads the artifact back from disk: a PNG of `width`×`height` and of non-trivial size. */
async function assertScreenshot(file: URL, width: number, height: number): Promise<void> {
  const info = await Deno.stat(file);
  assert.ok(info.isFile, `${file.pathname} is not a file`);
  assert.ok(
    info.size >= MIN_SCREENSHOT_BYTES,
    `${file.pathname} is only ${info.size} bytes (at least ${MIN_SCREENSHOT_BYTES} expected)`,
  );
  const png = await Deno.readFile(file);
  // PNG §5.2: the 8-byte signature, then the IHDR chunk (length 13) with width and height.
  assert.deepEqual(
    [...png.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    "the PNG signature",
  );
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  assert.equal(view.getUint32(8), 13, "the IHDR length");
  assert.equal(new TextDecoder().decode(png.subarray(12, 16)), "IHDR");
  assert.deepEqual([view.getUint32(16), view.getUint32(20)], [width, height], "the PNG size");
}

Deno.test("demo page renders quotes, sensor chart and hot-plug events from its simulated feed", async () => {
  await withDemo(async (server, browser) => {
    await publishHistory(server.origin);
    const page = await browser.newPage(1440, 1000, true);
    await page.goto(`${server.origin}/?chat=sse&quotes=shortpoll&sensors=iframe&feed=on&name=Ada`);
    await page.waitFor(
      `document.querySelectorAll("#pane-quotes tr.up, #pane-quotes tr.down").length >= 4`,
      "quotes with a change on at least 4 symbols",
      { timeoutMs: WAIT_MS },
    );
    await page.waitFor(
      `Number(document.getElementById("pane-sensors").dataset.count) >= 45`,
      "the sensor history and live readings",
      { timeoutMs: WAIT_MS },
    );
    // A hot-plug event, published the way a device agent would.
    await publishJson(server.origin, "demo.sensors", {
      kind: "hotplug",
      sensor: "rack-7",
      device: "usb-2",
      action: "attached",
    });
    // Newest first: the live event on top of the history (the feed may add random ones).
    const events = await page.waitFor<string[]>(
      `(() => { const shown = [...document.querySelectorAll("#pane-sensors .hotplug li")]
        .map((n) => n.querySelector(".badge").textContent + " " + n.querySelector(".dev").textContent);
        return shown.includes("attached usb-2") && shown; })()`,
      "the usb-2 hot-plug event",
    );
    assert.deepEqual(events.slice(-3), ["detached usb-1", "detached psu-b", "attached usb-1"]);
    assert.ok(events.indexOf("attached usb-2") < events.length - 3, "live event below history");
    await waitForChat(page, ["Just did, still here."], "the chat history");
    const temperature = await page.evaluate<string>(
      `document.querySelector("#pane-sensors .temp-value").textContent`,
    );
    assert.match(temperature, /^\d+\.\d$/);
    // The chart has been drawn: some pixel of the canvas is not transparent.
    const drawn = await page.evaluate<boolean>(`(() => {
      const c = document.querySelector("#pane-sensors canvas.chart");
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
      return false; })()`);
    assert.ok(drawn, "the sensor chart is blank");
    await new Promise((resolve) => setTimeout(resolve, 1500)); // let a few more ticks land
    const artifacts = new URL("../../.artifacts/", import.meta.url);
    await Deno.mkdir(artifacts, { recursive: true });
    const file = new URL("demo.png", artifacts);
    await Deno.writeFile(file, await page.screenshot());
    await assertScreenshot(file, 1440, 1000);
    assertNoPageErrors(page);
  });
});
