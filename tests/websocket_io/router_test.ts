import assert from "node:assert/strict";
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";

Deno.test("WebSocketRouter matches literal segments, :params and a trailing *", () => {
  const router = new WebSocketRouter();
  const rooms = router.route("/rooms/:room", {});
  const users = router.route("/rooms/:room/users/:user", {});
  const files = router.route("/files/*", {});
  assert.equal(router.match("/rooms/a")?.route, rooms);
  assert.deepEqual(router.match("/rooms/a/users/b")?.params, { room: "a", user: "b" });
  assert.equal(router.match("/rooms/a/users/b")?.route, users);
  assert.deepEqual(router.match("/files/a/b%20c")?.params, { "*": "a/b c" });
  assert.equal(router.match("/files/x")?.route, files);
  assert.deepEqual(router.match("/files/")?.params, { "*": "" });
  assert.deepEqual(router.match("/files")?.params, { "*": "" });
  assert.equal(router.match("/rooms/"), undefined); // a parameter is never empty
  assert.equal(router.match("/rooms/a/b"), undefined);
});

Deno.test("WebSocketRouter tries routes in the order they were added", () => {
  const router = new WebSocketRouter();
  const first = router.route("/a/:x", {});
  router.route("/a/b", {});
  assert.equal(router.match("/a/b")?.route, first);
});

Deno.test("WebSocketRouter /* matches every path, the root included", () => {
  const router = new WebSocketRouter();
  router.route("/*", {});
  assert.deepEqual(router.match("/")?.params, { "*": "" });
  assert.deepEqual(router.match("/x/y")?.params, { "*": "x/y" });
});

Deno.test("WebSocketRouter skips a route whose parameter is not valid percent-encoding", () => {
  const router = new WebSocketRouter();
  router.route("/r/:id", {});
  assert.equal(router.match("/r/%E0%A4%A"), undefined);
});

Deno.test("WebSocketRouter.route rejects invalid patterns", () => {
  const router = new WebSocketRouter();
  assert.throws(() => router.route("rooms", {}), TypeError);
  assert.throws(() => router.route("/a/*/b", {}), TypeError);
  assert.throws(() => router.route("/:a/:a", {}), TypeError);
  assert.throws(() => router.route("/:1x", {}), TypeError);
});

Deno.test("WebSocketRouter.route rejects an endpoint whose maxMessageSize is not a positive integer", () => {
  const router = new WebSocketRouter();
  assert.throws(() => router.route("/a", { maxMessageSize: 0 }), RangeError);
  assert.throws(() => router.route("/a", { maxMessageSize: 1.5 }), RangeError);
});
