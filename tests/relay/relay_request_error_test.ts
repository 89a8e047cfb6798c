import assert from "node:assert/strict";
import { relayRequestError } from "../../lib/relay/relay_request_error.ts";

Deno.test("relayRequestError carries the code, the HTTP status and the message", () => {
  assert.deepEqual(relayRequestError("RELAY_ERR_BAD_CHANNEL", 400, "bad"), {
    type: "error",
    code: "RELAY_ERR_BAD_CHANNEL",
    status: 400,
    message: "bad",
  });
});
