/**
 * The relay's TCP adapter for Deno: accepts sockets, drives one {@linkcode RelayConnection}
 * per socket (read → receive; takeOutgoing → write → writeDone) and ticks the relay's
 * timeouts. All decisions live in the runtime-agnostic core; this file only moves bytes.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { DEFAULT_POLICY_WINDOW_MS } from "./_constants.ts";
import type { Relay } from "./relay.ts";
import type { RelayConnection } from "./relay_connection.ts";
import { encodeRelayError } from "./relay_message.ts";

/** Options of {@linkcode listenRelay}. */
export interface RelayListenerOptions {
  /** Port to listen on; 0 picks a free one (see `addr`). */
  readonly port: number;
  /** Interface to listen on. @default "127.0.0.1" */
  readonly hostname?: string;
  /** How often the relay's timeouts are checked, in ms. @default 1000 */
  readonly tickMs?: number;
  /** Aborting it shuts the listener down like {@linkcode RelayListener.shutdown}. */
  readonly signal?: AbortSignal;
}

/** A running relay listener. */
export interface RelayListener {
  /** The address it listens on. */
  readonly addr: Deno.NetAddr;
  /** Settles once the listener is shut down and every connection is released. */
  readonly finished: Promise<void>;
  /** Stops accepting, closes every connection it holds and waits for them. */
  shutdown(): Promise<void>;
}

// A policy-file request is 23 bytes and nothing else is ever read: a tiny buffer suffices.
const READ_BUFFER_BYTES = 64;
// Bounds the best-effort `<error/>` written to a connection turned away.
const REFUSE_TIMEOUT_MS = 5_000;

async function writeAll(socket: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    offset += await socket.write(bytes.subarray(offset));
  }
}

/**
 * Listens for plugin-socket clients and serves them from `relay`.
 *
 * @example Start and stop a relay listener
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hub } from "../hub/hub.ts";
 * import { Relay } from "./relay.ts";
 * import { listenRelay } from "./relay_listener.ts";
 *
 * const hub = new Hub();
 * const relay = new Relay({ source: hub });
 * const listener = listenRelay(relay, { port: 0 });
 * assert(listener.addr.port > 0);
 * await listener.shutdown();
 * await hub.close();
 * ```
 */
export function listenRelay(relay: Relay, options: RelayListenerOptions): RelayListener {
  const tickMs = options.tickMs ?? 1000;
  if (!(tickMs > 0)) throw new RangeError(`Cannot listen: tickMs must be > 0, got ${tickMs}`);
  const windowMs = relay.connectionOptions.policyWindowMs ?? DEFAULT_POLICY_WINDOW_MS;
  const listener = Deno.listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
    transport: "tcp",
  });
  const cores = new Set<RelayConnection>();
  const tasks = new Set<Promise<void>>();
  const interval = setInterval(() => relay.tick(Date.now()), tickMs);
  let stopping = false;
  // Writers woken by new bytes start together once the current turn of the event loop is
  // over: every message published within that turn then goes out in one write per socket,
  // not the first alone and the rest after it. setImmediate waits microseconds, not a timer
  // tick.
  let woken: (() => void)[] = [];
  const startWoken = () => {
    const batch = woken;
    woken = [];
    for (const resume of batch) resume();
  };

  async function refuse(socket: Deno.TcpConn): Promise<void> {
    const timer = setTimeout(() => socket.close(), REFUSE_TIMEOUT_MS);
    try {
      await writeAll(socket, encodeRelayError("RELAY_ERR_TOO_MANY_CONNECTIONS"));
      clearTimeout(timer);
      socket.close();
    } catch {
      // Closed by the timer, or the peer went away first.
      clearTimeout(timer);
    }
  }

  async function serve(socket: Deno.TcpConn): Promise<void> {
    const core = relay.open(Date.now());
    if (core === undefined) return refuse(socket);
    cores.add(core);
    try {
      socket.setNoDelay(true);
      // The relay never reads data, so on a quiet channel only TCP keep-alive finds a client
      // that vanished without a FIN (a dropped network) and frees its connection.
      socket.setKeepAlive(true);
    } catch {
      // Not fatal: only latency and dead-peer detection.
    }
    let closed = false;
    const closeSocket = () => {
      if (closed) return;
      closed = true;
      try {
        socket.close();
      } catch {
        // Already gone.
      }
    };
    let wake: (() => void) | undefined;
    core.onChange = () => {
      // An abort must not wait for a write a stalled reader will never finish.
      if (core.closeReason !== undefined && !core.closeReason.flush) closeSocket();
      const resolve = wake;
      if (resolve === undefined) return;
      wake = undefined;
      if (woken.push(resolve) === 1) setImmediate(startWoken);
    };
    const windowTimer = windowMs > 0 ? setTimeout(() => core.tick(Date.now()), windowMs) : 0;
    const reader = (async () => {
      const buffer = new Uint8Array(READ_BUFFER_BYTES);
      while (core.state === "sniffing" || core.state === "open") {
        let n: number | null;
        try {
          n = await socket.read(buffer);
        } catch {
          n = null;
        }
        if (n === null) {
          core.peerClosed();
          break;
        }
        core.receive(buffer.subarray(0, n), Date.now());
      }
    })();
    try {
      while (!closed) {
        const bytes = core.takeOutgoing(Date.now());
        if (bytes !== undefined) {
          await writeAll(socket, bytes);
          core.writeDone(Date.now());
          continue;
        }
        if (core.state === "closing" || core.state === "closed") break;
        await new Promise<void>((resolve) => wake = resolve);
      }
    } catch {
      core.peerClosed();
    } finally {
      clearTimeout(windowTimer);
      closeSocket();
      await reader;
      core.onChange = undefined;
      cores.delete(core);
      relay.release(core, Date.now());
    }
  }

  const accepting = (async () => {
    try {
      for await (const socket of listener) {
        if (stopping) {
          socket.close();
          continue;
        }
        const task = serve(socket).finally(() => tasks.delete(task));
        tasks.add(task);
      }
    } catch {
      // The listener was closed (shutdown) or failed; either way accepting is over.
    }
  })();

  let stopped: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      clearInterval(interval);
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      await accepting;
      for (const core of cores) core.close();
      while (tasks.size > 0) await Promise.all(tasks);
    })();
    return stopped;
  };
  options.signal?.addEventListener("abort", () => void shutdown(), { once: true });
  // If accepting ends on its own (listener failure), release everything all the same.
  const finished = accepting.then(shutdown);
  return { addr: listener.addr, finished, shutdown };
}
