/**
 * The per-connection permessage-deflate codec (RFC 7692 §6, §7.2): compresses outgoing
 * messages and inflates incoming ones for the agreement reached by `permessage_deflate.ts`.
 * Built on `node:zlib` raw deflate with a sync flush; no sockets, no timers.
 *
 * Each direction runs in one of two modes, fixed by the agreement:
 *
 * - **No context takeover** (the server's default): every message is (de)compressed from
 *   scratch by a one-shot synchronous zlib call; nothing is allocated while the connection
 *   is idle.
 * - **Context takeover**: a `node:zlib` stream keeps its LZ77 window between messages
 *   (better ratio on small, similar messages). The compressor's stream is freed by
 *   {@linkcode DeflateCodec.trim} after `compressorIdleMs` unused; the inflater's must live
 *   as long as the connection. Costs: docs/permessage-deflate.md.
 *
 * Each direction is one FIFO: at most one deflate job and one inflate job run at a time,
 * each in call order. The two directions may overlap: they share no zlib state, and
 * RFC 7692 only needs order within a direction.
 *
 * @module
 */
import {
  constants,
  createDeflateRaw,
  createInflateRaw,
  type DeflateRaw,
  deflateRawSync,
  type InflateRaw,
  inflateRawSync,
} from "node:zlib";
import {
  CLOSE_INVALID_PAYLOAD,
  CLOSE_MESSAGE_TOO_BIG,
  DEFAULT_MAX_MESSAGE_SIZE,
} from "./_constants.ts";
import {
  DEFLATE_TAIL,
  deflateOnStream,
  inflateOnStream,
  type InflateOutcome,
  joinChunks,
} from "./_deflate_stream.ts";
import type { Role } from "./frame.ts";
import type { DeflateParams, DeflateTuning } from "./permessage_deflate.ts";
import { type ProtocolError, protocolError } from "./protocol_error.ts";
import { decodeUtf8 } from "./utf8.ts";

/** Compression settings of {@linkcode deflateMessage} and {@linkcode DeflateCodec}. */
export interface DeflateSettings {
  /**
   * zlib compression level, 0 (store) to 9 (smallest).
   * @default {6}
   */
  readonly level?: number;
  /**
   * zlib memory level, 1–9: the size of the compressor's hash tables.
   * @default {8}
   */
  readonly memLevel?: number;
  /**
   * LZ77 window in bits, 8–15: at most the negotiated `*_max_window_bits`. zlib cannot
   * compress with 8 and uses 9; its matches still reach back at most 250 bytes
   * (2^9 − 262), so a peer inflating with a 256-byte window decodes them.
   * @default {15}
   */
  readonly windowBits?: number;
}

/** Options of {@linkcode DeflateCodec}: the agreement plus the tuning of the side's policy. */
export interface DeflateCodecOptions extends DeflateTuning {
  /** Which end this is: the server compresses with the `server_*` parameters. */
  readonly role: Role;
  /** The agreement from `negotiatePerMessageDeflate` or `acceptPerMessageDeflateResponse`. */
  readonly params: DeflateParams;
  /**
   * Largest inflated message accepted, in bytes; counted while inflating, so a
   * decompression bomb is stopped after at most this plus one output chunk (64 KiB, or
   * 16 KiB with context takeover).
   * @default {16777216} (16 MiB, the connection's default `maxMessageSize`)
   */
  readonly maxMessageSize?: number;
}

/** A message ready for `sendText`/`sendBinary`: pass `compressed` as the send option. */
export interface EncodedMessage {
  /** The payload: compressed (tail stripped) or the original bytes. */
  readonly data: Uint8Array;
  /** The payload is compressed: send it with RSV1 (`{ compressed: true }`). */
  readonly compressed: boolean;
}

/** What {@linkcode DeflateCodec.decompress} returns. */
export type DecompressResult =
  | { readonly ok: true; readonly data: Uint8Array }
  | { readonly ok: false; readonly error: ProtocolError };

/** An incoming message after {@linkcode DeflateCodec.decode}. */
export type DecodedMessage =
  | { readonly type: "text"; readonly data: string }
  | { readonly type: "binary"; readonly data: Uint8Array }
  | { readonly type: "error"; readonly error: ProtocolError };

const DEFAULT_LEVEL = 6;
const DEFAULT_MEM_LEVEL = 8;
const DEFAULT_THRESHOLD = 1024;
const DEFAULT_COMPRESSOR_IDLE_MS = 30_000;
/** One-shot inflate output chunk: the most a bomb makes us hold beyond the message limit. */
const INFLATE_CHUNK = 64 * 1024;
/** Output chunk of a long-lived stream: allocated for as long as the stream lives, so
 * smaller; it is also what a bomb makes us hold beyond the limit on that path. */
const STREAM_CHUNK = 16 * 1024;
const EMPTY = new Uint8Array(0);
/** RFC 7692 §7.2.3.6: an empty stored block without its tail, a valid empty message. */
const EMPTY_DEFLATED = new Uint8Array([0x00]);

/**
 * Compresses one message from scratch (no context takeover) and strips the trailing
 * `00 00 ff ff` (RFC 7692 §7.2.1). Synchronous, nothing kept: the result can be shared by
 * every connection whose agreement has `server_no_context_takeover` and a window at least
 * `windowBits` (a broadcast compressed once).
 *
 * @example The RFC 7692 §7.2.3.1 "Hello"
 * ```ts
 * import assert from "node:assert/strict";
 * import { deflateMessage } from "./deflate_codec.ts";
 * const payload = deflateMessage(new TextEncoder().encode("Hello"));
 * assert(payload.toHex() === "f248cdc9c90700");
 * ```
 *
 * @param data The message.
 * @param settings Level, memory level, window.
 * @returns The compressed payload (a single `00` for an empty message).
 * @throws {RangeError} If a setting is out of range.
 */
export function deflateMessage(data: Uint8Array, settings: DeflateSettings = {}): Uint8Array {
  const out = deflateRawSync(data, {
    ...zlibSettings(settings),
    finishFlush: constants.Z_SYNC_FLUSH,
  });
  return stripTail(out);
}

/**
 * One connection's permessage-deflate compressor and decompressor.
 *
 * Sending: pass every outgoing data message through {@linkcode encode} (it applies the
 * threshold) and send the result in the order the promises resolve, which is call order.
 * Receiving: pass every data event with `compressed: true` through {@linkcode decode}; an
 * `"error"` result carries the close code (1009 too big, 1007 corrupt or invalid UTF-8).
 * Call {@linkcode trim} now and then (it frees an idle compressor) and {@linkcode close}
 * when the connection ends.
 *
 * @example Round trip between a server and a client codec
 * ```ts
 * import assert from "node:assert/strict";
 * import { DeflateCodec } from "./deflate_codec.ts";
 * const params = {
 *   serverNoContextTakeover: false,
 *   clientNoContextTakeover: true,
 *   serverMaxWindowBits: 15,
 *   clientMaxWindowBits: 15,
 * };
 * const server = new DeflateCodec({ role: "server", params, threshold: 0 });
 * const client = new DeflateCodec({ role: "client", params });
 * const sent = await server.encode(new TextEncoder().encode("Hello"));
 * assert(sent.compressed && sent.data.toHex() === "f248cdc9c90700");
 * const again = await server.encode(new TextEncoder().encode("Hello"));
 * assert(again.data.toHex() === "f200110000"); // RFC 7692 §7.2.3.2: the window is shared
 * assert.deepEqual(await client.decode("text", sent.data), { type: "text", data: "Hello" });
 * assert.deepEqual(await client.decode("text", again.data), { type: "text", data: "Hello" });
 * server.close();
 * client.close();
 * ```
 */
export class DeflateCodec {
  /** Messages smaller than this are sent uncompressed by {@linkcode encode}. */
  readonly threshold: number;
  /** Outgoing messages share one LZ77 window (a long-lived zlib stream). */
  readonly compressContextTakeover: boolean;
  /** Incoming messages share one LZ77 window (a long-lived zlib stream). */
  readonly decompressContextTakeover: boolean;
  /**
   * The settings this connection compresses with when it keeps no window between
   * messages, else `undefined`. A broadcast compressed once with {@linkcode deflateMessage}
   * and these settings is a valid payload for every connection reporting equal settings.
   */
  readonly sharedSettings: Required<DeflateSettings> | undefined;
  /**
   * Milliseconds without an outgoing message after which {@linkcode trim} frees the
   * compressor's stream (context takeover only); `0` never.
   */
  readonly compressorIdleMs: number;
  readonly #deflateSettings: { level: number; memLevel: number; windowBits: number };
  readonly #inflateWindowBits: number;
  readonly #maxMessageSize: number;
  #deflateStream: DeflateRaw | undefined;
  #inflateStream: InflateRaw | undefined;
  /** Set once the inflate stream failed (corrupt data or a bomb): it cannot go on. */
  #inflateFailed: ProtocolError | undefined;
  #sendTail: Promise<unknown> = Promise.resolve();
  #receiveTail: Promise<unknown> = Promise.resolve();
  #pending = 0;
  #pendingSends = 0;
  /** The compressor stream ran a job since the last {@linkcode trim}. */
  #compressorUsed = false;
  /** When {@linkcode trim} first saw the compressor unused. */
  #compressorIdleSince = 0;
  #closed = false;

  /**
   * Creates the codec for one connection; long-lived zlib streams are created on first use.
   *
   * @param options Role, agreement, compression settings and limits.
   * @throws {RangeError} If a setting or limit is out of range.
   * @throws {TypeError} If `role` is not `"server"` or `"client"`.
   */
  constructor(options: DeflateCodecOptions) {
    const { role, params } = options;
    if (role !== "server" && role !== "client") {
      throw new TypeError(`Cannot create deflate codec: role must be "server" or "client"`);
    }
    const server = role === "server";
    this.compressContextTakeover = server
      ? !params.serverNoContextTakeover
      : !params.clientNoContextTakeover;
    this.decompressContextTakeover = server
      ? !params.clientNoContextTakeover
      : !params.serverNoContextTakeover;
    this.#deflateSettings = zlibSettings({
      level: options.level,
      memLevel: options.memLevel,
      windowBits: server ? params.serverMaxWindowBits : params.clientMaxWindowBits,
    });
    this.sharedSettings = this.compressContextTakeover ? undefined : { ...this.#deflateSettings };
    // A larger inflate window than the peer's always decodes its output; 9 instead of 8
    // also decodes zlib-based peers that silently compress with 9.
    this.#inflateWindowBits = Math.max(
      9,
      windowBits(server ? params.clientMaxWindowBits : params.serverMaxWindowBits),
    );
    const threshold = options.threshold ?? DEFAULT_THRESHOLD;
    if (!Number.isSafeInteger(threshold) || threshold < 0) {
      throw new RangeError(`Invalid threshold: ${threshold} is not a non-negative integer`);
    }
    this.threshold = threshold;
    const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    // node:zlib caps an output buffer at 2^32 bytes; no message limit is larger in practice.
    if (!Number.isSafeInteger(max) || max <= 0 || max > 2 ** 32) {
      throw new RangeError(`Invalid maxMessageSize: ${max} is not a positive integer`);
    }
    this.#maxMessageSize = max;
    const idle = options.compressorIdleMs ?? DEFAULT_COMPRESSOR_IDLE_MS;
    if (typeof idle !== "number" || !(idle >= 0) || !Number.isFinite(idle)) {
      throw new RangeError(`Invalid compressorIdleMs: ${idle} is not a non-negative finite number`);
    }
    this.compressorIdleMs = idle;
  }

  /** Jobs queued or running, both directions. */
  get pending(): number {
    return this.#pending;
  }

  /** Outgoing jobs queued or running: a message sent now waits for them. */
  get pendingSends(): number {
    return this.#pendingSends;
  }

  /** The compressor holds a zlib stream (context takeover, used and not trimmed). */
  get compressorAllocated(): boolean {
    return this.#deflateStream !== undefined;
  }

  /**
   * Prepares an outgoing data message: compressed when at least {@linkcode threshold}
   * bytes, otherwise as it is. Promises resolve in call order (one job at a time).
   *
   * @param data The message (UTF-8 bytes for text). Not modified; do not modify it until
   * the promise resolves.
   * @returns The payload and whether to set RSV1.
   * @throws {TypeError} After {@linkcode close}.
   */
  encode(data: Uint8Array): Promise<EncodedMessage> {
    this.#checkOpen("encode");
    if (data.length < this.threshold) {
      return this.#enqueueSend(() => ({ data, compressed: false }));
    }
    return this.#enqueueSend(async () => ({ data: await this.#compress(data), compressed: true }));
  }

  /**
   * Queues a message encoded elsewhere behind the outgoing jobs already queued, so it
   * keeps its place in the order: a broadcast compressed once by {@linkcode deflateMessage}
   * with {@linkcode sharedSettings}, or one sent uncompressed.
   *
   * @example A broadcast payload in line with this connection's own messages
   * ```ts
   * import assert from "node:assert/strict";
   * import { DeflateCodec, deflateMessage } from "./deflate_codec.ts";
   * const codec = new DeflateCodec({
   *   role: "server",
   *   params: {
   *     serverNoContextTakeover: true,
   *     clientNoContextTakeover: true,
   *     serverMaxWindowBits: 15,
   *     clientMaxWindowBits: 15,
   *   },
   *   threshold: 0,
   * });
   * const shared = deflateMessage(new TextEncoder().encode("tick"), codec.sharedSettings);
   * const order: string[] = [];
   * const own = codec.encode(new TextEncoder().encode("own")).then(() => order.push("own"));
   * const broadcast = codec.queueEncoded({ data: shared, compressed: true })
   *   .then(() => order.push("broadcast"));
   * await Promise.all([own, broadcast]);
   * assert.deepEqual(order, ["own", "broadcast"]);
   * ```
   *
   * @param message The payload and whether it is compressed.
   * @returns The same message, once every earlier outgoing job is done.
   * @throws {TypeError} After {@linkcode close}, or for a compressed payload on a codec
   * with outgoing context takeover: the peer's window would then hold bytes this
   * compressor never saw, and its next back-references would point at the wrong data.
   */
  queueEncoded(message: EncodedMessage): Promise<EncodedMessage> {
    this.#checkOpen("queue a message");
    if (message.compressed && this.compressContextTakeover) {
      throw new TypeError(
        "Cannot queue a message: a payload compressed elsewhere breaks context takeover",
      );
    }
    return this.#enqueueSend(() => message);
  }

  /**
   * Compresses an outgoing message whatever its size.
   *
   * @param data The message.
   * @returns The compressed payload, tail stripped (RFC 7692 §7.2.1).
   * @throws {TypeError} After {@linkcode close}.
   */
  compress(data: Uint8Array): Promise<Uint8Array> {
    this.#checkOpen("compress");
    return this.#enqueueSend(() => this.#compress(data));
  }

  /**
   * Inflates an incoming compressed payload (RFC 7692 §7.2.2), bounded by
   * `maxMessageSize` while inflating. Results come in call order.
   *
   * @param data The payload of a message received with RSV1, fragments joined.
   * @returns The message bytes, or the error to fail the connection with: 1009
   * (`WS_ERR_MESSAGE_TOO_BIG`) or 1007 (`WS_ERR_DECOMPRESSION`).
   * @throws {TypeError} After {@linkcode close}.
   */
  decompress(data: Uint8Array): Promise<DecompressResult> {
    this.#checkOpen("decompress");
    return this.#enqueueReceive(() => this.#decompress(data));
  }

  /**
   * Inflates a compressed data message and, for text, validates and decodes its UTF-8.
   *
   * @example Inflate the RFC 7692 §7.2.3.3 stored-block "Hello"
   * ```ts
   * import assert from "node:assert/strict";
   * import { DeflateCodec } from "./deflate_codec.ts";
   * const codec = new DeflateCodec({
   *   role: "server",
   *   params: {
   *     serverNoContextTakeover: true,
   *     clientNoContextTakeover: true,
   *     serverMaxWindowBits: 15,
   *     clientMaxWindowBits: 15,
   *   },
   * });
   * const message = await codec.decode("text", Uint8Array.fromHex("000500faff48656c6c6f00"));
   * assert.deepEqual(message, { type: "text", data: "Hello" });
   * ```
   *
   * @param type The event's type.
   * @param data The event's (compressed) data.
   * @returns The message, or the error to fail the connection with.
   * @throws {TypeError} After {@linkcode close}.
   */
  decode(type: "text" | "binary", data: Uint8Array): Promise<DecodedMessage> {
    this.#checkOpen("decode");
    return this.#enqueueReceive(async (): Promise<DecodedMessage> => {
      const result = await this.#decompress(data);
      if (!result.ok) return { type: "error", error: result.error };
      if (type === "binary") return { type: "binary", data: result.data };
      const text = decodeUtf8(result.data);
      if (text === undefined) {
        return {
          type: "error",
          // RFC 6455 §8.1: invalid UTF-8 in a text message fails the connection with 1007.
          error: protocolError(
            "WS_ERR_INVALID_UTF8",
            CLOSE_INVALID_PAYLOAD,
            "Cannot decode message: text is not valid UTF-8",
          ),
        };
      }
      return { type: "text", data: text };
    });
  }

  /**
   * Resolves once every job queued so far has finished (e.g. before a graceful close).
   *
   * @returns A promise that never rejects.
   */
  settled(): Promise<void> {
    return Promise.all([this.#sendTail, this.#receiveTail]).then(noop, noop);
  }

  /**
   * Frees the compressor's zlib stream once no outgoing message has been compressed for
   * {@linkcode compressorIdleMs}; the next message starts a new stream with an empty
   * window. Call it periodically with the current time (sessions do on their heartbeat):
   * idleness counts from the first call that finds the compressor unused, so the stream
   * is freed at most one call interval late. Without outgoing context takeover there is
   * nothing to free.
   *
   * RFC 7692 §7.1.1.1: takeover is what a compressor may use unless
   * `*_no_context_takeover` forbids it; the peer keeps its window and decodes a fresh
   * stream's output, whose back-references never reach before the fresh start.
   *
   * @example Idle for longer than `compressorIdleMs`: the stream is freed
   * ```ts
   * import assert from "node:assert/strict";
   * import { DeflateCodec } from "./deflate_codec.ts";
   * const codec = new DeflateCodec({
   *   role: "server",
   *   params: {
   *     serverNoContextTakeover: false,
   *     clientNoContextTakeover: true,
   *     serverMaxWindowBits: 15,
   *     clientMaxWindowBits: 15,
   *   },
   *   compressorIdleMs: 1000,
   * });
   * await codec.compress(new TextEncoder().encode("Hello"));
   * assert(!codec.trim(0)); // first look: unused from now on
   * assert(!codec.trim(999));
   * assert(codec.trim(1000));
   * assert(!codec.compressorAllocated);
   * codec.close();
   * ```
   *
   * @param now The current time in milliseconds (e.g. `Date.now()`).
   * @returns Whether the stream was freed by this call.
   */
  trim(now: number): boolean {
    const stream = this.#deflateStream;
    if (stream === undefined || this.compressorIdleMs === 0 || this.#closed) return false;
    if (this.#pendingSends > 0 || this.#compressorUsed) {
      this.#compressorUsed = false;
      this.#compressorIdleSince = now;
      return false;
    }
    if (now - this.#compressorIdleSince < this.compressorIdleMs) return false;
    // No outgoing job is queued or running: nothing can be writing to the stream.
    this.#deflateStream = undefined;
    stream.destroy();
    return true;
  }

  /**
   * Stops accepting jobs; the long-lived zlib streams are freed once the queued jobs are
   * done. Calling it again does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    void this.settled().then(() => {
      this.#deflateStream?.destroy();
      this.#inflateStream?.destroy();
      this.#deflateStream = undefined;
      this.#inflateStream = undefined;
    });
  }

  #checkOpen(action: string): void {
    if (this.#closed) throw new TypeError(`Cannot ${action}: the deflate codec is closed`);
  }

  #enqueueSend<T>(job: () => T | Promise<T>): Promise<T> {
    this.#pendingSends++;
    const result = this.#run(this.#sendTail, job).finally(() => {
      this.#pendingSends--;
    });
    this.#sendTail = result.then(noop, noop);
    return result;
  }

  #enqueueReceive<T>(job: () => T | Promise<T>): Promise<T> {
    const result = this.#run(this.#receiveTail, job);
    this.#receiveTail = result.then(noop, noop);
    return result;
  }

  #run<T>(tail: Promise<unknown>, job: () => T | Promise<T>): Promise<T> {
    this.#pending++;
    return tail.then(job).finally(() => {
      this.#pending--;
    });
  }

  async #compress(data: Uint8Array): Promise<Uint8Array> {
    if (!this.compressContextTakeover) {
      return stripTail(deflateRawSync(data, {
        ...this.#deflateSettings,
        finishFlush: constants.Z_SYNC_FLUSH,
      }));
    }
    let stream = this.#deflateStream;
    if (stream === undefined) {
      stream = this.#deflateStream = createDeflateRaw({
        ...this.#deflateSettings,
        chunkSize: STREAM_CHUNK,
      });
      // Errors are reported to the job that is running; a late one must not go uncaught.
      stream.on("error", noop);
    }
    this.#compressorUsed = true;
    return stripTail(await deflateOnStream(stream, data));
  }

  async #decompress(data: Uint8Array): Promise<DecompressResult> {
    if (this.#inflateFailed !== undefined) return { ok: false, error: this.#inflateFailed };
    // An empty payload is not a valid deflate stream once the tail is appended; accept it
    // as the empty message some peers mean by it.
    if (data.length === 0) return { ok: true, data: EMPTY };
    const limit = this.#maxMessageSize;
    let outcome: InflateOutcome;
    if (!this.decompressContextTakeover) {
      outcome = inflateOnce(data, this.#inflateWindowBits, limit);
    } else {
      let stream = this.#inflateStream;
      if (stream === undefined) {
        stream = this.#inflateStream = createInflateRaw({
          windowBits: this.#inflateWindowBits,
          chunkSize: STREAM_CHUNK,
        });
        // Errors are reported to the job that is running; a late one must not go uncaught.
        stream.on("error", noop);
      }
      outcome = await inflateOnStream(stream, data, limit);
      if (outcome.type !== "ok") this.#inflateStream = undefined;
    }
    switch (outcome.type) {
      case "ok":
        return { ok: true, data: outcome.data };
      case "too-big": {
        const error = protocolError(
          "WS_ERR_MESSAGE_TOO_BIG",
          CLOSE_MESSAGE_TOO_BIG,
          `Cannot decode message: it inflates past the ${limit}-byte message size limit`,
        );
        if (this.decompressContextTakeover) this.#inflateFailed = error;
        return { ok: false, error };
      }
      case "error": {
        // RFC 7692 §8: a payload that does not inflate fails the connection; 1007 as for
        // data inconsistent with the message type.
        const error = protocolError(
          "WS_ERR_DECOMPRESSION",
          CLOSE_INVALID_PAYLOAD,
          `Cannot decode message: the compressed payload is invalid (${outcome.message})`,
        );
        if (this.decompressContextTakeover) this.#inflateFailed = error;
        return { ok: false, error };
      }
    }
  }
}

/** One-shot inflate (no context takeover), stopped by zlib once past `limit`. */
function inflateOnce(data: Uint8Array, bits: number, limit: number): InflateOutcome {
  const input = joinChunks([data, DEFLATE_TAIL], data.length + DEFLATE_TAIL.length);
  try {
    const out = inflateRawSync(input, {
      windowBits: bits,
      finishFlush: constants.Z_SYNC_FLUSH,
      chunkSize: INFLATE_CHUNK,
      maxOutputLength: limit,
    });
    return { type: "ok", data: plain(out) };
  } catch (error) {
    if (
      error instanceof RangeError && (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE"
    ) {
      return { type: "too-big" };
    }
    return { type: "error", message: error instanceof Error ? error.message : String(error) };
  }
}

/** A `Buffer` from node:zlib as a plain `Uint8Array` view (no copy). */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** RFC 7692 §7.2.1: remove the 4 octets `00 00 ff ff` a sync flush ends with. */
function stripTail(out: Uint8Array): Uint8Array {
  const n = out.length;
  // A long-lived stream flushed again without input writes nothing at all; an empty
  // payload is not a valid message (with the tail appended it is a truncated block).
  if (n === 0) return EMPTY_DEFLATED;
  if (
    n >= 4 && out[n - 4] === 0x00 && out[n - 3] === 0x00 && out[n - 2] === 0xff &&
    out[n - 1] === 0xff
  ) {
    // RFC 7692 §7.2.3.6: an empty result stands for an empty stored block, sent as `00`.
    return n === 4 ? EMPTY_DEFLATED : plain(out.subarray(0, n - 4));
  }
  return plain(out);
}

function zlibSettings(
  settings: DeflateSettings,
): { level: number; memLevel: number; windowBits: number } {
  const level = settings.level ?? DEFAULT_LEVEL;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new RangeError(`Invalid level: ${level} is not an integer from 0 to 9`);
  }
  const memLevel = settings.memLevel ?? DEFAULT_MEM_LEVEL;
  if (!Number.isInteger(memLevel) || memLevel < 1 || memLevel > 9) {
    throw new RangeError(`Invalid memLevel: ${memLevel} is not an integer from 1 to 9`);
  }
  // zlib rejects (or silently raises) 8 for raw deflate: compress with 9 (see DeflateSettings).
  return { level, memLevel, windowBits: Math.max(9, windowBits(settings.windowBits ?? 15)) };
}

function windowBits(value: number): number {
  if (!Number.isInteger(value) || value < 8 || value > 15) {
    throw new RangeError(`Invalid windowBits: ${value} is not an integer from 8 to 15`);
  }
  return value;
}

function noop(): void {}
