import assert from "node:assert/strict";
import { relayClose } from "../../lib/relay/relay_close.ts";

Deno.test("relayClose carries the code, whether to flush, and the message", () => {
  assert.deepEqual(relayClose("RELAY_POLICY_SERVED", true, "served"), {
    code: "RELAY_POLICY_SERVED",
    flush: true,
    message: "served",
  });
});
