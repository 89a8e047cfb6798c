/**
 * Encodes one server-sent event to UTF-8 bytes, refusing any field that could forge another
 * event.
 *
 * @module
 */

/** One message of an event stream, as the server side writes it. Every field is optional. */
export interface ServerSentEvent {
  /** The payload. Each line (CR, LF or CRLF separated) becomes its own `data:` line. */
  readonly data?: string;
  /** The event type (`event:`); the client dispatches `message` when absent. No CR, LF or NUL. */
  readonly event?: string;
  /** The event id (`id:`); an empty string resets the client's last event id. No CR, LF or NUL. */
  readonly id?: string;
  /** The client's reconnection time in ms (`retry:`); a non-negative integer. */
  readonly retry?: number;
  /** A comment (`:` lines), ignored by clients; each line of it becomes its own `:` line. */
  readonly comment?: string;
}

const encoder = new TextEncoder();
/**
 * Events are written into a shared slab and handed out as views of it, as Node's `Buffer` pool
 * does: allocating an `ArrayBuffer` per event costs more than encoding a typical one.
 */
const POOL_SIZE = 16 * 1024;
/** A slab with less room than this left is replaced before the next event. */
const MIN_FREE = 512;
/** Strings shorter than this are written by a JS loop (no native call); longer ones by `encodeInto`. */
const INLINE_LIMIT = 64;

// Field prefixes as byte arrays, written once per line.
const DATA = new Uint8Array([0x64, 0x61, 0x74, 0x61, 0x3a]); // "data:"
const EVENT = new Uint8Array([0x65, 0x76, 0x65, 0x6e, 0x74, 0x3a]); // "event:"
const ID = new Uint8Array([0x69, 0x64, 0x3a]); // "id:"
const RETRY = new Uint8Array([0x72, 0x65, 0x74, 0x72, 0x79, 0x3a]); // "retry:"
const COMMENT = new Uint8Array(0); // ":" alone

// The event is written straight into the slab and never built as a string.
let pool = new Uint8Array(POOL_SIZE);
/** Bytes of `pool` already handed out. */
let used = 0;
/** Where the event being encoded starts in `pool`. */
let start = 0;
/** Where the next byte goes in `pool`. */
let pos = 0;

/** The shared slab set aside while one large event has a buffer of its own, and its fill. */
let parked: Uint8Array<ArrayBuffer> | undefined;
let parkedUsed = 0;

function reserve(bytes: number): void {
  if (pos + bytes <= pool.length) return;
  // The event does not fit: move what it has so far into a fresh buffer. One that outgrows a
  // standard slab is the event's own; the shared slab is parked and reused after it.
  const written = pos - start;
  const size = written + bytes;
  if (size > POOL_SIZE && parked === undefined && pool.length === POOL_SIZE) {
    parked = pool;
    parkedUsed = start;
  }
  const fresh = new Uint8Array(Math.max(POOL_SIZE, size));
  fresh.set(pool.subarray(start, pos));
  pool = fresh;
  used = 0;
  start = 0;
  pos = written;
}

/** Writes `text` as UTF-8 at `pos` (lone surrogates become U+FFFD, as TextEncoder). */
function writeText(text: string): void {
  let rest = text;
  if (text.length < INLINE_LIMIT) {
    reserve(text.length * 3);
    const buf = pool;
    let i = 0;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) break;
      buf[pos++] = c;
    }
    if (i === text.length) return;
    rest = text.slice(i);
  }
  // Encode into the room left and grow only when it runs out: no worst-case (3 bytes per
  // code unit) reservation up front, so most events stay in the shared slab. A text longer
  // than the room gets room for mostly one-byte characters (JSON, ASCII) first.
  if (rest.length > pool.length - pos) reserve(rest.length + (rest.length >>> 3) + 16);
  while (true) {
    const { read, written } = encoder.encodeInto(rest, pool.subarray(pos));
    pos += written;
    if (read === rest.length) return;
    rest = rest.slice(read);
    reserve(rest.length * 3);
  }
}

/** Writes one `name: value` line. */
function writeLine(name: Uint8Array, value: string): void {
  reserve(name.length + 2);
  const buf = pool;
  if (name.length === 0) buf[pos++] = 0x3a; // a comment line starts with ":"
  else for (let i = 0; i < name.length; i++) buf[pos++] = name[i]!;
  // WHATWG HTML §9.2.6: exactly one leading space is removed from a value, so a value that
  // itself starts with a space survives the round trip.
  buf[pos++] = 0x20;
  writeText(value);
  reserve(1);
  pool[pos++] = 0x0a; // LF-only line endings
}

// WHATWG HTML §9.2.5: CRLF, a lone LF and a lone CR all end a line, so each must start a new
// field line here: a value can never carry a line break onto the wire.
const LINE_BREAK = /\r\n|\r|\n/g;

/** Writes one line per line of `text`, splitting on CRLF, CR and LF alike. */
function writeLines(name: Uint8Array, separator: string, text: string): void {
  if (text.indexOf("\n") === -1 && text.indexOf("\r") === -1) {
    writeLine(name, text);
    return;
  }
  // One native replace and one encode beat a native call per line.
  const joined = text.replace(LINE_BREAK, separator);
  writeLine(name, joined);
}

/** True when `value` holds CR, LF or NUL. */
function hasForbiddenChar(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0a || c === 0x0d || c === 0x00) return true;
  }
  return false;
}

function checkSingleLine(field: "event" | "id", value: unknown): string {
  if (typeof value !== "string") {
    throw new TypeError(`Cannot encode event: "${field}" must be a string, got ${typeof value}`);
  }
  if (hasForbiddenChar(value)) {
    throw new TypeError(
      `Cannot encode event: "${field}" must not contain CR, LF or NUL, got ${
        JSON.stringify(value)
      }`,
    );
  }
  return value;
}

/**
 * Encodes one event as UTF-8 bytes in the `text/event-stream` format (WHATWG HTML §9.2.5),
 * ending with the blank line that dispatches it. Lines end with LF only; multi-line `data` and
 * `comment` become several lines. Fields are written in the order comment, retry, id, event,
 * data.
 *
 * A message can never forge another event: `event` or `id` holding CR, LF or NUL throws a
 * `TypeError`; `retry` that is not a non-negative safe integer throws a `RangeError`. `data` and
 * `comment` are split on every line break instead. An event with no `data` dispatches nothing
 * on the client (an `id` alone still sets its last event id).
 *
 * @param event The message to encode.
 * @returns The bytes (encode once, write to every subscriber). Small events are views into a
 *   shared 16 KiB slab, as Node's `Buffer` pool: read them, write them, `slice()` them to keep a
 *   private copy, but do not transfer or detach their `buffer`.
 * @throws {TypeError} When `event` or `id` contains CR, LF or NUL, or a field has the wrong type.
 * @throws {RangeError} When `retry` is not a non-negative integer.
 *
 * @example Encode a named event with two lines of data
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeServerSentEvent } from "./encoder.ts";
 * const bytes = encodeServerSentEvent({ id: "7", event: "price", data: "a\nb" });
 * assert.equal(new TextDecoder().decode(bytes), "id: 7\nevent: price\ndata: a\ndata: b\n\n");
 * ```
 *
 * @example A newline in an event name is refused
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeServerSentEvent } from "./encoder.ts";
 * let refused = false;
 * try {
 *   encodeServerSentEvent({ event: "x\ndata: forged", data: "" });
 * } catch (error) {
 *   refused = error instanceof TypeError;
 * }
 * assert(refused);
 * ```
 */
export function encodeServerSentEvent(event: ServerSentEvent): Uint8Array {
  const { data, event: type, id, retry, comment } = event;
  // Validate everything before writing anything, so a refused event leaves no partial output.
  if (type !== undefined) checkSingleLine("event", type);
  if (id !== undefined) checkSingleLine("id", id);
  if (retry !== undefined && !(Number.isSafeInteger(retry) && retry >= 0)) {
    throw new RangeError(
      `Cannot encode event: "retry" must be a non-negative integer, got ${String(retry)}`,
    );
  }
  if (data !== undefined && typeof data !== "string") {
    throw new TypeError(`Cannot encode event: "data" must be a string, got ${typeof data}`);
  }
  if (comment !== undefined && typeof comment !== "string") {
    throw new TypeError(`Cannot encode event: "comment" must be a string, got ${typeof comment}`);
  }

  if (pool.length - used < MIN_FREE) {
    pool = new Uint8Array(POOL_SIZE);
    used = 0;
  }
  start = used;
  pos = used;
  if (comment !== undefined) writeLines(COMMENT, "\n: ", comment);
  if (retry !== undefined) {
    const digits = String(retry);
    writeLine(RETRY, digits);
  }
  if (id !== undefined) writeLine(ID, id);
  if (type !== undefined) writeLine(EVENT, type);
  if (data !== undefined) writeLines(DATA, "\ndata: ", data);
  reserve(1);
  pool[pos++] = 0x0a; // the blank line that dispatches the event

  if (pool.length > POOL_SIZE) {
    // A large event got a buffer of its own: hand it out, copied to its exact size only when
    // over a quarter of that buffer would be slack kept alive with it.
    const out = pos - start >= pool.length * 0.75
      ? pool.subarray(start, pos)
      : pool.slice(start, pos);
    pool = parked ?? new Uint8Array(POOL_SIZE);
    used = parked === undefined ? 0 : parkedUsed;
    parked = undefined;
    return out;
  }
  const out = pool.subarray(start, pos);
  used = (pos + 7) & ~7; // keep views 8-byte aligned
  return out;
}
