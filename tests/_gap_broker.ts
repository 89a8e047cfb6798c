// A memory broker whose gaps a test triggers (as RedisBroker reports them after a trim it could
// not bridge), for tests of how the hub and each transport react.
import type { HubError } from "../lib/hub/hub_error.ts";
import { MemoryBroker } from "../lib/hub/memory_broker.ts";
import type { Message } from "../lib/hub/message.ts";
import type { ReadResult } from "../lib/hub/broker.ts";

/** A memory broker whose gaps a test triggers, and whose reads say `reset` after one. */
export class GapBroker extends MemoryBroker {
  readonly #gaps = new Map<string, Set<() => void>>();
  readonly #lost = new Set<string>();

  override subscribe(
    channel: string,
    listener: (message: Message) => void,
    onGap?: () => void,
  ): Promise<() => void> {
    const gaps = this.#gaps.get(channel) ?? new Set();
    this.#gaps.set(channel, gaps);
    const gap = onGap ?? (() => {});
    gaps.add(gap);
    return super.subscribe(channel, listener).then((off) => () => {
      gaps.delete(gap);
      off();
    });
  }

  override read(channel: string, after?: string): Promise<ReadResult | HubError> {
    return super.read(channel, after).then((result) =>
      result.type === "messages" && this.#lost.has(channel) && after !== undefined
        ? { ...result, reset: true }
        : result
    );
  }

  /** Reports a gap on `channel`; later reads of it say `reset`. */
  gap(channel: string): void {
    this.#lost.add(channel);
    for (const gap of this.#gaps.get(channel) ?? []) gap();
  }
}
