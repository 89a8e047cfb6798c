/**
 * Which transport to try first: the configured order, with the transport that last worked for
 * this hub moved to the front for a while (so a page behind a proxy that breaks WebSocket
 * upgrades does not pay the failed attempt on every load). Pure: storage and time passed in.
 *
 * @module
 */

/** The transports of the browser client, by name. */
export type TransportName = "websocket" | "sse" | "iframe" | "longpoll" | "shortpoll";

/** Every transport, fastest first: the default order. */
export const TRANSPORT_NAMES: readonly TransportName[] = [
  "websocket",
  "sse",
  "iframe",
  "longpoll",
  "shortpoll",
];

/** A string store such as `localStorage`; errors (quota, privacy mode) are ignored. */
export interface TransportMemory {
  /** The stored value, or null. */
  getItem(key: string): string | null;
  /** Stores a value. */
  setItem(key: string, value: string): void;
}

/** Options of a {@linkcode TransportSelector}. */
export interface TransportSelectorOptions {
  /** Where to remember what worked; nothing is remembered without one. */
  readonly memory?: TransportMemory | undefined;
  /** Storage key (one per hub). @default {"pushwire.transport"} */
  readonly key?: string;
  /**
   * How long a transport that worked stays first, ms.
   * @default {600000}
   */
  readonly rememberMs?: number;
}

/**
 * Orders transports for a connection attempt.
 *
 * @example A transport that worked goes first for a while
 * ```ts
 * import assert from "node:assert/strict";
 * import { TransportSelector } from "./transport_selector.ts";
 * const store = new Map<string, string>();
 * const memory = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
 * const selector = new TransportSelector(["websocket", "sse", "longpoll"], { memory, rememberMs: 1000 });
 * selector.succeeded("sse", 0);
 * assert.deepEqual(selector.plan(500), ["sse", "websocket", "longpoll"]);
 * assert.deepEqual(selector.plan(1500), ["websocket", "sse", "longpoll"]);
 * ```
 */
export class TransportSelector {
  /** The configured order. */
  readonly order: readonly TransportName[];
  #memory: TransportMemory | undefined;
  #key: string;
  #rememberMs: number;

  /**
   * Creates the instance.
   *
   * @param order Transports to use, in order of preference; none repeated.
   * @param options Memory of what worked.
   */
  constructor(order: readonly TransportName[], options: TransportSelectorOptions = {}) {
    if (order.length === 0) throw new TypeError("Cannot select a transport: the list is empty");
    for (const name of order) {
      if (!TRANSPORT_NAMES.includes(name)) {
        throw new TypeError(`Cannot select a transport: unknown transport "${name}"`);
      }
    }
    if (new Set(order).size !== order.length) {
      throw new TypeError("Cannot select a transport: a transport is listed twice");
    }
    this.order = [...order];
    this.#memory = options.memory;
    this.#key = options.key ?? "pushwire.transport";
    this.#rememberMs = options.rememberMs ?? 600_000;
  }

  /** The transport remembered as working at time `now` (ms), if any. */
  remembered(now: number): TransportName | undefined {
    let text: string | null = null;
    try {
      text = this.#memory?.getItem(this.#key) ?? null;
    } catch {
      return undefined; // storage denied
    }
    if (text === null) return undefined;
    try {
      const value = JSON.parse(text) as { transport?: unknown; at?: unknown };
      const name = value.transport as TransportName;
      const at = value.at;
      if (typeof at !== "number" || !this.order.includes(name)) return undefined;
      if (now < at || now - at >= this.#rememberMs) return undefined;
      return name;
    } catch {
      return undefined; // not ours
    }
  }

  /** The order to try at time `now`: the remembered transport first, then the others. */
  plan(now: number): TransportName[] {
    const first = this.remembered(now);
    if (first === undefined) return [...this.order];
    return [first, ...this.order.filter((name) => name !== first)];
  }

  /** Remembers that `name` connected at time `now`. */
  succeeded(name: TransportName, now: number): void {
    try {
      this.#memory?.setItem(this.#key, JSON.stringify({ transport: name, at: now }));
    } catch {
      // Storage full or denied: the order alone decides.
    }
  }
}
