/**
 * The WebSocket client for Deno code: `connect(url, options)` over `Deno.connect` /
 * `Deno.connectTls` (`ws://`, `wss://`), returning a session whose messages are an async
 * iterable. For browser-shaped code use `WebSocketClient` (`websocket_client.ts`).
 *
 * @module
 */
import { checkMaxMessageSize, clientHandshake, parseWebSocketUrl } from "./_client_handshake_io.ts";
import { DeflateCodec } from "../websocket/deflate_codec.ts";
import type {
  DeflateParams,
  PerMessageDeflateClientOptions,
} from "../websocket/permessage_deflate.ts";
import {
  resolveSessionOptions,
  type SessionCloseEvent,
  type SessionOptions,
  type SessionState,
  WebSocketSession,
} from "./session.ts";

/** Options of {@linkcode connect}. */
export interface ConnectOptions extends SessionOptions {
  /**
   * Offer permessage-deflate (RFC 7692) with these options, or `false` not to.
   * @default {{}} (offered, as browsers do)
   */
  readonly perMessageDeflate?: PerMessageDeflateClientOptions | false;
  /** Subprotocols to offer, most preferred first. */
  readonly protocols?: readonly string[];
  /** The `Origin` header to send. */
  readonly origin?: string;
  /** Extra request header fields (e.g. `Authorization`, `Cookie`). */
  readonly headers?: HeadersInit;
  /** Extra root certificates (PEM) for `wss://`, e.g. a test CA. */
  readonly caCerts?: string[];
  /**
   * Milliseconds for TCP connect, TLS and the HTTP handshake together.
   * @default {10000}
   */
  readonly handshakeTimeout?: number;
  /**
   * Largest message accepted, in bytes; a bigger one closes with 1009.
   * @default {16777216} (16 MiB)
   */
  readonly maxMessageSize?: number;
  /**
   * Received messages held for the iterator; when full, reading from the socket pauses
   * (TCP backpressure reaches the server).
   * @default {64}
   */
  readonly maxQueuedMessages?: number;
}

/**
 * Opens a WebSocket connection.
 *
 * @example Talk to an echo endpoint
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect } from "./client.ts";
 * import { WebSocketRouter } from "./router.ts";
 * import { WebSocketServer } from "./server.ts";
 *
 * const router = new WebSocketRouter();
 * router.route("/echo", { message: (session, message) => void session.send(message) });
 * const server = new WebSocketServer(router);
 * const { addr } = server.listen({ hostname: "127.0.0.1", port: 0 });
 *
 * const client = await connect(`ws://127.0.0.1:${addr.port}/echo`);
 * client.send("one");
 * client.send(new Uint8Array([2]));
 * const received = [];
 * for await (const message of client) {
 *   received.push(message);
 *   if (received.length === 2) client.close(1000);
 * }
 * assert.deepEqual(received, ["one", new Uint8Array([2])]);
 * assert.equal((await client.closed).code, 1000);
 * await server.shutdown();
 * ```
 *
 * @param url A `ws://` or `wss://` URL (`http(s)://` is mapped as browsers do).
 * @param options Subprotocols, headers, TLS roots, limits and timers.
 * @returns The open session.
 * @throws {SyntaxError} If the URL is not a WebSocket URL.
 * @throws {RangeError} If a limit or timer option is out of range.
 * @throws {WebSocketConnectError} If the connection or the handshake fails (rejects).
 */
export async function connect(
  url: string | URL,
  options: ConnectOptions = {},
): Promise<ClientSession> {
  const parsed = parseWebSocketUrl(url);
  resolveSessionOptions(options); // throws on bad options before any socket exists
  checkMaxMessageSize(options.maxMessageSize);
  const maxQueued = options.maxQueuedMessages ?? 64;
  if (!Number.isSafeInteger(maxQueued) || maxQueued < 1) {
    throw new RangeError(`Invalid maxQueuedMessages: ${maxQueued} is not a positive integer`);
  }
  const transport = await clientHandshake(parsed, options);
  return new ClientSession(transport, options, maxQueued);
}

/**
 * An open client connection: send with {@linkcode ClientSession.send}, receive by iterating
 * (`for await (const message of session)`: strings for text, `Uint8Array`s for binary).
 * The iteration ends when the connection closes; {@linkcode ClientSession.closed} says how.
 * Iterate from one place only.
 */
export class ClientSession implements AsyncIterable<string | Uint8Array> {
  /** The URL connected to. */
  readonly url: URL;
  /** Resolves with the close event once the connection ended. */
  readonly closed: Promise<SessionCloseEvent>;
  readonly #session: WebSocketSession;
  readonly #queue: Array<string | Uint8Array> = [];
  readonly #maxQueued: number;
  #ended = false;
  #discard = false;
  #wakeReader: (() => void) | undefined;
  #wakeWriter: (() => void) | undefined;

  /** Built by {@linkcode connect}. */
  constructor(
    transport: {
      readonly conn: Deno.Conn;
      readonly url: URL;
      readonly protocol: string;
      readonly extensions: string;
      readonly deflate?: DeflateParams | undefined;
      readonly rest: Uint8Array;
    },
    options: ConnectOptions,
    maxQueued: number,
  ) {
    this.url = transport.url;
    this.#maxQueued = maxQueued;
    const maxMessageSize = options.maxMessageSize;
    this.#session = new WebSocketSession({
      conn: transport.conn,
      role: "client",
      ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
      protocol: transport.protocol,
      extensions: transport.extensions,
      ...(transport.deflate === undefined ? {} : {
        deflate: new DeflateCodec({
          ...(options.perMessageDeflate || {}),
          role: "client",
          params: transport.deflate,
          ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
        }),
      }),
      options,
      handler: {
        message: (data) => {
          if (this.#discard) return;
          this.#queue.push(data);
          this.#wake();
          if (this.#queue.length < this.#maxQueued) return;
          // Full: pause reading until the iterator takes one.
          return new Promise<void>((resolve) => this.#wakeWriter = resolve);
        },
        close: () => {
          this.#ended = true;
          this.#wake();
        },
      },
    });
    this.closed = this.#session.closed;
    this.#session.start(transport.rest);
  }

  /** The subprotocol the server selected, `""` if none. */
  get protocol(): string {
    return this.#session.protocol;
  }

  /** The extensions the server accepted, `""` if none. */
  get extensions(): string {
    return this.#session.extensions;
  }

  /** `"open"`, `"closing"` or `"closed"`. */
  get state(): SessionState {
    return this.#session.state;
  }

  /** Bytes not yet accepted by the socket. */
  get bufferedAmount(): number {
    return this.#session.bufferedAmount;
  }

  /**
   * Sends a text (string) or binary (bytes) message.
   *
   * @param data The message.
   * @returns `false` when saturated (wait for {@linkcode drained}) or not open (dropped).
   */
  send(data: string | Uint8Array): boolean {
    return this.#session.send(data);
  }

  /**
   * Sends a ping.
   *
   * @param data Up to 125 bytes.
   */
  ping(data?: Uint8Array | string): void {
    this.#session.ping(data);
  }

  /**
   * Resolves once the bytes waiting for the socket are at most `highWaterMark`.
   *
   * @returns A promise that never rejects.
   */
  drained(): Promise<void> {
    return this.#session.drained();
  }

  /**
   * Starts the closing handshake.
   *
   * @param code Status code to send.
   * @param reason Reason text, at most 123 bytes of UTF-8.
   * @throws {RangeError} If the code may not be sent or the reason is too long.
   */
  close(code?: number, reason?: string): void {
    this.#session.close(code, reason);
    // No message follows our close frame: let a reader paused on a full queue go on to it.
    this.#resumeReading();
  }

  /** Closes the transport at once, without a closing handshake. */
  abort(): void {
    this.#session.abort();
  }

  /** Yields each message as it arrives; ends when the connection closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<string | Uint8Array> {
    try {
      for (;;) {
        const message = this.#queue.shift();
        if (message !== undefined) {
          this.#resumeReading();
          yield message;
          continue;
        }
        if (this.#ended) return;
        await new Promise<void>((resolve) => this.#wakeReader = resolve);
      }
    } finally {
      // The loop was left early: nobody takes messages any more, so never pause for them.
      this.#discard = true;
      this.#queue.length = 0;
      this.#resumeReading();
    }
  }

  #resumeReading(): void {
    const resume = this.#wakeWriter;
    this.#wakeWriter = undefined;
    resume?.();
  }

  #wake(): void {
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
  }
}
