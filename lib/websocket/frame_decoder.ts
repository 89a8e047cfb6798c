/**
 * An incremental WebSocket frame decoder (RFC 6455 §5.2): bytes in, frames or one protocol
 * error out. Sans-I/O: no sockets, no timers.
 *
 * @module
 */

import {
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_PROTOCOL_ERROR,
  DEFAULT_MAX_FRAME_SIZE,
  MASK_KEY_LENGTH,
  MAX_CONTROL_PAYLOAD,
  PAYLOAD_LENGTH_16,
  PAYLOAD_LENGTH_64,
} from "./_constants.ts";
import { ChunkQueue } from "./_chunk_queue.ts";
import { gatherEnd, gatherPush, gatherStart } from "./_simd.ts";
import { SIMD_THRESHOLD, xorRange } from "./_xor.ts";
import type { Frame, Role } from "./frame.ts";
import { type ProtocolError, protocolError, type ProtocolErrorCode } from "./protocol_error.ts";

/** Options of {@linkcode FrameDecoder}. */
export interface FrameDecoderOptions {
  /**
   * Which end this decoder is. A server requires every frame masked, a client refuses masked
   * frames (RFC 6455 §5.1).
   */
  readonly role: Role;
  /**
   * Largest payload accepted in one frame, in bytes. A longer frame is refused with
   * `WS_ERR_FRAME_TOO_BIG` (close code 1009) as soon as its header is read, before any of its
   * payload is buffered, so a frame never holds more than this much memory.
   * @default {16777216} (DEFAULT_MAX_FRAME_SIZE, 16 MiB)
   */
  readonly maxFrameSize?: number;
}

/** Placeholder for "no chunk"; never handed out (an empty payload is a zero-length view). */
const EMPTY = new Uint8Array(0);

/**
 * What {@linkcode FrameDecoder.peekPayload} returns: bytes of a frame whose payload has not
 * fully arrived yet, unmasked.
 */
export interface PartialPayload {
  /** Where `bytes` start in the frame's payload. */
  readonly offset: number;
  /** The payload bytes that arrived with the last {@linkcode FrameDecoder.receive}, a copy. */
  readonly bytes: Uint8Array;
}

/** What {@linkcode FrameDecoder.next} yields: a whole frame, or the peer's protocol error. */
export type FrameDecoderEvent =
  | { readonly type: "frame"; readonly frame: Frame }
  | { readonly type: "error"; readonly error: ProtocolError };

/**
 * Parser states, each named after what it waits for (as in ws's Receiver: GET_INFO,
 * GET_PAYLOAD_LENGTH_16, GET_PAYLOAD_LENGTH_64, GET_MASK, GET_DATA).
 */
type ParserState =
  | "header"
  | "extended-length-16"
  | "extended-length-64"
  | "mask-key"
  | "payload"
  | "failed";

/**
 * Decodes WebSocket frames from bytes that arrive in arbitrary chunks.
 *
 * Feed bytes with {@linkcode FrameDecoder.receive}, then call {@linkcode FrameDecoder.next}
 * until it returns `undefined`. A payload that lies inside one received chunk is returned as a
 * zero-copy `subarray` view of that chunk (masked payloads are unmasked in place); a payload
 * spanning chunks is copied once into a buffer of its exact size. A view keeps its whole chunk
 * alive: `slice()` a small payload that is kept for long. A chunk under 1 KiB that arrives
 * while bytes are buffered is copied into a shared block instead, consecutive small chunks
 * joining one, so a peer sending 1-byte segments costs time and memory linear in its bytes.
 *
 * Peer violations of RFC 6455 §5 become one `error` event carrying a stable code and the close
 * code to answer with; the decoder is then failed: `next()` returns `undefined` and `receive()`
 * ignores input. Checks on RSV bits and continuation sequencing depend on negotiated
 * extensions and message state, so they are left to the connection.
 *
 * @example Decode the RFC 6455 §5.7 masked "Hello" as a server
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameDecoder } from "./frame_decoder.ts";
 * const decoder = new FrameDecoder({ role: "server" });
 * decoder.receive(new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]));
 * const event = decoder.next();
 * if (event?.type !== "frame") throw new Error("expected a frame");
 * assert.equal(event.frame.opcode, 0x1);
 * assert.equal(new TextDecoder().decode(event.frame.payload), "Hello");
 * assert.equal(decoder.next(), undefined);
 * ```
 *
 * @example A protocol error is an event, not an exception
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameDecoder } from "./frame_decoder.ts";
 * const decoder = new FrameDecoder({ role: "server" });
 * decoder.receive(new Uint8Array([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])); // unmasked
 * const event = decoder.next();
 * if (event?.type !== "error") throw new Error("expected an error");
 * assert.equal(event.error.code, "WS_ERR_EXPECTED_MASK");
 * assert.equal(event.error.closeCode, 1002);
 * assert.equal(decoder.next(), undefined); // failed for good
 * ```
 */
export class FrameDecoder {
  readonly #expectMask: boolean;
  readonly #maxFrameSize: number;

  // Received bytes not yet consumed: `#head` from `#offset` on, then the `#tail` chunks.
  // The head sits in its own field because nearly always it is the only chunk.
  #head: Uint8Array = EMPTY;
  #offset = 0;
  readonly #tail = new ChunkQueue();
  #buffered = 0;

  #state: ParserState = "header";
  // The header fields of the frame being decoded.
  #fin = false;
  #rsv1 = false;
  #rsv2 = false;
  #rsv3 = false;
  #opcode = 0;
  #masked = false;
  #payloadLength = 0;
  #k0 = 0;
  #k1 = 0;
  #k2 = 0;
  #k3 = 0;

  /** Where `#read` made its bytes readable: `#src[#at ..]` (a chunk, or `#scratch`). */
  #src: Uint8Array = EMPTY;
  #at = 0;
  /** Gathers header fields that span chunks (8 bytes: the longest field, a 64-bit length). */
  readonly #scratch = new Uint8Array(8);
  /** The chunk `receive` took last, for `peekPayload`. */
  #last: Uint8Array = EMPTY;
  /** Payload bytes of the frame in progress `peekPayload` handed out; -1: no more for it. */
  #peeked = 0;

  /**
   * Creates a decoder for one connection.
   *
   * @param options The role (decides masking) and the frame size limit.
   * @throws {TypeError} If `role` is neither "server" nor "client".
   * @throws {RangeError} If `maxFrameSize` is not a non-negative safe integer.
   */
  constructor(options: FrameDecoderOptions) {
    const role = options?.role;
    if (role !== "server" && role !== "client") {
      throw new TypeError(`Cannot create FrameDecoder: role must be "server" or "client"`);
    }
    const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    if (!Number.isSafeInteger(maxFrameSize) || maxFrameSize < 0) {
      throw new RangeError(
        `Cannot create FrameDecoder: maxFrameSize must be a non-negative integer, got ${maxFrameSize}`,
      );
    }
    // RFC 6455 §5.1: a server MUST close on an unmasked frame; a client on a masked one.
    this.#expectMask = role === "server";
    this.#maxFrameSize = maxFrameSize;
  }

  /**
   * Bytes received but not yet consumed: a partial header, or the payload received so far of
   * a frame not yet complete, plus anything after it. An adapter can stop reading while this is
   * high. Zero once the decoder has failed.
   */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  /**
   * Adds received bytes. The decoder takes ownership of `chunk`: masked payloads are unmasked
   * in place and frames may be views into it, so the caller must not reuse or change it (a
   * read loop must read into a fresh buffer each time). Ignored once the decoder has failed.
   * A chunk under 1 KiB arriving while bytes are buffered is copied rather than kept.
   *
   * @param chunk The bytes that arrived.
   * @throws {TypeError} If `chunk` is not a Uint8Array.
   */
  receive(chunk: Uint8Array): void {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("Cannot receive: the chunk must be a Uint8Array");
    }
    if (this.#state === "failed" || chunk.length === 0) return;
    this.#last = chunk;
    if (this.#buffered === 0) {
      this.#head = chunk;
      this.#offset = 0;
    } else {
      this.#tail.push(chunk);
    }
    this.#buffered += chunk.length;
  }

  /**
   * Decodes the next frame from the bytes received so far.
   *
   * @returns A `frame` event, an `error` event (once; the decoder is failed afterwards), or
   * `undefined` when more bytes are needed or the decoder has failed.
   */
  next(): FrameDecoderEvent | undefined {
    for (;;) {
      switch (this.#state) {
        case "header": {
          if (!this.#read(2)) return undefined;
          const b0 = this.#src[this.#at]!;
          const b1 = this.#src[this.#at + 1]!;
          const opcode = b0 & 0x0f;
          const fin = (b0 & 0x80) !== 0;
          // RFC 6455 §5.2: an unknown opcode MUST fail the connection
          if ((opcode > 0x2 && opcode < 0x8) || opcode > 0xa) {
            return this.#fail(
              "WS_ERR_RESERVED_OPCODE",
              CLOSE_PROTOCOL_ERROR,
              `Cannot decode frame: opcode 0x${opcode.toString(16)} is reserved`,
            );
          }
          // RFC 6455 §5.5: control frames MUST NOT be fragmented
          if (opcode >= 0x8 && !fin) {
            return this.#fail(
              "WS_ERR_CONTROL_FRAGMENTED",
              CLOSE_PROTOCOL_ERROR,
              `Cannot decode frame: control frame 0x${opcode.toString(16)} has FIN unset`,
            );
          }
          const masked = (b1 & 0x80) !== 0;
          if (masked !== this.#expectMask) {
            // RFC 6455 §5.1: a server MUST close on an unmasked frame, a client on a masked one
            return masked
              ? this.#fail(
                "WS_ERR_UNEXPECTED_MASK",
                CLOSE_PROTOCOL_ERROR,
                "Cannot decode frame: a server frame must not be masked",
              )
              : this.#fail(
                "WS_ERR_EXPECTED_MASK",
                CLOSE_PROTOCOL_ERROR,
                "Cannot decode frame: a client frame must be masked",
              );
          }
          this.#fin = fin;
          this.#rsv1 = (b0 & 0x40) !== 0;
          this.#rsv2 = (b0 & 0x20) !== 0;
          this.#rsv3 = (b0 & 0x10) !== 0;
          this.#opcode = opcode;
          this.#masked = masked;
          const length = b1 & 0x7f;
          if (length === PAYLOAD_LENGTH_16) {
            this.#state = "extended-length-16";
          } else if (length === PAYLOAD_LENGTH_64) {
            this.#state = "extended-length-64";
          } else {
            const error = this.#setLength(length);
            if (error !== undefined) return error;
          }
          break;
        }
        case "extended-length-16": {
          if (!this.#read(2)) return undefined;
          const error = this.#setLength((this.#src[this.#at]! << 8) | this.#src[this.#at + 1]!);
          if (error !== undefined) return error;
          break;
        }
        case "extended-length-64": {
          if (!this.#read(8)) return undefined;
          const src = this.#src;
          const at = this.#at;
          // RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0
          if ((src[at]! & 0x80) !== 0) {
            return this.#fail(
              "WS_ERR_INVALID_LENGTH",
              CLOSE_PROTOCOL_ERROR,
              "Cannot decode frame: the 64-bit payload length has its most significant bit set",
            );
          }
          const high = ((src[at]! << 24) | (src[at + 1]! << 16) | (src[at + 2]! << 8) |
            src[at + 3]!) >>> 0;
          const low = ((src[at + 4]! << 24) | (src[at + 5]! << 16) | (src[at + 6]! << 8) |
            src[at + 7]!) >>> 0;
          // Past 2^53 the sum is inexact, but then it is far above any allowed maxFrameSize.
          const error = this.#setLength(high * 0x100000000 + low);
          if (error !== undefined) return error;
          break;
        }
        case "mask-key": {
          if (!this.#read(MASK_KEY_LENGTH)) return undefined;
          const src = this.#src;
          const at = this.#at;
          this.#k0 = src[at]!;
          this.#k1 = src[at + 1]!;
          this.#k2 = src[at + 2]!;
          this.#k3 = src[at + 3]!;
          this.#state = "payload";
          break;
        }
        case "payload": {
          const length = this.#payloadLength;
          if (this.#buffered < length) return undefined;
          const payload = this.#takePayload(length);
          this.#state = "header";
          return {
            type: "frame",
            frame: {
              fin: this.#fin,
              rsv1: this.#rsv1,
              rsv2: this.#rsv2,
              rsv3: this.#rsv3,
              opcode: this.#opcode,
              payload,
            },
          };
        }
        case "failed":
          return undefined;
      }
    }
  }

  /**
   * The frame whose payload is arriving but not complete: its first header byte without FIN
   * (RSV1-3 in bits 6-4, the opcode in bits 3-0), so a text frame without RSV bits is `0x1`.
   * -1 while no payload is in progress (a header is, or nothing). Tells whether to
   * {@linkcode FrameDecoder.peekPayload}.
   */
  get payloadInProgress(): number {
    if (this.#state !== "payload" || this.#buffered >= this.#payloadLength) return -1;
    return (this.#rsv1 ? 0x40 : 0) | (this.#rsv2 ? 0x20 : 0) | (this.#rsv3 ? 0x10 : 0) |
      this.#opcode;
  }

  /**
   * The payload bytes of a frame still arriving that came with the last
   * {@linkcode FrameDecoder.receive}, unmasked into a copy, so a connection can check the start
   * of a long text frame (RFC 6455 §8.1: fail as soon as the text is invalid) before all of it
   * is here. Call it after {@linkcode FrameDecoder.next} returned `undefined`; the frame itself
   * is still returned whole by `next` later. Results for one frame are contiguous from its first
   * payload byte: when bytes were received that no call handed out (two `receive` calls between
   * calls), none more are for that frame.
   *
   * @returns The new bytes, or `undefined` when no payload is in progress or nothing new is.
   */
  peekPayload(): PartialPayload | undefined {
    const last = this.#last;
    this.#last = EMPTY;
    // Every buffered byte belongs to the payload in progress: `next` consumed the header.
    const buffered = this.#buffered;
    if (this.#state !== "payload" || this.#peeked < 0 || buffered >= this.#payloadLength) {
      return undefined;
    }
    const n = Math.min(last.length, buffered);
    if (n === 0) return undefined;
    const offset = buffered - n;
    if (offset !== this.#peeked) {
      this.#peeked = -1;
      return undefined;
    }
    this.#peeked = buffered;
    const bytes = last.slice(last.length - n);
    if (this.#masked) {
      // Payload byte i takes key byte i mod 4: start the key at `offset`.
      const k = [this.#k0, this.#k1, this.#k2, this.#k3];
      xorRange(
        bytes,
        0,
        n,
        k[offset & 3]!,
        k[(offset + 1) & 3]!,
        k[(offset + 2) & 3]!,
        k[(offset + 3) & 3]!,
      );
    }
    return { offset, bytes };
  }

  /** Records the payload length and moves on, or fails if the frame is too big. */
  #setLength(length: number): FrameDecoderEvent | undefined {
    // RFC 6455 §5.5: all control frames MUST have a payload length of 125 bytes or less
    if (this.#opcode >= 0x8 && length > MAX_CONTROL_PAYLOAD) {
      return this.#fail(
        "WS_ERR_CONTROL_TOO_BIG",
        CLOSE_PROTOCOL_ERROR,
        `Cannot decode frame: control frame payload of ${length} bytes exceeds ${MAX_CONTROL_PAYLOAD}`,
      );
    }
    if (length > this.#maxFrameSize) {
      return this.#fail(
        "WS_ERR_FRAME_TOO_BIG",
        CLOSE_MESSAGE_TOO_BIG,
        `Cannot decode frame: payload of ${length} bytes exceeds the ${this.#maxFrameSize}-byte limit`,
      );
    }
    this.#payloadLength = length;
    this.#peeked = 0;
    this.#state = this.#masked ? "mask-key" : "payload";
    return undefined;
  }

  /**
   * Consumes `n` (at most 8) buffered bytes and makes them readable at `#src[#at ..]`: in
   * place when they lie in the first chunk, else gathered into `#scratch`. Returns false,
   * consuming nothing, when fewer than `n` bytes are buffered.
   */
  #read(n: number): boolean {
    if (this.#buffered < n) return false;
    this.#buffered -= n;
    const head = this.#head;
    const offset = this.#offset;
    const available = head.length - offset;
    if (available >= n) {
      this.#src = head;
      this.#at = offset;
      this.#offset = offset + n;
      if (available === n) this.#nextChunk();
      return true;
    }
    const scratch = this.#scratch;
    for (let filled = 0; filled < n;) {
      const c = this.#head;
      let o = this.#offset;
      while (o < c.length && filled < n) scratch[filled++] = c[o++]!;
      this.#offset = o;
      if (o === c.length) this.#nextChunk();
    }
    this.#src = scratch;
    this.#at = 0;
    return true;
  }

  /**
   * Consumes `length` buffered bytes (all present) as one payload, unmasked (RFC 6455 §5.3:
   * byte i with key byte i mod 4): a view of the chunk unmasked in place, or one buffer.
   */
  #takePayload(length: number): Uint8Array {
    this.#buffered -= length;
    const head = this.#head;
    const offset = this.#offset;
    const available = head.length - offset;
    if (available >= length) {
      // Zero-copy: the whole payload is inside one chunk.
      this.#offset = offset + length;
      if (available === length) this.#nextChunk();
      const view = head.subarray(offset, offset + length);
      if (this.#masked) xorRange(view, 0, length, this.#k0, this.#k1, this.#k2, this.#k3);
      return view;
    }
    // The payload spans chunks: gather the pieces into a buffer of the exact size. A masked
    // one of SIMD_THRESHOLD bytes or more is gathered through the SIMD kernel's scratch block
    // and unmasked there, a block at a time (two copies and a SIMD pass: cheaper than one copy
    // and the word loop); a shorter one is copied, then unmasked by the word loop.
    const payload = new Uint8Array(length);
    const gather = this.#masked && length >= SIMD_THRESHOLD &&
      gatherStart(payload, this.#k0, this.#k1, this.#k2, this.#k3);
    let filled = 0;
    while (filled < length) {
      const c = this.#head;
      const o = this.#offset;
      const take = Math.min(c.length - o, length - filled);
      const piece = o === 0 && take === c.length ? c : c.subarray(o, o + take);
      if (gather) gatherPush(piece);
      else payload.set(piece, filled);
      filled += take;
      this.#offset = o + take;
      if (o + take === c.length) this.#nextChunk();
    }
    if (gather) gatherEnd();
    else if (this.#masked) xorRange(payload, 0, length, this.#k0, this.#k1, this.#k2, this.#k3);
    return payload;
  }

  /** Moves on to the next received chunk once the head is used up. */
  #nextChunk(): void {
    this.#head = this.#tail.shift() ?? EMPTY;
    this.#offset = 0;
  }

  #fail(code: ProtocolErrorCode, closeCode: number, message: string): FrameDecoderEvent {
    this.#state = "failed";
    this.#last = EMPTY;
    // Drop what is buffered: nothing after a protocol error will be decoded.
    this.#head = EMPTY;
    this.#tail.clear();
    this.#offset = 0;
    this.#buffered = 0;
    return { type: "error", error: protocolError(code, closeCode, message) };
  }
}
