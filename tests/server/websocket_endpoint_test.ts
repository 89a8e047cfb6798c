// Both WebSocket endpoints driven with a scripted session. Framing once: every session gets
// the same PreparedMessage. The slow-consumer path: the
// socket stays saturated (drained() pending) while messages are published, the hub's
// bounded subscription queue overflows, and the endpoint then tells the client to resume
// (channel route: close 1013; /ws: `unsubscribed` with reason and cursor).
import assert from "node:assert/strict";
import { Hub } from "../../lib/hub/hub.ts";
import { Metrics } from "../../lib/server/metrics.ts";
import {
  type ChannelSocketData,
  channelSocketEndpoint,
} from "../../lib/server/ws/channel_socket.ts";
import { type MuxSocketData, muxSocketEndpoint } from "../../lib/server/ws/mux_socket.ts";
import type { EndpointSession, WebSocketRequest } from "../../lib/websocket_io/endpoint.ts";
import type { PreparedMessage } from "../../lib/websocket_io/prepared_message.ts";
import type { SessionCloseEvent } from "../../lib/websocket_io/session.ts";
import { until } from "../_wait.ts";

function requestFor(path: string, params: Record<string, string>, protocols: string[] = []) {
  return {
    url: new URL(`ws://hub${path}`),
    params,
    headers: new Headers(),
    origin: undefined,
    protocols,
    extensions: [],
    cookies: new Map(),
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
  } satisfies WebSocketRequest;
}

/** A session whose socket is saturated until `drain()` is called. */
class ScriptedSession<Data> implements EndpointSession<string | Uint8Array, Data> {
  readonly id = 1;
  readonly request: WebSocketRequest;
  readonly params: Readonly<Record<string, string>>;
  data: Data;
  readonly protocol = "";
  readonly extensions = "";
  state: "open" | "closing" | "closed" = "open";
  readonly bufferedAmount = 0;
  readonly sent: string[] = [];
  readonly prepared: PreparedMessage[] = [];
  closeCode: number | undefined;
  readonly #closed = Promise.withResolvers<SessionCloseEvent>();
  readonly closed: Promise<SessionCloseEvent> = this.#closed.promise;
  #saturated = true;
  #drained = Promise.withResolvers<void>();
  constructor(request: WebSocketRequest, data: Data) {
    this.request = request;
    this.params = request.params;
    this.data = data;
  }
  send(message: string | Uint8Array): boolean {
    this.sent.push(message as string);
    return !this.#saturated;
  }
  sendPrepared(message: PreparedMessage): boolean {
    this.prepared.push(message);
    return this.send(message.data);
  }
  ping(): void {}
  drained(): Promise<void> {
    return this.#saturated ? this.#drained.promise : Promise.resolve();
  }
  drain(): void {
    this.#saturated = false;
    this.#drained.resolve();
  }
  close(code?: number): void {
    if (this.state !== "open") return;
    this.state = "closing";
    this.closeCode = code;
    this.#drained.resolve();
    this.#closed.resolve({
      type: "close",
      code: code ?? 1005,
      reason: "",
      wasClean: true,
      initiator: "local",
    });
  }
}

Deno.test("channel WebSocket endpoint closes a saturated client with 1013 once its hub queue overflows, after what it holds", async () => {
  const hub = new Hub({ subscriberQueue: { maxMessages: 3 } });
  const metrics = new Metrics(hub);
  const endpoint = channelSocketEndpoint(hub, { metrics });
  const request = requestFor("/channels/slow/ws", { channel: "slow" });
  const decision = await endpoint.accept!(request);
  assert.ok(decision?.type === "accept");
  const session = new ScriptedSession(request, decision.data!);
  endpoint.open!(session);
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) ids.push((await hub.publish("slow", `m${i}`)).id);
  assert.equal(session.closeCode, undefined, "not closed while the socket is only saturated");
  session.drain();
  await until(() => session.closeCode !== undefined, "the 1013 close");
  assert.equal(session.closeCode, 1013);
  // The first message was in flight, then the queue's 3: consecutive, so resuming after
  // the last one received loses nothing.
  const delivered = session.sent.map((text) => JSON.parse(text).id);
  assert.deepEqual(delivered, ids.slice(0, delivered.length));
  assert.ok(delivered.length >= 1 && delivered.length < 10);
  endpoint.close!(session, await session.closed);
  assert.equal(hub.stats.subscribers, 0);
  assert.ok(/pushwire_slow_consumers_total [1-9]/.test(metrics.render()));
  await hub.close();
});

Deno.test("/ws endpoint ends only the overflowing channel with unsubscribed{reason, cursor}", async () => {
  const hub = new Hub({ subscriberQueue: { maxMessages: 3 } });
  const endpoint = muxSocketEndpoint(hub, { metrics: new Metrics(hub) });
  const request = requestFor("/ws", {}, ["pushwire.v1"]);
  const decision = await endpoint.accept!(request);
  assert.ok(decision?.type === "accept");
  const session = new ScriptedSession(request, decision.data!);
  endpoint.open!(session);
  await endpoint.message!(session, '{"type":"subscribe","channel":"hot"}');
  await endpoint.message!(session, '{"type":"subscribe","channel":"calm"}');
  for (let i = 0; i < 10; i++) await hub.publish("hot", i);
  session.drain();
  await until(
    () => session.sent.some((text) => JSON.parse(text).type === "unsubscribed"),
    "the unsubscribed reply",
  );
  const replies = session.sent.map((text) => JSON.parse(text));
  const notice = replies.find((reply) => reply.type === "unsubscribed");
  assert.equal(notice.channel, "hot");
  assert.equal(notice.reason, "slow_consumer");
  const lastHot = replies.filter((r) => r.type === "message").at(-1).message.id;
  assert.equal(notice.cursor, lastHot);
  assert.equal(session.state, "open");
  await hub.publish("calm", "still here");
  await until(
    () => session.sent.some((text) => text.includes("still here")),
    "the calm channel",
  );
  session.close(1000);
  endpoint.close!(session, await session.closed);
  assert.equal(hub.stats.subscribers, 0);
  await hub.close();
});

Deno.test("both endpoints frame a message once: every session gets the same PreparedMessage", async () => {
  const hub = new Hub();
  const metrics = new Metrics(hub);
  const channelEndpoint = channelSocketEndpoint(hub, { metrics });
  const muxEndpoint = muxSocketEndpoint(hub, { metrics });
  const sessions: ScriptedSession<ChannelSocketData>[] = [];
  for (let i = 0; i < 2; i++) {
    const request = requestFor("/channels/fan/ws", { channel: "fan" });
    const decision = await channelEndpoint.accept!(request);
    assert.ok(decision?.type === "accept");
    const session = new ScriptedSession(request, decision.data!);
    session.drain();
    channelEndpoint.open!(session);
    sessions.push(session);
  }
  const muxSessions: ScriptedSession<MuxSocketData>[] = [];
  for (let i = 0; i < 2; i++) {
    const request = requestFor("/ws", {}, ["pushwire.v1"]);
    const decision = await muxEndpoint.accept!(request);
    assert.ok(decision?.type === "accept");
    const session = new ScriptedSession(request, decision.data!);
    session.drain();
    muxEndpoint.open!(session);
    await muxEndpoint.message!(session, '{"type":"subscribe","channel":"fan"}');
    muxSessions.push(session);
  }
  const message = await hub.publish("fan", { big: "x".repeat(1000) });
  await until(
    () => [...sessions, ...muxSessions].every((s) => s.prepared.length === 1),
    "every session to get the message",
  );
  assert.equal(sessions[0]!.prepared[0], sessions[1]!.prepared[0]);
  assert.equal(muxSessions[0]!.prepared[0], muxSessions[1]!.prepared[0]);
  assert.equal(sessions[0]!.prepared[0]!.data, JSON.stringify(message));
  for (const session of sessions) {
    session.close(1000);
    channelEndpoint.close!(session, await session.closed);
  }
  for (const session of muxSessions) {
    session.close(1000);
    muxEndpoint.close!(session, await session.closed);
  }
  assert.equal(metrics.connections("ws"), 0);
  assert.equal(hub.stats.subscribers, 0);
  await hub.close();
});
