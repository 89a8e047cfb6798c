/**
 * One TCP port for every transport. The public listener reads the first request head
 * of each connection: a request carrying `Upgrade: websocket` hands the raw connection
 * to the upgrade handler. Any other first request is answered here, and the connection,
 * with no unread byte taken from it, is then handed to the runtime's HTTP server for
 * every later request ("handoff"). When that is not possible (pipelined bytes already
 * read, a request this file leaves to hyper, or the runtime internal missing), the
 * connection is relayed, bytes unchanged, to an internal `Deno.serve` on a loopback port.
 *
 * @module
 */
import { HeadParser, type RequestHead } from "../http/head_parser.ts";
import { splitList } from "../http/token.ts";
import { closeQuietly, pipeOneWay, writeAll } from "./_pipe.ts";
import { errorResponseBytes } from "./_error_response.ts";
import { BodyCollector, planFirstRequest } from "./_first_request.ts";
import { FirstExchange } from "./_first_exchange.ts";
import { detectServeOnConnection, type ServeOnConnection } from "./_handoff.ts";

/** The head of a request that asked for `Upgrade: websocket`. */
export interface UpgradeRequestHead {
  /** The request method, as sent. */
  readonly method: string;
  /** The request-target, as sent (usually a path with an optional query). */
  readonly target: string;
  /** The version digits, e.g. `"1.1"`. */
  readonly httpVersion: string;
  /** The request's header fields. */
  readonly headers: Headers;
}

/** Answers a plain HTTP request, as a `Deno.serve` handler does. */
export type FetchHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/**
 * Takes over a connection whose first request asked for `Upgrade: websocket`. It gets
 * the parsed head, the raw connection (nothing has been written to it) and the bytes
 * the client sent after the head. From then on the connection is the handler's to
 * answer and close; the server no longer tracks it, not even at shutdown. If the handler
 * throws (or its promise rejects), the connection is closed.
 */
export type UpgradeHandler = (
  head: UpgradeRequestHead,
  conn: Deno.TcpConn,
  rest: Uint8Array,
) => void | Promise<void>;

/** The handlers of {@linkcode serveOnePort}. */
export interface OnePortHandlers {
  /** Plain HTTP requests. */
  readonly fetch: FetchHandler;
  /** First requests carrying `Upgrade: websocket`. */
  readonly upgrade: UpgradeHandler;
  /**
   * Turns an error thrown by `fetch` into a response (as `Deno.serve`'s `onError`).
   * @default Deno.serve's: logs the error and answers 500
   */
  readonly onError?: (error: unknown) => Response | Promise<Response>;
}

/** Where and how {@linkcode serveOnePort} listens, and its limits. */
export interface OnePortOptions {
  /**
   * The address to listen on.
   * @default "0.0.0.0"
   */
  readonly hostname?: string;
  /**
   * The TCP port to listen on; `0` picks a free port.
   * @default 8000
   */
  readonly port?: number;
  /** Aborting it shuts the server down gracefully (as {@linkcode OnePortServer.shutdown}). */
  readonly signal?: AbortSignal;
  /** Called once the public port is bound. */
  readonly onListen?: (addr: Deno.NetAddr) => void;
  /**
   * Largest first request head, in bytes; a larger one gets 431 and the connection closes.
   * @default 8192
   */
  readonly maxHeadSize?: number;
  /**
   * Milliseconds a new connection may take to send its first complete request head;
   * then it is answered `408` and closed (bounds idle and slow-header, "slowloris",
   * connections).
   * @default 10000
   */
  readonly headTimeout?: number;
  /**
   * Connections tracked at once (reading a first head, or relayed); beyond it a new
   * connection is answered `503` and closed at accept. Upgraded connections are not counted.
   * @default 10000
   */
  readonly maxConnections?: number;
  /**
   * Milliseconds a relayed connection may pass without a byte either way before both
   * sides are closed. It must exceed the longest pause of any response: a long poll's
   * timeout (up to 60 s) and the SSE heartbeat interval.
   * @default 120000
   */
  readonly idleTimeout?: number;
  /**
   * Milliseconds a graceful shutdown waits for requests under way before closing them.
   * @default 5000
   */
  readonly shutdownTimeout?: number;
  /**
   * How plain-HTTP connections are served after their first request.
   * - `"auto"`: the first request is answered here, then the connection is handed to the
   *   runtime's HTTP server (`Deno[Deno.internal].serveHttpOnConnection`, an internal of
   *   Deno 2.x, feature-detected) for every later request; falls back to `"relay"` per
   *   connection when it cannot (pipelined bytes, a first request left to hyper) and for
   *   every connection when the internal is missing or fails.
   * - `"relay"`: every plain-HTTP connection is relayed to an internal `Deno.serve` on a
   *   loopback port (no internal API; about half the speed of bare `Deno.serve`).
   * @default "auto"
   */
  readonly handoff?: "auto" | "relay";
  /**
   * Largest first-request body buffered here, in bytes; a larger one is relayed.
   * @default 1048576
   */
  readonly maxFirstBodySize?: number;
}

/** A running {@linkcode serveOnePort} server. */
export interface OnePortServer extends AsyncDisposable {
  /** The bound public address. */
  readonly addr: Deno.NetAddr;
  /** Resolves once the server has shut down and every connection it tracks is closed. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting, closes connections that have not sent a request, lets requests
   * under way finish and, after `shutdownTimeout`, closes whatever is left.
   */
  shutdown(): Promise<void>;
}

/**
 * Where a tracked connection is: sending its first head (and body), having its first
 * request answered here, waiting for a read in flight before relaying, relayed, or
 * served by the runtime.
 */
type Phase = "head" | "first" | "waiting" | "relay" | "runtime";

/** A connection the server tracks (upgraded connections are not tracked). */
interface Tracked {
  readonly conn: Deno.TcpConn;
  phase: Phase;
  /** `Date.now()` of the last byte relayed, or of the last runtime response completed. */
  lastActive: number;
  /** The relay's connection to the internal server, once relayed. */
  inner: Deno.TcpConn | undefined;
  /** Runtime phase: requests under way. */
  active: number;
  /** Runtime phase: force-closes the connection (a no-op once it is finished). */
  cancel: (() => void) | undefined;
}

/** Deno.serve's default `onError`: log, answer 500. */
function defaultOnError(error: unknown): Response {
  console.error(error);
  return new Response("Internal Server Error", { status: 500 });
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`Cannot serve: ${name} must be a positive number, got ${value}`);
  }
  return value;
}

/** RFC 9110 §7.8: `Upgrade` is a list of protocols; match `websocket` case-insensitively. */
function wantsWebSocket(head: RequestHead): boolean {
  const upgrade = head.headers.get("upgrade");
  if (upgrade === null) return false;
  return splitList(upgrade).some((p) => p.toLowerCase() === "websocket");
}

/** Bytes read at a time while a first head arrives (one buffer per such connection). */
const READ_SIZE = 16 * 1024;

class Server implements OnePortServer {
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
  #handlers: OnePortHandlers;
  #listener: Deno.TcpListener;
  #inner: Deno.HttpServer<Deno.NetAddr>;
  /** The client address of each relayed connection, by the relay's local port. */
  #clients = new Map<number, Deno.NetAddr>();
  #tracked = new Set<Tracked>();
  #tasks = new Set<Promise<void>>();
  #maxHeadSize: number;
  #headTimeout: number;
  #idleTimeout: number;
  #sweeper: ReturnType<typeof setInterval>;
  #maxConnections: number;
  #shutdownTimeout: number;
  #maxFirstBodySize: number;
  #onError: (error: unknown) => Response | Promise<Response>;
  /** The runtime hand-off, while available. */
  #serveOn: ServeOnConnection | undefined;
  #closing = false;
  #acceptLoop: Promise<void>;
  #shutdown: Promise<void> | undefined;
  #done = Promise.withResolvers<void>();

  constructor(options: OnePortOptions, handlers: OnePortHandlers) {
    if (typeof handlers?.fetch !== "function" || typeof handlers.upgrade !== "function") {
      throw new TypeError("Cannot serve: handlers.fetch and handlers.upgrade must be functions");
    }
    this.#handlers = handlers;
    this.#maxHeadSize = positive("maxHeadSize", options.maxHeadSize ?? 8192);
    this.#headTimeout = positive("headTimeout", options.headTimeout ?? 10_000);
    this.#idleTimeout = positive("idleTimeout", options.idleTimeout ?? 120_000);
    this.#maxConnections = positive("maxConnections", options.maxConnections ?? 10_000);
    this.#shutdownTimeout = positive("shutdownTimeout", options.shutdownTimeout ?? 5_000);
    this.#maxFirstBodySize = positive("maxFirstBodySize", options.maxFirstBodySize ?? 1 << 20);
    const handoff = options.handoff ?? "auto";
    if (handoff !== "auto" && handoff !== "relay") {
      throw new RangeError(`Cannot serve: handoff must be "auto" or "relay", got ${handoff}`);
    }
    this.#serveOn = handoff === "auto" ? detectServeOnConnection() : undefined;
    this.#onError = handlers.onError ?? defaultOnError;
    this.#listener = Deno.listen({
      hostname: options.hostname ?? "0.0.0.0",
      port: options.port ?? 8000,
      transport: "tcp",
    });
    this.addr = this.#listener.addr;
    try {
      this.#inner = Deno.serve({
        hostname: "127.0.0.1",
        port: 0,
        onListen: () => {},
        ...(handlers.onError ? { onError: handlers.onError } : {}),
      }, (request, info) => this.#dispatch(request, info));
    } catch (error) {
      this.#listener.close();
      throw error;
    }
    this.finished = this.#done.promise;
    // One timer for every relay: closes those idle for longer than idleTimeout.
    const every = Math.max(10, Math.min(1000, Math.floor(this.#idleTimeout / 4)));
    this.#sweeper = setInterval(() => this.#sweep(), every);
    this.#acceptLoop = this.#accept();
    const signal = options.signal;
    if (signal?.aborted) this.shutdown();
    else signal?.addEventListener("abort", () => this.shutdown(), { once: true });
    options.onListen?.(this.addr);
  }

  /** The internal server's handler: puts the client's address back into `info`. */
  #dispatch(
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Response | Promise<Response> {
    const remoteAddr = this.#clients.get(info.remoteAddr.port);
    if (remoteAddr === undefined) {
      // Someone connected to the loopback port directly, not through the public port.
      return new Response("Forbidden", { status: 403 });
    }
    return this.#handlers.fetch(request, {
      remoteAddr,
      get completed() {
        return info.completed;
      },
    });
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // the listener was closed
      }
      if (this.#closing || this.#tracked.size >= this.#maxConnections) {
        // Said, not just dropped: a client can tell "full" from a network fault. The answer
        // fits in the socket's send buffer, so this never waits on a slow reader.
        writeAll(conn, errorResponseBytes(503)).catch(() => {}).finally(() => closeQuietly(conn));
        continue;
      }
      const tracked: Tracked = {
        conn,
        phase: "head",
        lastActive: Date.now(),
        inner: undefined,
        active: 0,
        cancel: undefined,
      };
      this.#tracked.add(tracked);
      const task = this.#serve(tracked).finally(() => {
        this.#tracked.delete(tracked);
        this.#tasks.delete(task);
      });
      this.#tasks.add(task);
    }
  }

  /**
   * Reads the first head (and body), then upgrades, answers the first request and hands
   * the connection to the runtime, relays, or answers an error. Never rejects.
   */
  async #serve(tracked: Tracked): Promise<void> {
    const { conn } = tracked;
    const parser = new HeadParser({ kind: "request", maxHeadSize: this.#maxHeadSize });
    const seen: Uint8Array[] = [];
    // One deadline for the first head and, when answered here, its body.
    const timer = setTimeout(() => {
      // Slowloris: answer 408, then close (which also ends the pending read).
      writeAll(conn, errorResponseBytes(408)).catch(() => {}).finally(() => closeQuietly(conn));
    }, this.#headTimeout);
    let event;
    let plan;
    let body: { body: Uint8Array<ArrayBuffer>; rest: Uint8Array } | undefined;
    try {
      const buf = new Uint8Array(READ_SIZE);
      while (event === undefined) {
        const n = await conn.read(buf);
        if (n === null) break;
        const chunk = buf.slice(0, n);
        seen.push(chunk);
        event = parser.receive(chunk);
      }
      if (event?.type === "head" && !wantsWebSocket(event.head) && this.#serveOn !== undefined) {
        plan = planFirstRequest(event.head, this.#maxFirstBodySize);
        if (plan.type === "serve") {
          const collector = new BodyCollector(plan.framing, this.#maxFirstBodySize);
          let result = collector.receive(event.rest);
          while (result.type === "more") {
            const n = await conn.read(buf);
            if (n === null) break;
            const chunk = buf.slice(0, n);
            seen.push(chunk);
            result = collector.receive(chunk);
          }
          if (result.type === "done") body = result;
          else if (result.type === "more") event = undefined; // the client left mid-body
        }
      }
    } catch {
      // Closed by the head timeout or at shutdown, or reset by the client.
      event = undefined;
    } finally {
      clearTimeout(timer);
    }
    if (event === undefined || this.#closing) return closeQuietly(conn);
    if (event.type === "error") {
      await writeAll(conn, errorResponseBytes(event.status)).catch(() => {});
      return closeQuietly(conn);
    }
    if (wantsWebSocket(event.head)) {
      this.#tracked.delete(tracked);
      const { method, target, httpVersion, headers } = event.head;
      try {
        const result = this.#handlers.upgrade(
          { method, target, httpVersion, headers },
          conn,
          event.rest,
        );
        // An async handler that fails leaves the connection to no one: close it.
        if (result instanceof Promise) result.catch(() => closeQuietly(conn));
      } catch {
        closeQuietly(conn);
      }
      return;
    }
    // Pipelined bytes after the first request, or a request left to hyper: relay it all.
    if (plan?.type !== "serve" || body === undefined || body.rest.length > 0) {
      tracked.phase = "relay";
      return await this.#relay(tracked, seen);
    }
    tracked.phase = "first";
    const { method, headers, httpVersion } = event.head;
    const outcome = await new FirstExchange({
      conn,
      url: plan.url,
      method,
      headers,
      body: method === "GET" || method === "HEAD" ? null : body.body,
      http11: httpVersion === "1.1",
      keepAlive: plan.keepAlive,
      fetch: this.#handlers.fetch,
      onError: this.#onError,
      closing: () => this.#closing,
    }).run();
    tracked.lastActive = Date.now();
    if (outcome.type === "close" || this.#closing) return closeQuietly(conn);
    if (outcome.reading !== undefined) {
      // A read is in flight (the handler watched request.signal, or the answer streamed):
      // the runtime cannot take the socket; the rest of the connection is relayed.
      tracked.phase = "waiting";
      await outcome.reading;
      if (this.#closing) return closeQuietly(conn);
    }
    if (outcome.early.length > 0 || outcome.reading !== undefined) {
      tracked.phase = "relay";
      return await this.#relay(tracked, outcome.early);
    }
    await this.#handOff(tracked);
  }

  /**
   * Gives the connection to the runtime's HTTP server with the fetch handler. Resolves
   * when the runtime is done with it. Never rejects.
   */
  async #handOff(tracked: Tracked): Promise<void> {
    const serveOn = this.#serveOn;
    const { conn } = tracked;
    if (serveOn === undefined) return await this.#relay(tracked, []);
    tracked.phase = "runtime";
    tracked.active = 0;
    tracked.lastActive = Date.now();
    const done = () => {
      tracked.active--;
      tracked.lastActive = Date.now();
      if (this.#closing && tracked.active === 0) tracked.cancel?.();
    };
    const fetch = this.#handlers.fetch;
    // Counts requests under way, for idle closing and graceful shutdown.
    const handler = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
      tracked.active++;
      info.completed.then(done, done);
      return fetch(request, info);
    };
    let server;
    try {
      server = serveOn(conn, handler, this.#onError);
    } catch {
      // The internal changed: relay every later connection. This one's socket is gone.
      this.#serveOn = undefined;
      closeQuietly(conn);
      return;
    }
    tracked.cancel = server.cancel;
    try {
      await server.finished;
    } catch {
      // A connection error ends the connection; there is no one to report it to.
    }
  }

  /** Relays a plain-HTTP connection to the internal server, starting with `seen`. */
  async #relay(tracked: Tracked, seen: Uint8Array[]): Promise<void> {
    const { conn } = tracked;
    tracked.phase = "relay";
    let inner: Deno.TcpConn;
    try {
      inner = await Deno.connect({ hostname: "127.0.0.1", port: this.#inner.addr.port });
    } catch {
      await writeAll(conn, errorResponseBytes(503)).catch(() => {});
      return closeQuietly(conn);
    }
    tracked.inner = inner;
    tracked.lastActive = Date.now();
    const localPort = inner.localAddr.port;
    this.#clients.set(localPort, conn.remoteAddr);
    try {
      for (const chunk of seen) await writeAll(inner, chunk);
      const active = () => tracked.lastActive = Date.now();
      await Promise.all([pipeOneWay(conn, inner, active), pipeOneWay(inner, conn, active)]);
    } catch {
      closeQuietly(inner);
      closeQuietly(conn);
    } finally {
      this.#clients.delete(localPort);
    }
  }

  #sweep(): void {
    const idleSince = Date.now() - this.#idleTimeout;
    for (const t of this.#tracked) {
      if (t.lastActive > idleSince) continue;
      if (t.phase === "relay" && t.inner !== undefined) {
        closeQuietly(t.conn);
        closeQuietly(t.inner);
      } else if (t.phase === "waiting") {
        closeQuietly(t.conn);
      } else if (t.phase === "runtime" && t.active === 0) {
        t.cancel?.();
      }
    }
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#shutDown();
    return this.#shutdown;
  }

  async #shutDown(): Promise<void> {
    this.#closing = true;
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    await this.#acceptLoop;
    for (const t of this.#tracked) {
      // No request under way: a first head not complete, between requests, or idle.
      if (t.phase === "head" || t.phase === "waiting") closeQuietly(t.conn);
      else if (t.phase === "runtime" && t.active === 0) t.cancel?.();
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), this.#shutdownTimeout);
    });
    // Deno.serve's graceful shutdown closes idle keep-alive connections and lets requests
    // under way finish; each relay ends when its internal connection closes. A connection
    // served by the runtime is closed when its last request under way completes.
    const graceful = this.#inner.shutdown();
    const drained = graceful.then(() => Promise.all(this.#tasks)).then(() => "done" as const);
    const outcome = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    if (outcome === "late") {
      // Closing what is left cancels it (request.signal aborts, streams are cancelled).
      for (const t of this.#tracked) {
        if (t.phase === "runtime") t.cancel?.();
        else closeQuietly(t.conn);
        if (t.inner) closeQuietly(t.inner);
      }
    }
    await graceful;
    await this.#inner.finished;
    await Promise.all(this.#tasks);
    clearInterval(this.#sweeper);
    this.#done.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

/**
 * Serves HTTP and hand-framed WebSocket on one port. Each new connection's first
 * request head is read here: `Upgrade: websocket` goes to `handlers.upgrade` with the
 * raw connection. Any other first request is answered here with `handlers.fetch`, and
 * the connection is then handed to the runtime's HTTP server, which answers every later
 * request with `handlers.fetch` at `Deno.serve` speed (`handoff: "auto"`, the default;
 * it uses a Deno internal, feature-detected). When that cannot be done (pipelined bytes
 * already read, a request left to hyper, a streamed first response, a handler that
 * watched `request.signal`, the internal missing, or `handoff: "relay"`), the connection
 * is relayed unchanged to an internal `Deno.serve` on a loopback port. Either way
 * `info.remoteAddr` is the client's address.
 *
 * Faults in a first head are answered here and close the connection: 400 (syntax,
 * missing Host), 431 (over `maxHeadSize`), 505 (HTTP version). Later requests are
 * parsed, bounded and timed by the runtime; a WebSocket upgrade that is not the first
 * request of its connection reaches `fetch` like any request.
 *
 * @example Serve a fetch handler and refuse upgrades
 * ```ts
 * import { serveOnePort } from "./one_port_server.ts";
 *
 * const server = serveOnePort({ hostname: "127.0.0.1", port: 0 }, {
 *   fetch: (_request, info) => new Response(`hello ${info.remoteAddr.hostname}`),
 *   upgrade: (_head, conn) => conn.close(),
 * });
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * console.assert(await response.text() === "hello 127.0.0.1");
 * await server.shutdown();
 * ```
 *
 * @param options Where to listen, the shutdown signal and the limits.
 * @param handlers The fetch and upgrade handlers.
 * @returns The running server.
 * @throws {TypeError} When a handler is missing.
 * @throws {RangeError} When a limit is not a positive number.
 */
export function serveOnePort(options: OnePortOptions, handlers: OnePortHandlers): OnePortServer {
  return new Server(options, handlers);
}
