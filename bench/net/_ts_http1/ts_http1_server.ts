/**
 * Benchmark prototype of option (c) in docs/ARCHITECTURE-one-port.md, not library code:
 * an HTTP/1.1 server in TypeScript on `Deno.listen` for every request.
 *
 * One TCP port for every transport: plain HTTP requests go to a fetch handler
 * (`(Request, info) => Response`, as for `Deno.serve`), and `Upgrade: websocket`
 * requests hand their raw connection to an upgrade handler.
 *
 * @module
 */
import { type ConnectionContext, Http1Connection } from "./_http1_connection.ts";

/** The head of a request that asked for `Upgrade: websocket`. */
export interface UpgradeRequestHead {
  /** The request method, as sent. */
  readonly method: string;
  /** The request-target, as sent (usually a path with an optional query). */
  readonly target: string;
  /** `"HTTP/1.1"` or `"HTTP/1.0"`. */
  readonly version: string;
  /** The request's header fields. */
  readonly headers: Headers;
}

/** Answers a plain HTTP request, as a `Deno.serve` handler does. */
export type FetchHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/**
 * Takes over a connection whose request asked for `Upgrade: websocket`. It receives the
 * parsed head, the raw connection (nothing has been written to it) and the bytes the
 * client sent after the head. From then on the connection is the handler's to answer
 * and close; the server no longer tracks it, not even at shutdown.
 */
export type UpgradeHandler = (head: UpgradeRequestHead, conn: Deno.Conn, rest: Uint8Array) => void;

/** The handlers of {@linkcode serveOnePort}. */
export interface OnePortHandlers {
  /** Plain HTTP requests. */
  readonly fetch: FetchHandler;
  /** Requests carrying `Upgrade: websocket`. */
  readonly upgrade: UpgradeHandler;
  /**
   * Turns an error thrown by `fetch` into a response.
   * @default logs the error and answers 500
   */
  readonly onError?: (error: unknown) => Response | Promise<Response>;
}

/** Where and how {@linkcode serveOnePort} listens, and its limits. */
export interface OnePortOptions {
  /** @default "0.0.0.0" */
  readonly hostname?: string;
  /** `0` picks a free port. @default 8000 */
  readonly port?: number;
  /** Aborting it shuts the server down gracefully (as {@linkcode OnePortServer.shutdown}). */
  readonly signal?: AbortSignal;
  /** Called once the port is bound. */
  readonly onListen?: (addr: Deno.NetAddr) => void;
  /** Largest request head, in bytes; larger heads get 431 and the connection closes. @default 8192 */
  readonly maxHeadSize?: number;
  /**
   * Milliseconds a connection may take to send a complete request head, counted from
   * when the server starts waiting for it (accept, or the end of the previous response).
   * Bounds idle keep-alive connections and slow-header (slowloris) clients alike.
   * @default 10000
   */
  readonly headTimeout?: number;
  /** Connections served at once; connections beyond it are closed at accept. @default 10000 */
  readonly maxConnections?: number;
  /** Milliseconds a graceful shutdown waits for requests under way before closing them. @default 5000 */
  readonly shutdownTimeout?: number;
}

/** A running {@linkcode serveOnePort} server. */
export interface OnePortServer extends AsyncDisposable {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** Resolves once the server has shut down and every connection it tracks is closed. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting, closes idle connections, lets requests under way finish (their
   * connections then close) and, after `shutdownTimeout`, closes whatever is left.
   */
  shutdown(): Promise<void>;
}

function defaultOnError(error: unknown): Response {
  // deno-lint-ignore no-console
  console.error("serveOnePort: the fetch handler threw", error);
  return new Response("Internal Server Error", { status: 500 });
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`Cannot serve: ${name} must be a positive number, got ${value}`);
  }
  return value;
}

class Server implements OnePortServer, ConnectionContext {
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
  readonly fetch: FetchHandler;
  readonly upgrade: UpgradeHandler;
  readonly onError: (error: unknown) => Response | Promise<Response>;
  readonly maxHeadSize: number;
  readonly hostname: string;
  closing = false;
  #listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  #connections = new Set<Http1Connection>();
  #headTimeout: number;
  #maxConnections: number;
  #shutdownTimeout: number;
  #sweeper: ReturnType<typeof setInterval>;
  #drained = Promise.withResolvers<void>();
  #done = Promise.withResolvers<void>();
  #acceptLoop: Promise<void>;
  #shutdown: Promise<void> | undefined;

  constructor(options: OnePortOptions, handlers: OnePortHandlers) {
    if (typeof handlers?.fetch !== "function" || typeof handlers.upgrade !== "function") {
      throw new TypeError("Cannot serve: handlers.fetch and handlers.upgrade must be functions");
    }
    this.fetch = handlers.fetch;
    this.upgrade = handlers.upgrade;
    this.onError = handlers.onError ?? defaultOnError;
    this.maxHeadSize = positive("maxHeadSize", options.maxHeadSize ?? 8192);
    this.#headTimeout = positive("headTimeout", options.headTimeout ?? 10_000);
    this.#maxConnections = positive("maxConnections", options.maxConnections ?? 10_000);
    this.#shutdownTimeout = positive("shutdownTimeout", options.shutdownTimeout ?? 5_000);
    this.#listener = Deno.listen({
      hostname: options.hostname ?? "0.0.0.0",
      port: options.port ?? 8000,
      transport: "tcp",
    });
    this.addr = this.#listener.addr;
    this.hostname = this.addr.hostname.includes(":")
      ? `[${this.addr.hostname}]:${this.addr.port}`
      : `${this.addr.hostname}:${this.addr.port}`;
    this.finished = this.#done.promise;
    // One timer for every connection: closes those that took too long to send a head.
    const sweepEvery = Math.max(10, Math.min(1000, Math.floor(this.#headTimeout / 4)));
    this.#sweeper = setInterval(() => this.#sweep(), sweepEvery);
    this.#acceptLoop = this.#accept();
    const signal = options.signal;
    if (signal?.aborted) this.shutdown();
    else signal?.addEventListener("abort", () => this.shutdown(), { once: true });
    options.onListen?.(this.addr);
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // the listener was closed
      }
      if (this.closing || this.#connections.size >= this.#maxConnections) {
        conn.close();
        continue;
      }
      try {
        conn.setNoDelay(true);
      } catch { /* closed already */ }
      const connection = new Http1Connection(conn, this);
      this.#connections.add(connection);
      connection.serve().then(() => {
        this.#connections.delete(connection);
        if (this.closing && this.#connections.size === 0) this.#drained.resolve();
      });
    }
  }

  #sweep(): void {
    const deadline = Date.now() - this.#headTimeout;
    for (const c of this.#connections) {
      if (c.waitingSince !== 0 && c.waitingSince <= deadline) c.close();
    }
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#shutDown();
    return this.#shutdown;
  }

  async #shutDown(): Promise<void> {
    this.closing = true;
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    await this.#acceptLoop;
    for (const c of this.#connections) if (c.idle) c.close();
    if (this.#connections.size === 0) this.#drained.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) =>
      timer = setTimeout(resolve, this.#shutdownTimeout)
    );
    await Promise.race([this.#drained.promise, deadline]);
    clearTimeout(timer);
    for (const c of this.#connections) c.close();
    if (this.#connections.size > 0) await this.#drained.promise;
    clearInterval(this.#sweeper);
    this.#done.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

/**
 * Serves HTTP/1.1 and hand-framed WebSocket on one port. Plain requests (keep-alive,
 * pipelining, Content-Length and chunked bodies, streamed responses) go to
 * `handlers.fetch` with the client's address in `info.remoteAddr`; a request carrying
 * `Upgrade: websocket` goes to `handlers.upgrade` with its raw connection.
 *
 * Protocol faults are answered by the server and close the connection: 400 (bad
 * syntax or framing, missing Host), 431 (head over `maxHeadSize`), 501 (unknown
 * transfer coding), 505 (HTTP version). `request.signal` aborts when the client goes
 * away before its response is complete.
 *
 * @example Serve a fetch handler and refuse upgrades
 * ```ts
 * import { serveOnePort } from "./ts_http1_server.ts";
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
