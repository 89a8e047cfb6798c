// `GET /channels/{ch}/ws` end to end on the one-port server (as `deno task start` serves
// it), with pushwire's own client: delivery, publishing, resume, reset, auth, origin, close
// codes and metrics.
import assert from "node:assert/strict";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import { GapBroker } from "../_gap_broker.ts";
import { signToken } from "../../lib/server/auth.ts";
import { connect } from "../../lib/websocket_io/client.ts";
import { WebSocketConnectError } from "../../lib/websocket_io/connect_error.ts";
import { FrameReader, poll, publishText, startWsHub, within } from "./_websocket_harness.ts";

async function refusedStatus(promise: Promise<unknown>): Promise<number | undefined> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof WebSocketConnectError, `expected a refusal, got ${error}`);
  return error.status;
}

Deno.test("channel WebSocket delivers each HTTP publish as one text frame holding the message JSON", async () => {
  await using server = startWsHub();
  const client = await connect(`${server.wsBase}/channels/news/ws`);
  const frames = new FrameReader(client);
  await publishText(server.base, "news", "one");
  const jsonResponse = await fetch(`${server.base}/channels/news`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: '{"n":2}',
  });
  await jsonResponse.body?.cancel();
  const first = await frames.next("the first message");
  const second = await frames.next("the second message");
  // The same JSON the short poll returns, byte for byte.
  const { text } = await poll(server.base, "news");
  assert.ok(text.includes(first), `${first} not in ${text}`);
  assert.ok(text.includes(second), `${second} not in ${text}`);
  assert.equal(JSON.parse(first).data, "one");
  assert.deepEqual(JSON.parse(second).data, { n: 2 });
  assert.equal(server.metrics.connections("ws"), 1);
  assert.ok(server.metrics.delivered >= 2);
  client.close(1000);
  assert.equal((await client.closed).code, 1000);
  await within(
    (async () => {
      while (server.metrics.connections("ws") !== 0) await new Promise((r) => setTimeout(r, 5));
    })(),
    "the ws gauge to drop",
  );
});

Deno.test("channel WebSocket publishes a client text frame as a text message, JSON-looking or not", async () => {
  await using server = startWsHub();
  const client = await connect(`${server.wsBase}/channels/chat/ws`);
  const frames = new FrameReader(client);
  client.send("hello");
  client.send('{"looks":"like json"}');
  assert.equal(JSON.parse(await frames.next("own message")).data, "hello");
  assert.equal(JSON.parse(await frames.next("own message 2")).data, '{"looks":"like json"}');
  const { messages } = await poll(server.base, "chat");
  assert.deepEqual(messages.map((m) => m.data), ["hello", '{"looks":"like json"}']);
  client.close(1000);
  await client.closed;
});

Deno.test("channel WebSocket resumes after a disconnect with ?after= with no loss and no duplicates", async () => {
  await using server = startWsHub();
  const first = await connect(`${server.wsBase}/channels/feed/ws`);
  const firstFrames = new FrameReader(first);
  for (let i = 1; i <= 3; i++) await publishText(server.base, "feed", `m${i}`);
  const seen: { id: string; data: string }[] = [];
  for (let i = 0; i < 3; i++) seen.push(JSON.parse(await firstFrames.next(`m${i + 1}`)));
  first.close(1000);
  await first.closed;
  for (let i = 4; i <= 6; i++) await publishText(server.base, "feed", `m${i}`);
  const last = seen.at(-1)!.id;
  const second = await connect(
    `${server.wsBase}/channels/feed/ws?after=${encodeURIComponent(last)}`,
  );
  const secondFrames = new FrameReader(second);
  for (let i = 0; i < 3; i++) seen.push(JSON.parse(await secondFrames.next(`replayed ${i}`)));
  await publishText(server.base, "feed", "m7");
  seen.push(JSON.parse(await secondFrames.next("live m7")));
  assert.deepEqual(seen.map((m) => m.data), ["m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
  assert.equal(new Set(seen.map((m) => m.id)).size, 7);
  second.close(1000);
  await second.closed;
  // ?lastEventId= is accepted as the same cursor.
  const third = await connect(
    `${server.wsBase}/channels/feed/ws?lastEventId=${encodeURIComponent(seen[5]!.id)}`,
  );
  assert.equal(JSON.parse(await new FrameReader(third).next("m7 again")).data, "m7");
  third.close(1000);
  await third.closed;
});

Deno.test("channel WebSocket says reset with a {reset, cursor} frame when history moved past the cursor", async () => {
  await using server = startWsHub({}, {
    broker: new MemoryBroker({ history: { maxMessages: 3 } }),
  });
  const firstId = await publishText(server.base, "r", "m0");
  for (let i = 1; i < 8; i++) await publishText(server.base, "r", `m${i}`);
  const client = await connect(
    `${server.wsBase}/channels/r/ws?after=${encodeURIComponent(firstId)}`,
  );
  const frames = new FrameReader(client);
  const reset = JSON.parse(await frames.next("the reset frame"));
  assert.equal(reset.reset, true);
  assert.equal(typeof reset.cursor, "string");
  assert.ok(!("id" in reset));
  const retained = [];
  for (let i = 0; i < 3; i++) retained.push(JSON.parse(await frames.next("retained")).data);
  assert.deepEqual(retained, ["m5", "m6", "m7"]);
  client.close(1000);
  await client.closed;
});

Deno.test("channel WebSocket refuses a bad channel or a malformed cursor with 400 before the handshake", async () => {
  await using server = startWsHub();
  assert.equal(await refusedStatus(connect(`${server.wsBase}/channels/bad%20name/ws`)), 400);
  assert.equal(await refusedStatus(connect(`${server.wsBase}/channels/ok/ws?after=nope`)), 400);
});

Deno.test("channel WebSocket with a secret: 401 without token, 403 without grant, header/query/cookie tokens work", async () => {
  const secret = "s3cret";
  await using server = startWsHub({ secret });
  const url = `${server.wsBase}/channels/room.1/ws`;
  assert.equal(await refusedStatus(connect(url)), 401);
  assert.equal(await refusedStatus(connect(`${url}?token=forged.token.here`)), 401);
  const other = await signToken({ subscribe: ["elsewhere"] }, secret);
  assert.equal(await refusedStatus(connect(`${url}?token=${other}`)), 403);
  const reader = await signToken({ subscribe: ["room.*"] }, secret);
  const expired = await signToken({ subscribe: ["room.*"], exp: 1 }, secret);
  assert.equal(await refusedStatus(connect(`${url}?token=${expired}`)), 401);
  const cases: { url: string; headers: Record<string, string> }[] = [
    { url: `${url}?token=${reader}`, headers: {} },
    { url, headers: { Authorization: `Bearer ${reader}` } },
    { url, headers: { Cookie: `pushwire_token=${reader}` } },
  ];
  for (const options of cases) {
    const client = await connect(options.url, { headers: options.headers });
    const writer = await signToken({ publish: ["room.1"] }, secret);
    const response = await fetch(`${server.base}/channels/room.1`, {
      method: "POST",
      headers: { "Content-Type": "text/plain", Authorization: `Bearer ${writer}` },
      body: "granted",
    });
    assert.equal(response.status, 201);
    await response.body?.cancel();
    assert.equal(JSON.parse(await new FrameReader(client).next("granted")).data, "granted");
    // The token grants subscribe only: a publish up the socket is a policy violation.
    client.send("not allowed");
    const closed = await within(client.closed, "the 1008 close");
    assert.equal(closed.code, 1008);
  }
});

Deno.test("channel WebSocket with a secret refuses a cookie token from another site's page (hijacking)", async () => {
  const secret = "s3cret";
  await using server = startWsHub({ secret });
  const url = `${server.wsBase}/channels/room.1/ws`;
  const reader = await signToken({ subscribe: ["room.*"] }, secret);
  const headers = { Cookie: `pushwire_token=${reader}` };
  assert.equal(
    await refusedStatus(connect(url, { headers, origin: "https://evil.example" })),
    403,
  );
  // The same cookie from the hub's own pages, or a token another site cannot know, works.
  const own = await connect(url, { headers, origin: new URL(server.base).origin });
  own.close(1000);
  await own.closed;
  const query = await connect(`${url}?token=${reader}`, { origin: "https://evil.example" });
  query.close(1000);
  await query.closed;
});

Deno.test("channel WebSocket refuses an origin outside --allow-origin with 403 before the handshake", async () => {
  await using server = startWsHub({ allowOrigins: ["https://good.example"] });
  const url = `${server.wsBase}/channels/o/ws`;
  assert.equal(await refusedStatus(connect(url, { origin: "https://evil.example" })), 403);
  const client = await connect(url, { origin: "https://good.example" });
  client.close(1000);
  await client.closed;
});

Deno.test("channel WebSocket closes with 1003 on a binary frame", async () => {
  await using server = startWsHub();
  const client = await connect(`${server.wsBase}/channels/b/ws`);
  client.send(new Uint8Array([1, 2, 3]));
  const closed = await within(client.closed, "the 1003 close");
  assert.equal(closed.code, 1003);
  assert.deepEqual((await poll(server.base, "b")).messages, []);
});

Deno.test("channel WebSocket closes with 1009 on a frame over the publish limit", async () => {
  await using server = startWsHub({ maxBodyBytes: 1024 });
  const client = await connect(`${server.wsBase}/channels/big/ws`);
  client.send("x".repeat(2048));
  assert.equal((await within(client.closed, "the 1009 close")).code, 1009);
});

Deno.test("channel WebSocket closes with 1013 on a broker gap, after what it had queued", async () => {
  const broker = new GapBroker();
  await using server = startWsHub({}, { broker });
  const client = await connect(`${server.wsBase}/channels/lossy/ws`);
  const frames = new FrameReader(client);
  const before = await publishText(server.base, "lossy", "before the gap");
  assert.equal((await frames.json("the message") as { id: string }).id, before);
  broker.gap("lossy");
  const closed = await client.closed;
  assert.deepEqual([closed.code, closed.reason], [1013, "gap: resume from your cursor"]);
});
