// One interval timer shared by many sessions: each registered callback runs on every tick.
// The timer exists only while at least one callback is registered, so an idle server (or a
// closed client) holds no timer.

/** Calls every registered callback each `tickMs` milliseconds. */
export class Heartbeat {
  readonly #tickMs: number;
  readonly #callbacks = new Set<(now: number) => void>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(tickMs: number) {
    this.#tickMs = tickMs;
  }

  /** The tick for a ping interval and an idle timeout (0 disables each). */
  static tickFor(pingInterval: number, idleTimeout: number): number {
    const shortest = Math.min(pingInterval || Infinity, idleTimeout || Infinity);
    if (shortest === Infinity) return 0;
    return Math.max(5, Math.min(1000, Math.floor(shortest / 4)));
  }

  add(callback: (now: number) => void): void {
    this.#callbacks.add(callback);
    this.#timer ??= setInterval(() => this.#tick(), this.#tickMs);
  }

  delete(callback: (now: number) => void): void {
    this.#callbacks.delete(callback);
    if (this.#callbacks.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #tick(): void {
    const now = Date.now();
    for (const callback of this.#callbacks) callback(now);
  }
}
