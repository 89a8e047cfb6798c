/**
 * One TCP port for every transport. The public listener reads the first request head
 * of each connection: a request carrying `Upgrade: websocket` hands the raw connection
 * to the upgrade handler; any other connection is relayed, bytes unchanged, to an
 * internal `Deno.serve` on a loopback port, whose handler sees the client's address.
 *
 * @module
 */
import { HeadParser, type RequestHead } from "../http/head_parser.ts";
import { splitList } from "../http/token.ts";
import { closeQuietly, pipeOneWay, writeAll } from "./_pipe.ts";
import { errorResponseBytes } from "./_error_response.ts";

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
   * then it is closed (bounds idle and slow-header, "slowloris", connections).
   * @default 10000
   */
  readonly headTimeout?: number;
  /**
   * Connections tracked at once (reading a first head, or relayed); beyond it a new
   * connection is closed at accept. Upgraded connections are not counted.
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

/** A connection the server tracks: still sending its first head, or relayed. */
interface Tracked {
  readonly conn: Deno.TcpConn;
  /** True until the first head is complete. */
  sniffing: boolean;
  /** `Date.now()` of the last byte relayed, either way. */
  lastActive: number;
  /** The relay's connection to the internal server, once relayed. */
  inner: Deno.TcpConn | undefined;
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
        closeQuietly(conn);
        continue;
      }
      const tracked: Tracked = { conn, sniffing: true, lastActive: Date.now(), inner: undefined };
      this.#tracked.add(tracked);
      const task = this.#serve(tracked).finally(() => {
        this.#tracked.delete(tracked);
        this.#tasks.delete(task);
      });
      this.#tasks.add(task);
    }
  }

  /** Reads the first head, then upgrades, relays, or answers an error. Never rejects. */
  async #serve(tracked: Tracked): Promise<void> {
    const { conn } = tracked;
    const parser = new HeadParser({ kind: "request", maxHeadSize: this.#maxHeadSize });
    const seen: Uint8Array[] = [];
    const timer = setTimeout(() => closeQuietly(conn), this.#headTimeout);
    let event;
    try {
      const buf = new Uint8Array(READ_SIZE);
      while (event === undefined) {
        const n = await conn.read(buf);
        if (n === null) break;
        const chunk = buf.slice(0, n);
        seen.push(chunk);
        event = parser.receive(chunk);
      }
    } catch {
      // Closed by the head timeout or at shutdown, or reset by the client.
    } finally {
      clearTimeout(timer);
    }
    tracked.sniffing = false;
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
    await this.#relay(tracked, seen);
  }

  /** Relays a plain-HTTP connection to the internal server, first request included. */
  async #relay(tracked: Tracked, seen: Uint8Array[]): Promise<void> {
    const { conn } = tracked;
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
      if (t.inner !== undefined && t.lastActive <= idleSince) {
        closeQuietly(t.conn);
        closeQuietly(t.inner);
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
    // Connections that have not finished a first head have no request under way.
    for (const t of this.#tracked) if (t.sniffing) closeQuietly(t.conn);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), this.#shutdownTimeout);
    });
    // Deno.serve's graceful shutdown closes idle keep-alive connections and lets requests
    // under way finish; each relay ends when its internal connection closes.
    const graceful = this.#inner.shutdown();
    const drained = graceful.then(() => Promise.all(this.#tasks)).then(() => "done" as const);
    const outcome = await Promise.race([drained, deadline]);
    clearTimeout(timer);
    if (outcome === "late") {
      // Closing both sides of every relay cancels what is left (request.signal aborts).
      for (const t of this.#tracked) {
        closeQuietly(t.conn);
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
 * raw connection; anything else is relayed unchanged to an internal `Deno.serve` on a
 * loopback port, which answers every request of that connection with `handlers.fetch`
 * (`info.remoteAddr` is the client's address, not the relay's).
 *
 * Faults in a first head are answered here and close the connection: 400 (syntax,
 * missing Host), 431 (over `maxHeadSize`), 505 (HTTP version). Later requests on a
 * relayed connection are parsed, bounded and timed by `Deno.serve`; a WebSocket upgrade
 * that is not the first request of its connection reaches `fetch` like any request.
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
