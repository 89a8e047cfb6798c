import assert from "node:assert/strict";
import { ChannelCursor } from "../../lib/client/channel_cursor.ts";

Deno.test("ChannelCursor delivers each id once and resumes after the last", () => {
  const cursor = new ChannelCursor(undefined);
  assert.equal(cursor.lastId, undefined);
  const delivered = ["a-1", "a-2", "a-1", "a-3", "a-2", "a-3"].filter((id) => cursor.accept(id));
  assert.deepEqual(delivered, ["a-1", "a-2", "a-3"]);
  assert.equal(cursor.lastId, "a-3");
});

Deno.test("ChannelCursor starting after an id drops that id", () => {
  const cursor = new ChannelCursor("a-7");
  assert.equal(cursor.lastId, "a-7");
  assert.equal(cursor.accept("a-7"), false);
  assert.equal(cursor.accept("a-8"), true);
});

Deno.test("ChannelCursor advance moves the resume point without a message", () => {
  const cursor = new ChannelCursor(undefined);
  cursor.advance("a-4");
  assert.equal(cursor.lastId, "a-4");
  cursor.advance(""); // a hub with nothing to say keeps the point
  assert.equal(cursor.lastId, "a-4");
  assert.equal(cursor.accept("a-5"), true);
});

Deno.test("ChannelCursor forgets the oldest ids past its limit", () => {
  const cursor = new ChannelCursor(undefined, 3);
  for (const id of ["1", "2", "3", "4"]) assert.equal(cursor.accept(id), true);
  assert.equal(cursor.accept("1"), true); // forgotten
  assert.equal(cursor.accept("4"), false); // still remembered
  assert.throws(() => new ChannelCursor(undefined, 0), RangeError);
});

Deno.test("ChannelCursor reports one reset per resume point and keeps that point", () => {
  const cursor = new ChannelCursor("a-1");
  assert.equal(cursor.reset(), true);
  assert.equal(cursor.lastId, "a-1"); // the retained messages are still owed
  assert.equal(cursor.reset(), false); // heard again after a reconnect
  cursor.advance("a-1"); // the same point
  assert.equal(cursor.reset(), false);
  assert.equal(cursor.accept("a-10"), true);
  assert.equal(cursor.reset(), true); // a gap after a delivered message is a new one
  assert.equal(cursor.reset(), false);
  cursor.advance("a-12"); // a poll answer's cursor: a new point
  assert.equal(cursor.reset(), true);
});
