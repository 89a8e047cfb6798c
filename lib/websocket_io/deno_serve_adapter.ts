/**
 * Runs the same endpoints on a plain `Deno.serve` app through `Deno.upgradeWebSocket`, for
 * hosts where only `Deno.serve` exists (Deno Deploy and the like). Routing, the origin
 * policy, the accept decision, codecs, session groups and the slow-consumer policy behave
 * as on {@linkcode WebSocketServer}.
 *
 * What it lacks, because Deno's built-in WebSocket owns the socket:
 * - Deno's frame codec runs, not pushwire's; the head size limit and the handshake
 *   timeout are Deno's HTTP server's (pushwire only bounds the `accept` decision).
 * - No read backpressure: while an endpoint's `open` or `message` promise is pending,
 *   further messages queue in memory. The queue is bounded (`maxQueuedMessages`,
 *   `maxQueuedBytes`); one message more closes the session with 1013 (Try Again Later: the
 *   peer broke no rule, the endpoint is not keeping up), where the hand-written server
 *   would stop reading instead.
 * - `maxMessageSize` is checked after Deno assembled the whole message (close 1009), so
 *   the bytes were held already; Deno's own limit (64 MiB) applies first.
 * - No `ping()` (a no-op) and no ping interval: Deno pings by itself every `idleTimeout`
 *   seconds and closes a peer that does not answer.
 * - A broadcast is not framed once: each session frames the message again.
 * - `bufferedAmount` is Deno's; the close event of a dead peer says only 1006.
 * - No abort: Deno's WebSocket can only start a closing handshake, and a `close()` before
 *   it opened is lost (the adapter sends it on open). At the `shutdown` deadline a session
 *   whose peer did not answer is given up: it reports 1006 (`WS_ERR_CLOSE_TIMEOUT`) and
 *   leaves its groups, but Deno keeps its TCP connection until the peer sends something
 *   or `Deno.serve`'s own `shutdown()` ends it.
 *
 * @module
 */
import {
  CLOSE_ABNORMAL,
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  CLOSE_INVALID_PAYLOAD,
} from "../websocket/_constants.ts";
import { CLOSE_MESSAGE_TOO_BIG, CLOSE_TRY_AGAIN_LATER } from "../websocket/_constants.ts";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../websocket/_constants.ts";
import { encodeClosePayload } from "../websocket/close.ts";
import { validateUpgradeRequest } from "../websocket/handshake.ts";
import { selectSubprotocol } from "../websocket/subprotocol.ts";
import { parseCookies } from "./_cookies.ts";
import { nextSessionId } from "./_server_session.ts";
import type { Endpoint, EndpointSession, WebSocketRequest } from "./endpoint.ts";
import type { PreparedMessage } from "./prepared_message.ts";
import type { WebSocketRouter } from "./router.ts";
import type { SessionCloseEvent, SessionState } from "./session.ts";

/** Options of {@linkcode DenoServeAdapter}. */
export interface DenoServeAdapterOptions {
  /** As {@linkcode WebSocketServerOptions.allowedOrigins}: other origins get 403. */
  readonly allowedOrigins?: readonly string[];
  /**
   * Open sessions plus upgrades whose accept decision is under way; beyond it an upgrade
   * gets 503.
   * @default {10000}
   */
  readonly maxConnections?: number;
  /**
   * Milliseconds the endpoint's `accept` decision may take (then 408).
   * @default {10000}
   */
  readonly handshakeTimeout?: number;
  /**
   * `send()` returns `false` above this many buffered bytes.
   * @default {1048576} (1 MiB)
   */
  readonly highWaterMark?: number;
  /**
   * Slow-consumer bound: above it the session closes with 1013.
   * @default {33554432} (32 MiB)
   */
  readonly maxBufferedAmount?: number;
  /**
   * Messages received and not yet handed to the endpoint (its `open` or `message` hook is
   * still busy); one more closes the session with 1013.
   * @default {1000}
   */
  readonly maxQueuedMessages?: number;
  /**
   * Bytes of those waiting messages; a message that would take them above it closes the
   * session with 1013. A message arriving when none waits is always queued
   * (`maxMessageSize` bounds it).
   * @default {16777216} (16 MiB)
   */
  readonly maxQueuedBytes?: number;
  /**
   * Seconds between Deno's pings; a peer that does not answer in time is closed.
   * @default {30}
   */
  readonly idleTimeout?: number;
  /**
   * Called with errors thrown by an endpoint's `accept` (answered with 500).
   * @default logs with `console.error`
   */
  readonly onError?: (error: unknown) => void;
}

/**
 * Answers WebSocket upgrade requests of a `Deno.serve` app with the router's endpoints.
 *
 * @example Endpoints on Deno.serve
 * ```ts
 * import assert from "node:assert/strict";
 * import { DenoServeAdapter } from "./deno_serve_adapter.ts";
 * import { WebSocketRouter } from "./router.ts";
 *
 * const router = new WebSocketRouter();
 * router.route("/echo", { message: (session, message) => void session.send(message) });
 * const adapter = new DenoServeAdapter(router);
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) =>
 *   request.headers.get("upgrade")?.toLowerCase() === "websocket"
 *     ? adapter.handle(request)
 *     : new Response("plain HTTP"));
 * const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/echo`);
 * ws.onopen = () => ws.send("hi");
 * const reply = await new Promise((resolve) => ws.onmessage = (event) => resolve(event.data));
 * assert.equal(reply, "hi");
 * const closed = new Promise((resolve) => ws.onclose = resolve);
 * await adapter.shutdown();
 * await closed;
 * await server.shutdown();
 * ```
 */
export class DenoServeAdapter {
  /** The routes and their session registries. */
  readonly router: WebSocketRouter;
  readonly #allowedOrigins: ReadonlySet<string> | undefined;
  readonly #maxConnections: number;
  readonly #handshakeTimeout: number;
  readonly #highWaterMark: number;
  readonly #maxBufferedAmount: number;
  readonly #maxQueuedMessages: number;
  readonly #maxQueuedBytes: number;
  readonly #idleTimeout: number;
  readonly #onError: (error: unknown) => void;
  readonly #sessions = new Set<AdapterSession>();
  /** Upgrades under way: each settles when its `handle` call has answered. */
  readonly #handshakes = new Set<Promise<void>>();
  /** Ends the accept wait of an upgrade under way at once (shutdown's deadline). */
  readonly #cancels = new Set<() => void>();
  #closing = false;

  /**
   * Creates the adapter.
   *
   * @param router The routes.
   * @param options Limits and origin policy.
   * @throws {RangeError} If `maxQueuedMessages` or `maxQueuedBytes` is not positive.
   */
  constructor(router: WebSocketRouter, options: DenoServeAdapterOptions = {}) {
    this.router = router;
    this.#allowedOrigins = options.allowedOrigins === undefined
      ? undefined
      : new Set(options.allowedOrigins.map((o) => o.trim().toLowerCase().replace(/\/+$/, "")));
    this.#maxConnections = options.maxConnections ?? 10_000;
    this.#handshakeTimeout = options.handshakeTimeout ?? 10_000;
    this.#highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.#maxBufferedAmount = options.maxBufferedAmount ?? 32 * 1024 * 1024;
    this.#maxQueuedMessages = positive(options.maxQueuedMessages ?? 1000, "maxQueuedMessages");
    this.#maxQueuedBytes = positive(options.maxQueuedBytes ?? 16 * 1024 * 1024, "maxQueuedBytes");
    this.#idleTimeout = options.idleTimeout ?? 30;
    this.#onError = options.onError ?? ((error) => {
      // deno-lint-ignore no-console
      console.error("DenoServeAdapter: an endpoint's accept threw", error);
    });
  }

  /**
   * Answers one upgrade request: the `101` response of `Deno.upgradeWebSocket`, or an HTTP
   * error (the same statuses as {@linkcode WebSocketServer}).
   *
   * @param request The request from `Deno.serve`.
   * @param info The handler info from `Deno.serve` (for `remoteAddr`).
   * @returns The response to return from the `Deno.serve` handler.
   */
  async handle(request: Request, info?: Deno.ServeHandlerInfo): Promise<Response> {
    if (this.#closing) return refusal(503, "Cannot upgrade: the server is shutting down");
    // Upgrades still deciding count too: concurrent slow accepts must not overshoot.
    if (this.#sessions.size + this.#handshakes.size >= this.#maxConnections) {
      return refusal(503, "Cannot upgrade: too many connections");
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#handshakes.add(promise);
    try {
      return await this.#upgrade(request, info);
    } finally {
      this.#handshakes.delete(promise);
      resolve();
    }
  }

  async #upgrade(request: Request, info: Deno.ServeHandlerInfo | undefined): Promise<Response> {
    const validation = validateUpgradeRequest({
      method: request.method,
      httpVersion: "1.1",
      headers: request.headers,
    });
    if (!validation.ok) return refusal(validation.status, validation.reason, validation.headers);
    const url = new URL(request.url);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const match = this.router.match(url.pathname);
    if (match === undefined) return refusal(404, `Cannot upgrade: no endpoint at ${url.pathname}`);
    const origin = validation.origin;
    if (
      origin !== undefined && this.#allowedOrigins !== undefined &&
      !this.#allowedOrigins.has(origin.trim().toLowerCase())
    ) {
      return refusal(403, `Cannot upgrade: origin ${origin} is not allowed`);
    }
    const wsRequest: WebSocketRequest = {
      url,
      params: match.params,
      headers: request.headers,
      origin,
      protocols: validation.protocols,
      extensions: validation.extensions,
      cookies: parseCookies(request.headers.get("cookie")),
      remoteAddr: info?.remoteAddr ?? { transport: "tcp", hostname: "0.0.0.0", port: 0 },
    };
    const endpoint = match.route.endpoint;
    const { promise: stopped, resolve: stop } = Promise.withResolvers<"timeout">();
    // Only shutdown cancels, so the answer is its 503 below, not the 408.
    const cancel = () => stop("timeout");
    const timer = setTimeout(cancel, this.#handshakeTimeout);
    this.#cancels.add(cancel);
    let decision;
    try {
      const result = endpoint.accept?.(wsRequest);
      decision = result instanceof Promise ? await Promise.race([result, stopped]) : result;
    } catch (error) {
      this.#onError(error);
      return refusal(500, "Cannot upgrade: the endpoint failed");
    } finally {
      clearTimeout(timer);
      this.#cancels.delete(cancel);
    }
    // Shutdown began while the endpoint decided: a session opened now would miss the 1001
    // that shutdown sends to every session.
    if (this.#closing) return refusal(503, "Cannot upgrade: the server is shutting down");
    if (decision === "timeout") return refusal(408, "Cannot upgrade: the endpoint took too long");
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
    const { socket, response } = Deno.upgradeWebSocket(request, {
      ...(protocol === undefined ? {} : { protocol }),
      idleTimeout: this.#idleTimeout,
    });
    if (decision?.headers !== undefined) {
      for (const [name, value] of new Headers(decision.headers)) {
        response.headers.append(name, value);
      }
    }
    const session = new AdapterSession(socket, wsRequest, endpoint, decision?.data, {
      highWaterMark: this.#highWaterMark,
      maxBufferedAmount: this.#maxBufferedAmount,
      maxQueuedMessages: this.#maxQueuedMessages,
      maxQueuedBytes: this.#maxQueuedBytes,
    });
    this.#sessions.add(session);
    session.closed.then(() => this.#sessions.delete(session));
    this.router.sessions.add(session);
    match.route.sessions.add(session);
    return response;
  }

  /**
   * Closes every session with 1001 and waits for them and for the upgrades under way, up
   * to `timeout` ms; new upgrades get 503, and so do those under way once their accept
   * decision is made. At the deadline the upgrades still deciding get 503 and the sessions
   * left are given up (they report 1006; Deno keeps their TCP connections, see above).
   *
   * @param timeout Milliseconds to wait.
   * @returns A promise that resolves when every session and upgrade ended.
   */
  async shutdown(timeout = 5000): Promise<void> {
    this.#closing = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeout);
    });
    const everything = () =>
      Promise.all<unknown>([...[...this.#sessions].map((s) => s.closed), ...this.#handshakes]);
    try {
      // Repeat until nothing is left: an upgrade under way is only known to end in no
      // session once it answered.
      while (this.#sessions.size > 0 || this.#handshakes.size > 0) {
        for (const session of this.#sessions) {
          session.close(CLOSE_GOING_AWAY, "server shutting down");
        }
        if ((await Promise.race([everything(), deadline])) === "timeout") break;
      }
    } finally {
      clearTimeout(timer);
    }
    for (const cancel of this.#cancels) cancel();
    for (const session of this.#sessions) session.abandon(timeout);
    await everything();
  }
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`Invalid ${name}: ${value} is not a positive number`);
  }
  return value;
}

function refusal(status: number, reason: string, headers?: HeadersInit): Response {
  const response = new Response(`${reason}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
  if (headers !== undefined) {
    for (const [name, value] of new Headers(headers)) response.headers.set(name, value);
  }
  return response;
}

const encoder = new TextEncoder();

interface AdapterLimits {
  readonly highWaterMark: number;
  readonly maxBufferedAmount: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
}

class AdapterSession implements EndpointSession<unknown, unknown> {
  readonly id: number = nextSessionId();
  readonly request: WebSocketRequest;
  data: unknown;
  readonly closed: Promise<SessionCloseEvent>;
  readonly #resolveClosed: (event: SessionCloseEvent) => void;
  readonly #socket: WebSocket;
  readonly #endpoint: Endpoint<unknown, unknown, unknown>;
  readonly #limits: AdapterLimits;
  #chain: Promise<void> = Promise.resolve();
  #state: SessionState = "open";
  #opened = false;
  #finished = false;
  #localClose: SessionCloseEvent | undefined;
  /** A close asked for before Deno opened the socket (Deno would drop it): sent on open. */
  #deferredClose: { readonly code?: number; readonly reason?: string } | undefined;
  /** Messages received and not yet handed to the endpoint, and their bytes. */
  #queued = 0;
  #queuedBytes = 0;

  constructor(
    socket: WebSocket,
    request: WebSocketRequest,
    endpoint: Endpoint<unknown, unknown, unknown>,
    data: unknown,
    limits: AdapterLimits,
  ) {
    this.#socket = socket;
    this.request = request;
    this.#endpoint = endpoint;
    this.data = data;
    this.#limits = limits;
    socket.binaryType = "arraybuffer";
    const { promise, resolve } = Promise.withResolvers<SessionCloseEvent>();
    this.closed = promise;
    this.#resolveClosed = resolve;
    const maxMessageSize = endpoint.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    // Hooks run one at a time, in order, as on the hand-written server.
    const run = (step: () => unknown) => {
      this.#chain = this.#chain.then(async () => void await step()).catch((error) => {
        this.#report(error);
        this.close(CLOSE_INTERNAL_ERROR);
      });
    };
    socket.onopen = () => {
      if (this.#state !== "open") {
        socket.close(this.#deferredClose?.code, this.#deferredClose?.reason);
        return;
      }
      this.#opened = true;
      run(() => endpoint.open?.(this));
    };
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (this.#state !== "open") return; // closing: the rest is dropped
      const raw = typeof event.data === "string" ? event.data : new Uint8Array(event.data);
      const size = typeof raw === "string" ? encoder.encode(raw).length : raw.length;
      if (size > maxMessageSize) {
        this.close(CLOSE_MESSAGE_TOO_BIG);
        return;
      }
      // Deno keeps reading whatever the endpoint does: bound what waits for it.
      if (
        this.#queued > 0 &&
        (this.#queued >= limits.maxQueuedMessages ||
          this.#queuedBytes + size > limits.maxQueuedBytes)
      ) {
        this.#localClose = {
          type: "close",
          code: CLOSE_TRY_AGAIN_LATER,
          reason: "too many messages waiting",
          wasClean: true, // narrowed to Deno's own report on close
          initiator: "local",
        };
        this.close(CLOSE_TRY_AGAIN_LATER, "too many messages waiting");
        return;
      }
      this.#queued++;
      this.#queuedBytes += size;
      run(() => {
        this.#queued--;
        this.#queuedBytes -= size;
        if (this.#state !== "open") return;
        let value: unknown = raw;
        if (endpoint.codec !== undefined) {
          try {
            value = endpoint.codec.decode(raw);
          } catch (error) {
            this.#report(error);
            this.close(CLOSE_INVALID_PAYLOAD);
            return;
          }
        }
        return endpoint.message?.(this, value);
      });
    };
    socket.onclose = (event: CloseEvent) => {
      this.#state = "closed";
      const local = this.#localClose;
      const closeEvent: SessionCloseEvent = local === undefined
        ? {
          type: "close",
          code: event.code,
          reason: event.reason,
          wasClean: event.wasClean,
          initiator: "peer",
        }
        : { ...local, wasClean: local.wasClean && event.wasClean };
      this.#chain.then(() => this.#finish(closeEvent));
    };
  }

  #finish(event: SessionCloseEvent): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#resolveClosed(event);
    if (!this.#opened) return;
    try {
      this.#endpoint.close?.(this, event);
    } catch (error) {
      this.#report(error);
    }
  }

  /**
   * Shutdown's deadline: reports the end now, without waiting for Deno's close event or a
   * hook still running (Deno offers no way to drop the connection).
   */
  abandon(timeout: number): void {
    this.#state = "closed";
    this.#finish({
      type: "close",
      code: CLOSE_ABNORMAL,
      reason: "",
      wasClean: false,
      initiator: "local",
      error: {
        code: "WS_ERR_CLOSE_TIMEOUT",
        message: `The closing handshake did not finish within ${timeout} ms`,
      },
    });
  }

  #report(error: unknown): void {
    try {
      this.#endpoint.error?.(this, error);
    } catch {
      // Nothing left to report to.
    }
  }

  get params(): Readonly<Record<string, string>> {
    return this.request.params;
  }
  get protocol(): string {
    return this.#socket.protocol;
  }
  get extensions(): string {
    return this.#socket.extensions;
  }
  get state(): SessionState {
    if (this.#state === "open" && this.#socket.readyState !== WebSocket.OPEN) return "closing";
    return this.#state;
  }
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }
  send(message: unknown): boolean {
    const codec = this.#endpoint.codec;
    return this.#sendRaw(
      codec === undefined ? message as string | Uint8Array : codec.encode(message),
    );
  }
  sendPrepared(message: PreparedMessage): boolean {
    return this.#sendRaw(message.data);
  }
  #sendRaw(data: string | Uint8Array): boolean {
    if (this.state !== "open") return false;
    this.#socket.send(data as string | Uint8Array<ArrayBuffer>);
    const amount = this.#socket.bufferedAmount;
    if (amount > this.#limits.maxBufferedAmount) {
      this.#localClose = {
        type: "close",
        code: CLOSE_TRY_AGAIN_LATER,
        reason: "slow consumer",
        wasClean: false,
        initiator: "local",
        error: {
          code: "WS_ERR_SLOW_CONSUMER",
          message: `The peer is not reading: ${amount} bytes were waiting`,
        },
      };
      this.close(CLOSE_TRY_AGAIN_LATER, "slow consumer");
      return false;
    }
    return amount <= this.#limits.highWaterMark;
  }
  ping(): void {
    // Deno's WebSocket has no ping API; Deno pings by itself every idleTimeout seconds.
  }
  async drained(): Promise<void> {
    // Deno fires no event when its buffer drains: poll, bounded by the session's life.
    while (this.#state !== "closed" && this.#socket.bufferedAmount > this.#limits.highWaterMark) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  close(code?: number, reason?: string): void {
    encodeClosePayload(code, reason); // the RangeError of the hand-written server, in any state
    if (this.#state !== "open") return;
    this.#state = "closing";
    if (this.#socket.readyState === WebSocket.CONNECTING) {
      this.#deferredClose = { code, reason };
      return;
    }
    this.#socket.close(code, reason);
  }
}
