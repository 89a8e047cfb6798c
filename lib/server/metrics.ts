/**
 * Prometheus metrics of a hub and its transports, in the text exposition format (version
 * 0.0.4): `# HELP` and `# TYPE` lines, then samples.
 *
 * @module
 */
import type { Hub } from "../hub/hub.ts";

/** The `Content-Type` of the exposition. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Transports always listed in `pushwire_connections`, even at 0. */
export const KNOWN_TRANSPORTS: readonly string[] = ["longpoll", "sse", "iframe", "ws", "relay"];

/**
 * Counters the transports feed; the hub's own counters are read at render time.
 *
 * @example Count a connection
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import { Metrics } from "./metrics.ts";
 * const hub = new Hub();
 * const metrics = new Metrics(hub);
 * metrics.connectionOpened("sse");
 * assert.ok(metrics.render().includes('pushwire_connections{transport="sse"} 1'));
 * await hub.close();
 * ```
 */
export class Metrics {
  readonly #hub: Hub;
  readonly #connections = new Map<string, number>();
  #delivered = 0;
  #dropped = 0;

  /** Metrics of `hub`. */
  constructor(hub: Hub) {
    this.#hub = hub;
    for (const transport of KNOWN_TRANSPORTS) this.#connections.set(transport, 0);
  }

  /** Open connections of `transport`. */
  connections(transport: string): number {
    return this.#connections.get(transport) ?? 0;
  }

  /** Messages written to clients so far. */
  get delivered(): number {
    return this.#delivered;
  }

  /** A client connection of `transport` (`[a-z0-9_]+`) opened. */
  connectionOpened(transport: string): void {
    if (!/^[a-z0-9_]+$/.test(transport)) {
      throw new TypeError(`Cannot count connection: transport "${transport}" is not [a-z0-9_]+`);
    }
    this.#connections.set(transport, (this.#connections.get(transport) ?? 0) + 1);
  }

  /** A client connection of `transport` closed. */
  connectionClosed(transport: string): void {
    this.#connections.set(transport, Math.max(0, (this.#connections.get(transport) ?? 0) - 1));
  }

  /** `count` messages were written to a client. */
  addDelivered(count: number): void {
    this.#delivered += count;
  }

  /** `count` messages were dropped by a transport's own bounded queue (slow client). */
  addDropped(count: number): void {
    this.#dropped += count;
  }

  /** The exposition text. */
  render(): string {
    const stats = this.#hub.stats;
    const lines = [
      "# HELP pushwire_connections Open client connections by transport.",
      "# TYPE pushwire_connections gauge",
    ];
    for (const [transport, count] of this.#connections) {
      lines.push(`pushwire_connections{transport="${transport}"} ${count}`);
    }
    lines.push(
      "# HELP pushwire_messages_published_total Messages published through this hub.",
      "# TYPE pushwire_messages_published_total counter",
      `pushwire_messages_published_total ${stats.published}`,
      "# HELP pushwire_messages_delivered_total Messages written to clients.",
      "# TYPE pushwire_messages_delivered_total counter",
      `pushwire_messages_delivered_total ${this.#delivered}`,
      "# HELP pushwire_messages_dropped_total Messages not delivered because a slow client was disconnected (it resumes from history).",
      "# TYPE pushwire_messages_dropped_total counter",
      `pushwire_messages_dropped_total ${stats.dropped + this.#dropped}`,
      "# HELP pushwire_slow_consumers_total Subscribers disconnected for falling behind.",
      "# TYPE pushwire_slow_consumers_total counter",
      `pushwire_slow_consumers_total ${stats.slowConsumers + this.#dropped}`,
      "# HELP pushwire_subscribers Open hub subscriptions.",
      "# TYPE pushwire_subscribers gauge",
      `pushwire_subscribers ${stats.subscribers}`,
      "# HELP pushwire_longpoll_waiters Long-poll requests waiting for a message.",
      "# TYPE pushwire_longpoll_waiters gauge",
      `pushwire_longpoll_waiters ${stats.waiters}`,
      "",
    );
    return lines.join("\n");
  }
}
