// Shared fixtures for the WebSocketConnection tests: a hand-written frame builder (it can set
// RSV2/RSV3 and any opcode, which the encoder under test refuses), hex helpers, and a way to
// read back what a connection queued.
import assert from "node:assert/strict";
import {
  type ConnectionCloseEvent,
  type ConnectionEvent,
  WebSocketConnection,
  type WebSocketConnectionOptions,
} from "../../lib/websocket/connection.ts";
import type { Frame, Role } from "../../lib/websocket/frame.ts";
import { FrameDecoder } from "../../lib/websocket/frame_decoder.ts";
import { mask } from "../../lib/websocket/mask.ts";
import { seededRandom } from "../_random.ts";

/** The masking key of the RFC 6455 §5.7 examples. */
export const KEY: Uint8Array = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

const encoder = new TextEncoder();

/** Bytes from hex, spaces allowed: `hex("81 05 48")`. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  assert.equal(digits.length % 2, 0, `odd hex string: ${text}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lowercase hex without spaces. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Header bits and masking of a hand-built frame. */
export interface FrameSpec {
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** Mask with {@link KEY}; default true (what a server receives). */
  masked?: boolean;
}

/** Builds one frame's wire bytes. Strings are UTF-8 encoded. */
export function frame(opcode: number, payload: Uint8Array | string = "", spec: FrameSpec = {}) {
  const data = typeof payload === "string" ? utf8(payload) : payload;
  const { fin = true, rsv1 = false, rsv2 = false, rsv3 = false, masked = true } = spec;
  const n = data.length;
  const lengthBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const header = 2 + lengthBytes + (masked ? 4 : 0);
  const out = new Uint8Array(header + n);
  out[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (rsv2 ? 0x20 : 0) | (rsv3 ? 0x10 : 0) | opcode;
  out[1] = (masked ? 0x80 : 0) | (n < 126 ? n : n < 65536 ? 126 : 127);
  if (lengthBytes === 2) {
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else if (lengthBytes === 8) {
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
  }
  out.set(data, header);
  if (masked) {
    out.set(KEY, header - 4);
    mask(out.subarray(header), KEY);
  }
  return out;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** A connection in state "open"; a server unless `role` says otherwise. */
export function connection(
  options: Partial<WebSocketConnectionOptions> = {},
): WebSocketConnection {
  return new WebSocketConnection({ role: "server", ...options });
}

/** Every event available now. */
export function drain(conn: WebSocketConnection): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  for (let e = conn.nextEvent(); e !== undefined; e = conn.nextEvent()) events.push(e);
  return events;
}

/** Feeds each chunk (a copy: the connection owns what it receives), draining after each. */
export function feed(conn: WebSocketConnection, ...chunks: Uint8Array[]): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  for (const chunk of chunks) {
    conn.receive(chunk.slice());
    events.push(...drain(conn));
  }
  return events;
}

/** Feeds `bytes` split in two at `at`. */
export function feedSplit(conn: WebSocketConnection, bytes: Uint8Array, at: number) {
  return feed(conn, bytes.subarray(0, at), bytes.subarray(at));
}

/** Feeds `bytes` in pieces of `size` bytes. */
export function feedChunked(
  conn: WebSocketConnection,
  bytes: Uint8Array,
  size: number,
): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    events.push(...feed(conn, bytes.subarray(i, i + size)));
  }
  return events;
}

/** Decodes bytes that a `sender` queued, as its peer would; fails on any error or leftover. */
export function decodeSent(sender: Role, chunks: Uint8Array[]): Frame[] {
  const decoder = new FrameDecoder({ role: sender === "server" ? "client" : "server" });
  for (const chunk of chunks) decoder.receive(chunk.slice());
  const frames: Frame[] = [];
  for (let e = decoder.next(); e !== undefined; e = decoder.next()) {
    if (e.type === "error") assert.fail(`queued bytes do not parse: ${e.error.message}`);
    frames.push(e.frame);
  }
  assert.equal(decoder.bufferedAmount, 0, "a partial frame was queued");
  return frames;
}

/** Takes and decodes what the connection queued. */
export function sentFrames(conn: WebSocketConnection): Frame[] {
  return decodeSent(conn.role, conn.takeOutgoing());
}

/** The status code of a close frame payload (1005 when empty). */
export function closeCodeOf(payload: Uint8Array): number {
  return payload.length === 0 ? 1005 : (payload[0]! << 8) | payload[1]!;
}

/** Asserts the last event failed the connection with `closeCode`/`errorCode` and that
 * exactly one close frame with that code was queued (after `before` other frames). */
export function assertFailed(
  conn: WebSocketConnection,
  events: ConnectionEvent[],
  closeCode: number,
  errorCode: string,
): ConnectionCloseEvent {
  const last = events.at(-1);
  assert.equal(last?.type, "close", `expected a close event, got ${JSON.stringify(events)}`);
  const close = last as ConnectionCloseEvent;
  assert.equal(close.error?.code, errorCode);
  assert.equal(close.code, closeCode);
  assert.equal(close.wasClean, false);
  assert.equal(close.initiator, "local");
  assert.equal(conn.state, "closed");
  const frames = sentFrames(conn);
  const closes = frames.filter((f) => f.opcode === 0x8);
  assert.equal(closes.length, 1);
  assert.equal(frames.at(-1)!.opcode, 0x8, "the close frame is the last frame queued");
  assert.equal(closeCodeOf(closes[0]!.payload), closeCode);
  assert.equal(conn.nextEvent(), undefined);
  return close;
}

/** The data of text events (uncompressed), in order. */
export function texts(events: ConnectionEvent[]): string[] {
  return events.flatMap((e) => e.type === "text" && !e.compressed ? [e.data] : []);
}

/** A seeded PRNG (mulberry32) in [0, 1): a failure replays the same input. */
export const seeded: (seed: number) => () => number = seededRandom;
