// Deno's built-in EventSource against our server.
import assert from "node:assert/strict";
import { withTimeout } from "../_chromium.ts";
import { runAll } from "./_interop_driver.js";
import {
  assertObservation,
  expectedObservation,
  type KnownDeviations,
  observe,
  startInteropServer,
} from "./_interop_server.ts";

const DENO_DEVIATIONS: KnownDeviations = {
  emptyRetry: {
    behaviour: "zero",
    why: "Deno 2.9's EventSource reads `retry:` with no digits as 0 and reconnects at once; " +
      "WHATWG HTML §9.2.6 takes retry only when the value consists of ASCII digits",
  },
};

Deno.test("Deno's built-in EventSource reads our server's streams, to the spec", async (t) => {
  const server = startInteropServer();
  try {
    const report = await withTimeout(
      runAll(globalThis.EventSource, server.config("deno")),
      60_000,
      "Deno's EventSource did not finish",
    );
    await assertObservation(
      t,
      observe(report, server.connections("deno")),
      expectedObservation(DENO_DEVIATIONS),
      assert.deepEqual,
    );
  } finally {
    await server.close();
  }
});
