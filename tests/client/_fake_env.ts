// A fake environment for the client: a manual clock with timers, scripted transports that
// expose their host, a scripted reachability probe, and online/offline events.
import type { ClientEnvironment } from "../../lib/client/pushwire_client.ts";
import type { Transport, TransportHost } from "../../lib/client/transport.ts";
import type { TransportName } from "../../lib/client/transport_selector.ts";

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** A transport the test drives through its host. */
export interface FakeTransport extends Transport {
  readonly host: TransportHost;
  readonly channels: Set<string>;
  /** Cursor of each channel when it was added. */
  readonly addedAt: Map<string, string | undefined>;
  closed: boolean;
}

export class FakeEnvironment implements ClientEnvironment {
  time = 0;
  reachable = true;
  randomValue: () => number = () => 0.5;
  readonly created: FakeTransport[] = [];
  /** What a new transport of this name does at once when a channel is added. */
  readonly behaviour = new Map<TransportName, "open" | "fail" | "hang">();
  readonly transports: Record<TransportName, (host: TransportHost) => Transport>;
  #timers: Timer[] = [];
  #nextId = 1;
  #network = new Set<(online: boolean) => void>();
  probes = 0;

  constructor() {
    const make = (name: TransportName) => (host: TransportHost): Transport => {
      const transport: FakeTransport = {
        name,
        host,
        channels: new Set(),
        addedAt: new Map(),
        closed: false,
        add: (channel) => {
          transport.channels.add(channel);
          transport.addedAt.set(channel, host.cursorOf(channel));
          const behaviour = this.behaviour.get(name) ?? "open";
          if (behaviour === "open") host.opened();
          else if (behaviour === "fail") host.failed("scripted failure");
        },
        remove: (channel) => void transport.channels.delete(channel),
        close: () => void (transport.closed = true),
      };
      this.created.push(transport);
      return transport;
    };
    this.transports = {
      websocket: make("websocket"),
      sse: make("sse"),
      iframe: make("iframe"),
      longpoll: make("longpoll"),
      shortpoll: make("shortpoll"),
    };
  }

  now(): number {
    return this.time;
  }

  random(): number {
    return this.randomValue();
  }

  setTimer(fn: () => void, ms: number): unknown {
    const timer = { id: this.#nextId++, at: this.time + ms, fn };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  fetch(url: string): Promise<Response> {
    if (url.endsWith("/healthz")) {
      this.probes++;
      return this.reachable
        ? Promise.resolve(new Response("ok"))
        : Promise.reject(new TypeError("connection refused"));
    }
    return Promise.reject(new TypeError(`unexpected fetch ${url}`));
  }

  listenNetwork(listener: (online: boolean) => void): () => void {
    this.#network.add(listener);
    return () => this.#network.delete(listener);
  }

  /** Fires online/offline listeners. */
  network(online: boolean): void {
    for (const listener of [...this.#network]) listener(online);
  }

  /** Pending timers. */
  get pending(): number {
    return this.#timers.length;
  }

  /** The time of the earliest timer. */
  get nextAt(): number | undefined {
    return this.#timers.reduce<number | undefined>(
      (m, t) => m === undefined || t.at < m ? t.at : m,
      undefined,
    );
  }

  /** Advances the clock by `ms`, firing due timers in order; lets promises settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await microtasks();
      const due = this.#timers.filter((t) =>
        t.at <= end
      ).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
    }
    this.time = end;
    await settle();
  }

  /** The newest transport made. */
  get last(): FakeTransport {
    const transport = this.created.at(-1);
    if (transport === undefined) throw new Error("no transport was made");
    return transport;
  }
}

/** Lets pending promise callbacks run (no timers). */
export async function microtasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Lets pending promise callbacks and zero-delay timers run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** A deterministic source of numbers in [0, 1). */
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
