// In-process publish → deliver throughput of the hub, against a plain callback fan-out (the
// floor: no ids, no history, no queues) in the same group.
import { Hub } from "../../lib/hub/hub.ts";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import type { Subscription } from "../../lib/hub/subscription.ts";

const MESSAGES = 1000;
const payload = { text: "x".repeat(100), n: 1 };

async function drain(subscription: Subscription, count: number): Promise<void> {
  let seen = 0;
  while (seen < count) {
    const next = await subscription.next();
    if (next.done) throw new Error(`subscription ended: ${subscription.closeReason}`);
    if (next.value.type === "message") seen++;
  }
}

// The same, taking what is already queued with `takeQueued` after each awaited event.
async function drainBatched(subscription: Subscription, count: number): Promise<void> {
  let seen = 0;
  while (seen < count) {
    const next = await subscription.next();
    if (next.done) throw new Error(`subscription ended: ${subscription.closeReason}`);
    if (next.value.type === "message") seen++;
    for (const event of subscription.takeQueued()) if (event.type === "message") seen++;
  }
}

for (const subscribers of [1, 100]) {
  const group = `publish ${MESSAGES} messages to ${subscribers} subscriber(s)`;

  // Peer: an array of callbacks, each pushing into an array (what any emitter does at least).
  const callbacks: ((message: unknown) => void)[] = [];
  const inboxes: unknown[][] = [];
  for (let i = 0; i < subscribers; i++) {
    const inbox: unknown[] = [];
    inboxes.push(inbox);
    callbacks.push((message) => inbox.push(message));
  }
  Deno.bench({
    name: `plain callback fan-out, ${subscribers} subscriber(s)`,
    group,
    baseline: true,
    fn() {
      for (let i = 0; i < MESSAGES; i++) {
        const message = { id: String(i), channel: "c", data: payload, time: i };
        for (const callback of callbacks) callback(message);
      }
      for (const inbox of inboxes) inbox.length = 0;
    },
  });

  const hub = new Hub({ broker: new MemoryBroker() });
  const subscriptions: Subscription[] = [];
  for (let i = 0; i < subscribers; i++) {
    const subscription = await hub.subscribe("c", { queue: { maxMessages: MESSAGES * 2 } });
    if (subscription.type === "error") throw new Error(subscription.message);
    subscriptions.push(subscription);
  }
  Deno.bench({
    name: `Hub publish + every subscriber drains, ${subscribers} subscriber(s)`,
    group,
    async fn() {
      for (let i = 0; i < MESSAGES; i++) await hub.publish("c", payload);
      await Promise.all(subscriptions.map((s) => drain(s, MESSAGES)));
    },
  });
  Deno.bench({
    name: `Hub publish + every subscriber drains with takeQueued, ${subscribers} subscriber(s)`,
    group,
    async fn() {
      for (let i = 0; i < MESSAGES; i++) await hub.publish("c", payload);
      await Promise.all(subscriptions.map((s) => drainBatched(s, MESSAGES)));
    },
  });
}

// Publish alone: broker cost (ids, history append, pruning) with no subscriber.
const lone = new Hub();
Deno.bench({
  name: "Hub publish, no subscriber (history only)",
  group: "publish without subscribers",
  async fn() {
    for (let i = 0; i < MESSAGES; i++) await lone.publish("solo", payload);
  },
});
const broker = new MemoryBroker();
Deno.bench({
  name: "MemoryBroker publish, no subscriber",
  group: "publish without subscribers",
  baseline: true,
  async fn() {
    for (let i = 0; i < MESSAGES; i++) await broker.publish({ channel: "solo", data: payload });
  },
});
