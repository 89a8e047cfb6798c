import assert from "node:assert/strict";
import { encodePolicyFile } from "../../lib/relay/policy_file.ts";
import { RelayConnection, type RelayConnectionOptions } from "../../lib/relay/relay_connection.ts";
import { encodeGreeting, encodeRelayError } from "../../lib/relay/relay_message.ts";

const ID = "AAAAAAAAAAAAAAAAAAAAAA";
const POLICY = encodePolicyFile({ origins: ["a.example"], ports: [8001] });
const REQUEST = new TextEncoder().encode("<policy-file-request/>\0");
const doc = (n: number, size = 10) => new Uint8Array(size).fill(0x41 + (n % 26));

function open(options: RelayConnectionOptions = {}): RelayConnection {
  return new RelayConnection(ID, 0, { policyWindowMs: 0, ...options });
}

/** Takes every pending write, acknowledging each. */
function drain(conn: RelayConnection, now = 0): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let bytes = conn.takeOutgoing(now); bytes; bytes = conn.takeOutgoing(now)) {
    parts.push(bytes);
    conn.writeDone(now);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) out.set(p, (offset += p.length) - p.length);
  return out;
}

Deno.test("RelayConnection waits the policy window, then queues the greeting", () => {
  const conn = new RelayConnection(ID, 1000, { policyWindowMs: 100 });
  assert.equal(conn.state, "sniffing");
  assert.equal(conn.takeOutgoing(1000), undefined);
  conn.tick(1099);
  assert.equal(conn.state, "sniffing");
  conn.tick(1100);
  assert.equal(conn.state, "open");
  assert.ok(conn.greeted);
  assert.deepEqual(drain(conn), encodeGreeting(ID));
});

Deno.test("RelayConnection greets at once with a zero policy window", () => {
  const conn = open();
  assert.equal(conn.state, "open");
  assert.deepEqual(drain(conn), encodeGreeting(ID));
});

Deno.test("RelayConnection answers a policy-file request split at every point with only the policy", () => {
  for (let split = 0; split <= REQUEST.length; split++) {
    const conn = new RelayConnection(ID, 0, { policyWindowMs: 100, policyFile: POLICY });
    conn.receive(REQUEST.subarray(0, split), 1);
    // The window passes mid-request: no greeting while a request is under way.
    if (split > 0) conn.tick(500);
    conn.receive(REQUEST.subarray(split), 2);
    assert.equal(conn.state, "closing", `split ${split}`);
    assert.equal(conn.closeReason?.code, "RELAY_POLICY_SERVED");
    assert.ok(conn.closeReason?.flush);
    assert.deepEqual(drain(conn), POLICY, `split ${split}`);
    assert.ok(!conn.greeted);
  }
});

Deno.test("RelayConnection answers a policy-file request made after the greeting and drops queued messages", () => {
  const conn = open({ policyFile: POLICY });
  conn.subscribe("c", "0");
  drain(conn);
  assert.ok(conn.enqueue(doc(1), "c", "1"));
  conn.receive(REQUEST, 1);
  assert.deepEqual(drain(conn), POLICY);
  assert.equal(conn.channels.get("c"), "0");
});

const errorDoc = (code: string) => encodeRelayError(code);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (out.set(p, offset), offset + p.length), 0);
  return out;
};

Deno.test("RelayConnection answers junk at any byte of the input with only an <error/>, then closes", () => {
  const junk = new TextEncoder().encode("<policy-file-request/>x");
  for (let at = 0; at < REQUEST.length; at++) {
    const input = REQUEST.slice(0, at + 1);
    input[at] = 0x78; // 'x' where the request has something else
    const conn = open();
    conn.subscribe("c", "0");
    assert.ok(conn.enqueue(doc(1), "c", "1"));
    conn.receive(input, 0);
    assert.equal(conn.closeReason?.code, "RELAY_ERR_JUNK", `byte ${at}`);
    assert.equal(conn.state, "closing");
    assert.deepEqual(drain(conn), errorDoc("RELAY_ERR_JUNK"), "greeting and message dropped");
    assert.equal(conn.channels.get("c"), "0", "the cursor stays at what was written");
  }
  const sniffing = new RelayConnection(ID, 0, { policyWindowMs: 100 });
  sniffing.receive(junk, 0);
  assert.equal(sniffing.closeReason?.code, "RELAY_ERR_JUNK");
  assert.equal(sniffing.greeted, false);
  assert.deepEqual(drain(sniffing), errorDoc("RELAY_ERR_JUNK"));
});

Deno.test("RelayConnection closes a policy-file request that never completes, saying why", () => {
  const conn = new RelayConnection(ID, 0, { policyWindowMs: 10, requestTimeoutMs: 50 });
  conn.receive(REQUEST.subarray(0, 5), 5);
  conn.tick(54);
  assert.equal(conn.state, "sniffing");
  conn.tick(55);
  assert.equal(conn.closeReason?.code, "RELAY_ERR_REQUEST_TIMEOUT");
  assert.deepEqual(drain(conn), errorDoc("RELAY_ERR_REQUEST_TIMEOUT"));
});

Deno.test("RelayConnection close() stops a flushing close whose reader stalled, keeping its reason", () => {
  const conn = open({ idleTimeoutMs: 100 });
  conn.takeOutgoing(0); // the greeting's write never finishes
  conn.tick(100);
  assert.equal(conn.closeReason?.code, "RELAY_ERR_IDLE");
  assert.equal(conn.closeReason?.flush, true);
  let changes = 0;
  conn.onChange = () => changes++;
  conn.close();
  assert.equal(changes, 1);
  assert.deepEqual(conn.closeReason, {
    code: "RELAY_ERR_IDLE",
    flush: false,
    message: "No subscription for 100 ms",
  });
  assert.equal(conn.takeOutgoing(0), undefined, "nothing more is written");
});

Deno.test("RelayConnection closes after the idle timeout with no subscription, not with one", () => {
  const idle = open({ idleTimeoutMs: 100 });
  idle.tick(99);
  assert.equal(idle.state, "open");
  idle.tick(100);
  assert.equal(idle.closeReason?.code, "RELAY_ERR_IDLE");
  assert.deepEqual(drain(idle), concat(encodeGreeting(ID), errorDoc("RELAY_ERR_IDLE")));

  const busy = open({ idleTimeoutMs: 100 });
  busy.subscribe("c", "0");
  busy.tick(10_000);
  assert.equal(busy.state, "open");
  busy.unsubscribe("c", 10_000);
  busy.tick(10_099);
  assert.equal(busy.state, "open");
  busy.tick(10_100);
  assert.equal(busy.closeReason?.code, "RELAY_ERR_IDLE");
});

Deno.test("RelayConnection moves a channel's cursor only when the write finished", () => {
  const conn = open();
  conn.subscribe("c", "0");
  drain(conn);
  conn.enqueue(doc(1), "c", "1");
  conn.enqueue(doc(2), "c", "2");
  const bytes = conn.takeOutgoing(0);
  assert.equal(bytes?.length, 20, "both documents joined in one write");
  assert.equal(conn.takeOutgoing(0), undefined, "one write in flight at a time");
  assert.equal(conn.channels.get("c"), "0");
  conn.writeDone(1);
  assert.equal(conn.channels.get("c"), "2");
  assert.equal(conn.pendingBytes, 0);
});

Deno.test("RelayConnection batches writes up to maxWriteBytes", () => {
  const conn = open({ maxWriteBytes: 25 });
  drain(conn);
  for (let i = 0; i < 5; i++) conn.enqueue(doc(i), "c", String(i));
  const sizes: number[] = [];
  for (let b = conn.takeOutgoing(0); b; b = conn.takeOutgoing(0)) {
    sizes.push(b.length);
    conn.writeDone(0);
  }
  assert.deepEqual(sizes, [20, 20, 10]);
});

Deno.test("RelayConnection disconnects a slow reader over maxQueueMessages and keeps its cursor", () => {
  const conn = open({ maxQueueMessages: 4 });
  conn.subscribe("c", "0");
  drain(conn);
  conn.enqueue(doc(1), "c", "1");
  conn.takeOutgoing(0);
  conn.writeDone(0); // "1" was written
  conn.enqueue(doc(2), "c", "2");
  conn.takeOutgoing(0); // "2" in flight, never finishes
  assert.ok(conn.enqueue(doc(3), "c", "3"));
  assert.ok(conn.enqueue(doc(4), "c", "4"));
  assert.ok(conn.enqueue(doc(5), "c", "5"));
  assert.equal(conn.enqueue(doc(6), "c", "6"), false);
  assert.equal(conn.closeReason?.code, "RELAY_ERR_SLOW_READER");
  assert.equal(conn.closeReason?.flush, false);
  assert.equal(conn.takeOutgoing(0), undefined);
  assert.equal(conn.channels.get("c"), "1");
});

Deno.test("RelayConnection disconnects a slow reader over maxQueueBytes, but takes one big document into an empty queue", () => {
  const conn = open({ maxQueueBytes: 100 });
  drain(conn);
  assert.ok(conn.enqueue(doc(1, 150), "c", "1"), "one big document fits an empty queue");
  assert.equal(conn.enqueue(doc(2, 1), "c", "2"), false);
  assert.equal(conn.closeReason?.code, "RELAY_ERR_SLOW_READER");
});

Deno.test("RelayConnection times out a write that stays pending and keeps the cursor before it", () => {
  const conn = open({ writeTimeoutMs: 1000 });
  conn.subscribe("c", "0");
  drain(conn);
  conn.enqueue(doc(1), "c", "1");
  conn.takeOutgoing(5000);
  conn.tick(5999);
  assert.equal(conn.state, "open");
  conn.tick(6000);
  assert.equal(conn.closeReason?.code, "RELAY_ERR_WRITE_TIMEOUT");
  assert.equal(conn.channels.get("c"), "0");
});

Deno.test("RelayConnection has room below half its limits and wakes waiters when it drains", async () => {
  const conn = open({ maxQueueMessages: 4 });
  drain(conn);
  conn.enqueue(doc(1), "c", "1");
  assert.ok(conn.hasRoom);
  conn.enqueue(doc(2), "c", "2");
  assert.ok(!conn.hasRoom);
  let woke = false;
  const waiting = conn.waitForRoom().then(() => woke = true);
  await Promise.resolve();
  assert.ok(!woke);
  conn.takeOutgoing(0);
  conn.writeDone(0);
  await waiting;
  assert.ok(woke);
});

Deno.test("RelayConnection wakes room waiters when it closes", async () => {
  const conn = open({ maxQueueMessages: 2 });
  drain(conn);
  conn.enqueue(doc(1), "c", "1");
  const waiting = conn.waitForRoom();
  conn.peerClosed();
  await waiting;
  assert.equal(conn.closeReason?.code, "RELAY_PEER_CLOSED");
});

Deno.test("RelayConnection calls onChange when a first document is queued and when it closes", () => {
  const conn = open();
  drain(conn);
  let calls = 0;
  conn.onChange = () => calls++;
  conn.enqueue(doc(1), "c", "1");
  conn.enqueue(doc(2), "c", "2");
  assert.equal(calls, 1);
  conn.close();
  assert.equal(calls, 2);
  assert.equal(conn.closeReason?.code, "RELAY_SHUTDOWN");
});

Deno.test("RelayConnection refuses queueing and subscribing once closing, and finish() closes it", () => {
  const conn = open();
  conn.close();
  assert.equal(conn.enqueue(doc(1), "c", "1"), false);
  assert.throws(() => conn.subscribe("c", "0"), TypeError);
  conn.finish();
  assert.equal(conn.state, "closed");
  assert.equal(conn.pendingMessages, 0);
});

Deno.test("RelayConnection rejects out-of-range limits with a RangeError", () => {
  assert.throws(() => new RelayConnection(ID, 0, { maxQueueBytes: 0 }), RangeError);
  assert.throws(() => new RelayConnection(ID, 0, { policyWindowMs: -1 }), RangeError);
  assert.throws(() => new RelayConnection(ID, 0, { idleTimeoutMs: Number.NaN }), RangeError);
});

Deno.test("RelayConnection shares one joined write between connections holding the same documents", () => {
  const [a, b, c] = [open(), open(), open()];
  for (const conn of [a, b, c]) drain(conn);
  const [one, two, three] = [doc(1), doc(2), doc(3)];
  for (const conn of [a, b]) {
    conn.enqueue(one, "c", "1");
    conn.enqueue(two, "c", "2");
  }
  // Same count and size as the batch of a and b, different documents.
  c.enqueue(one, "c", "1");
  c.enqueue(three, "c", "3");
  const fromA = a.takeOutgoing(0)!;
  const fromC = c.takeOutgoing(0)!;
  const fromB = b.takeOutgoing(0)!;
  assert.deepEqual(fromA, new Uint8Array([...one, ...two]));
  assert.deepEqual(fromC, new Uint8Array([...one, ...three]), "not fooled by equal sizes");
  assert.deepEqual(fromB, fromA);
  assert.equal(a.takeOutgoing(0), undefined, "one write in flight at a time");
  // b follows c here, so it joined its own; d, following b, reuses b's bytes.
  const d = open();
  drain(d);
  d.enqueue(one, "c", "1");
  d.enqueue(two, "c", "2");
  assert.equal(d.takeOutgoing(0), fromB, "the same bytes, not a copy");
  for (const conn of [a, b, c, d]) {
    conn.writeDone(1);
    assert.equal(conn.pendingBytes, 0);
  }
  assert.deepEqual([a, b, c, d].map((conn) => conn.pendingMessages), [0, 0, 0, 0]);
});

Deno.test("RelayConnection keeps documents queued during a write apart from the write in flight", () => {
  const conn = open();
  conn.subscribe("c", "0");
  drain(conn);
  conn.enqueue(doc(1), "c", "1");
  conn.enqueue(doc(2), "c", "2");
  const first = conn.takeOutgoing(0)!;
  conn.enqueue(doc(3), "c", "3");
  assert.equal(conn.pendingMessages, 3);
  conn.writeDone(1);
  assert.equal(conn.channels.get("c"), "2", "the cursor covers only what was written");
  assert.deepEqual(first, new Uint8Array([...doc(1), ...doc(2)]));
  assert.deepEqual(drain(conn), doc(3));
  assert.equal(conn.channels.get("c"), "3");
});
