// What the SSE and polling transports share: one loop per channel, each ended by its own
// AbortController, a loop that throws failing the connection. They differ only in what one loop
// does (read a stream; poll and pause).
import type { TransportHost } from "./transport.ts";

/** Carries `channel` until `signal` aborts, or returns having told the host why not. */
export type ChannelLoop = (channel: string, signal: AbortSignal) => Promise<void>;

/** The loops of one connection attempt, by channel. */
export class ChannelLoops {
  #host: TransportHost;
  #run: ChannelLoop;
  #channels = new Map<string, AbortController>();

  /**
   * Creates the instance.
   *
   * @param host Told when a loop throws.
   * @param run One channel's loop.
   */
  constructor(host: TransportHost, run: ChannelLoop) {
    this.#host = host;
    this.#run = run;
  }

  /** Starts the loop of `channel` (once). */
  add(channel: string): void {
    if (this.#channels.has(channel)) return;
    const controller = new AbortController();
    this.#channels.set(channel, controller);
    this.#run(channel, controller.signal).catch((error) => {
      if (!controller.signal.aborted) this.#host.failed(String(error));
    });
  }

  /** Stops the loop of `channel`. */
  remove(channel: string): void {
    this.#channels.get(channel)?.abort();
    this.#channels.delete(channel);
  }

  /** Stops every loop. */
  close(): void {
    for (const controller of this.#channels.values()) controller.abort();
    this.#channels.clear();
  }
}
