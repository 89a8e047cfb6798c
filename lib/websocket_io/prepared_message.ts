/**
 * A message serialized once and sent to many sessions: the broadcast building block.
 *
 * @module
 */
import { WebSocketConnection } from "../websocket/connection.ts";

const encoder = new TextEncoder();

/**
 * One text or binary message, framed at most once however many sessions it goes to.
 * Server sessions queue {@linkcode PreparedMessage.frame} as it is (no copy, no new frame);
 * client sessions, which must mask every frame with a fresh key, and adapter sessions send
 * {@linkcode PreparedMessage.data} instead.
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
  #frame: Uint8Array | undefined;

  /**
   * Prepares a message; the frame is built on first use.
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
    return this.frame.length - headerLength(this.frame);
  }

  /** The complete unmasked frame, serialized on first use and cached. */
  get frame(): Uint8Array {
    this.#frame ??= WebSocketConnection.encodeMessage(
      this.type === "text" ? 0x1 : 0x2,
      typeof this.data === "string" ? encoder.encode(this.data) : this.data,
    );
    return this.#frame;
  }
}

function headerLength(frame: Uint8Array): number {
  const length = frame[1]! & 0x7f;
  return length < 126 ? 2 : length === 126 ? 4 : 10;
}
