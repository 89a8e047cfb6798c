// The npm `eventsource` package (v5, under Deno) against our server.
import assert from "node:assert/strict";
import { EventSource } from "npm:eventsource@5";
import { withTimeout } from "../_chromium.ts";
import { runAll } from "./_interop_driver.js";
import {
  assertObservation,
  expectedObservation,
  type KnownDeviations,
  observe,
  startInteropServer,
} from "./_interop_server.ts";

const NPM_EVENTSOURCE_DEVIATIONS: KnownDeviations = {
  fixtures: {
    "a second leading BOM is kept and spoils the field name": {
      events: [
        { type: "message", data: "a", lastEventId: "" },
        { type: "message", data: "b", lastEventId: "" },
      ],
      why: "eventsource 5 decodes with a BOM-stripping TextDecoderStream and its parser strips " +
        "another BOM, so two leading BOMs are removed where the spec removes one",
    },
  },
};

Deno.test("npm eventsource@5 reads our server's streams, to the spec", async (t) => {
  const server = startInteropServer();
  try {
    const report = await withTimeout(
      runAll(EventSource, server.config("npm")),
      60_000,
      "npm eventsource did not finish",
    );
    await assertObservation(
      t,
      observe(report, server.connections("npm")),
      expectedObservation(NPM_EVENTSOURCE_DEVIATIONS),
      assert.deepEqual,
    );
  } finally {
    await server.close();
  }
});
