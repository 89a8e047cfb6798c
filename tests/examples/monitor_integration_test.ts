// examples/monitor.ts as a child process, with its documented permissions, watched by our
// client and Deno's built-in WebSocket.
import assert from "node:assert/strict";
import { connect } from "../../lib/websocket_io/mod.ts";
import { launchChromium } from "../_cdp.ts";
import { Example, within } from "./_example.ts";

interface Update {
  readonly type: "history" | "reading" | "hotplug";
  readonly updates?: Update[];
  readonly values?: Record<string, number>;
  readonly device?: string;
  readonly action?: string;
}

Deno.test("monitor.ts pushes history, readings and hot-plug events to every board", async () => {
  const example = await Example.start("monitor.ts", ["--port", "PORT", "--interval", "10"]);
  try {
    const page = await fetch(`http://127.0.0.1:${example.port}/`);
    assert.match(await page.text(), /<canvas id="chart"/);

    const ours = await connect(`ws://127.0.0.1:${example.port}/live`);
    const builtIn = new WebSocket(`ws://127.0.0.1:${example.port}/live`);
    const builtInReadings = new Promise<number>((resolve) => {
      let n = 0;
      builtIn.onmessage = (event) => {
        if (JSON.parse(event.data).type === "reading" && ++n === 5) resolve(n);
      };
    });
    const seen: Update[] = [];
    for await (const message of ours) {
      seen.push(JSON.parse(message as string));
      if (seen.some((update) => update.type === "hotplug")) break;
    }
    assert.equal(seen[0]!.type, "history", "history comes first");
    assert.ok(Array.isArray(seen[0]!.updates));
    const reading = seen.find((update) => update.type === "reading")!;
    assert.deepEqual(Object.keys(reading.values!), ["cpu °C", "board °C", "12V", "vcore V"]);
    assert.ok(Object.values(reading.values!).every(Number.isFinite));
    const plug = seen.find((update) => update.type === "hotplug")!;
    assert.equal(plug.device, "usb 1-2");
    assert.match(plug.action!, /^(added|removed)$/);
    assert.equal(await within(builtInReadings, "built-in WebSocket readings"), 5);

    ours.close(1000);
    const builtInClosed = new Promise((resolve) => builtIn.onclose = resolve);
    builtIn.close(1000);
    await within(Promise.all([ours.closed, builtInClosed]), "clients close");
  } finally {
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

Deno.test("monitor.ts closes open boards with 1001 and exits with 0 on SIGTERM", async () => {
  const example = await Example.start("monitor.ts");
  const client = await connect(`ws://127.0.0.1:${example.port}/live`);
  const { code, stderr } = await example.stop();
  assert.equal(code, 0, stderr);
  for await (const _ of client) { /* history, maybe readings */ }
  assert.equal((await within(client.closed, "close")).code, 1001);
});

Deno.test("monitor.ts page draws the readings and lists hot-plug events in Chromium", async () => {
  const example = await Example.start("monitor.ts", ["--port", "PORT", "--interval", "10"]);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage(800, 600);
    await page.goto(`http://127.0.0.1:${example.port}/`);
    const event = await page.waitFor<string>(
      `document.querySelector("#events li")?.textContent`,
      "a hot-plug event",
    );
    assert.match(event, /usb 1-2 (added|removed)$/);
    const inked = await page.evaluate<number>(`(() => {
      const { data } = document.getElementById("chart").getContext("2d").getImageData(0, 0, 640, 240);
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    })()`);
    assert.ok(inked > 1000, `${inked} pixels drawn`);
    assert.deepEqual(page.exceptions, []);
    await page.close();
  } finally {
    await browser.close();
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});
