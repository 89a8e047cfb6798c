/**
 * One live WebSocket connection over a `Deno.Conn`: the I/O loop around the sans-I/O core
 * (`lib/websocket/connection.ts`), for either role. Read → receive → handle events → write,
 * with one write in flight, backpressure, a slow-consumer policy, heartbeat and close
 * timeouts.
 *
 * @module
 */
import {
  CLOSE_ABNORMAL,
  CLOSE_INTERNAL_ERROR,
  CLOSE_TRY_AGAIN_LATER,
} from "../websocket/_constants.ts";
import { encodeClosePayload } from "../websocket/close.ts";
import { type ConnectionCloseEvent, WebSocketConnection } from "../websocket/connection.ts";
import type { DeflateCodec } from "../websocket/deflate_codec.ts";
import type { ProtocolError, ProtocolErrorCode } from "../websocket/protocol_error.ts";
import { Heartbeat } from "./_heartbeat.ts";
import type { PreparedMessage } from "./prepared_message.ts";

const textEncoder = new TextEncoder();

/**
 * Lifecycle of a session: `"open"` (messages flow), `"closing"` (`close()` was called, a
 * close frame was sent or received, or the closing handshake is settling on the
 * transport), `"closed"` (the transport is closed and {@linkcode WebSocketSession.closed}
 * has resolved).
 */
export type SessionState = "open" | "closing" | "closed";

/**
 * Stable identifiers of why a session closed, beyond the peer's protocol errors:
 *
 * - `WS_ERR_SLOW_CONSUMER`: more than `maxBufferedAmount` bytes were waiting for the peer;
 *   unsent messages were dropped and the session closed with 1013.
 * - `WS_ERR_IDLE_TIMEOUT`: nothing arrived for `idleTimeout` ms (pings unanswered); the
 *   transport was closed (1006).
 * - `WS_ERR_CLOSE_TIMEOUT`: the peer did not finish the closing handshake within
 *   `closeTimeout` ms; the transport was closed (1006).
 * - `WS_ERR_HANDLER`: the application's message handler threw; closed with 1011.
 * - `WS_ERR_TRANSPORT`: reading or writing the socket failed (1006).
 */
export type SessionErrorCode =
  | ProtocolErrorCode
  | "WS_ERR_SLOW_CONSUMER"
  | "WS_ERR_IDLE_TIMEOUT"
  | "WS_ERR_CLOSE_TIMEOUT"
  | "WS_ERR_HANDLER"
  | "WS_ERR_TRANSPORT";

/** Why a session closed when it was not a plain closing handshake. */
export interface SessionError {
  /** Stable machine-readable identifier. */
  readonly code: SessionErrorCode;
  /** Human-readable explanation. */
  readonly message: string;
}

/** How a session ended; delivered once, after the transport is closed. */
export interface SessionCloseEvent {
  /** Event kind. */
  readonly type: "close";
  /** The peer's status code (1005 none), the code we closed with, or 1006 (no close frame). */
  readonly code: number;
  /** The peer's reason text, or ours; `""` if none. */
  readonly reason: string;
  /** Both close frames were exchanged. */
  readonly wasClean: boolean;
  /** Who started the close. */
  readonly initiator: "local" | "peer";
  /** Set when a failure, not a closing handshake, ended the session. */
  readonly error?: SessionError;
}

/** Limits and timers of a session. */
export interface SessionOptions {
  /**
   * `send()` returns `false` once more than this many bytes wait for the peer; wait for
   * {@linkcode WebSocketSession.drained} before sending more.
   * @default {1048576} (1 MiB)
   */
  readonly highWaterMark?: number;
  /**
   * Slow-consumer bound: once more than this many bytes wait for the peer, every message
   * not yet started on the wire is dropped and the session closes with 1013 (Try Again
   * Later: the client may reconnect and resume). Frames that wait behind a write are
   * encoded into write buffers of up to 128 KiB as they are queued (a full one is at most
   * an eighth empty), so memory per session stays within about this bound plus an eighth,
   * one write buffer and the message being written, whatever the frame size (even a 2-byte
   * pong per ping from a peer that pings without reading).
   * @default {33554432} (32 MiB: two 16 MiB messages)
   */
  readonly maxBufferedAmount?: number;
  /**
   * Milliseconds between pings when nothing arrived from the peer; `0` disables pings.
   * @default {30000}
   */
  readonly pingInterval?: number;
  /**
   * Milliseconds without any byte from the peer after which it is considered dead and the
   * transport is closed (the session reports 1006); `0` disables the check. Time spent
   * waiting for a handler's promise (reading paused) does not count.
   * @default {60000}
   */
  readonly idleTimeout?: number;
  /**
   * Milliseconds allowed for the closing handshake (the peer's close frame, pending writes,
   * and for a client the server's TCP close); then the transport is closed.
   * @default {5000}
   */
  readonly closeTimeout?: number;
}

/** Receives what a session delivers; the owner (server, client) implements it. */
export interface SessionHandler {
  /**
   * A complete message. A returned Promise pauses reading until it settles (messages are
   * delivered one at a time, in order; TCP backpressure reaches the peer). Throwing or
   * rejecting closes the session with 1011.
   */
  message(data: string | Uint8Array): unknown;
  /** A pong arrived. */
  pong?(data: Uint8Array): void;
  /** The message handler threw; called before the session closes with 1011. */
  error?(error: unknown): void;
  /** The session ended; called once, last. */
  close(event: SessionCloseEvent): void;
}

/**
 * A timer shared by many sessions (one interval for a whole server): it calls every added
 * callback with `Date.now()` at least 4 times per ping interval / idle timeout.
 */
export interface HeartbeatTimer {
  /** Starts calling `callback` on every tick. */
  add(callback: (now: number) => void): void;
  /** Stops calling `callback`. */
  delete(callback: (now: number) => void): void;
}

/** Everything a {@linkcode WebSocketSession} is built from. */
export interface SessionInit {
  /** The transport, after the opening handshake. */
  readonly conn: Deno.Conn;
  /** Which end this is: a client masks its frames, a server expects masked frames. */
  readonly role: "server" | "client";
  /**
   * Largest message (and frame) accepted, in bytes; a bigger one closes with 1009.
   * @default {16777216} (16 MiB)
   */
  readonly maxMessageSize?: number;
  /** Receives messages and the close event. */
  readonly handler: SessionHandler;
  /** The negotiated subprotocol, `""` if none. */
  readonly protocol?: string;
  /** The negotiated `Sec-WebSocket-Extensions` value, `""` if none. */
  readonly extensions?: string;
  /** Limits and timers. */
  readonly options?: SessionOptions;
  /** A shared timer for ping and idle checks; one is made for this session when omitted. */
  readonly heartbeat?: HeartbeatTimer;
  /** Bytes to write before any frame (the server's `101` response head). */
  readonly preamble?: Uint8Array;
  /** The permessage-deflate codec when the extension was negotiated (RFC 7692). */
  readonly deflate?: DeflateCodec;
}

/**
 * Reads are views carved from a per-session slab (handed to the core without a copy). The
 * read size adapts: it starts small, so an idle session pins only a small slab
 * (`2 * MIN_READ_SIZE`), doubles while reads fill it, and halves when they come back mostly
 * empty.
 */
const MIN_READ_SIZE = 4 * 1024;
const MAX_READ_SIZE = 256 * 1024;
/** Small binary messages are copied out of the slab so an app keeping them does not pin it. */
const DETACH_LIMIT = 16 * 1024;
/** Frames waiting behind a write are joined into write buffers of at most this size. */
const COALESCE_LIMIT = 128 * 1024;
/** The first write buffer of a burst holds at least this much; each next one doubles. */
const MIN_BATCH = 4 * 1024;
/** A chunk at least this big that does not fit the current write buffer is written on its
 * own, without a copy, so a buffer is never left with more than this unused at its end. */
const COPY_LIMIT = 16 * 1024;

const DEFAULTS = {
  highWaterMark: 1024 * 1024,
  maxBufferedAmount: 32 * 1024 * 1024,
  pingInterval: 30_000,
  idleTimeout: 60_000,
  closeTimeout: 5_000,
} as const;

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (typeof result !== "number" || !(result >= 0) || !Number.isFinite(result)) {
    throw new RangeError(`Invalid ${name}: ${value} is not a non-negative finite number`);
  }
  return result;
}

/** Validates {@linkcode SessionOptions}, filling in the defaults. */
export function resolveSessionOptions(options: SessionOptions = {}): Required<SessionOptions> {
  return {
    highWaterMark: nonNegative(options.highWaterMark, DEFAULTS.highWaterMark, "highWaterMark"),
    maxBufferedAmount: nonNegative(
      options.maxBufferedAmount,
      DEFAULTS.maxBufferedAmount,
      "maxBufferedAmount",
    ),
    pingInterval: nonNegative(options.pingInterval, DEFAULTS.pingInterval, "pingInterval"),
    idleTimeout: nonNegative(options.idleTimeout, DEFAULTS.idleTimeout, "idleTimeout"),
    closeTimeout: nonNegative(options.closeTimeout, DEFAULTS.closeTimeout, "closeTimeout") ||
      DEFAULTS.closeTimeout,
  };
}

/**
 * A live WebSocket over a `Deno.Conn`, either role. The server and the client build it
 * after the opening handshake; applications use it through their endpoint session or
 * client object.
 *
 * Writes: one `conn.write` in flight at a time, partial writes continued; frames that wait
 * behind it are encoded by the core straight into one write buffer (no buffer per frame, no
 * second copy), a frame written at once when the socket is idle, a chunk over 128 KiB on its
 * own. {@linkcode bufferedAmount} counts every byte not yet
 * accepted by the socket. Reads: views of large slabs handed to the core without a copy;
 * reading pauses while the handler's promise is pending.
 *
 * @example Echo over an in-process TCP pair (server role, handshake skipped)
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFrame } from "../websocket/frame_encoder.ts";
 * import { WebSocketSession } from "./session.ts";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * const conn = await listener.accept();
 * listener.close();
 * const session: WebSocketSession = new WebSocketSession({
 *   conn,
 *   role: "server",
 *   handler: {
 *     message: (data) => void session.send(data),
 *     close: () => {},
 *   },
 * });
 * session.start();
 * await client.write(encodeFrame(0x1, new TextEncoder().encode("hi"), { mask: true }));
 * const reply = new Uint8Array(4);
 * assert.equal(await client.read(reply), 4);
 * assert.deepEqual([...reply], [0x81, 2, 0x68, 0x69]);
 * client.close();
 * const event = await session.closed;
 * assert.equal(event.code, 1006);
 * ```
 */
export class WebSocketSession {
  /** The negotiated subprotocol, `""` if none. */
  readonly protocol: string;
  /** The negotiated extensions, `""` if none. */
  readonly extensions: string;
  /** The peer's address. */
  readonly remoteAddr: Deno.Addr;
  /** Resolves with the close event once the session ended and its transport is closed. */
  readonly closed: Promise<SessionCloseEvent>;

  readonly #conn: Deno.Conn;
  readonly #ws: WebSocketConnection;
  readonly #handler: SessionHandler;
  readonly #options: Required<SessionOptions>;
  readonly #heartbeat: HeartbeatTimer | undefined;
  readonly #onTick = (now: number): void => this.#tick(now);
  readonly #resolveClosed: (event: SessionCloseEvent) => void;
  readonly #deflate: DeflateCodec | undefined;
  /** Bytes of messages handed to the deflate codec and not yet queued on the core. */
  #deflating = 0;

  // Write side: `#pending` holds whole frames only (each flush moves whole frames from the
  // core), so dropping it never cuts a frame; after it, frames wait in `#batch` from
  // `#batchStart` to `#batchEnd`, encoded there by the core, until the writer takes them as
  // one view (bytes before `#batchStart` are being written). `#pendingBytes` counts both;
  // `#inFlight` counts bytes taken by the writer and not yet accepted by the socket.
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #batch: Uint8Array | undefined;
  #batchStart = 0;
  #batchEnd = 0;
  #inFlight = 0;
  #writer: Promise<void> | undefined;
  #drainWaiters: Array<() => void> = [];

  #slab: Uint8Array = new Uint8Array(0);
  #slabOffset = 0;
  #readSize = MIN_READ_SIZE;

  #started = false;
  #finished = false;
  #settling = false;
  /** `close()` was called; the close frame may still wait for the codec. */
  #closeRequested = false;
  #lastSeen = Date.now();
  /** A handler's promise is pending: reading is paused, so the idle check is too. */
  #paused = false;
  #lastPing = 0;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Why we closed the transport ourselves, reported instead of a bare 1006. */
  #abortError: SessionError | undefined;
  /** Set when we started a close for a reason of our own (slow consumer, handler error). */
  #localError: SessionError | undefined;

  /**
   * Wraps a transport whose opening handshake is done. Nothing is read until
   * {@linkcode start}.
   *
   * @param init The transport, the core, the handler and the options.
   * @throws {RangeError} If an option or `maxMessageSize` is out of range.
   * @throws {TypeError} If `role` is neither `"server"` nor `"client"`.
   */
  constructor(init: SessionInit) {
    const maxMessageSize = init.maxMessageSize;
    this.#deflate = init.deflate;
    this.#ws = new WebSocketConnection({
      role: init.role,
      allowRsv1: init.deflate !== undefined,
      ...(maxMessageSize === undefined ? {} : { maxMessageSize, maxFrameSize: maxMessageSize }),
    });
    this.#conn = init.conn;
    this.#handler = init.handler;
    this.#options = resolveSessionOptions(init.options);
    this.protocol = init.protocol ?? "";
    this.extensions = init.extensions ?? "";
    this.remoteAddr = init.conn.remoteAddr;
    const { promise, resolve } = Promise.withResolvers<SessionCloseEvent>();
    this.closed = promise;
    this.#resolveClosed = resolve;
    if (init.preamble !== undefined) {
      this.#pending.push(init.preamble);
      this.#pendingBytes += init.preamble.length;
      this.#writer = this.#writeLoop();
    }
    const { pingInterval, idleTimeout } = this.#options;
    let tick = Heartbeat.tickFor(pingInterval, idleTimeout);
    // The heartbeat also frees an idle compressor: keep one for that alone if needed.
    const deflate = init.deflate;
    if (tick === 0 && deflate?.compressContextTakeover && deflate.compressorIdleMs > 0) {
      tick = Heartbeat.tickFor(deflate.compressorIdleMs, 0);
    }
    this.#heartbeat = tick === 0 ? undefined : init.heartbeat ?? new Heartbeat(tick);
  }

  /** `"open"`, `"closing"` or `"closed"`. */
  get state(): SessionState {
    if (this.#finished) return "closed";
    return this.#ws.state === "open" && !this.#settling && !this.#closeRequested
      ? "open"
      : "closing";
  }

  /** Bytes queued and not yet accepted by the socket: a true measure of unsent data. */
  get bufferedAmount(): number {
    return this.#ws.outgoingBytes + this.#pendingBytes + this.#inFlight + this.#deflating;
  }

  /**
   * Starts the read loop; `rest` holds bytes that arrived after the handshake head.
   *
   * @param rest Bytes already read past the handshake (frames), if any.
   * @throws {TypeError} If called twice.
   */
  start(rest?: Uint8Array): void {
    if (this.#started) throw new TypeError("Cannot start session: it is already started");
    this.#started = true;
    if (this.#finished) return;
    this.#heartbeat?.add(this.#onTick);
    this.#readLoop(rest).catch((error) => this.#fatal(error));
  }

  /**
   * Sends a text (string) or binary (bytes) message. Bytes over 16 KiB are queued without a
   * copy: do not modify them until {@linkcode bufferedAmount} drops.
   *
   * @param data The message.
   * @returns `true` while at most `highWaterMark` bytes wait; `false` when the socket is
   * saturated (the message is still queued: wait for {@linkcode drained}) or when the
   * session is not open (the message is dropped: see {@linkcode state}).
   */
  send(data: string | Uint8Array): boolean {
    if (this.state !== "open") return false;
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError("Cannot send: data must be a string or a Uint8Array");
    }
    if (this.#deflate !== undefined) return this.#sendDeflated(data);
    if (typeof data === "string") this.#ws.sendText(data);
    else this.#ws.sendBinary(data);
    return this.#afterSend();
  }

  /** With permessage-deflate every data message goes through the codec, whose promises
   * resolve in call order (RFC 7692 needs no more: control frames may interleave). */
  #sendDeflated(data: string | Uint8Array): boolean {
    const text = typeof data === "string";
    const bytes = text ? textEncoder.encode(data) : data;
    this.#deflating += bytes.length;
    this.#deflate!.encode(bytes).then(({ data: payload, compressed }) => {
      this.#deflating -= bytes.length;
      if (this.#ws.state !== "open") return;
      if (text) this.#ws.sendText(payload, { compressed });
      else this.#ws.sendBinary(payload, { compressed });
      this.#afterSend();
    }, (error) => {
      this.#deflating -= bytes.length;
      this.#fatal(error);
    });
    return this.bufferedAmount <= this.#options.highWaterMark;
  }

  /**
   * Sends a message framed once for many sessions (a broadcast). Server sessions queue the
   * shared frame: with permessage-deflate and no outgoing context takeover, the frame
   * compressed once for every session with the same settings. With context takeover a
   * message at or over the threshold is compressed on this session's own window. Client
   * sessions frame it themselves (each client frame is masked).
   *
   * @param message The prepared message.
   * @returns As {@linkcode send}.
   */
  sendPrepared(message: PreparedMessage): boolean {
    if (this.state !== "open") return false;
    if (this.#ws.role === "client") return this.send(message.data);
    const deflate = this.#deflate;
    if (deflate === undefined) {
      this.#ws.sendPreEncoded(message.frame);
      return this.#afterSend();
    }
    const compress = message.size >= deflate.threshold;
    const settings = deflate.sharedSettings;
    // RFC 7692 §7.2.3.2: with takeover the peer's window must hold exactly what this
    // compressor saw, so a payload compressed elsewhere cannot be slotted in.
    if (compress && settings === undefined) return this.send(message.data);
    const frame = compress ? message.compressedFrame(settings!) : message.frame;
    if (deflate.pendingSends === 0) {
      this.#ws.sendPreEncoded(frame);
      return this.#afterSend();
    }
    // Messages still in the codec go first: the shared frame waits its turn there.
    this.#deflating += frame.length;
    deflate.queueEncoded({ data: frame, compressed: compress }).then(() => {
      this.#deflating -= frame.length;
      if (this.#ws.state !== "open") return;
      this.#ws.sendPreEncoded(frame);
      this.#afterSend();
    }, (error) => {
      this.#deflating -= frame.length;
      this.#fatal(error);
    });
    return this.bufferedAmount <= this.#options.highWaterMark;
  }

  /**
   * Sends a ping (the core answers the peer's pings itself).
   *
   * @param data Up to 125 bytes.
   * @throws {RangeError} If `data` is longer than 125 bytes.
   */
  ping(data?: Uint8Array | string): void {
    if (this.state !== "open") return;
    this.#ws.ping(data);
    this.#flush();
  }

  /**
   * Resolves once at most `highWaterMark` bytes wait for the peer, or the session ended.
   *
   * @returns A promise that never rejects.
   */
  drained(): Promise<void> {
    if (this.bufferedAmount <= this.#options.highWaterMark || this.#finished) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /**
   * Starts the closing handshake; the peer's close frame (or `closeTimeout`) ends it. Does
   * nothing when the session is not open. Messages already given to
   * {@linkcode send} go out first, even those still in the deflate codec; from this call on
   * {@linkcode state} is `"closing"` and later messages are dropped (`send()` returns
   * `false`), as after `WebSocket.close()` in a browser.
   *
   * @param code Status code to send; omit it for a close frame without one.
   * @param reason Reason text, at most 123 bytes of UTF-8.
   * @throws {RangeError} If the code may not be sent or the reason is too long.
   */
  close(code?: number, reason?: string): void {
    if (this.state !== "open") {
      // Still validate, so misuse is reported the same way in every state.
      encodeClosePayload(code, reason);
      return;
    }
    if (this.#deflate !== undefined && this.#deflate.pending > 0) {
      // Messages still in the codec go out before the close frame; nothing sent after
      // this call may follow them (it would be dropped once the close frame is queued).
      encodeClosePayload(code, reason);
      this.#closeRequested = true;
      this.#armCloseTimer(); // the wait for the codec counts against closeTimeout too
      void this.#deflate.settled().then(() => {
        if (this.#ws.state !== "open") return;
        this.#ws.close(code, reason);
        this.#flush();
      });
      return;
    }
    this.#ws.close(code, reason); // throws on a bad code or reason before any change
    this.#closeRequested = true;
    this.#flush();
    this.#armCloseTimer();
  }

  /** Closes the transport at once, without a closing handshake (the session reports 1006). */
  abort(): void {
    this.#abort({ code: "WS_ERR_TRANSPORT", message: "The session was aborted locally" });
  }

  #afterSend(): boolean {
    this.#flush();
    if (this.#ws.state !== "open") return false; // the slow-consumer policy just applied
    return this.bufferedAmount <= this.#options.highWaterMark;
  }

  /**
   * Moves what the core queued to the write queue, makes sure the writer runs, and applies
   * the slow-consumer policy: every queued byte counts (messages, but also the pongs a
   * peer that pings without reading would pile up).
   */
  #flush(): void {
    const ws = this.#ws;
    const bytes = ws.outgoingBytes;
    if (bytes === 0) return;
    this.#pendingBytes += bytes;
    if (this.#writer === undefined && ws.nextOutgoingLength === bytes) {
      // One chunk and an idle socket: write it as it is (a broadcast frame stays shared; a
      // small frame is cut from the encoder's slab, cheaper than a buffer of our own).
      this.#pending.push(ws.takeOutgoing()[0]!);
    } else {
      this.#batchOutgoing();
    }
    this.#writer ??= this.#writeLoop();
    const amount = this.bufferedAmount;
    if (amount > this.#options.maxBufferedAmount && this.#localError === undefined) {
      this.#slowConsumer(amount);
    }
  }

  /**
   * Has the core encode its frames into the write buffer behind what already waits there, so
   * they go out in one write.
   */
  #batchOutgoing(): void {
    const ws = this.#ws;
    for (;;) {
      const batch = this.#batch;
      if (batch !== undefined) {
        this.#batchEnd = ws.takeOutgoingInto(batch, this.#batchEnd);
        if (ws.outgoingBytes === 0) return;
      }
      // The next chunk does not fit what is left of the buffer (or there is none).
      const next = ws.nextOutgoingLength;
      const waiting = this.#batchEnd - this.#batchStart;
      if (waiting + next <= COALESCE_LIMIT) {
        // Move what waits into a bigger buffer, so it and the chunk go out in one write;
        // sized for all the core holds if that fits, doubling over a burst.
        const rest = ws.outgoingBytes;
        const size = Math.min(
          COALESCE_LIMIT,
          Math.max(
            MIN_BATCH,
            (batch?.length ?? 0) * 2,
            waiting + (waiting + rest <= COALESCE_LIMIT ? rest : next),
          ),
        );
        const bigger = new Uint8Array(size);
        if (waiting > 0) bigger.set(batch!.subarray(this.#batchStart, this.#batchEnd));
        this.#batch = bigger;
        this.#batchStart = 0;
        this.#batchEnd = waiting;
        continue;
      }
      this.#sealBatch();
      if (next >= COPY_LIMIT) {
        // Written on its own without a copy; what follows it in the core goes with it.
        for (const chunk of ws.takeOutgoing()) this.#pending.push(chunk);
        return;
      }
      this.#batch = new Uint8Array(COALESCE_LIMIT);
      this.#batchStart = this.#batchEnd = 0;
    }
  }

  /** Moves the frames waiting in the write buffer to `#pending`, as one view. */
  #sealBatch(): void {
    const start = this.#batchStart;
    if (this.#batchEnd === start) return;
    this.#pending.push(this.#batch!.subarray(start, this.#batchEnd));
    this.#batchStart = this.#batchEnd;
  }

  /** Forgets every frame not yet taken by the writer (the bytes stay counted by callers). */
  #dropPending(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    // Views being written keep the buffer alive; later frames go to a new one.
    this.#batch = undefined;
    this.#batchStart = this.#batchEnd = 0;
  }

  async #writeLoop(): Promise<void> {
    try {
      for (;;) {
        this.#sealBatch();
        const chunks = this.#pending;
        if (chunks.length === 0) break;
        this.#pending = [];
        this.#inFlight += this.#pendingBytes;
        this.#pendingBytes = 0;
        for (const buffer of chunks) {
          // Deno's write may accept part of the buffer: continue until all is written.
          let n = await this.#conn.write(buffer);
          this.#inFlight -= n;
          while (n < buffer.length) {
            const written = await this.#conn.write(buffer.subarray(n));
            n += written;
            this.#inFlight -= written;
          }
        }
        this.#notifyDrained();
      }
      // All written: an idle session keeps no write buffer.
      this.#batch = undefined;
      this.#batchStart = this.#batchEnd = 0;
    } catch {
      this.#inFlight = 0;
      this.#dropPending();
      this.#abort({ code: "WS_ERR_TRANSPORT", message: "Cannot write to the socket" });
    } finally {
      this.#writer = undefined;
      this.#notifyDrained();
    }
  }

  #notifyDrained(): void {
    if (this.#drainWaiters.length === 0) return;
    if (!this.#finished && this.bufferedAmount > this.#options.highWaterMark) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** The documented slow-consumer policy: drop unsent frames, close with 1013. */
  #slowConsumer(amount: number): void {
    this.#dropPending();
    this.#localError = {
      code: "WS_ERR_SLOW_CONSUMER",
      message: `The peer is not reading: ${amount} bytes were waiting, more than the ` +
        `${this.#options.maxBufferedAmount}-byte limit`,
    };
    if (this.#ws.state === "open") {
      this.#ws.close(CLOSE_TRY_AGAIN_LATER, "slow consumer");
      this.#flush();
    }
    this.#armCloseTimer();
  }

  #armCloseTimer(): void {
    if (this.#closeTimer !== undefined || this.#finished) return;
    this.#closeTimer = setTimeout(() => {
      this.#closeTimer = undefined;
      this.#abort({
        code: "WS_ERR_CLOSE_TIMEOUT",
        message: `The closing handshake did not finish within ${this.#options.closeTimeout} ms`,
      });
    }, this.#options.closeTimeout);
  }

  #tick(now: number): void {
    if (this.#finished) return;
    this.#deflate?.trim(now);
    if (this.#settling || this.#paused) return;
    const { pingInterval, idleTimeout } = this.#options;
    const silent = now - this.#lastSeen;
    if (idleTimeout > 0 && silent >= idleTimeout) {
      this.#abort({
        code: "WS_ERR_IDLE_TIMEOUT",
        message: `Nothing arrived from the peer for ${idleTimeout} ms`,
      });
      return;
    }
    if (
      pingInterval > 0 && silent >= pingInterval && now - this.#lastPing >= pingInterval &&
      this.#ws.state === "open"
    ) {
      this.#lastPing = now;
      this.#ws.ping();
      this.#flush();
    }
  }

  /** Closes the transport now; the read loop then reports the end. */
  #abort(error: SessionError): void {
    if (this.#finished) return;
    this.#abortError ??= error;
    this.#closeConn();
    // Without a read loop nobody would notice the end: report it here.
    if (!this.#started) {
      this.#finish({
        type: "close",
        code: CLOSE_ABNORMAL,
        reason: "",
        wasClean: false,
        initiator: "local",
        error: this.#abortError,
      });
    }
  }

  #closeConn(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  async #read(): Promise<Uint8Array | null> {
    const view = this.#readView();
    let n: number | null;
    try {
      n = await this.#conn.read(view);
    } catch {
      return null; // closed locally, reset by the peer: both end the transport
    }
    return n === null ? null : this.#consume(n);
  }

  /** Where the next read goes: the free end of the slab, a new slab if too little is left. */
  #readView(): Uint8Array {
    const size = this.#readSize;
    if (this.#slab.length - this.#slabOffset < size) {
      this.#slab = new Uint8Array(size * 2);
      this.#slabOffset = 0;
    }
    return this.#slab.subarray(this.#slabOffset, this.#slabOffset + size);
  }

  /** Takes the `n` bytes just read into the slab and adapts the next read size. */
  #consume(n: number): Uint8Array {
    const size = this.#readSize;
    if (n === size) this.#readSize = Math.min(size * 2, MAX_READ_SIZE);
    else if (n <= size >> 3) this.#readSize = Math.max(size >> 1, MIN_READ_SIZE);
    const offset = this.#slabOffset;
    this.#slabOffset = offset + n;
    return this.#slab.subarray(offset, offset + n);
  }

  async #readLoop(rest: Uint8Array | undefined): Promise<void> {
    if (rest !== undefined && rest.length > 0) {
      this.#ws.receive(rest);
      const over = this.#drain();
      if (over === true || (over !== false && await over)) return;
    }
    for (;;) {
      // `conn.read` awaited here rather than through `#read`: one promise less per read.
      let n: number | null;
      try {
        n = await this.#conn.read(this.#readView());
      } catch {
        n = null; // closed locally, reset by the peer: both end the transport
      }
      if (n === null) this.#ws.receiveEnd();
      else {
        this.#lastSeen = Date.now();
        this.#ws.receive(this.#consume(n));
      }
      // Synchronous unless a handler returned a Promise or the session is closing: no
      // promise per read on the hot path.
      const over = this.#drain();
      if (over === true || (over !== false && await over)) return;
    }
  }

  /** Handles every decoded event; `true` (or a promise of it) once the session is over. */
  #drain(): boolean | Promise<boolean> {
    for (;;) {
      const event = this.#ws.nextEvent();
      if (event === undefined) {
        this.#flush();
        return false;
      }
      switch (event.type) {
        case "text":
        case "binary": {
          if (this.#ws.state !== "open") continue;
          if (event.compressed) {
            // RFC 7692 §6.2: inflate (bounded by maxMessageSize), validate text, deliver;
            // reading waits meanwhile, so messages stay in order.
            return this.#deflate!.decode(event.type, event.data).then((decoded) => {
              if (decoded.type === "error") this.#protocolFailed(decoded.error);
              else if (this.#ws.state === "open") {
                const pending = this.#deliver(decoded.data); // freshly inflated: no slab view
                if (pending !== undefined) return pending.then(() => this.#drain());
              }
              return this.#drain();
            });
          }
          let data: string | Uint8Array = event.data;
          if (typeof data !== "string" && data.length <= DETACH_LIMIT) data = data.slice();
          const pending = this.#deliver(data);
          if (pending !== undefined) return pending.then(() => this.#drain());
          continue;
        }
        case "ping":
          this.#flush(); // the pong is queued by the core
          continue;
        case "pong":
          this.#handler.pong?.(event.data);
          continue;
        case "close":
          return this.#settle(event).then(() => true);
        default: {
          const exhaustive: never = event;
          return exhaustive;
        }
      }
    }
  }

  #resume(): void {
    this.#paused = false;
    this.#lastSeen = Date.now();
  }

  /** Hands a message to the handler; returns its Promise, if it returned one. */
  #deliver(data: string | Uint8Array): Promise<void> | undefined {
    try {
      const result = this.#handler.message(data);
      if (result instanceof Promise) {
        this.#flush(); // replies sent by the handler go out while it waits
        // Reading is paused meanwhile: silence from the peer proves nothing.
        this.#paused = true;
        return result.then(
          () => this.#resume(),
          (error) => {
            this.#resume();
            this.#handlerFailed(error);
          },
        );
      }
    } catch (error) {
      this.#handlerFailed(error);
    }
    return undefined;
  }

  /** A message the codec refused (1009 too big, 1007 corrupt or not UTF-8): fail the
   * connection with that code (RFC 6455 §7.1.7). */
  #protocolFailed(error: ProtocolError): void {
    if (this.#ws.state !== "open") return;
    this.#localError ??= { code: error.code, message: error.message };
    this.#ws.close(error.closeCode);
    this.#flush();
    this.#armCloseTimer();
  }

  #handlerFailed(error: unknown): void {
    try {
      this.#handler.error?.(error);
    } catch {
      // An error hook that throws has nothing left to tell.
    }
    if (this.#ws.state !== "open") return;
    this.#localError ??= {
      code: "WS_ERR_HANDLER",
      message: `The message handler threw: ${error instanceof Error ? error.message : error}`,
    };
    this.#ws.close(CLOSE_INTERNAL_ERROR);
    this.#flush();
    this.#armCloseTimer();
  }

  /** The core reached "closed": finish the transport side, then report. */
  async #settle(event: ConnectionCloseEvent): Promise<void> {
    this.#settling = true;
    this.#flush();
    this.#armCloseTimer(); // bounds the waits below
    // RFC 6455 §7.1.1: the server closes TCP first; a client waits for it to do so.
    if (this.#abortError === undefined) {
      await this.#writer;
      if (this.#ws.role === "client" && event.wasClean) {
        while (this.#abortError === undefined && (await this.#read()) !== null) {
          // Bytes after the close frame are discarded.
        }
      }
    }
    this.#finish(this.#closeEvent(event));
  }

  #closeEvent(event: ConnectionCloseEvent): SessionCloseEvent {
    if (event.code === CLOSE_ABNORMAL && this.#abortError !== undefined) {
      const local = this.#localError;
      if (local !== undefined && local.code === "WS_ERR_SLOW_CONSUMER") {
        return {
          type: "close",
          code: CLOSE_TRY_AGAIN_LATER,
          reason: "slow consumer",
          wasClean: false,
          initiator: "local",
          error: local,
        };
      }
      return {
        type: "close",
        code: CLOSE_ABNORMAL,
        reason: "",
        wasClean: false,
        initiator: "local",
        error: this.#abortError.code === "WS_ERR_CLOSE_TIMEOUT" && local !== undefined
          ? local
          : this.#abortError,
      };
    }
    const base = {
      type: "close" as const,
      code: event.code,
      reason: event.reason,
      wasClean: event.wasClean,
      initiator: event.initiator,
    };
    if (event.error !== undefined) return { ...base, error: event.error };
    if (this.#localError !== undefined) return { ...base, error: this.#localError };
    return base;
  }

  #fatal(error: unknown): void {
    // A bug in this loop must not leave the socket open or the session pending.
    this.#abortError ??= {
      code: "WS_ERR_TRANSPORT",
      message: `The session loop failed: ${error instanceof Error ? error.message : error}`,
    };
    this.#finish({
      type: "close",
      code: CLOSE_ABNORMAL,
      reason: "",
      wasClean: false,
      initiator: "local",
      error: this.#abortError,
    });
  }

  #finish(event: SessionCloseEvent): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    this.#heartbeat?.delete(this.#onTick);
    this.#deflate?.close();
    this.#closeConn();
    this.#dropPending();
    this.#notifyDrained();
    this.#resolveClosed(event);
    this.#handler.close(event);
  }
}
