// The client's WebSocket transport against a scripted `pushwire.v1` server (Deno's own
// WebSocket on both sides): replies the real hub sends only under load or after a broker fault
// (`unsubscribed` with reason `slow_consumer` or `gap`) are played exactly, and every frame the
// client sends back is checked.
import assert from "node:assert/strict";
import { PushwireClient } from "../../lib/client/pushwire_client.ts";
import type { PushwireMessage } from "../../lib/client/transport.ts";
import { PUSHWIRE_SUBPROTOCOL } from "../../lib/client/websocket_transport.ts";
import { until } from "../_wait.ts";

interface Request {
  readonly type: string;
  readonly channel?: string;
  readonly after?: string;
}

/** A mux server that records what the client sends and lets the test answer. */
class ScriptedMux {
  readonly server: Deno.HttpServer<Deno.NetAddr>;
  readonly requests: Request[] = [];
  connections = 0;
  #socket: WebSocket | undefined;
  #closed: Promise<void> | undefined;
  #read = 0;

  constructor() {
    this.server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      if (new URL(request.url).pathname !== "/ws") return new Response("no", { status: 404 });
      const { socket, response } = Deno.upgradeWebSocket(request, {
        protocol: PUSHWIRE_SUBPROTOCOL,
      });
      this.connections++;
      this.#socket = socket;
      this.#closed = new Promise((resolve) => socket.addEventListener("close", () => resolve()));
      socket.onmessage = (event) => {
        const request = JSON.parse(event.data as string) as Request;
        if (request.type !== "ping") this.requests.push(request);
      };
      return response;
    });
  }

  get base(): string {
    return `http://127.0.0.1:${this.server.addr.port}`;
  }

  send(reply: unknown): void {
    this.#socket!.send(JSON.stringify(reply));
  }

  message(channel: string, id: string): void {
    this.send({ type: "message", message: { id, channel, data: id, time: 0 } });
  }

  /** The next request the client sent (after the ones already read). */
  async next(what: string): Promise<Request> {
    await until(() => this.requests.length > this.#read, what);
    return this.requests[this.#read++]!;
  }

  /** Checks that the client's next request subscribes `channel` after `after`; confirms it. */
  async subscribed(channel: string, after: string): Promise<void> {
    assert.deepEqual(await this.next(`subscribe ${channel}`), {
      type: "subscribe",
      channel,
      after,
    });
    this.send({ type: "subscribed", channel, cursor: after });
  }

  async close(): Promise<void> {
    await this.#closed;
    await this.server.shutdown();
  }
}

Deno.test("the WebSocket transport resubscribes a channel the server ended (slow_consumer, gap) from its own cursor, on the same socket", async () => {
  const mux = new ScriptedMux();
  const states: string[] = [];
  const client = new PushwireClient(mux.base, {
    transports: ["websocket"],
    memory: null,
    onStatus: (s) => states.push(s.state),
  });
  try {
    const got: Record<string, string[]> = { a: [], b: [] };
    const resets: string[] = [];
    for (const channel of ["a", "b"]) {
      client.subscribe(channel, {
        after: `${channel}-0`,
        onMessage: (m: PushwireMessage) => got[channel]!.push(m.id),
        onReset: (e) => resets.push(`${e.channel}@${e.cursor}`),
      });
    }
    await mux.subscribed("a", "a-0");
    await mux.subscribed("b", "b-0");
    mux.message("a", "a-1");
    mux.message("a", "a-2");
    mux.message("b", "b-1");
    await until(() => got.a!.length === 2 && got.b!.length === 1, "the first messages");

    // The client fell behind: resubscribe "a" after the last id it handled.
    mux.send({ type: "unsubscribed", channel: "a", reason: "slow_consumer", cursor: "a-2" });
    await mux.subscribed("a", "a-2");
    mux.message("a", "a-2"); // a repeat is dropped
    mux.message("a", "a-3");
    await until(() => got.a!.length === 3, "a-3");

    // A broker gap. The client resumes after its own last id, not the reply's cursor (one it
    // never saw a message for would skip what lies between).
    mux.send({ type: "unsubscribed", channel: "a", reason: "gap", cursor: "a-4" });
    await mux.subscribed("a", "a-3");
    mux.send({ type: "reset", channel: "a", cursor: "a-5" });
    mux.message("a", "a-6");
    mux.message("b", "b-2");
    await until(() => got.a!.length === 4 && got.b!.length === 2, "the messages after the gap");

    // An `unsubscribed` without a reason ends nothing the client asked for: no resubscribe.
    mux.send({ type: "unsubscribed", channel: "b" });
    mux.message("b", "b-3");
    await until(() => got.b!.length === 3, "b-3");

    assert.deepEqual(got, { a: ["a-1", "a-2", "a-3", "a-6"], b: ["b-1", "b-2", "b-3"] });
    assert.deepEqual(resets, ["a@a-5"]);
    assert.equal(mux.requests.length, 4, JSON.stringify(mux.requests)); // "b" subscribed once
    assert.equal(mux.connections, 1);
    assert.deepEqual(states, ["connecting", "open"]);
  } finally {
    client.close();
    await mux.close();
  }
});

Deno.test("the WebSocket transport forgets a pending resubscribe when the app unsubscribes or closes", async () => {
  const mux = new ScriptedMux();
  const client = new PushwireClient(mux.base, { transports: ["websocket"], memory: null });
  try {
    const a = client.subscribe("a", { after: "a-0", onMessage() {} });
    client.subscribe("b", { after: "b-0", onMessage() {} });
    await mux.subscribed("a", "a-0");
    await mux.subscribed("b", "b-0");
    // The server ends both; the app drops "a" before its resubscribe is due.
    mux.send({ type: "unsubscribed", channel: "a", reason: "gap", cursor: "a-0" });
    mux.send({ type: "unsubscribed", channel: "b", reason: "gap", cursor: "b-0" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    a.close();
    // "b" comes back; "a" is neither resubscribed nor unsubscribed (it is not on the server).
    await until(() => mux.requests.filter((r) => r.channel === "b").length === 2, "b again");
    mux.send({ type: "subscribed", channel: "b", cursor: "b-0" });
    mux.send({ type: "unsubscribed", channel: "b", reason: "slow_consumer", cursor: "b-0" });
  } finally {
    client.close(); // with "b"'s second resubscribe pending: its timer must not outlive the client
    await mux.close();
  }
  const requests = mux.requests.map((r) => `${r.type} ${r.channel}`);
  assert.deepEqual(requests.filter((r) => r.endsWith(" b")), ["subscribe b", "subscribe b"]);
  // The random delay may have run out within the 20 ms: then "a" was back on the server and
  // its close must unsubscribe it; otherwise nothing more is sent for it.
  const laterA = requests.filter((r) => r.endsWith(" a")).slice(1);
  assert.ok(
    laterA.length === 0 || (laterA.join() === "subscribe a,unsubscribe a"),
    JSON.stringify(requests),
  );
});
