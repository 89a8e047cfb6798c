// examples/client.ts as a child process, with its documented permissions: its three clients
// read from its own server, and it exits by itself.
import assert from "node:assert/strict";
import { Example } from "./_example.ts";

Deno.test("client.ts reads with connect(), WebSocketClient and EventSource, then exits with 0", async () => {
  const example = await Example.start("client.ts", ["--port", "PORT", "--count", "3"]);
  const { code, stderr } = await example.exited();
  assert.equal(code, 0, stderr);
  const lines = example.stdout.trim().split("\n").slice(1);
  assert.deepEqual(lines.map((line) => line.slice(0, line.indexOf(":"))), [
    ...Array(3).fill("connect()"),
    ...Array(3).fill("WebSocketClient"),
    ...Array(3).fill("EventSource"),
  ]);
  const trades = lines.slice(0, 6).map((line) => JSON.parse(line.slice(line.indexOf(" ") + 1)));
  assert.deepEqual(trades.map((trade) => trade.trade_id), [1, 2, 3, 1, 2, 3]);
  assert.ok(trades.every((trade) => trade.product_id === "BTC-USD"));
  assert.match(
    lines[6]!,
    /^EventSource: \{"type":"edit","title":"Page \d+","user":"bot"\} \(id \d+\)$/,
  );
});

Deno.test("client.ts exits with 0 on SIGTERM while its clients are reading", async () => {
  const example = await Example.start("client.ts", ["--port", "PORT", "--count", "1000000"]);
  await example.waitFor(/connect\(\): /);
  const { code, stderr } = await example.stop();
  assert.equal(code, 0, stderr);
});
