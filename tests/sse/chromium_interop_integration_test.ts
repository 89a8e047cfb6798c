// Headless Chromium's EventSource against our server; our own EventSource must agree with it on
// every fixture and on the resume scenario.
import assert from "node:assert/strict";
import { EventSource } from "../../lib/sse/event_source.ts";
import { type Chromium, openInChromium, withTimeout } from "../_chromium.ts";
import { runAll } from "./_interop_driver.js";
import {
  assertObservation,
  expectedObservation,
  type KnownDeviations,
  observe,
  SCENARIO_LOG,
  startInteropServer,
} from "./_interop_server.ts";

/** Chromium 156 follows the spec on every case here. */
const CHROMIUM_DEVIATIONS: KnownDeviations = {};

Deno.test("Chromium's EventSource and ours dispatch the same events from our server, to the spec", async (t) => {
  const server = startInteropServer();
  let browser: Chromium | undefined;
  try {
    browser = await openInChromium(`${server.origin}/page.html?run=chromium`);
    const [chromium, ours] = await Promise.all([
      withTimeout(server.report("chromium"), 60_000, "Chromium did not report"),
      withTimeout(runAll(EventSource, server.config("ours")), 60_000, "our client did not finish"),
    ]);
    assert.equal(chromium.error, undefined, chromium.error);
    const seenByChromium = observe(chromium, server.connections("chromium"));
    const seenByOurs = observe(ours, server.connections("ours"));
    await t.step("Chromium", async (t) => {
      await assertObservation(
        t,
        seenByChromium,
        expectedObservation(CHROMIUM_DEVIATIONS),
        assert.deepEqual,
      );
    });
    await t.step("Chromium, cross-origin: CORS lets it read and resume", () => {
      const connections = server.connections("chromium-cors");
      assert.deepEqual(chromium.crossOrigin, SCENARIO_LOG);
      assert.deepEqual(connections.map((c) => c.header), [null, "3", "4"]);
      // Chromium 156 sends no preflight here (Last-Event-ID is exempt for EventSource); the
      // OPTIONS path is covered in server_test.ts.
    });
    await t.step("our EventSource agrees with Chromium", async (t) => {
      await assertObservation(t, seenByOurs, seenByChromium, assert.deepEqual);
    });
  } finally {
    await browser?.close();
    await server.close();
  }
});
