/**
 * The WebSocket transport: every channel on one socket to `GET /ws` with the `pushwire.v1`
 * subprotocol (docs/PROTOCOL-ws.md). Each channel is subscribed with `after` = its cursor;
 * the connection counts as open at the first `subscribed` reply (a proxy that completes the
 * upgrade but mangles frames never gets there). An application-level `ping` every third of
 * `idleTimeoutMs` keeps a silent socket provably alive.
 *
 * @module
 */
import { placeChannel } from "./_http.ts";
import type { PushwireMessage, Transport, TransportHost } from "./transport.ts";

/** The multiplexed protocol's subprotocol name. */
export const PUSHWIRE_SUBPROTOCOL = "pushwire.v1";

/** A channel the server ended: how often in a row, when last, and its pending resubscribe. */
interface Ended {
  count: number;
  at: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Reply {
  readonly type?: unknown;
  readonly channel?: unknown;
  readonly cursor?: unknown;
  readonly message?: PushwireMessage;
  readonly reason?: unknown;
  readonly code?: unknown;
}

interface ErrorReply {
  readonly code?: unknown;
  readonly message?: unknown;
}

/**
 * Multiplexed WebSocket.
 *
 * @example Made by the client, one per connection attempt
 * ```ts
 * import assert from "node:assert/strict";
 * import { WebSocketTransport } from "./websocket_transport.ts";
 * assert.equal(typeof WebSocketTransport, "function");
 * ```
 */
export class WebSocketTransport implements Transport {
  /** This transport's name. */
  readonly name = "websocket" as const;
  // Error codes that will not change by retrying the same subscribe, with the HTTP status of
  // the same refusal on the other transports.
  static #refusals: Readonly<Record<string, number>> = {
    HUB_ERR_INVALID_CHANNEL: 400,
    HUB_ERR_INVALID_CURSOR: 400,
    HUB_ERR_UNKNOWN_CURSOR: 400,
    HUB_ERR_FORBIDDEN: 403,
    HUB_ERR_UNAUTHORIZED: 401,
    MUX_ERR_TOO_MANY_CHANNELS: 429,
  };
  #host: TransportHost;
  #socket: WebSocket;
  #channels = new Set<string>();
  #controller = new AbortController();
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastFrame = 0;
  #closed = false;
  #ended = new Map<string, Ended>();
  // A channel the server ended (`unsubscribed` with a reason) is resubscribed after a random
  // delay: up to #spreadMs the first time (a broker gap ends the channel on every client of a
  // node at once: their history reads are spread), then, while the server keeps ending it
  // within #quietMs of the last end, up to twice as long each time, capped at #capMs (full
  // jitter). Static fields, not module constants: the browser module is built from the
  // class's text.
  static #spreadMs = 250;
  static #quietMs = 30_000;
  static #capMs = 30_000;

  /**
   * Creates the instance.
   *
   * @param host Where to report.
   */
  constructor(host: TransportHost) {
    this.#host = host;
    const url = new URL(host.base.href.replace(/\/+$/, "") + "/ws");
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (host.token !== undefined) url.searchParams.set("token", host.token);
    this.#socket = new WebSocket(url.href, PUSHWIRE_SUBPROTOCOL);
    this.#socket.onopen = () => {
      this.#lastFrame = Date.now();
      const period = Math.max(1000, host.settings.idleTimeoutMs / 3);
      this.#timer = setInterval(() => this.#heartbeat(), period);
      for (const channel of this.#channels) this.#subscribe(channel);
    };
    this.#socket.onmessage = (event) => this.#receive(event.data);
    this.#socket.onclose = (event) => {
      this.#fail(`the socket closed (code ${event.code}${event.reason ? ` ${event.reason}` : ""})`);
    };
  }

  /** Subscribes `channel` (at once when the socket is open, else on open). */
  add(channel: string): void {
    if (this.#channels.has(channel)) return;
    this.#channels.add(channel);
    if (this.#socket.readyState === WebSocket.OPEN) this.#subscribe(channel);
  }

  /** Unsubscribes `channel`. */
  remove(channel: string): void {
    if (!this.#channels.delete(channel)) return;
    const ended = this.#ended.get(channel);
    this.#ended.delete(channel);
    if (ended?.timer !== undefined) {
      // Not subscribed on the server while its resubscribe waits: nothing to unsubscribe.
      clearTimeout(ended.timer);
      return;
    }
    this.#send({ type: "unsubscribe", channel });
  }

  /** Closes the socket. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#controller.abort();
    clearInterval(this.#timer);
    for (const ended of this.#ended.values()) clearTimeout(ended.timer);
    this.#ended.clear();
    const socket = this.#socket;
    socket.onopen = socket.onmessage = socket.onclose = null;
    try {
      socket.close(1000);
    } catch {
      // Already closing.
    }
  }

  #fail(reason: string): void {
    if (this.#closed) return;
    this.close();
    this.#host.failed(reason);
  }

  #send(request: Record<string, unknown>): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(request));
  }

  #heartbeat(): void {
    if (Date.now() - this.#lastFrame > this.#host.settings.idleTimeoutMs) {
      this.#fail("the socket went silent");
    } else this.#send({ type: "ping" });
  }

  #subscribe(channel: string): void {
    const host = this.#host;
    const send = () => {
      if (!this.#channels.has(channel) || this.#closed) return;
      const after = host.cursorOf(channel);
      this.#send(
        after === undefined
          ? { type: "subscribe", channel }
          : { type: "subscribe", channel, after },
      );
    };
    // The socket starts a cursor-less channel at the present; retained history needs one GET.
    if (host.cursorOf(channel) === undefined && host.historyOf(channel)) {
      placeChannel(host, channel, this.#controller.signal).then((placed) => {
        if (placed) send();
      }, (error) => this.#fail(String(error)));
    } else send();
  }

  #resubscribeLater(channel: string): void {
    const now = Date.now();
    const previous = this.#ended.get(channel);
    if (previous?.timer !== undefined) return; // already waiting
    const count = previous !== undefined && now - previous.at < WebSocketTransport.#quietMs
      ? previous.count + 1
      : 0;
    const ceiling = Math.min(
      WebSocketTransport.#capMs,
      WebSocketTransport.#spreadMs * 2 ** Math.min(count, 20),
    );
    const ended: Ended = { count, at: now, timer: undefined };
    ended.timer = setTimeout(() => {
      ended.timer = undefined;
      if (!this.#closed && this.#channels.has(channel)) this.#subscribe(channel);
    }, Math.random() * ceiling);
    this.#ended.set(channel, ended);
  }

  #receive(data: unknown): void {
    if (this.#closed) return;
    this.#lastFrame = Date.now();
    if (typeof data !== "string") return;
    let reply: Reply;
    try {
      reply = JSON.parse(data);
    } catch {
      return;
    }
    const host = this.#host;
    const channel = typeof reply.channel === "string" ? reply.channel : undefined;
    switch (reply.type) {
      case "message": {
        const message = reply.message;
        if (message && typeof message.channel === "string" && this.#channels.has(message.channel)) {
          host.message(message.channel, message);
        }
        return;
      }
      case "subscribed":
        if (channel === undefined || !this.#channels.has(channel)) return;
        if (typeof reply.cursor === "string" && host.cursorOf(channel) === undefined) {
          host.advance(channel, reply.cursor);
        }
        host.opened();
        return;
      case "reset":
        if (channel !== undefined && this.#channels.has(channel)) {
          host.reset(channel, typeof reply.cursor === "string" ? reply.cursor : "");
        }
        return;
      case "unsubscribed":
        // The hub ended the subscription (slow_consumer: it fell behind; gap: the broker lost
        // continuity): resubscribe after our own last id, after a short random delay (see
        // #spreadMs); history answers with a reset if anything is lost. A reply
        // without a reason answers our own unsubscribe.
        if (channel !== undefined && reply.reason !== undefined && this.#channels.has(channel)) {
          this.#resubscribeLater(channel);
        }
        return;
      case "error": {
        const error = reply as ErrorReply;
        const code = typeof error.code === "string" ? error.code : "";
        const text = typeof error.message === "string" ? error.message : code;
        if (channel === undefined || !this.#channels.has(channel)) return;
        const status = WebSocketTransport.#refusals[code];
        if (status !== undefined) {
          this.#channels.delete(channel);
          host.refused(channel, { status, code, message: text });
        } else if (code !== "MUX_ERR_ALREADY_SUBSCRIBED") this.#fail(`${code}: ${text}`);
        return;
      }
    }
  }
}
