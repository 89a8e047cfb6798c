// The served module (GET /pushwire.js) end to end in headless Chromium: every transport forced
// in turn, WebSocket blocked (refused, or left hanging) → fallback to SSE (and remembered),
// server restarted mid-stream (same hub, same port, messages published while it is down) with
// thousands of messages on two channels checked for count and order, a restart that comes back
// with WebSocket blocked (resume on SSE), a broker gap on one multiplexed channel, and the
// spread of reconnect times of many clients in one page.
import assert from "node:assert/strict";
import { type CdpPage, type Chromium, delay, launchChromium } from "../_cdp.ts";
import { GapBroker } from "../_gap_broker.ts";
import { RestartableHub, type RestartableHubOptions } from "./_restartable_hub.ts";

const PAGE = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>pushwire client test</title></head><body>
<script type="module">
import * as pushwire from "/pushwire.js";
const clients = {};
window.results = {};
// Starts a client named \`name\` on \`channels\`; what it sees goes to results[name].
window.startClient = (name, channels, options) => {
  const r = window.results[name] = { messages: {}, ids: {}, resets: [], errors: [], statuses: [],
    state: "idle", transport: null, openedAt: [] };
  let lost = false;
  const client = pushwire.createClient("/", { ...options, onStatus(s) {
    r.state = s.state;
    r.transport = s.transport ?? null;
    r.statuses.push(s.state + ":" + s.transport);
    if (s.state === "reconnecting") lost = true;
    if (s.state === "open" && lost) r.openedAt.push(performance.now());
  } });
  clients[name] = client;
  for (const channel of channels) {
    r.messages[channel] = [];
    r.ids[channel] = [];
    client.subscribe(channel, {
      onMessage(m) { r.messages[channel].push(m.data); r.ids[channel].push(m.id); },
      onReset(e) { r.resets.push(e); },
      onError(e) { r.errors.push(e); },
    });
  }
};
window.closeClient = (name) => clients[name].close();
window.pushwire = pushwire;
window.ready = true;
</script></body></html>`;

function pageRoute(): Response {
  return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
}

// Fast retries. The timeouts leave room for a loaded machine, where a slow connect or a late
// heartbeat must not count as a failure (they only bound attempts that hang).
const FAST = {
  memory: null,
  backoff: { baseMs: 100, capMs: 1000 },
  shortPollIntervalMs: 50,
  longPollTimeoutS: 5,
  connectTimeoutMs: 5_000,
  idleTimeoutMs: 5_000, // the test hub sends a heartbeat every second
};

/** Bound of the waits on the page: a failure detector, not a speed target. */
const WAIT_MS = 60_000;

async function withBrowser(
  options: RestartableHubOptions,
  body: (server: RestartableHub, page: CdpPage, browser: Chromium) => Promise<void>,
): Promise<void> {
  const server = new RestartableHub({ ...options, routes: { "/": pageRoute } });
  let browser: Chromium | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage(800, 600);
    await page.goto(`${server.base}/`);
    await page.waitFor("window.ready === true", "the test page's module");
    await body(server, page, browser);
    assert.deepEqual(page.exceptions, [], "the page threw");
  } finally {
    await browser?.close();
    await server.close();
  }
}

function start(page: CdpPage, name: string, channels: string[], options: object): Promise<unknown> {
  return page.evaluate(
    `startClient(${JSON.stringify(name)}, ${JSON.stringify(channels)}, ${JSON.stringify(options)})`,
  );
}

function waitOpen(page: CdpPage, name: string, transport: string): Promise<unknown> {
  return page.waitFor(
    `results.${name}.state === "open" && results.${name}.transport === "${transport}"`,
    `${name} open on ${transport}`,
    { timeoutMs: WAIT_MS },
  );
}

async function publishRange(server: RestartableHub, channel: string, from: number, to: number) {
  const ids: string[] = [];
  for (let i = from; i < to; i++) ids.push(await server.publish(channel, i));
  return ids;
}

async function waitCount(page: CdpPage, name: string, channel: string, count: number) {
  await page.waitFor(
    `results.${name}.messages[${JSON.stringify(channel)}].length >= ${count}`,
    `${count} messages on ${channel} for ${name}`,
    { timeoutMs: WAIT_MS },
  );
}

/** Waits until `name` has as many messages as were `sent` per channel: the same ids, in order. */
async function assertReceivedExactly(page: CdpPage, name: string, sent: Record<string, string[]>) {
  for (const [channel, ids] of Object.entries(sent)) {
    await waitCount(page, name, channel, ids.length);
  }
  await delay(300); // a late duplicate would show
  for (const [channel, ids] of Object.entries(sent)) {
    const got = await page.evaluate<string[]>(`results.${name}.ids[${JSON.stringify(channel)}]`);
    assert.equal(got.length, ids.length, `${channel} count`);
    assert.deepEqual(got, ids, `${channel} order`);
  }
}

const ALL = ["websocket", "sse", "iframe", "longpoll", "shortpoll"] as const;

Deno.test("pushwire.js delivers in order on each transport forced in turn", async () => {
  await withBrowser({}, async (server, page) => {
    for (const transport of ALL) {
      const name = `only_${transport}`;
      const channel = `forced.${transport}`;
      await start(page, name, [channel], { ...FAST, transports: [transport] });
      await waitOpen(page, name, transport);
      const ids = await publishRange(server, channel, 0, 100);
      await waitCount(page, name, channel, 100);
      assert.deepEqual(await page.evaluate(`results.${name}.ids[${JSON.stringify(channel)}]`), ids);
      assert.deepEqual(
        await page.evaluate(`results.${name}.messages[${JSON.stringify(channel)}]`),
        [...Array(100).keys()],
      );
      await page.evaluate(`closeClient(${JSON.stringify(name)})`);
    }
  });
});

Deno.test("pushwire.js falls back to SSE when WebSocket upgrades are refused, and remembers it", async () => {
  await withBrowser({ blockWebSocket: "refuse" }, async (server, page) => {
    await page.evaluate("localStorage.clear()");
    const { memory: _, ...options } = FAST;
    await start(page, "first", ["fallback"], options); // default order, localStorage memory
    await waitOpen(page, "first", "sse");
    const statuses = await page.evaluate<string[]>("results.first.statuses");
    assert.equal(statuses[0], "connecting:websocket");
    const ids = await publishRange(server, "fallback", 0, 20);
    await waitCount(page, "first", "fallback", 20);
    assert.deepEqual(await page.evaluate(`results.first.ids.fallback`), ids);
    // The next client (next page load) goes straight to what worked.
    await start(page, "second", ["fallback"], options);
    await waitOpen(page, "second", "sse");
    assert.equal((await page.evaluate<string[]>("results.second.statuses"))[0], "connecting:sse");
  });
});

Deno.test("pushwire.js falls back to SSE after connectTimeoutMs when WebSocket upgrades hang", async () => {
  await withBrowser({ blockWebSocket: "hang" }, async (server, page) => {
    // Long enough that the SSE attempt after the fallback never times out on a loaded machine.
    const connectTimeoutMs = 5_000;
    const began = await page.evaluate<number>("performance.now()");
    await start(page, "hung", ["hang"], { ...FAST, connectTimeoutMs }); // default order
    await waitOpen(page, "hung", "sse");
    const openedAfter = (await page.evaluate<number>("performance.now()")) - began;
    const statuses = await page.evaluate<string[]>("results.hung.statuses");
    assert.deepEqual(statuses, ["connecting:websocket", "connecting:sse", "open:sse"]);
    assert.equal(server.heldUpgrades, 1); // the upgrade reached the hub and was left hanging
    // Nothing refused the socket: only the timeout ended the wait. The statuses show one
    // attempt each; after the timeout come a probe and the SSE attempt, each bounded by
    // connectTimeoutMs too (a generous upper bound: the machine may be loaded).
    assert.ok(openedAfter >= connectTimeoutMs, `open on SSE after ${openedAfter} ms`);
    assert.ok(openedAfter < 4 * connectTimeoutMs, `open on SSE after ${openedAfter} ms`);
    const ids = await publishRange(server, "hang", 0, 20);
    await waitCount(page, "hung", "hang", 20);
    assert.deepEqual(await page.evaluate("results.hung.ids.hang"), ids);
  });
});

Deno.test("pushwire.js surfaces a reset on every transport, then delivers what was retained", async () => {
  await withBrowser({ history: 5 }, async (server, page) => {
    for (const transport of ALL) {
      const channel = `reset.${transport}`;
      const ids = await publishRange(server, channel, 0, 10);
      const name = `reset_${transport}`;
      // Resume after an id the hub has already dropped (history of 5).
      await page.evaluate(`(() => {
        const r = results.${name} = { messages: { ${JSON.stringify(channel)}: [] }, resets: [] };
        const client = pushwire.createClient("/", ${
        JSON.stringify({ ...FAST, transports: [transport] })
      });
        client.subscribe(${JSON.stringify(channel)}, { after: ${JSON.stringify(ids[0])},
          onMessage: (m) => r.messages[${JSON.stringify(channel)}].push(m.data),
          onReset: (e) => r.resets.push(e) });
      })()`);
      await waitCount(page, name, channel, 5);
      assert.deepEqual(
        await page.evaluate(`results.${name}.messages[${JSON.stringify(channel)}]`),
        [5, 6, 7, 8, 9],
      );
      const resets = await page.evaluate<{ channel: string }[]>(`results.${name}.resets`);
      assert.equal(resets.length, 1, transport);
      assert.equal(resets[0]!.channel, channel);
    }
  });
});

Deno.test("pushwire.js on WebSocket and iframe reports a reset once across a server restart", async () => {
  await withBrowser({}, async (server, page) => {
    for (const transport of ["websocket", "iframe"] as const) {
      const channel = `gap.${transport}`;
      const name = `gap_${transport}`;
      // A cursor of an earlier hub: what followed it is gone, and nothing is retained yet.
      await page.evaluate(`(() => {
        const r = results.${name} = { messages: { ${JSON.stringify(channel)}: [] }, resets: [],
          states: [] };
        const client = pushwire.createClient("/", { ...${
        JSON.stringify({ ...FAST, transports: [transport] })
      }, onStatus: (s) => r.states.push(s.state) });
        client.subscribe(${JSON.stringify(channel)}, { after: "0-7",
          onMessage: (m) => r.messages[${JSON.stringify(channel)}].push(m.data),
          onReset: (e) => r.resets.push(e) });
      })()`);
      await page.waitFor(
        `results.${name}.resets.length === 1 && results.${name}.states.at(-1) === "open"`,
        `the reset on ${transport}`,
      );
      await server.stop();
      await page.waitFor(`results.${name}.states.at(-1) !== "open"`, "the client to notice");
      await publishRange(server, channel, 0, 3); // kept by the hub while its server is down
      server.start();
      await waitCount(page, name, channel, 3);
      await publishRange(server, channel, 3, 6);
      await waitCount(page, name, channel, 6);
      await delay(200); // a late repeat would show
      assert.deepEqual(
        await page.evaluate(`results.${name}.messages[${JSON.stringify(channel)}]`),
        [0, 1, 2, 3, 4, 5],
      );
      assert.equal(await page.evaluate(`results.${name}.resets.length`), 1, transport);
    }
  });
});

Deno.test("pushwire.js reconnects at once when the browser comes back online, missing nothing", async () => {
  await withBrowser({}, async (server, page) => {
    // A backoff of 10 minutes: only the online event can bring the client back in time.
    await start(page, "o", ["online"], {
      ...FAST,
      transports: ["sse"],
      backoff: { baseMs: 600_000, capMs: 600_000 },
    });
    await waitOpen(page, "o", "sse");
    const first = await publishRange(server, "online", 0, 5);
    await waitCount(page, "o", "online", 5);
    const network = (offline: boolean) =>
      page.send("Network.emulateNetworkConditions", {
        offline,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
    await page.send("Network.enable");
    await network(true);
    await page.waitFor(`results.o.state === "reconnecting"`, "the client to notice offline");
    const missed = await publishRange(server, "online", 5, 10);
    await network(false);
    await waitOpen(page, "o", "sse");
    await waitCount(page, "o", "online", 10);
    assert.deepEqual(await page.evaluate(`results.o.ids.online`), [...first, ...missed]);
  });
});

for (const transport of ["websocket", "sse", "iframe", "longpoll", "shortpoll"] as const) {
  Deno.test(`pushwire.js on ${transport} resumes two channels across a server restart: 3,000 messages once, in order`, async () => {
    await withBrowser({}, async (server, page) => {
      const channels = ["restart.a", "restart.b"];
      await start(page, "r", channels, { ...FAST, transports: [transport] });
      await waitOpen(page, "r", transport);
      const sent: Record<string, string[]> = { "restart.a": [], "restart.b": [] };
      const publishBoth = async (from: number, to: number) => {
        for (let i = from; i < to; i++) {
          for (const channel of channels) sent[channel]!.push(await server.publish(channel, i));
        }
      };
      // Paced over about 1.5 s, so the stream is still flowing when the server stops; the
      // hub is the test's own, so what is published while its server is down is kept. Half
      // way it waits for the stop, so however slow the page, the stop comes mid-stream.
      const stopped = Promise.withResolvers<void>();
      const streaming = (async () => {
        for (let i = 0; i < 750; i += 5) {
          if (i === 375) await stopped.promise;
          await publishBoth(i, i + 5);
          await delay(10);
        }
      })();
      try {
        await waitCount(page, "r", "restart.a", 100);
        await server.stop();
        stopped.resolve();
        const received = await page.evaluate<Record<string, number>>(
          "Object.fromEntries(Object.entries(results.r.ids).map(([c, ids]) => [c, ids.length]))",
        );
        for (const channel of channels) {
          assert.ok(received[channel]! < 750, `${channel}: ${received[channel]} before the stop`);
        }
        assert.ok(received["restart.a"]! >= 100);
        await page.waitFor(
          `results.r.state !== "open"`,
          "the client to notice the stop",
          { timeoutMs: WAIT_MS },
        );
      } finally {
        stopped.resolve();
        await streaming; // the rest of the 750 lands while the server is down
      }
      await publishBoth(750, 1000); // and one more batch before it comes back
      server.start();
      await publishBoth(1000, 1500);
      await assertReceivedExactly(page, "r", sent);
      const statuses = await page.evaluate<string[]>("results.r.statuses");
      assert.ok(statuses.includes(`reconnecting:${transport}`), statuses.join(" "));
      assert.deepEqual(await page.evaluate("results.r.resets"), []);
      assert.equal(await page.evaluate("results.r.transport"), transport);
    });
  });
}

Deno.test("pushwire.js switches from WebSocket to SSE across a restart that blocks WebSocket, losing and repeating nothing", async () => {
  await withBrowser({}, async (server, page) => {
    const channels = ["switch.a", "switch.b"];
    await start(page, "s", channels, { ...FAST, transports: ["websocket", "sse"] });
    await waitOpen(page, "s", "websocket");
    const sent: Record<string, string[]> = { "switch.a": [], "switch.b": [] };
    const publishBoth = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        for (const channel of channels) sent[channel]!.push(await server.publish(channel, i));
      }
    };
    await publishBoth(0, 300);
    await waitCount(page, "s", "switch.a", 50);
    await server.stop();
    await page.waitFor(`results.s.state !== "open"`, "the client to notice the stop");
    await publishBoth(300, 600); // while the server is down
    server.blockWebSocket = "refuse"; // it comes back behind a proxy that breaks upgrades
    server.start();
    await waitOpen(page, "s", "sse");
    await publishBoth(600, 900);
    await assertReceivedExactly(page, "s", sent);
    const statuses = await page.evaluate<string[]>("results.s.statuses");
    assert.ok(statuses.includes("connecting:sse"), statuses.join(" "));
    assert.equal(statuses.at(-1), "open:sse");
    assert.deepEqual(await page.evaluate("results.s.resets"), []);
  });
});

Deno.test("pushwire.js on WebSocket resubscribes a channel the hub ended with a broker gap, reporting the reset, while the socket and the other channel go on", async () => {
  const broker = new GapBroker();
  await withBrowser({ broker }, async (server, page) => {
    await start(page, "g", ["lossy", "steady"], { ...FAST, transports: ["websocket"] });
    await waitOpen(page, "g", "websocket");
    const lossy = await publishRange(server, "lossy", 0, 3);
    const steady = await publishRange(server, "steady", 0, 3);
    await waitCount(page, "g", "lossy", 3);
    await waitCount(page, "g", "steady", 3);
    const statusesBefore = await page.evaluate<string[]>("results.g.statuses");
    // The hub answers `unsubscribed` with reason "gap" for "lossy"; the client resubscribes it
    // after its own cursor, and history (which now says reset) answers with a reset.
    broker.gap("lossy");
    await page.waitFor("results.g.resets.length === 1", "the reset of the gap");
    const resets = await page.evaluate<{ channel: string; cursor: string }[]>("results.g.resets");
    assert.equal(resets[0]!.channel, "lossy");
    lossy.push(...await publishRange(server, "lossy", 3, 6));
    steady.push(...await publishRange(server, "steady", 3, 6));
    await waitCount(page, "g", "lossy", 6);
    await waitCount(page, "g", "steady", 6);
    await delay(200); // a late duplicate would show
    assert.deepEqual(await page.evaluate("results.g.ids.lossy"), lossy);
    assert.deepEqual(await page.evaluate("results.g.ids.steady"), steady);
    // One socket throughout: no reconnect, no status change.
    assert.deepEqual(await page.evaluate("results.g.statuses"), statusesBefore);
    assert.equal(await page.evaluate("results.g.resets.length"), 1);
  });
});

// Many clients in one page: Chromium lets only one WebSocket per host be CONNECTING at a time
// (RFC 6455 §4.1), so handshakes queue; a long connect timeout keeps the queue from counting as
// failures. The process-wide spread with 300 clients is in pushwire_client_integration_test.ts.
Deno.test("pushwire.js: 40 WebSocket clients in one page spread their reconnects after a restart", async () => {
  await withBrowser({}, async (server, page) => {
    const count = 40;
    for (let i = 0; i < count; i++) {
      await start(page, `c${i}`, ["storm"], {
        ...FAST,
        transports: ["websocket"],
        connectTimeoutMs: 15_000,
        backoff: { baseMs: 1000, capMs: 30_000 },
      });
    }
    await page.waitFor(
      `Object.values(results).filter((r) => r.state === "open").length === ${count}`,
      `${count} clients open`,
      { timeoutMs: WAIT_MS },
    );
    const before = await page.evaluate<number>("performance.now()");
    await server.restart();
    const reopened = `Object.values(results).map((r) => r.openedAt.find((t) => t > ${before}))`;
    await page.waitFor(
      `${reopened}.every((t) => t !== undefined)`,
      `${count} clients reconnected`,
      { timeoutMs: WAIT_MS },
    );
    const offsets = (await page.evaluate<number[]>(reopened))
      .map((t) => t - before).sort((a, b) => a - b);
    const at = (q: number) => Math.round(offsets[Math.floor(q * (offsets.length - 1))]!);
    console.log(
      `reconnect spread of ${count} WebSocket clients in one page (ms after the restart began): ` +
        `min ${at(0)} p10 ${at(0.1)} p50 ${at(0.5)} p90 ${at(0.9)} max ${at(1)}`,
    );
    assert.ok(at(0.9) - at(0.1) > 300, `p10..p90 only ${at(0.1)}..${at(0.9)}`);
    // Everyone still receives.
    await server.publish("storm", "after");
    await page.waitFor(
      `Object.values(results).every((r) => r.messages.storm.includes("after"))`,
      "every client to receive after the restart",
    );
  });
});
