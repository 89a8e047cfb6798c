/**
 * The WebSocket connection (RFC 6455 §5–§7) as a sans-I/O state machine: bytes in, events
 * out; send calls in, bytes out. No sockets, no timers, no clock.
 *
 * The frame decoder checks each frame on its own; this file owns everything that spans
 * frames: reserved bits against the negotiated extensions, fragmentation sequencing, message
 * reassembly with a size limit, incremental UTF-8 validation of text, ping/pong and the
 * closing handshake.
 *
 * @module
 */

import {
  CLOSE_ABNORMAL,
  CLOSE_INVALID_PAYLOAD,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_NO_STATUS,
  CLOSE_PROTOCOL_ERROR,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_MESSAGE_SIZE,
  MAX_CONTROL_PAYLOAD,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_CONTINUATION,
  OPCODE_PING,
  OPCODE_PONG,
  OPCODE_TEXT,
} from "./_constants.ts";
import { ChunkQueue } from "./_chunk_queue.ts";
import { decodeClosePayload, encodeClosePayload } from "./close.ts";
import type { Frame, Role } from "./frame.ts";
import { FrameDecoder } from "./frame_decoder.ts";
import {
  encodedFrameLength,
  encodeFrame,
  encodeFrameHeader,
  encodeFrameHeaderInto,
  encodeFrameInto,
  type EncodeFrameOptions,
} from "./frame_encoder.ts";
import { type ProtocolError, protocolError } from "./protocol_error.ts";
import { decodeUtf8, unfinishedTail, Utf8Probe, Utf8StreamDecoder } from "./utf8.ts";

/**
 * Lifecycle of a connection:
 *
 * - `"connecting"`: the opening handshake (see `handshake.ts`) is not done; {@linkcode
 *   WebSocketConnection.open} moves on.
 * - `"open"`: messages flow both ways.
 * - `"closing"`: we sent a close frame and wait for the peer's.
 * - `"closed"`: the closing handshake is complete, the connection failed, or the transport
 *   ended; a `"close"` event says which. Nothing more is sent or received.
 */
export type ConnectionState = "connecting" | "open" | "closing" | "closed";

/** Options of {@linkcode WebSocketConnection}. */
export interface WebSocketConnectionOptions {
  /** Which end this is: a server expects masked frames and sends unmasked ones (RFC 6455 §5.1). */
  readonly role: Role;
  /**
   * Largest frame payload accepted, in bytes; a bigger frame fails the connection with 1009.
   * The decoder never buffers more than this (capped at `maxMessageSize`) plus one header.
   * @default {16777216} (16 MiB, `DEFAULT_MAX_FRAME_SIZE`)
   */
  readonly maxFrameSize?: number;
  /**
   * Largest message accepted, counted over its fragments as they arrive; a bigger message
   * fails the connection with 1009 before more than this is held. For a compressed message
   * this bounds the compressed bytes; the deflate layer bounds the inflated size.
   * @default {16777216} (16 MiB, `DEFAULT_MAX_MESSAGE_SIZE`)
   */
  readonly maxMessageSize?: number;
  /**
   * Accept RSV1 on the first frame of a data message: set it when permessage-deflate
   * (RFC 7692) was negotiated. Without it any RSV1 fails the connection with 1002.
   * @default {false}
   */
  readonly allowRsv1?: boolean;
  /**
   * Starting state: `"connecting"` while the handshake runs elsewhere, `"open"` when the
   * handshake is already done.
   * @default {"open"}
   */
  readonly state?: "connecting" | "open";
}

/** Options of {@linkcode WebSocketConnection.sendText} and {@linkcode WebSocketConnection.sendBinary}. */
export interface SendOptions {
  /**
   * The payload is already compressed (permessage-deflate): set RSV1 on the first frame
   * (RFC 7692 §6). Needs `allowRsv1` on the connection.
   * @default {false}
   */
  readonly compressed?: boolean;
  /**
   * Split the message into frames of at most this many payload bytes (a positive integer);
   * the first frame carries the opcode, the rest are continuation frames.
   * @default {Infinity} (one frame)
   */
  readonly fragmentSize?: number;
}

/** Options of {@linkcode WebSocketConnection.encodeMessage}. */
export interface EncodeMessageOptions {
  /**
   * The payload is already compressed (permessage-deflate): set RSV1.
   * @default {false}
   */
  readonly compressed?: boolean;
}

/** A complete text message. */
export interface TextMessageEvent {
  /** Event kind. */
  readonly type: "text";
  /** The message, validated UTF-8 decoded to a string. */
  readonly data: string;
  /** RSV1 was not set: the text is as sent. */
  readonly compressed: false;
}

/**
 * A complete text message sent compressed (RSV1 set, permessage-deflate). The core cannot
 * validate UTF-8 before inflation: the deflate layer inflates `data` and validates it.
 */
export interface CompressedTextMessageEvent {
  /** Event kind. */
  readonly type: "text";
  /** The compressed payload, fragments joined. */
  readonly data: Uint8Array;
  /** RSV1 was set on the first frame. */
  readonly compressed: true;
}

/** A complete binary message. */
export interface BinaryMessageEvent {
  /** Event kind. */
  readonly type: "binary";
  /** The payload, fragments joined (a view of received bytes when it came in one frame). */
  readonly data: Uint8Array;
  /** RSV1 was set on the first frame: `data` is compressed (permessage-deflate). */
  readonly compressed: boolean;
}

/** A ping arrived; the pong carrying the same data is already queued. */
export interface PingEvent {
  /** Event kind. */
  readonly type: "ping";
  /** Ping payload (0 to 125 bytes). */
  readonly data: Uint8Array;
}

/** A pong arrived (solicited or not). */
export interface PongEvent {
  /** Event kind. */
  readonly type: "pong";
  /** Pong payload (0 to 125 bytes). */
  readonly data: Uint8Array;
}

/**
 * The connection reached `"closed"`; exactly one of these is emitted per connection, and it
 * is the last event. Flush {@linkcode WebSocketConnection.takeOutgoing}, then:
 *
 * | situation                      | `initiator` | `wasClean` | `code`             | `error` | queued by us         |
 * | ------------------------------ | ----------- | ---------- | ------------------ | ------- | -------------------- |
 * | peer sent close, we echoed     | `"peer"`    | `true`     | peer's (1005 none) | —       | the echo             |
 * | we sent close, peer answered   | `"local"`   | `true`     | peer's (1005 none) | —       | nothing more         |
 * | peer broke the protocol        | `"local"`   | `false`    | `error.closeCode`  | set     | close with that code |
 * | transport ended without close  | `"peer"`    | `false`    | 1006               | —       | nothing              |
 *
 * After a clean close a server closes the TCP connection at once; a client waits (with a
 * timeout) for the server to close it (RFC 6455 §7.1.1). After a failure either side closes
 * it at once (RFC 6455 §7.1.7). A failure while we were already `"closing"` queues nothing,
 * our close frame having been sent.
 */
export interface ConnectionCloseEvent {
  /** Event kind. */
  readonly type: "close";
  /** The peer's status code, the code we failed the connection with, or 1006. */
  readonly code: number;
  /** The peer's reason text, `""` if none. */
  readonly reason: string;
  /** Both close frames were exchanged. */
  readonly wasClean: boolean;
  /** Who started the close: the peer (its close frame or its transport end) or we. */
  readonly initiator: "local" | "peer";
  /** The peer's protocol violation, when that is why the connection closed. */
  readonly error?: ProtocolError;
}

/** Everything {@linkcode WebSocketConnection.nextEvent} returns; switch on `type`. */
export type ConnectionEvent =
  | TextMessageEvent
  | CompressedTextMessageEvent
  | BinaryMessageEvent
  | PingEvent
  | PongEvent
  | ConnectionCloseEvent;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
/** Strings up to this many UTF-16 units are encoded into a shared slab (at most 3 bytes per
 * unit), not a buffer of their own: a new ArrayBuffer costs about a microsecond in Deno 2.9,
 * more than the rest of a small send. */
const SLAB_TEXT_UNITS = 1024;
const TEXT_SLAB_SIZE = 32 * 1024;
let textSlab = EMPTY;
let textSlabOffset = 0;
/** Unmasked payloads up to this size are copied behind their header (one write); larger
 * ones are queued as a header chunk plus the caller's bytes (no copy). */
const COPY_THRESHOLD = 16 * 1024;
/** Decoded text pieces shorter than this (UTF-16 units) are batched: a string costs ~20
 * bytes of heap whatever its length, and 1-byte fragments give 1-unit pieces. */
const TEXT_BATCH_BELOW = 1024;
/** Short pieces are joined into one string this many at a time. */
const TEXT_BATCH_SIZE = 256;
/** Kind of an outgoing item that is written as it is (a pre-encoded frame, a payload). */
const RAW = -1;
/** Flag on an outgoing item's kind: only the frame header is to be encoded (the payload is the
 * next item, written without a copy). */
const HEADER_ONLY = 0x100;
/** Queued bytes shorter than this are copied by a loop rather than `set()`. */
const SMALL_COPY = 32;
/** No unfinished character: the text so far ended on a character boundary. */
const NO_TEXT_TAIL = new Uint8Array(0);
/** Encoder options by the FIN and RSV1 bits of a first header byte (`>>> 6`), plus 4 when
 * masked: frames encoded on take need no options object each. */
const FRAME_OPTIONS: readonly EncodeFrameOptions[] = [
  { fin: false },
  { fin: false, rsv1: true },
  {},
  { rsv1: true },
  { fin: false, mask: true },
  { fin: false, rsv1: true, mask: true },
  { mask: true },
  { rsv1: true, mask: true },
];

/**
 * One WebSocket connection, either role, after (or around) the opening handshake.
 *
 * Drive it with the adapter loop read → {@linkcode receive} → drain {@linkcode nextEvent} →
 * write {@linkcode takeOutgoing}. Frames are decoded lazily, as events are drained, so
 * replies the protocol owes (pong, close echo) are queued by `nextEvent`: drain events
 * before writing. A peer's violation never throws: it becomes a `"close"` event with the
 * close frame queued. Calling a method in the wrong state throws.
 *
 * In `"closing"` (we sent close) the peer's data frames, pings and pongs are still decoded
 * but dropped: no events and no pong, since nothing may follow our close frame.
 *
 * Limits: the decoder buffers at most one frame (`maxFrameSize`), a message in assembly at
 * most `maxMessageSize`; however finely the peer fragments it, small fragments are copied
 * together rather than held one by one, so its bookkeeping stays a few percent of its size.
 * The outgoing queue has no limit of its own: the adapter watches {@linkcode outgoingBytes}
 * and applies its slow-consumer policy. Frames that are copied anyway (small unmasked ones,
 * every masked one) are encoded when they are taken: {@linkcode takeOutgoingInto} encodes them
 * straight into the adapter's write buffer, with no buffer per frame.
 *
 * @example An echo server loop
 * ```ts
 * import assert from "node:assert/strict";
 * import { WebSocketConnection } from "./connection.ts";
 * import { encodeFrame } from "./frame_encoder.ts";
 *
 * const ws = new WebSocketConnection({ role: "server" });
 * const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
 * ws.receive(encodeFrame(0x1, new TextEncoder().encode("Hello"), { maskKey: key }));
 * for (let event = ws.nextEvent(); event; event = ws.nextEvent()) {
 *   if (event.type === "text" && !event.compressed) ws.sendText(event.data);
 * }
 * const [frame] = ws.takeOutgoing();
 * assert(frame![0] === 0x81 && frame![1] === 5); // unmasked text frame "Hello"
 * ```
 *
 * @example The closing handshake, started by the peer
 * ```ts
 * import assert from "node:assert/strict";
 * import { WebSocketConnection } from "./connection.ts";
 * import { encodeFrame } from "./frame_encoder.ts";
 *
 * const ws = new WebSocketConnection({ role: "client" });
 * ws.receive(encodeFrame(0x8, new Uint8Array([0x03, 0xe8]))); // close 1000 from the server
 * const event = ws.nextEvent();
 * assert(event?.type === "close" && event.initiator === "peer" && event.wasClean);
 * assert(ws.state === "closed" && ws.outgoingBytes === 2 + 4 + 2); // masked echo
 * ```
 */
export class WebSocketConnection {
  /** Which end this is. */
  readonly role: Role;
  #state: ConnectionState;
  readonly #decoder: FrameDecoder;
  readonly #allowRsv1: boolean;
  readonly #maxMessageSize: number;
  readonly #mask: boolean;
  #ended = false;

  // The outgoing queue as parallel arrays (no object per frame): each item is bytes to write
  // as they are (kind RAW), or a payload to encode a frame around on take (kind: the frame's
  // first header byte, plus HEADER_ONLY when only the header is encoded).
  #outItems: Uint8Array[] = [];
  #outKinds: number[] = [];
  /** Index of the first item not yet taken. */
  #outHead = 0;
  #outgoingBytes = 0;

  // The message being reassembled: opcode 0 means none.
  #messageOpcode = 0;
  #messageCompressed = false;
  #messageSize = 0;
  /** Fragments of a binary or compressed message, joined once at the end. */
  readonly #chunks = new ChunkQueue();
  /** Decoded pieces of an uncompressed text message, joined once at the end. */
  #textParts: string[] = [];
  /** Short pieces from this index of `#textParts` on are not yet batched. */
  #textBatchStart = 0;
  #utf8: Utf8StreamDecoder | undefined;
  /** Checks the text frame still arriving (`#checkPartialText`). */
  #probe: Utf8Probe | undefined;
  /** The character the last fragment of the text message left unfinished, for `#probe`. */
  #textTail: Uint8Array = NO_TEXT_TAIL;

  /**
   * Creates the connection core for one transport connection.
   *
   * @param options Role, limits, extensions and starting state.
   * @throws {RangeError} If a size limit is not a positive integer.
   * @throws {TypeError} If `role` or `state` is not one of the allowed strings.
   */
  constructor(options: WebSocketConnectionOptions) {
    const { role, allowRsv1 = false, state = "open" } = options;
    if (role !== "server" && role !== "client") {
      throw new TypeError(`Cannot create connection: role must be "server" or "client"`);
    }
    if (state !== "open" && state !== "connecting") {
      throw new TypeError(`Cannot create connection: state must be "open" or "connecting"`);
    }
    const maxFrameSize = positiveInteger(
      options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
      "maxFrameSize",
    );
    this.#maxMessageSize = positiveInteger(
      options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      "maxMessageSize",
    );
    this.role = role;
    this.#state = state;
    this.#allowRsv1 = allowRsv1;
    this.#mask = role === "client";
    // A data frame larger than a whole message can never be accepted: reject it from its
    // header instead of buffering it first.
    this.#decoder = new FrameDecoder({
      role,
      maxFrameSize: Math.min(maxFrameSize, this.#maxMessageSize),
    });
  }

  /**
   * Serializes a whole unmasked message frame once, to hand to
   * {@linkcode sendPreEncoded} on every connection of a broadcast (servers only).
   *
   * @example One frame for many connections
   * ```ts
   * import assert from "node:assert/strict";
   * import { WebSocketConnection } from "./connection.ts";
   * const frame = WebSocketConnection.encodeMessage(0x1, new TextEncoder().encode("tick"));
   * const a = new WebSocketConnection({ role: "server" });
   * const b = new WebSocketConnection({ role: "server" });
   * a.sendPreEncoded(frame);
   * b.sendPreEncoded(frame);
   * assert(a.takeOutgoing()[0] === frame && b.takeOutgoing()[0] === frame);
   * ```
   *
   * @param opcode `0x1` (text: the payload must be UTF-8, or compressed) or `0x2` (binary).
   * @param payload The message bytes, or a string sent as text UTF-8.
   * @param options `compressed` sets RSV1.
   * @returns The frame bytes.
   * @throws {RangeError} If the opcode is not text or binary.
   */
  static encodeMessage(
    opcode: number,
    payload: Uint8Array | string,
    options?: EncodeMessageOptions,
  ): Uint8Array {
    if (opcode !== OPCODE_TEXT && opcode !== OPCODE_BINARY) {
      throw new RangeError(`Cannot encode message: opcode ${opcode} is not text (1) or binary (2)`);
    }
    const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
    return encodeFrame(opcode, bytes, { rsv1: options?.compressed === true });
  }

  /** The lifecycle state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Bytes queued for the transport and not yet taken by {@linkcode takeOutgoing}. */
  get outgoingBytes(): number {
    return this.#outgoingBytes;
  }

  /**
   * Bytes of the next queued chunk ({@linkcode takeOutgoing} would return it first), `0` when
   * nothing is queued: lets an adapter choose a buffer for {@linkcode takeOutgoingInto}.
   */
  get nextOutgoingLength(): number {
    const i = this.#outHead;
    if (i === this.#outItems.length) return 0;
    return this.#itemLength(this.#outKinds[i]!, this.#outItems[i]!);
  }

  /**
   * Marks the opening handshake as done: `"connecting"` → `"open"`.
   *
   * @throws {TypeError} If the state is not `"connecting"`.
   */
  open(): void {
    if (this.#state !== "connecting") {
      throw new TypeError(`Cannot open: the connection is ${this.#state}, not connecting`);
    }
    this.#state = "open";
  }

  /**
   * Feeds bytes read from the transport. Takes ownership: the bytes are unmasked in place and
   * events may hold views of them, so do not reuse the buffer. Bytes arriving after
   * `"closed"` are discarded. Never throws on what the peer sent.
   *
   * @param bytes Bytes as read, any chunking.
   * @throws {TypeError} While `"connecting"` (call {@linkcode open} first) or after
   * {@linkcode receiveEnd}.
   */
  receive(bytes: Uint8Array): void {
    if (this.#state === "connecting") {
      throw new TypeError("Cannot receive: the opening handshake is not complete, call open()");
    }
    if (this.#ended) throw new TypeError("Cannot receive: receiveEnd() was already called");
    if (this.#state === "closed" || bytes.length === 0) return;
    this.#decoder.receive(bytes);
  }

  /**
   * Tells the connection the transport reached end-of-stream. Frames already received are
   * still delivered; if the connection is not `"closed"` by then, a `"close"` event with code
   * 1006 (RFC 6455 §7.1.5) follows.
   */
  receiveEnd(): void {
    this.#ended = true;
  }

  /**
   * Returns the next event, or `undefined` when more bytes are needed (or after the
   * `"close"` event). Queues the replies the protocol owes as a side effect.
   *
   * @returns The next event.
   */
  nextEvent(): ConnectionEvent | undefined {
    for (;;) {
      const state = this.#state;
      if (state === "closed") return undefined;
      const decoded = state === "connecting" ? undefined : this.#decoder.next();
      if (decoded === undefined) {
        if (!this.#ended) {
          return state === "open" ? this.#checkPartialText() : undefined;
        }
        // RFC 6455 §7.1.5: the transport closed without a closing handshake.
        this.#closed();
        return {
          type: "close",
          code: CLOSE_ABNORMAL,
          reason: "",
          wasClean: false,
          initiator: "peer",
        };
      }
      if (decoded.type === "error") return this.#fail(decoded.error);
      const event = this.#onFrame(decoded.frame);
      if (event !== undefined) return event;
    }
  }

  /**
   * Takes every queued outgoing chunk, in order; write them all to the transport. The chunks
   * may be views of buffers passed to the send methods.
   *
   * @returns The chunks (possibly none); the queue is then empty.
   */
  takeOutgoing(): Uint8Array[] {
    const items = this.#outItems;
    const kinds = this.#outKinds;
    const out: Uint8Array[] = [];
    for (let i = this.#outHead; i < items.length; i++) {
      const item = items[i]!;
      const kind = kinds[i]!;
      if (kind === RAW) out.push(item);
      else if (kind >= HEADER_ONLY) {
        out.push(encodeFrameHeader(kind & 0xf, item.length, FRAME_OPTIONS[(kind >>> 6) & 3]));
      } else {
        out.push(encodeFrame(kind & 0xf, item, FRAME_OPTIONS[this.#optionsIndex(kind)]));
      }
    }
    this.#clearOutgoing();
    return out;
  }

  /**
   * Takes queued outgoing chunks, in order, into `target` from `offset` while each fits in
   * what is left of it: frames are encoded right there (masked, for a client), other chunks
   * (pre-encoded frames, large payloads) copied. For an adapter that joins small frames into
   * one write buffer: nothing is allocated. What did not fit stays queued, first in line;
   * {@linkcode nextOutgoingLength} says how big it is, {@linkcode takeOutgoing} takes it
   * without a copy.
   *
   * @example Two replies joined in one write buffer
   * ```ts
   * import assert from "node:assert/strict";
   * import { WebSocketConnection } from "./connection.ts";
   * const ws = new WebSocketConnection({ role: "server" });
   * ws.sendText("hi");
   * ws.pong();
   * const batch = new Uint8Array(1024);
   * const end = ws.takeOutgoingInto(batch, 0);
   * assert.deepEqual(batch.subarray(0, end), new Uint8Array([0x81, 2, 0x68, 0x69, 0x8a, 0]));
   * assert.equal(ws.outgoingBytes, 0);
   * ```
   *
   * @param target The buffer to write into.
   * @param offset Where to start writing in `target`.
   * @returns The offset in `target` after the last byte written (`offset` if nothing fit).
   * @throws {TypeError} If `target` is not a Uint8Array.
   * @throws {RangeError} If `offset` is not an integer from 0 to `target.length`.
   */
  takeOutgoingInto(target: Uint8Array, offset: number): number {
    if (!(target instanceof Uint8Array)) {
      throw new TypeError("Cannot take outgoing bytes: the target must be a Uint8Array");
    }
    if (!Number.isInteger(offset) || offset < 0 || offset > target.length) {
      throw new RangeError(
        `Cannot take outgoing bytes: offset ${offset} is outside the ${target.length}-byte target`,
      );
    }
    const items = this.#outItems;
    const kinds = this.#outKinds;
    const end = target.length;
    let at = offset;
    let i = this.#outHead;
    for (; i < items.length; i++) {
      const item = items[i]!;
      const kind = kinds[i]!;
      const length = this.#itemLength(kind, item);
      if (length > end - at) break;
      if (kind === RAW) {
        if (length < SMALL_COPY) {
          for (let j = 0; j < length; j++) target[at + j] = item[j]!;
        } else {
          target.set(item, at);
        }
      } else if (kind >= HEADER_ONLY) {
        encodeFrameHeaderInto(target, at, kind & 0xf, item.length, FRAME_OPTIONS[(kind >>> 6) & 3]);
      } else {
        encodeFrameInto(target, at, kind & 0xf, item, FRAME_OPTIONS[this.#optionsIndex(kind)]);
      }
      at += length;
    }
    if (i === items.length) this.#clearOutgoing();
    else {
      this.#outHead = i;
      this.#outgoingBytes -= at - offset;
    }
    return at;
  }

  /** Bytes an outgoing item takes on the wire. */
  #itemLength(kind: number, item: Uint8Array): number {
    if (kind === RAW) return item.length;
    if (kind >= HEADER_ONLY) return encodedFrameLength(item.length) - item.length;
    return encodedFrameLength(item.length, this.#mask);
  }

  #optionsIndex(kind: number): number {
    return ((kind >>> 6) & 3) | (this.#mask ? 4 : 0);
  }

  #clearOutgoing(): void {
    this.#outItems.length = 0;
    this.#outKinds.length = 0;
    this.#outHead = 0;
    this.#outgoingBytes = 0;
  }

  /**
   * Sends a text message.
   *
   * @param data A string (encoded as UTF-8), or bytes sent as they are: UTF-8 text, or the
   * compressed payload when `compressed` is set. Bytes are not copied until taken: do not
   * modify them before they are written.
   * @param options Compression flag and fragmentation.
   * @throws {TypeError} If the connection is not `"open"`, or `compressed` is set without
   * `allowRsv1`.
   * @throws {RangeError} If `fragmentSize` is not a positive integer.
   */
  sendText(data: string | Uint8Array, options?: SendOptions): void {
    this.#checkOpen("send a text message");
    const bytes = typeof data === "string" ? encodeText(data) : data;
    this.#sendMessage(OPCODE_TEXT, bytes, options);
  }

  /**
   * Sends a binary message.
   *
   * @param data The message (or the compressed payload when `compressed` is set). Not copied
   * until taken: do not modify it before it is written.
   * @param options Compression flag and fragmentation.
   * @throws {TypeError} If the connection is not `"open"`, or `compressed` is set without
   * `allowRsv1`.
   * @throws {RangeError} If `fragmentSize` is not a positive integer.
   */
  sendBinary(data: Uint8Array, options?: SendOptions): void {
    this.#checkOpen("send a binary message");
    this.#sendMessage(OPCODE_BINARY, data, options);
  }

  /**
   * Queues a frame serialized once by {@linkcode WebSocketConnection.encodeMessage} (a
   * broadcast). The bytes are queued as they are, without a copy.
   *
   * @param frame One or more complete unmasked frames.
   * @throws {TypeError} If the connection is not `"open"`, or this is a client (RFC 6455
   * §5.3: every client frame needs its own fresh masking key).
   */
  sendPreEncoded(frame: Uint8Array): void {
    this.#checkOpen("send a pre-encoded frame");
    if (this.#mask) {
      throw new TypeError(
        "Cannot send a pre-encoded frame: a client masks each frame with a fresh key",
      );
    }
    this.#queue(RAW, frame, frame.length);
  }

  /**
   * Sends a ping; the peer answers with a pong carrying the same data.
   *
   * @param data Up to 125 bytes (a string is encoded as UTF-8).
   * @throws {TypeError} If the connection is not `"open"`.
   * @throws {RangeError} If the data is longer than 125 bytes.
   */
  ping(data: Uint8Array | string = EMPTY): void {
    this.#checkOpen("send a ping");
    this.#sendControl(OPCODE_PING, controlPayload(data, "ping"));
  }

  /**
   * Sends a pong (an unsolicited one serves as a heartbeat, RFC 6455 §5.5.3).
   *
   * @param data Up to 125 bytes (a string is encoded as UTF-8).
   * @throws {TypeError} If the connection is not `"open"`.
   * @throws {RangeError} If the data is longer than 125 bytes.
   */
  pong(data: Uint8Array | string = EMPTY): void {
    this.#checkOpen("send a pong");
    this.#sendControl(OPCODE_PONG, controlPayload(data, "pong"));
  }

  /**
   * Starts the closing handshake: queues a close frame and moves to `"closing"`; the peer's
   * close then completes it (a `"close"` event with `initiator: "local"`). Does nothing if the
   * connection is already closing or closed.
   *
   * @param code Status code; omit it for a close frame without payload.
   * @param reason Reason text, at most 123 bytes of UTF-8.
   * @throws {RangeError} If the code may not be sent (1004–1006, 1015, outside 1000–4999, ...)
   * or the reason is too long.
   * @throws {TypeError} If the handshake is not done, or a reason is given without a code.
   */
  close(code?: number, reason?: string): void {
    const payload = encodeClosePayload(code, reason);
    if (this.#state === "connecting") {
      throw new TypeError("Cannot close: the opening handshake is not complete");
    }
    if (this.#state !== "open") return;
    this.#sendControl(OPCODE_CLOSE, payload);
    this.#state = "closing";
    this.#dropMessage();
  }

  #checkOpen(action: string): void {
    if (this.#state !== "open") {
      throw new TypeError(
        `Cannot ${action}: the connection is ${this.#state}` +
          (this.#state === "connecting" ? " (the opening handshake is not complete)" : ""),
      );
    }
  }

  #sendMessage(opcode: number, payload: Uint8Array, options: SendOptions | undefined): void {
    const compressed = options?.compressed === true;
    if (compressed && !this.#allowRsv1) {
      throw new TypeError(
        "Cannot send a compressed message: permessage-deflate was not negotiated (allowRsv1)",
      );
    }
    const fragmentSize = options?.fragmentSize;
    if (fragmentSize !== undefined) positiveInteger(fragmentSize, "fragmentSize");
    if (fragmentSize === undefined || payload.length <= fragmentSize) {
      this.#sendFrame(opcode, payload, true, compressed);
      return;
    }
    let start = 0;
    let frameOpcode = opcode;
    while (start < payload.length) {
      const end = Math.min(start + fragmentSize, payload.length);
      // RFC 7692 §6.1: RSV1 marks the first frame of a compressed message only.
      this.#sendFrame(
        frameOpcode,
        payload.subarray(start, end),
        end === payload.length,
        compressed && start === 0,
      );
      frameOpcode = OPCODE_CONTINUATION;
      start = end;
    }
  }

  #sendFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv1: boolean): void {
    const first = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
    const length = payload.length;
    // RFC 6455 §5.3: a client masks every frame with a fresh key (masking copies), so its
    // frames are always encoded whole; a server's large payload follows its header uncopied.
    if (this.#mask) this.#queue(first, payload, encodedFrameLength(length, true));
    else if (length <= COPY_THRESHOLD) this.#queue(first, payload, encodedFrameLength(length));
    else {
      this.#queue(first | HEADER_ONLY, payload, encodedFrameLength(length) - length);
      this.#queue(RAW, payload, length);
    }
  }

  #sendControl(opcode: number, payload: Uint8Array): void {
    this.#queue(0x80 | opcode, payload, encodedFrameLength(payload.length, this.#mask));
  }

  #queue(kind: number, item: Uint8Array, length: number): void {
    this.#outItems.push(item);
    this.#outKinds.push(kind);
    this.#outgoingBytes += length;
  }

  /** Handles one decoded frame; returns an event, or `undefined` if it produced none. */
  #onFrame(frame: Frame): ConnectionEvent | undefined {
    const opcode = frame.opcode;
    // After our close, only the peer's close matters (RFC 6455 §5.5.1: it is the answer).
    if (this.#state === "closing" && opcode !== OPCODE_CLOSE) return undefined;
    // RFC 6455 §5.2: a nonzero RSV bit without an extension defining it MUST fail the connection.
    if (frame.rsv2 || frame.rsv3) {
      return this.#fail(reservedBits(`RSV${frame.rsv2 ? 2 : 3} is set but no extension uses it`));
    }
    if (opcode >= OPCODE_CLOSE) {
      if (frame.rsv1) return this.#fail(reservedBits("RSV1 is set on a control frame"));
      return this.#onControl(opcode, frame.payload);
    }
    const payload = frame.payload;
    if (opcode === OPCODE_CONTINUATION) {
      if (this.#messageOpcode === 0) {
        // RFC 6455 §5.4: a continuation frame only continues a started message.
        return this.#fail(protocolError(
          "WS_ERR_UNEXPECTED_CONTINUATION",
          CLOSE_PROTOCOL_ERROR,
          "Cannot decode message: continuation frame without a message to continue",
        ));
      }
      // RFC 7692 §6.1: RSV1 is set on the first frame of a message only.
      if (frame.rsv1) return this.#fail(reservedBits("RSV1 is set on a continuation frame"));
    } else {
      if (this.#messageOpcode !== 0) {
        // RFC 6455 §5.4: fragments of one message are not interleaved with another message.
        return this.#fail(protocolError(
          "WS_ERR_EXPECTED_CONTINUATION",
          CLOSE_PROTOCOL_ERROR,
          `Cannot decode message: ${
            opcode === OPCODE_TEXT ? "text" : "binary"
          } frame while a fragmented message is in progress`,
        ));
      }
      if (frame.rsv1 && !this.#allowRsv1) {
        return this.#fail(reservedBits("RSV1 is set but permessage-deflate was not negotiated"));
      }
      // The decoder's frame limit is at most maxMessageSize: a single frame fits.
      if (frame.fin) return this.#singleFrameMessage(opcode, frame.rsv1, payload);
      this.#messageOpcode = opcode;
      this.#messageCompressed = frame.rsv1;
      this.#messageSize = 0;
    }
    return this.#fragment(payload, frame.fin);
  }

  /**
   * RFC 6455 §8.1 within a frame: checks the UTF-8 of a text frame's bytes as they arrive, so
   * a long frame fails with 1007 at its first invalid byte rather than once it is all here.
   * Costs nothing for a frame that arrives in one read. The frame is validated again when
   * complete (that check is the one that decodes); this one only fails early.
   */
  #checkPartialText(): ConnectionEvent | undefined {
    // Only text without RSV bits: a binary or compressed frame is not text yet, and one with
    // RSV2/RSV3 fails with 1002 once complete.
    const frame = this.#decoder.payloadInProgress;
    if (frame === OPCODE_TEXT) {
      // A text frame inside a message fails with 1002 once complete: no verdict here.
      if (this.#messageOpcode !== 0) return undefined;
    } else if (frame === OPCODE_CONTINUATION) {
      if (this.#messageOpcode !== OPCODE_TEXT || this.#messageCompressed) return undefined;
    } else {
      return undefined;
    }
    const partial = this.#decoder.peekPayload();
    if (partial === undefined) return undefined;
    const probe = this.#probe ??= new Utf8Probe();
    // A continuation goes on from the character the previous fragment left unfinished.
    if (partial.offset === 0) {
      probe.reset(frame === OPCODE_CONTINUATION ? this.#textTail : undefined);
    }
    if (!probe.push(partial.bytes)) return this.#fail(invalidUtf8());
    return undefined;
  }

  /** The common case, a message in one frame: no chunk list, no streaming decoder. */
  #singleFrameMessage(
    opcode: number,
    compressed: boolean,
    payload: Uint8Array,
  ): ConnectionEvent {
    if (opcode === OPCODE_BINARY) return { type: "binary", data: payload, compressed };
    if (compressed) return { type: "text", data: payload, compressed: true };
    const text = decodeUtf8(payload);
    if (text === undefined) return this.#fail(invalidUtf8());
    return { type: "text", data: text, compressed: false };
  }

  #fragment(payload: Uint8Array, fin: boolean): ConnectionEvent | undefined {
    const size = this.#messageSize + payload.length;
    if (size > this.#maxMessageSize) return this.#fail(messageTooBig(this.#maxMessageSize));
    this.#messageSize = size;
    const text = this.#messageOpcode === OPCODE_TEXT && !this.#messageCompressed;
    if (text) {
      // RFC 6455 §8.1: fail as soon as the text is certainly invalid, not at the end.
      const utf8 = this.#utf8 ??= new Utf8StreamDecoder();
      const piece = fin ? utf8.end(payload) : utf8.push(payload);
      if (piece === undefined) return this.#fail(invalidUtf8());
      if (piece !== "") this.#addText(piece);
      // Only a fragment's last 3 bytes matter to the next one's early check.
      if (!fin) this.#textTail = unfinishedTail(this.#textTail, payload);
    } else {
      this.#chunks.push(payload);
    }
    if (!fin) return undefined;
    let event: ConnectionEvent;
    if (text) {
      event = { type: "text", data: this.#textParts.join(""), compressed: false };
    } else if (this.#messageOpcode === OPCODE_TEXT) {
      event = { type: "text", data: this.#chunks.takeAll(size), compressed: true };
    } else {
      event = {
        type: "binary",
        data: this.#chunks.takeAll(size),
        compressed: this.#messageCompressed,
      };
    }
    this.#messageOpcode = 0;
    this.#textParts = [];
    this.#textTail = NO_TEXT_TAIL;
    this.#textBatchStart = 0;
    return event;
  }

  /** Keeps one decoded piece; each short piece holds at least one payload byte, so batching
   * them bounds the parts to about one per 256 bytes of text. */
  #addText(piece: string): void {
    const parts = this.#textParts;
    parts.push(piece);
    if (piece.length >= TEXT_BATCH_BELOW) {
      // A long piece stays as it is: joining it early would copy it twice.
      this.#textBatchStart = parts.length;
    } else if (parts.length - this.#textBatchStart === TEXT_BATCH_SIZE) {
      const start = this.#textBatchStart;
      const batch = parts.slice(start).join("");
      parts.length = start;
      parts.push(batch);
      this.#textBatchStart = parts.length;
    }
  }

  #onControl(opcode: number, payload: Uint8Array): ConnectionEvent | undefined {
    switch (opcode) {
      case OPCODE_PING:
        // RFC 6455 §5.5.2: answer with a pong carrying the same application data.
        this.#sendControl(OPCODE_PONG, payload);
        return { type: "ping", data: payload };
      case OPCODE_PONG:
        return { type: "pong", data: payload };
      case OPCODE_CLOSE:
        return this.#onClose(payload);
      default:
        // The decoder rejects reserved opcodes; this is unreachable but kept total.
        return undefined;
    }
  }

  #onClose(payload: Uint8Array): ConnectionEvent {
    const decoded = decodeClosePayload(payload);
    if (decoded.type === "error") return this.#fail(decoded.error);
    const { code, reason } = decoded.close;
    const initiator = this.#state === "open" ? "peer" : "local";
    if (initiator === "peer") {
      // RFC 6455 §5.5.1: answer a close with a close, echoing the status code received.
      this.#sendControl(
        OPCODE_CLOSE,
        code === CLOSE_NO_STATUS ? EMPTY : encodeClosePayload(code),
      );
    }
    this.#closed();
    return { type: "close", code, reason, wasClean: true, initiator };
  }

  /** RFC 6455 §7.1.7: fail the connection: send a close with the error's code (unless ours
   * was sent already) and stop. */
  #fail(error: ProtocolError): ConnectionCloseEvent {
    if (this.#state === "open") {
      this.#sendControl(OPCODE_CLOSE, encodeClosePayload(error.closeCode));
    }
    this.#closed();
    return {
      type: "close",
      code: error.closeCode,
      reason: "",
      wasClean: false,
      initiator: "local",
      error,
    };
  }

  #closed(): void {
    this.#state = "closed";
    this.#dropMessage();
  }

  #dropMessage(): void {
    if (this.#messageOpcode === 0) return;
    this.#messageOpcode = 0;
    this.#chunks.clear();
    this.#textParts = [];
    this.#textTail = NO_TEXT_TAIL;
    this.#textBatchStart = 0;
    this.#utf8?.reset();
  }
}

/**
 * UTF-8 of `text`, as `TextEncoder.encode` gives it (lone surrogates become U+FFFD). A short
 * string is encoded into the shared slab: the view is only read when its frame is encoded on
 * take, and a region is never handed out twice, so views never alias.
 */
function encodeText(text: string): Uint8Array {
  const units = text.length;
  if (units > SLAB_TEXT_UNITS) return encoder.encode(text);
  let slab = textSlab;
  let start = textSlabOffset;
  if (slab.length - start < units * 3) {
    slab = textSlab = new Uint8Array(TEXT_SLAB_SIZE);
    start = 0;
  }
  // ASCII, the common case, by a loop: cheaper than a call into the encoder.
  let i = 0;
  for (; i < units; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) break;
    slab[start + i] = unit;
  }
  let end = start + i;
  // An ASCII unit is never half of a surrogate pair: the rest can be cut off there.
  if (i < units) end += encoder.encodeInto(text.slice(i), slab.subarray(end)).written;
  textSlabOffset = end;
  return slab.subarray(start, end);
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Invalid ${name}: ${value} is not a positive integer`);
  }
  return value;
}

function controlPayload(data: Uint8Array | string, kind: string): Uint8Array {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  // RFC 6455 §5.5: control frames carry at most 125 payload bytes.
  if (bytes.length > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(
      `Cannot send a ${kind}: ${bytes.length} bytes of data, at most ${MAX_CONTROL_PAYLOAD} allowed`,
    );
  }
  return bytes;
}

function reservedBits(detail: string): ProtocolError {
  return protocolError(
    "WS_ERR_RESERVED_BITS",
    CLOSE_PROTOCOL_ERROR,
    `Cannot decode frame: ${detail}`,
  );
}

function invalidUtf8(): ProtocolError {
  return protocolError(
    "WS_ERR_INVALID_UTF8",
    CLOSE_INVALID_PAYLOAD,
    "Cannot decode message: text is not valid UTF-8",
  );
}

function messageTooBig(limit: number): ProtocolError {
  return protocolError(
    "WS_ERR_MESSAGE_TOO_BIG",
    CLOSE_MESSAGE_TOO_BIG,
    `Cannot decode message: it exceeds the ${limit}-byte message size limit`,
  );
}
