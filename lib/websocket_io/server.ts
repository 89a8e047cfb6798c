/**
 * The WebSocket server over sockets pushwire owns: it reads the upgrade request head
 * strictly and with bounds, runs the endpoint's accept decision, writes the `101` and then
 * runs a {@linkcode WebSocketSession} per connection. It listens by itself (`Deno.listen`,
 * `Deno.listenTls` for `wss://`) or serves as the `upgrade` handler of the one-port server
 * (`lib/net/`).
 *
 * Every refused handshake gets a complete HTTP error response and the socket is closed:
 *
 * | status | when |
 * | ------ | ---- |
 * | 400 / 405 / 426 / 505 | malformed head or not a valid upgrade (see `lib/websocket/handshake.ts`) |
 * | 403 | `Origin` not in `allowedOrigins` (cross-site WebSocket hijacking) |
 * | 404 | no route matches the path |
 * | 408 | the head or the accept decision took longer than `handshakeTimeout` |
 * | 431 | the head is larger than `maxHeadSize` |
 * | 500 | the endpoint's `accept` threw or returned something invalid |
 * | 503 | `maxConnections` sessions and handshakes are under way, or the server is shutting down (also when shutdown began during the head or the accept decision) |
 * | any | the endpoint's `accept` returned {@linkcode reject} |
 *
 * @module
 */
import { CLOSE_GOING_AWAY } from "../websocket/_constants.ts";
import { HeadParser } from "../http/head_parser.ts";
import {
  buildHandshakeResponse,
  buildRejectionResponse,
  computeAcceptKey,
  validateUpgradeRequest,
} from "../websocket/handshake.ts";
import { selectSubprotocol } from "../websocket/subprotocol.ts";
import { formatExtensions } from "../websocket/extension_header.ts";
import {
  type DeflateParams,
  negotiatePerMessageDeflate,
  type PerMessageDeflateOptions,
} from "../websocket/permessage_deflate.ts";
import { parseCookies } from "./_cookies.ts";
import { Heartbeat } from "./_heartbeat.ts";
import { ServerSession } from "./_server_session.ts";
import type { AcceptDecision, WebSocketRequest } from "./endpoint.ts";
import type { Route, WebSocketRouter } from "./router.ts";
import { resolveSessionOptions, type SessionOptions } from "./session.ts";

// Public with `WebSocketServerOptions.perMessageDeflate`, which names them.
export type { DeflateTuning, PerMessageDeflateOptions } from "../websocket/permessage_deflate.ts";

/** Options of {@linkcode WebSocketServer}: handshake bounds, origin policy, session limits. */
export interface WebSocketServerOptions extends SessionOptions {
  /**
   * Allowed `Origin` values (e.g. `https://app.example`), compared case-insensitively.
   * When set, a request with any other `Origin` gets 403 before the handshake completes.
   * Requests without `Origin` (non-browser clients) are allowed; refuse them in `accept`
   * if needed.
   * @default {undefined} (every origin)
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * Sessions plus handshakes under way; beyond it a new connection gets 503.
   * @default {10000}
   */
  readonly maxConnections?: number;
  /**
   * Milliseconds from accepting a connection (or receiving it from the one-port server) to
   * the `101`: the head and the endpoint's `accept` decision must fit (slowloris bound).
   * @default {10000}
   */
  readonly handshakeTimeout?: number;
  /**
   * Largest request head, in bytes; a larger one gets 431.
   * @default {8192}
   */
  readonly maxHeadSize?: number;
  /**
   * permessage-deflate (RFC 7692): the policy, or `false` to never accept it. The default
   * policy compresses messages of 1 KiB and more, without context takeover either way
   * (nothing kept per idle connection); see docs/permessage-deflate.md.
   * @default {{}} (enabled, default policy)
   */
  readonly perMessageDeflate?: PerMessageDeflateOptions | false;
  /**
   * Called with errors thrown by an endpoint's `accept` (answered with 500) and with any
   * unexpected failure during a handshake (the connection is then closed).
   * @default logs with `console.error`
   */
  readonly onError?: (error: unknown) => void;
}

/**
 * A parsed request head handed over by another server: the one-port server's
 * `UpgradeRequestHead` (`version: "HTTP/1.1"`) or a `RequestHead` (`httpVersion: "1.1"`).
 */
export interface UpgradeHead {
  /** The method. */
  readonly method: string;
  /** The request-target, e.g. `/rooms/a?x=1`. */
  readonly target: string;
  /** The header fields. */
  readonly headers: Headers;
  /** Version digits, e.g. `"1.1"`. */
  readonly httpVersion?: string;
  /** Version as on the request line, e.g. `"HTTP/1.1"`. */
  readonly version?: string;
}

/** Where {@linkcode WebSocketServer.listen} listens. */
export interface ListenOptions {
  /**
   * The address to bind.
   * @default {"0.0.0.0"}
   */
  readonly hostname?: string;
  /**
   * The port; `0` picks a free one.
   * @default {8080}
   */
  readonly port?: number;
  /** PEM certificate chain: with `key`, listen for `wss://` (`Deno.listenTls`). */
  readonly cert?: string;
  /** PEM private key for `cert`. */
  readonly key?: string;
  /** Called once the port is bound. */
  readonly onListen?: (addr: Deno.NetAddr) => void;
}

/** A listening socket of a {@linkcode WebSocketServer}. */
export interface ServerListener {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** `"ws"` or `"wss"`. */
  readonly scheme: "ws" | "wss";
  /** Stops accepting (live sessions go on); resolves when the accept loop ended. */
  close(): Promise<void>;
}

/** Options of {@linkcode WebSocketServer.shutdown}. */
export interface ShutdownOptions {
  /**
   * Milliseconds to wait for the closing handshakes and the handshakes under way before
   * closing what is left.
   * @default the server's `closeTimeout` (5000)
   */
  readonly timeout?: number;
}

const encoder = new TextEncoder();
/** How long a refused connection may take to read our error response before it is closed. */
const LINGER_MS = 1000;
const HEAD_READ_SIZE = 4096;
const TIMED_OUT = Symbol("timed out");

/**
 * Runs endpoints over raw sockets.
 *
 * @example Listen, connect with Deno's WebSocket, echo, shut down
 * ```ts
 * import assert from "node:assert/strict";
 * import { WebSocketRouter } from "./router.ts";
 * import { WebSocketServer } from "./server.ts";
 *
 * const router = new WebSocketRouter();
 * router.route("/echo", { message: (session, message) => void session.send(message) });
 * const server = new WebSocketServer(router);
 * const { addr } = server.listen({ hostname: "127.0.0.1", port: 0 });
 * const ws = new WebSocket(`ws://127.0.0.1:${addr.port}/echo`);
 * const reply = await new Promise((resolve) => {
 *   ws.onopen = () => ws.send("ping");
 *   ws.onmessage = (event) => resolve(event.data);
 * });
 * assert.equal(reply, "ping");
 * const closed = new Promise((resolve) => ws.onclose = resolve);
 * await server.shutdown();
 * await closed;
 * ```
 *
 * @example As the upgrade handler of the one-port server
 * ```ts
 * import { serveOnePort } from "../net/one_port_server.ts";
 * import { WebSocketRouter } from "./router.ts";
 * import { WebSocketServer } from "./server.ts";
 *
 * const router = new WebSocketRouter();
 * router.route("/ws", { message: (session, message) => void session.send(message) });
 * const ws = new WebSocketServer(router);
 * const http = serveOnePort({ hostname: "127.0.0.1", port: 0 }, {
 *   fetch: () => new Response("ok"),
 *   upgrade: ws.handleUpgrade,
 * });
 * await http.shutdown();
 * await ws.shutdown();
 * ```
 */
export class WebSocketServer {
  /** The routes and their session registries. */
  readonly router: WebSocketRouter;
  readonly #options: Required<SessionOptions>;
  readonly #allowedOrigins: ReadonlySet<string> | undefined;
  readonly #maxConnections: number;
  readonly #handshakeTimeout: number;
  readonly #maxHeadSize: number;
  readonly #onError: (error: unknown) => void;
  readonly #perMessageDeflate: PerMessageDeflateOptions | undefined;
  readonly #heartbeat: Heartbeat | undefined;
  readonly #handshakes = new Set<Promise<void>>();
  /** Ends a handshake under way at once (shutdown's deadline): its waits end, its conn closes. */
  readonly #cancels = new Set<() => void>();
  readonly #sessions = new Set<ServerSession>();
  readonly #listeners = new Set<Deno.Listener>();
  readonly #acceptLoops = new Set<Promise<void>>();
  #connections = 0;
  #closing = false;

  /**
   * Creates a server for the router's endpoints; it does not listen yet.
   *
   * @param router The routes.
   * @param options Limits, timeouts, origin policy.
   * @throws {RangeError} If a limit is not positive.
   */
  constructor(router: WebSocketRouter, options: WebSocketServerOptions = {}) {
    this.router = router;
    this.#options = resolveSessionOptions(options);
    this.#allowedOrigins = options.allowedOrigins === undefined
      ? undefined
      : new Set(options.allowedOrigins.map(normalizeOrigin));
    this.#maxConnections = positive(options.maxConnections ?? 10_000, "maxConnections");
    this.#handshakeTimeout = positive(options.handshakeTimeout ?? 10_000, "handshakeTimeout");
    this.#maxHeadSize = positive(options.maxHeadSize ?? 8192, "maxHeadSize");
    this.#onError = options.onError ?? defaultOnError;
    const deflate = options.perMessageDeflate ?? {};
    // Validates the policy now (RangeError) rather than at the first handshake.
    if (deflate !== false) negotiatePerMessageDeflate([], deflate);
    this.#perMessageDeflate = deflate === false ? undefined : deflate;
    const tick = Heartbeat.tickFor(this.#options.pingInterval, this.#options.idleTimeout);
    this.#heartbeat = tick > 0 ? new Heartbeat(tick) : undefined;
  }

  /** Live sessions plus handshakes under way. */
  get connections(): number {
    return this.#connections;
  }

  /**
   * The one-port server's `upgrade` hook (a bound function: pass it as it is). Takes over
   * the connection: answers the handshake and runs the session.
   */
  readonly handleUpgrade = (head: UpgradeHead, conn: Deno.Conn, rest: Uint8Array): void => {
    this.#track(conn, this.#handshake(conn, head, rest));
  };

  /**
   * Serves one accepted connection: reads the upgrade head, answers it, runs the session.
   *
   * @param conn A connection nothing was read from (TCP, or TLS for `wss://`).
   * @returns A promise that resolves when the handshake is over (not the session).
   */
  handleConnection(conn: Deno.Conn): Promise<void> {
    return this.#track(conn, this.#handshake(conn, undefined, undefined));
  }

  /**
   * Listens on a TCP port (TLS when `cert` and `key` are given) and serves every
   * connection. Call more than once for several ports (e.g. `ws://` and `wss://`).
   *
   * @param options Address, TLS material, callback.
   * @returns The listener.
   * @throws {TypeError} If only one of `cert` and `key` is given, or the server is shut down.
   */
  listen(options: ListenOptions = {}): ServerListener {
    if (this.#closing) throw new TypeError("Cannot listen: the server is shut down");
    if ((options.cert === undefined) !== (options.key === undefined)) {
      throw new TypeError("Cannot listen: cert and key go together");
    }
    const hostname = options.hostname ?? "0.0.0.0";
    const port = options.port ?? 8080;
    const tls = options.cert !== undefined;
    const listener: Deno.Listener = tls
      ? Deno.listenTls({ hostname, port, cert: options.cert!, key: options.key! })
      : Deno.listen({ hostname, port, transport: "tcp" });
    this.#listeners.add(listener);
    const addr = listener.addr as Deno.NetAddr;
    const loop = this.#acceptLoop(listener);
    this.#acceptLoops.add(loop);
    options.onListen?.(addr);
    return {
      addr,
      scheme: tls ? "wss" : "ws",
      close: async () => {
        closeQuietly(listener);
        await loop;
      },
    };
  }

  /**
   * Graceful shutdown: stops listening, refuses new handshakes (503, and so are handshakes
   * under way once their accept decision is made), closes every session with 1001 (Going
   * Away) and waits for the closing handshakes and the handshakes under way up to the
   * deadline; then closes whatever is left.
   *
   * @param options The deadline.
   * @returns A promise that resolves when every connection is closed.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    this.#closing = true;
    for (const listener of this.#listeners) closeQuietly(listener);
    await Promise.all(this.#acceptLoops);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), options.timeout ?? this.#options.closeTimeout);
    });
    const everything = () =>
      Promise.all<unknown>([...[...this.#sessions].map((s) => s.closed), ...this.#handshakes]);
    try {
      // Repeat until nothing is left: a handshake under way (or one the one-port server
      // hands over now) is only known to end in no session once it settled.
      while (this.#sessions.size > 0 || this.#handshakes.size > 0) {
        for (const session of this.#sessions) {
          session.close(CLOSE_GOING_AWAY, "server shutting down");
        }
        if ((await Promise.race([everything(), deadline])) === TIMED_OUT) break;
      }
    } finally {
      clearTimeout(timer);
    }
    for (const cancel of this.#cancels) cancel();
    for (const session of this.#sessions) session.session.abort();
    await everything();
  }

  async #acceptLoop(listener: Deno.Listener): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        this.#listeners.delete(listener);
        return; // closed
      }
      if ("setNoDelay" in conn) {
        try {
          (conn as Deno.TcpConn).setNoDelay(true);
        } catch { /* closed already */ }
      }
      this.handleConnection(conn);
    }
  }

  #track(conn: Deno.Conn, started: Promise<void>): Promise<void> {
    // Nothing may escape as an unhandled rejection: report it and drop the connection.
    const handshake = started.catch((error) => {
      this.#onError(error);
      closeQuietly(conn);
    });
    this.#handshakes.add(handshake);
    handshake.finally(() => this.#handshakes.delete(handshake));
    return handshake;
  }

  async #handshake(
    conn: Deno.Conn,
    given: UpgradeHead | undefined,
    givenRest: Uint8Array | undefined,
  ): Promise<void> {
    const { promise: timeout, resolve: stop } = Promise.withResolvers<typeof TIMED_OUT>();
    const cancel = () => {
      stop(TIMED_OUT);
      closeQuietly(conn);
    };
    this.#cancels.add(cancel);
    let counted = false;
    let handedOver = false;
    const timer = setTimeout(() => stop(TIMED_OUT), this.#handshakeTimeout);
    try {
      if (this.#closing) {
        return await refuse(conn, 503, "Cannot upgrade: the server is shutting down");
      }
      if (this.#connections >= this.#maxConnections) {
        return await refuse(conn, 503, "Cannot upgrade: too many connections");
      }
      this.#connections++;
      counted = true;
      let head = given;
      let rest = givenRest ?? new Uint8Array(0);
      if (head === undefined) {
        const parser = new HeadParser({ kind: "request", maxHeadSize: this.#maxHeadSize });
        const buffer = new Uint8Array(HEAD_READ_SIZE);
        for (;;) {
          const read = conn.read(buffer);
          read.catch(() => {}); // left pending on timeout; the close below settles it
          const n = await Promise.race([read, timeout]).catch(() => null);
          if (n === TIMED_OUT) {
            return await refuse(conn, 408, "Cannot upgrade: the request head took too long");
          }
          if (n === null) return closeQuietly(conn); // the client went away
          const event = parser.receive(buffer.subarray(0, n));
          if (event === undefined) continue;
          if (event.type === "error") return await refuse(conn, event.status, event.message);
          head = event.head;
          rest = event.rest;
          break;
        }
      }
      // Shutdown began while the head arrived: no need to ask the endpoint.
      if (this.#closing) {
        return await refuse(conn, 503, "Cannot upgrade: the server is shutting down");
      }
      const secure = "handshake" in conn;
      const answer = await this.#decide(conn, head, secure, timeout);
      // Shutdown began while the endpoint decided: a session opened now would miss the
      // 1001 that shutdown sends to every session.
      if (this.#closing) {
        return await refuse(conn, 503, "Cannot upgrade: the server is shutting down");
      }
      if (answer.type === "refuse") {
        return await refuse(conn, answer.status, answer.reason, answer.headers);
      }
      const session = new ServerSession({
        conn,
        request: answer.request,
        route: answer.route,
        protocol: answer.protocol ?? "",
        data: answer.data,
        preamble: encoder.encode(answer.head),
        extensions: answer.extensions,
        ...(answer.deflate === undefined
          ? {}
          : { deflate: { params: answer.deflate, options: this.#perMessageDeflate! } }),
        options: this.#options,
        heartbeat: this.#heartbeat,
        onClose: (s) => {
          this.#sessions.delete(s);
          this.#connections--;
        },
      });
      handedOver = true;
      // The session owns the connection now; shutdown aborts it as a session.
      this.#cancels.delete(cancel);
      this.#sessions.add(session);
      this.router.sessions.add(session);
      answer.route.sessions.add(session);
      clearTimeout(timer);
      await session.start(rest);
    } finally {
      clearTimeout(timer);
      this.#cancels.delete(cancel);
      if (counted && !handedOver) this.#connections--;
    }
  }

  async #decide(
    conn: Deno.Conn,
    head: UpgradeHead,
    secure: boolean,
    timeout: Promise<typeof TIMED_OUT>,
  ): Promise<Answer> {
    const httpVersion = head.httpVersion ?? head.version?.replace(/^HTTP\//, "") ?? "";
    const validation = validateUpgradeRequest({
      method: head.method,
      httpVersion,
      headers: head.headers,
    });
    if (!validation.ok) {
      return refusal(validation.status, validation.reason, validation.headers);
    }
    let url: URL;
    try {
      url = new URL(head.target, `${secure ? "wss" : "ws"}://${validation.host}`);
    } catch {
      return refusal(400, "Cannot upgrade: the Host header or the request-target is invalid");
    }
    const match = this.router.match(url.pathname);
    if (match === undefined) return refusal(404, `Cannot upgrade: no endpoint at ${url.pathname}`);
    const origin = validation.origin;
    // Cross-site WebSocket hijacking: browsers send Origin; refuse any not allowed.
    if (
      origin !== undefined && this.#allowedOrigins !== undefined &&
      !this.#allowedOrigins.has(normalizeOrigin(origin))
    ) {
      return refusal(403, `Cannot upgrade: origin ${origin} is not allowed`);
    }
    const request: WebSocketRequest = {
      url,
      params: match.params,
      headers: head.headers,
      origin,
      protocols: validation.protocols,
      extensions: validation.extensions,
      cookies: parseCookies(head.headers.get("cookie")),
      remoteAddr: conn.remoteAddr,
    };
    const endpoint = match.route.endpoint;
    let decision: AcceptDecision<unknown> | undefined | typeof TIMED_OUT;
    try {
      const result = endpoint.accept?.(request);
      decision = result instanceof Promise ? await Promise.race([result, timeout]) : result;
    } catch (error) {
      this.#onError(error);
      return refusal(500, "Cannot upgrade: the endpoint failed");
    }
    if (decision === TIMED_OUT) return refusal(408, "Cannot upgrade: the endpoint took too long");
    if (decision?.type === "reject") {
      return refusal(decision.status, decision.reason, decision.headers);
    }
    let protocol = decision?.protocol;
    if (protocol !== undefined && !validation.protocols.includes(protocol)) {
      this.#onError(
        new TypeError(`Cannot accept: subprotocol ${protocol} was not offered by the client`),
      );
      return refusal(500, "Cannot upgrade: the endpoint chose a subprotocol not offered");
    }
    protocol ??= selectSubprotocol(validation.protocols, endpoint.protocols ?? []);
    const deflate = this.#perMessageDeflate === undefined
      ? undefined
      : negotiatePerMessageDeflate(validation.extensions, this.#perMessageDeflate);
    const extensions = deflate?.accepted ? [deflate.response] : [];
    let responseHead: string;
    try {
      responseHead = buildHandshakeResponse({
        accept: await computeAcceptKey(validation.key),
        ...(protocol === undefined ? {} : { protocol }),
        ...(extensions.length === 0 ? {} : { extensions }),
        ...(decision?.headers === undefined ? {} : { headers: decision.headers }),
      });
    } catch (error) {
      this.#onError(error);
      return refusal(500, "Cannot upgrade: the endpoint's response headers are invalid");
    }
    return {
      type: "accept",
      request,
      route: match.route,
      protocol,
      data: decision?.data,
      head: responseHead,
      extensions: extensions.length === 0 ? "" : formatExtensions(extensions),
      deflate: deflate?.accepted ? deflate.params : undefined,
    };
  }
}

type Answer =
  | {
    readonly type: "refuse";
    readonly status: number;
    readonly reason: string;
    readonly headers: HeadersInit | undefined;
  }
  | {
    readonly type: "accept";
    readonly request: WebSocketRequest;
    readonly route: Route;
    readonly protocol: string | undefined;
    readonly data: unknown;
    readonly head: string;
    readonly extensions: string;
    readonly deflate: DeflateParams | undefined;
  };

function refusal(status: number, reason: string, headers?: HeadersInit): Answer {
  return { type: "refuse", status, reason, headers };
}

/**
 * Writes a complete error response, half-closes, lets the client read it (up to
 * {@linkcode LINGER_MS}) and closes: closing at once could reset the connection and lose
 * the response when the client has sent more than we read.
 */
async function refuse(
  conn: Deno.Conn,
  status: number,
  reason: string,
  headers?: HeadersInit,
): Promise<void> {
  const timer = setTimeout(() => closeQuietly(conn), LINGER_MS);
  try {
    const bytes = encoder.encode(buildRejectionResponse(status, reason, headers));
    let offset = 0;
    while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
    await conn.closeWrite();
    const sink = new Uint8Array(HEAD_READ_SIZE);
    while ((await conn.read(sink)) !== null) {
      // Discard what the client still sends until it closes.
    }
  } catch {
    // The client went away, or the linger timer closed the connection.
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // Already closed.
  }
}

function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, "");
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`Invalid ${name}: ${value} is not a positive number`);
  }
  return value;
}

function defaultOnError(error: unknown): void {
  // deno-lint-ignore no-console
  console.error("WebSocketServer: a handshake failed", error);
}
