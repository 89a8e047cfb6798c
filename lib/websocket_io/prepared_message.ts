/**
 * A message serialized once and sent to many sessions: the broadcast building block.
 *
 * @module
 */
import { WebSocketConnection } from "../websocket/connection.ts";
import { deflateMessage, type DeflateSettings } from "../websocket/deflate_codec.ts";

const encoder = new TextEncoder();

/**
 * Distinct compression settings cached per message. A server's policy fixes level and
 * memory level, so settings differ only by the window a peer asked for (9–15 once zlib's
 * 8 → 9 is applied): 7 at most.
 */
const MAX_COMPRESSED_FRAMES = 8;

/**
 * One text or binary message, framed at most once however many sessions it goes to, and
 * compressed at most once per compression setting. Server sessions queue
 * {@linkcode PreparedMessage.frame} (or {@linkcode PreparedMessage.compressedFrame} with
 * permessage-deflate) as it is: no copy, no new frame. Client sessions, which must mask
 * every frame with a fresh key, and adapter sessions send {@linkcode PreparedMessage.data}
 * instead.
 *
 * @example Frame once, send to every session of a group
 * ```ts
 * import assert from "node:assert/strict";
 * import { PreparedMessage } from "./prepared_message.ts";
 * const message = new PreparedMessage("tick");
 * assert.equal(message.type, "text");
 * assert.equal(message.frame, message.frame); // serialized once, then cached
 * assert.deepEqual([...message.frame], [0x81, 4, 0x74, 0x69, 0x63, 0x6b]);
 * ```
 */
export class PreparedMessage {
  /** `"text"` for a string, `"binary"` for bytes. */
  readonly type: "text" | "binary";
  /** The message as given. Do not modify bytes after preparing them. */
  readonly data: string | Uint8Array;
  #payload: Uint8Array | undefined;
  #frame: Uint8Array | undefined;
  #compressed: Map<string, Uint8Array> | undefined;

  /**
   * Prepares a message; the frames are built on first use.
   *
   * @param data A string (a text message) or bytes (a binary message).
   * @throws {TypeError} If `data` is neither a string nor a `Uint8Array`.
   */
  constructor(data: string | Uint8Array) {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError("Cannot prepare message: data must be a string or a Uint8Array");
    }
    this.type = typeof data === "string" ? "text" : "binary";
    this.data = data;
  }

  /** The payload size in bytes (UTF-8 for text). */
  get size(): number {
    return this.#bytes().length;
  }

  /** The complete unmasked frame, serialized on first use and cached. */
  get frame(): Uint8Array {
    if (this.#frame === undefined) {
      const frame = WebSocketConnection.encodeMessage(this.#opcode(), this.#bytes());
      this.#frame = frame;
      // The frame holds the UTF-8 too: keep one copy of a big text, not two.
      if (typeof this.data === "string") this.#payload = frame.subarray(headerLength(frame));
    }
    return this.#frame;
  }

  /**
   * The complete unmasked frame with the payload compressed from scratch (RFC 7692, RSV1
   * set), built once per distinct `settings` and cached. Valid for every connection whose
   * codec reports these settings as its `sharedSettings` (no outgoing context takeover).
   *
   * @example One compression for every connection with the same settings
   * ```ts
   * import assert from "node:assert/strict";
   * import { PreparedMessage } from "./prepared_message.ts";
   * const settings = { level: 6, memLevel: 8, windowBits: 15 };
   * const message = new PreparedMessage("Hello");
   * assert.equal(message.compressedFrame(settings), message.compressedFrame({ ...settings }));
   * // RFC 7692 §7.2.3.1: FIN + RSV1 + text, then the compressed "Hello"
   * assert.equal(message.compressedFrame(settings).toHex(), "c107f248cdc9c90700");
   * ```
   *
   * @param settings The level, memory level and window of the receiving connections.
   * @returns The frame.
   * @throws {RangeError} If a setting is out of range.
   */
  compressedFrame(settings: Required<DeflateSettings>): Uint8Array {
    const key = `${settings.level}/${settings.memLevel}/${settings.windowBits}`;
    const cache = this.#compressed ??= new Map();
    let frame = cache.get(key);
    if (frame === undefined) {
      frame = WebSocketConnection.encodeMessage(
        this.#opcode(),
        deflateMessage(this.#bytes(), settings),
        { compressed: true },
      );
      // Bounded: past the limit the frame is still right, just not kept.
      if (cache.size < MAX_COMPRESSED_FRAMES) cache.set(key, frame);
    }
    return frame;
  }

  #opcode(): number {
    return this.type === "text" ? 0x1 : 0x2;
  }

  #bytes(): Uint8Array {
    this.#payload ??= typeof this.data === "string" ? encoder.encode(this.data) : this.data;
    return this.#payload;
  }
}

function headerLength(frame: Uint8Array): number {
  const length = frame[1]! & 0x7f;
  return length < 126 ? 2 : length === 126 ? 4 : 10;
}
