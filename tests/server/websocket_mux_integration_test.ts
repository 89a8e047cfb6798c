// `GET /ws` (subprotocol pushwire.v1) end to end on the one-port server, with pushwire's own
// client: subscribe / publish / unsubscribe, many channels on one socket, reaching SSE and
// long-poll subscribers, resume and reset, per-channel auth, error replies and close codes.
import assert from "node:assert/strict";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import { GapBroker } from "../_gap_broker.ts";
import { signToken } from "../../lib/server/auth.ts";
import { connect } from "../../lib/websocket_io/client.ts";
import { WebSocketConnectError } from "../../lib/websocket_io/connect_error.ts";
import { FrameReader, publishText, startWsHub, within } from "./_websocket_harness.ts";
import { until } from "../_wait.ts";

type Reply = Record<string, unknown> & { type: string };

async function openMux(wsBase: string, query = "", headers: Record<string, string> = {}) {
  const client = await connect(`${wsBase}/ws${query}`, { protocols: ["pushwire.v1"], headers });
  assert.equal(client.protocol, "pushwire.v1");
  const frames = new FrameReader(client);
  return {
    client,
    send: (request: unknown) => client.send(JSON.stringify(request)),
    next: async (what: string) => await frames.json(what) as Reply,
    async close() {
      client.close(1000);
      await client.closed;
    },
  };
}

Deno.test("/ws subscribes, receives, publishes and unsubscribes with replies in request order", async () => {
  await using server = startWsHub();
  const mux = await openMux(server.wsBase);
  mux.send({ type: "subscribe", channel: "news", id: 1 });
  const subscribed = await mux.next("subscribed");
  assert.equal(subscribed.type, "subscribed");
  assert.equal(subscribed.channel, "news");
  assert.equal(subscribed.id, 1);
  assert.equal(typeof subscribed.cursor, "string");
  const id = await publishText(server.base, "news", "from http");
  const message = await mux.next("the HTTP message");
  assert.deepEqual(message.type, "message");
  assert.deepEqual((message.message as { id: string }).id, id);
  assert.deepEqual((message.message as { data: unknown }).data, "from http");
  mux.send({ type: "publish", channel: "news", data: { n: 1 }, event: "update", id: "p1" });
  const got = [await mux.next("reply or message"), await mux.next("reply or message")];
  const published = got.find((reply) => reply.type === "published")!;
  const echoed = got.find((reply) => reply.type === "message")!;
  assert.equal(published.id, "p1");
  assert.equal(published.channel, "news");
  const echoedMessage = echoed.message as { id: string; data: unknown; event: string };
  assert.equal(published.message_id, echoedMessage.id);
  assert.deepEqual(echoedMessage.data, { n: 1 });
  assert.equal(echoedMessage.event, "update");
  mux.send({ type: "ping", id: 9 });
  assert.deepEqual(await mux.next("pong"), { type: "pong", id: 9 });
  mux.send({ type: "unsubscribe", channel: "news", id: 2 });
  assert.deepEqual(await mux.next("unsubscribed"), {
    type: "unsubscribed",
    channel: "news",
    id: 2,
  });
  await publishText(server.base, "news", "after unsubscribe");
  mux.send({ type: "ping" }); // a barrier: a message of "news" would arrive before the pong
  assert.deepEqual(await mux.next("pong"), { type: "pong" });
  assert.equal(server.metrics.connections("ws"), 1);
  await mux.close();
});

Deno.test("/ws carries many channels on one socket, each message tagged with its channel", async () => {
  await using server = startWsHub();
  const mux = await openMux(server.wsBase);
  const channels = Array.from({ length: 25 }, (_, i) => `room.${i}`);
  for (const channel of channels) mux.send({ type: "subscribe", channel });
  for (const channel of channels) assert.equal((await mux.next("subscribed")).channel, channel);
  for (const channel of channels) await publishText(server.base, channel, `hi ${channel}`);
  const received = new Map<string, unknown>();
  for (let i = 0; i < channels.length; i++) {
    const reply = await mux.next("a message");
    const message = reply.message as { channel: string; data: unknown };
    received.set(message.channel, message.data);
  }
  assert.deepEqual(
    [...received.entries()].sort(),
    channels.map((channel) => [channel, `hi ${channel}`]).sort(),
  );
  await mux.close();
});

Deno.test("/ws publish reaches SSE and long-poll subscribers", async () => {
  await using server = startWsHub();
  const sse = await fetch(`${server.base}/channels/mix/events`);
  const reader = sse.body!.pipeThrough(new TextDecoderStream()).getReader();
  const longPoll = fetch(`${server.base}/channels/mix/longpoll?timeout=10`);
  await until(() => server.hub.stats.waiters === 1, "the long poll parked");
  const mux = await openMux(server.wsBase);
  mux.send({ type: "publish", channel: "mix", data: { via: "ws" }, id: 1 });
  assert.equal((await mux.next("published")).type, "published");
  let text = "";
  while (!text.includes('data: {"via":"ws"}')) {
    text += (await within(reader.read(), "the SSE event")).value ?? "";
  }
  await reader.cancel();
  const polled = await (await within(longPoll, "the long poll")).json();
  assert.deepEqual(polled.messages.map((m: { data: unknown }) => m.data), [{ via: "ws" }]);
  await mux.close();
});

Deno.test("/ws resumes with subscribe after: no loss, no duplicates; reset when history moved on", async () => {
  await using server = startWsHub({}, {
    broker: new MemoryBroker({ history: { maxMessages: 3 } }),
  });
  const first = await openMux(server.wsBase);
  first.send({ type: "subscribe", channel: "feed" });
  await first.next("subscribed");
  await publishText(server.base, "feed", "a");
  await publishText(server.base, "feed", "b");
  const seen = [await first.next("a"), await first.next("b")].map((r) =>
    r.message as { id: string; data: string }
  );
  await first.close();
  await publishText(server.base, "feed", "c");
  await publishText(server.base, "feed", "d");
  const second = await openMux(server.wsBase);
  second.send({ type: "subscribe", channel: "feed", after: seen.at(-1)!.id, id: "r" });
  const subscribed = await second.next("subscribed");
  assert.equal(subscribed.cursor, seen.at(-1)!.id);
  seen.push((await second.next("c")).message as { id: string; data: string });
  seen.push((await second.next("d")).message as { id: string; data: string });
  await publishText(server.base, "feed", "e");
  seen.push((await second.next("e")).message as { id: string; data: string });
  assert.deepEqual(seen.map((m) => m.data), ["a", "b", "c", "d", "e"]);
  assert.equal(new Set(seen.map((m) => m.id)).size, 5);
  // History keeps 3: resuming after "a" finds "b" gone.
  second.send({ type: "subscribe", channel: "feed", after: seen[0]!.id });
  assert.equal((await second.next("already")).code, "MUX_ERR_ALREADY_SUBSCRIBED");
  second.send({ type: "unsubscribe", channel: "feed" });
  await second.next("unsubscribed");
  second.send({ type: "subscribe", channel: "feed", after: seen[0]!.id });
  assert.equal((await second.next("subscribed")).type, "subscribed");
  const reset = await second.next("reset");
  assert.equal(reset.type, "reset");
  assert.equal(reset.channel, "feed");
  assert.equal(typeof reset.cursor, "string");
  const retained = [];
  for (let i = 0; i < 3; i++) {
    retained.push(((await second.next("retained")).message as { data: string }).data);
  }
  assert.deepEqual(retained, ["c", "d", "e"]);
  await second.close();
});

Deno.test("/ws answers bad requests with error replies and keeps the socket open", async () => {
  await using server = startWsHub();
  const mux = await openMux(server.wsBase);
  const cases: [string, string][] = [
    ["{not json", "MUX_ERR_INVALID_JSON"],
    ["[1,2]", "MUX_ERR_INVALID_REQUEST"],
    ['{"type":"shout"}', "MUX_ERR_UNKNOWN_TYPE"],
    ['{"type":"subscribe"}', "MUX_ERR_INVALID_REQUEST"],
    ['{"type":"subscribe","channel":"bad name"}', "HUB_ERR_INVALID_CHANNEL"],
    ['{"type":"subscribe","channel":"c","after":"nope"}', "HUB_ERR_INVALID_CURSOR"],
    ['{"type":"publish","channel":"c"}', "MUX_ERR_INVALID_REQUEST"],
    ['{"type":"publish","channel":"c","data":1,"event":"no spaces"}', "HUB_ERR_INVALID_EVENT"],
    ['{"type":"unsubscribe","channel":"c","id":"u"}', "MUX_ERR_NOT_SUBSCRIBED"],
  ];
  for (const [frame, code] of cases) {
    mux.client.send(frame);
    const reply = await mux.next(code);
    assert.equal(reply.type, "error", frame);
    assert.equal(reply.code, code, frame);
    assert.equal(typeof reply.message, "string");
  }
  mux.send({ type: "ping", id: "still" });
  assert.deepEqual(await mux.next("pong"), { type: "pong", id: "still" });
  await mux.close();
});

Deno.test("/ws closes with 1008 a client that keeps sending invalid requests", async () => {
  await using server = startWsHub({ errorBudget: { burst: 3, perSecond: 0 } });
  const mux = await openMux(server.wsBase);
  for (let i = 0; i < 4; i++) mux.client.send("garbage");
  const codes = [];
  for (let i = 0; i < 4; i++) codes.push((await mux.next("error")).code);
  assert.deepEqual(codes, Array(4).fill("MUX_ERR_INVALID_JSON"));
  assert.equal((await within(mux.client.closed, "the 1008 close")).code, 1008);
});

Deno.test("/ws limits channels per socket", async () => {
  await using server = startWsHub({ maxChannelsPerSocket: 2 });
  const mux = await openMux(server.wsBase);
  for (const channel of ["a", "b", "c"]) mux.send({ type: "subscribe", channel, id: channel });
  assert.equal((await mux.next("a")).type, "subscribed");
  assert.equal((await mux.next("b")).type, "subscribed");
  const refused = await mux.next("c");
  assert.equal(refused.code, "MUX_ERR_TOO_MANY_CHANNELS");
  assert.equal(refused.id, "c");
  assert.equal(refused.channel, "c");
  await mux.close();
});

Deno.test("/ws refuses a client without the pushwire.v1 subprotocol with 400", async () => {
  await using server = startWsHub();
  for (const protocols of [[], ["chat"]]) {
    const error = await connect(`${server.wsBase}/ws`, { protocols }).then(() => 0, (e) => e);
    assert.ok(error instanceof WebSocketConnectError);
    assert.equal(error.status, 400);
  }
});

Deno.test("/ws closes with 1003 on a binary frame", async () => {
  await using server = startWsHub();
  const mux = await openMux(server.wsBase);
  mux.client.send(new Uint8Array([0x7b, 0x7d]));
  assert.equal((await within(mux.client.closed, "the 1003 close")).code, 1003);
});

Deno.test("/ws with a secret: 401 before the handshake without a token, per-channel grants after", async () => {
  const secret = "k3y";
  await using server = startWsHub({ secret, allowOrigins: ["https://app.example"] });
  const error = await connect(`${server.wsBase}/ws`, { protocols: ["pushwire.v1"] })
    .then(() => 0, (e) => e);
  assert.ok(error instanceof WebSocketConnectError);
  assert.equal(error.status, 401);
  const token = await signToken({ subscribe: ["public.*"], publish: ["public.chat"] }, secret);
  const evil = await connect(`${server.wsBase}/ws?token=${token}`, {
    protocols: ["pushwire.v1"],
    origin: "https://evil.example",
  }).then(() => 0, (e) => e);
  assert.equal((evil as WebSocketConnectError).status, 403);
  const mux = await openMux(server.wsBase, `?token=${token}`);
  mux.send({ type: "subscribe", channel: "private", id: 1 });
  const forbidden = await mux.next("forbidden");
  assert.equal(forbidden.code, "HUB_ERR_FORBIDDEN");
  assert.equal(forbidden.id, 1);
  mux.send({ type: "publish", channel: "public.news", data: "x", id: 2 });
  assert.equal((await mux.next("forbidden publish")).code, "HUB_ERR_FORBIDDEN");
  mux.send({ type: "subscribe", channel: "public.chat", id: 3 });
  assert.equal((await mux.next("subscribed")).type, "subscribed");
  mux.send({ type: "publish", channel: "public.chat", data: "ok", id: 4 });
  const got = [await mux.next("message or published"), await mux.next("message or published")];
  assert.deepEqual(got.map((r) => r.type).sort(), ["message", "published"]);
  await mux.close();
});

Deno.test("/ws refuses requests once the token has expired, keeping the socket", async () => {
  const secret = "k3y";
  let now = Date.now();
  await using server = startWsHub({ secret, now: () => now });
  const token = await signToken(
    { subscribe: ["*"], publish: ["*"], exp: Math.floor(now / 1000) + 60 },
    secret,
  );
  const mux = await openMux(server.wsBase, "", { Authorization: `Bearer ${token}` });
  mux.send({ type: "subscribe", channel: "a" });
  assert.equal((await mux.next("subscribed")).type, "subscribed");
  now += 120_000;
  mux.send({ type: "publish", channel: "a", data: 1 });
  assert.equal((await mux.next("expired")).code, "HUB_ERR_UNAUTHORIZED");
  await mux.close();
});

Deno.test("/ws answers a broker gap on one channel with an unsubscribed reply for it alone", async () => {
  const broker = new GapBroker();
  await using server = startWsHub({}, { broker });
  const mux = await openMux(server.wsBase);
  mux.send({ type: "subscribe", channel: "lossy" });
  mux.send({ type: "subscribe", channel: "steady" });
  assert.equal((await mux.next("subscribed lossy")).channel, "lossy");
  assert.equal((await mux.next("subscribed steady")).channel, "steady");
  const before = await publishText(server.base, "lossy", "before the gap");
  assert.equal(((await mux.next("message")).message as { id: string }).id, before);
  broker.gap("lossy");
  assert.deepEqual(await mux.next("unsubscribed"), {
    type: "unsubscribed",
    channel: "lossy",
    reason: "gap",
    cursor: before,
  });
  // The socket and its other channel go on.
  const steady = await publishText(server.base, "steady", "still here");
  const message = (await mux.next("steady message")).message as { id: string; channel: string };
  assert.deepEqual([message.channel, message.id], ["steady", steady]);
  // Resubscribing from the cursor is told what history could not bridge.
  mux.send({ type: "subscribe", channel: "lossy", after: before });
  assert.equal((await mux.next("subscribed again")).type, "subscribed");
  assert.deepEqual(await mux.next("reset"), { type: "reset", channel: "lossy", cursor: before });
  await mux.close();
});
