import assert from "node:assert/strict";
import { handlerOptionsOf, parseStartArgs } from "../../lib/cli/start.ts";

Deno.test("parseStartArgs defaults to 127.0.0.1:8000 and reads PORT", () => {
  const options = parseStartArgs([], {});
  assert.equal(options.port, 8000);
  assert.equal(options.hostname, "127.0.0.1");
  assert.deepEqual(options.allowOrigins, []);
  assert.equal(options.secret, undefined);
  assert.equal(parseStartArgs([], { PORT: "9100" }).port, 9100);
});

Deno.test("parseStartArgs reads every option, with a space or =", () => {
  const options = parseStartArgs(
    [
      "--port=9001",
      "--hostname",
      "0.0.0.0",
      "--allow-origin",
      "http://a",
      "--allow-origin=http://b",
      "--secret",
      "k",
    ],
    { PORT: "1" },
  );
  assert.equal(options.port, 9001);
  assert.equal(options.hostname, "0.0.0.0");
  assert.deepEqual(options.allowOrigins, ["http://a", "http://b"]);
  assert.deepEqual(handlerOptionsOf(options), {
    allowOrigins: ["http://a", "http://b"],
    secret: "k",
  });
});

Deno.test("parseStartArgs reads --redis and refuses what is not a redis:// URL", () => {
  assert.equal(parseStartArgs([], {}).redis, undefined);
  assert.equal(
    parseStartArgs(["--redis", "redis://127.0.0.1:6379"], {}).redis,
    "redis://127.0.0.1:6379",
  );
  assert.equal(parseStartArgs(["--redis=rediss://h:1/2"], {}).redis, "rediss://h:1/2");
  for (const bad of ["127.0.0.1:6379", "http://h:1", "redis://"]) {
    assert.throws(() => parseStartArgs(["--redis", bad], {}), /--redis must be a redis:\/\/ URL/);
  }
});

Deno.test("parseStartArgs reads --tcp-port for the socket relay", () => {
  assert.equal(parseStartArgs(["--tcp-port", "9002"], {}).tcpPort, 9002);
  assert.equal(parseStartArgs([], {}).tcpPort, undefined);
  assert.throws(() => parseStartArgs(["--tcp-port", "x"], {}), /--tcp-port must be a port/);
});

Deno.test("parseStartArgs rejects bad ports, unknown options and missing values", () => {
  for (
    const args of [["--port", "x"], ["--port", "70000"], ["--nope"], ["--port"], ["--secret", ""]]
  ) {
    assert.throws(() => parseStartArgs(args, {}), args.join(" "));
  }
  assert.throws(() => parseStartArgs([], { PORT: "abc" }), RangeError);
});
