import assert from "node:assert/strict";
import { isChannelName, isEventName } from "../../lib/hub/channel_name.ts";

Deno.test("isChannelName accepts the documented alphabet up to 128 characters", () => {
  assert.ok(isChannelName("a"));
  assert.ok(isChannelName("Chat_room.1:2-3"));
  assert.ok(isChannelName("x".repeat(128)));
});

Deno.test("isChannelName rejects empty, long, slash, space, unicode and control characters", () => {
  for (const name of ["", "x".repeat(129), "a/b", "a b", "é", "a\nb", "a\0", "a%2F"]) {
    assert.equal(isChannelName(name), false, JSON.stringify(name));
  }
});

Deno.test("isEventName rejects CR, LF, NUL and names over 64 characters", () => {
  assert.ok(isEventName("update.v2"));
  assert.ok(isEventName("x".repeat(64)));
  for (const name of ["", "x".repeat(65), "a\rb", "a\nb", "a\0b", "a b"]) {
    assert.equal(isEventName(name), false, JSON.stringify(name));
  }
});

Deno.test("isEventName refuses the reserved reset, which would forge the hub's lost-messages event", () => {
  assert.equal(isEventName("reset"), false);
  assert.ok(isEventName("Reset")); // SSE event types are case-sensitive
});
