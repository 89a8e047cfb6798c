/**
 * A small WHATWG `text/event-stream` parser for the client's fetch-based SSE transport (a
 * fetch stream sees every event name, sends no cookie-less surprises, and lets the client pick
 * its own reconnection). Pure: text in, events out.
 *
 * @module
 */

/** One dispatched event. */
export interface SseEvent {
  /** The event's `id:` (the stream's last event id when the event had none). */
  readonly id: string;
  /** The `event:` field; `"message"` when absent. */
  readonly event: string;
  /** The `data:` lines joined by `\n`. */
  readonly data: string;
  /** Whether this event carried an `id:` field of its own. */
  readonly hasId: boolean;
}

/**
 * Incremental parser; feed decoded text in any chunks.
 *
 * @example Parse two events split across chunks
 * ```ts
 * import assert from "node:assert/strict";
 * import { SseEventParser } from "./sse_event_parser.ts";
 * const parser = new SseEventParser();
 * assert.deepEqual(parser.feed("id: 1\ndata: a\n"), []);
 * assert.deepEqual(parser.feed("\n: heartbeat\r\nevent: reset\r\ndata: {}\r\n\r\n"), [
 *   { id: "1", event: "message", data: "a", hasId: true },
 *   { id: "1", event: "reset", data: "{}", hasId: false },
 * ]);
 * ```
 */
export class SseEventParser {
  /** Longest unfinished line or event kept, in UTF-16 code units. */
  readonly maxBufferLength: number;
  #buffer = "";
  #data: string[] = [];
  #event = "";
  #lastId = "";
  #hasId = false;
  #size = 0;
  #first = true;
  #pendingCr = false;

  /**
   * Creates the instance.
   *
   * @param maxBufferLength Longest line or event accepted. @default {16777216}
   */
  constructor(maxBufferLength = 16 * 1024 * 1024) {
    this.maxBufferLength = maxBufferLength;
  }

  /**
   * Parses `text` and returns the events it completes.
   *
   * @throws {RangeError} When a line or event exceeds `maxBufferLength`.
   */
  feed(text: string): SseEvent[] {
    if (this.#first && text.length > 0) {
      this.#first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // WHATWG: one leading BOM is skipped
    }
    if (this.#pendingCr && text.startsWith("\n")) text = text.slice(1); // the \n of a split \r\n
    this.#pendingCr = false;
    const out: SseEvent[] = [];
    let buffer = this.#buffer + text;
    let start = 0;
    for (;;) {
      const cr = buffer.indexOf("\r", start);
      const lf = buffer.indexOf("\n", start);
      if (cr === -1 && lf === -1) break;
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      this.#line(buffer.slice(start, end), out);
      if (buffer[end] === "\r") {
        if (end + 1 === buffer.length) {
          this.#pendingCr = true;
          start = end + 1;
          break;
        }
        start = buffer[end + 1] === "\n" ? end + 2 : end + 1;
      } else start = end + 1;
    }
    buffer = buffer.slice(start);
    if (buffer.length + this.#size > this.maxBufferLength) {
      throw new RangeError(`Cannot parse event stream: an event exceeds ${this.maxBufferLength}`);
    }
    this.#buffer = buffer;
    return out;
  }

  #line(line: string, out: SseEvent[]): void {
    if (line === "") {
      // WHATWG: an empty line dispatches; with no data the event is dropped.
      if (this.#data.length > 0) {
        out.push({
          id: this.#lastId,
          event: this.#event || "message",
          data: this.#data.join("\n"),
          hasId: this.#hasId,
        });
      }
      this.#hasId = false;
      this.#data = [];
      this.#event = "";
      this.#size = 0;
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") {
      this.#data.push(value);
      this.#size += value.length + 1;
      if (this.#size > this.maxBufferLength) {
        throw new RangeError(`Cannot parse event stream: an event exceeds ${this.maxBufferLength}`);
      }
    } else if (field === "event") this.#event = value;
    else if (field === "id") {
      if (!value.includes("\0")) { // WHATWG: an id with NUL is ignored
        this.#lastId = value;
        this.#hasId = true;
      }
    }
    // `retry:` and unknown fields: the client schedules its own reconnections.
  }
}
