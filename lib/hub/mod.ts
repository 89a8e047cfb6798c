/**
 * The hub: channels, message ids, bounded history, the broker interface and the in-memory
 * broker, per-subscriber bounded queues and the long-poll waiter queue. Runtime-agnostic.
 *
 * @example Publish and long-poll
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "./mod.ts";
 * const hub = new Hub();
 * const cursor = await hub.position("news");
 * const waiting = hub.wait("news", cursor, { timeoutMs: 5000 });
 * await hub.publish("news", "breaking");
 * const result = await waiting;
 * assert.ok(result.type === "messages" && result.messages[0]?.data === "breaking");
 * await hub.close();
 * ```
 *
 * @module
 */
export * from "./broker.ts";
export * from "./channel_history.ts";
export * from "./channel_name.ts";
export * from "./hub.ts";
export * from "./hub_error.ts";
export * from "./memory_broker.ts";
export * from "./message.ts";
export * from "./subscriber_queue.ts";
export * from "./subscription.ts";
export * from "./waiter_queue.ts";
