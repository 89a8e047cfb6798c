/**
 * An incremental `text/event-stream` parser that follows the WHATWG HTML "Server-sent events"
 * parsing and interpretation steps (§9.2.5, §9.2.6) to the letter. Runtime-agnostic: no I/O,
 * no timers; bytes or text in, typed events out.
 *
 * @module
 */
import { BOM, COLON, CR, DEFAULT_MAX_EVENT_SIZE, LF, SPACE } from "./_constants.ts";

/** Stable identifiers of every peer error the parser reports. Listed in `mod.ts`. */
export type EventStreamParseErrorCode = "SSE_ERR_EVENT_TOO_BIG";

/** A peer's misbehaviour found by the parser, as data (never thrown). */
export interface EventStreamParseError {
  /** Stable machine-readable identifier. */
  readonly code: EventStreamParseErrorCode;
  /** Human-readable explanation. */
  readonly message: string;
}

/** What the parser reports, in stream order. A discriminated union on `type`. */
export type EventStreamParserEvent =
  | {
    /** A dispatched event (WHATWG HTML §9.2.6 "dispatch the event"). */
    readonly type: "event";
    /** The event type: the `event:` field, or `"message"` when none was given. */
    readonly event: string;
    /** The data buffer with its one trailing LF removed. */
    readonly data: string;
    /** The last event id string at dispatch time (persists across events). */
    readonly lastEventId: string;
  }
  | {
    /** A `retry:` field of ASCII digits only: the new reconnection time. */
    readonly type: "retry";
    /** Milliseconds. */
    readonly retry: number;
  }
  | {
    /** A comment line (starts with `:`); ignored by browsers, reported for heartbeats. */
    readonly type: "comment";
    /** The text after the colon, with one leading space removed. */
    readonly comment: string;
  }
  | {
    /** The stream broke a bound of this parser; the offending event is dropped. */
    readonly type: "error";
    /** What went wrong. */
    readonly error: EventStreamParseError;
  };

/** Options of {@linkcode createEventStreamParser}. */
export interface EventStreamParserOptions {
  /** Called synchronously, in order, for everything the stream yields. */
  readonly onEvent: (event: EventStreamParserEvent) => void;
  /**
   * Largest event held in memory, in UTF-16 code units: the data buffer, the event type and
   * the current line together. Past it the parser reports `SSE_ERR_EVENT_TOO_BIG`, drops that
   * event and ignores lines up to the next blank line, so a hostile stream cannot exhaust memory.
   *
   * @default {16777216} (16 Mi)
   */
  readonly maxEventSize?: number;
  /**
   * The last event id carried over from a previous connection (as browsers do): an event
   * without an `id:` field then still reports it.
   *
   * @default {""}
   */
  readonly lastEventId?: string;
}

/** The parser returned by {@linkcode createEventStreamParser}. */
export interface EventStreamParser {
  /**
   * Feeds the next chunk of the stream. Bytes are decoded as UTF-8 (invalid sequences become
   * U+FFFD, as the spec's "UTF-8 decode"); text must be decoded with `ignoreBOM: true` (the
   * parser skips the one leading BOM itself). Do not mix both kinds in one stream.
   */
  feed(chunk: Uint8Array | string): void;
  /**
   * Ends the stream: an event not yet terminated by a blank line is discarded (WHATWG HTML
   * §9.2.6), then the parser is ready for a new stream (reconnection) and keeps its last event id.
   */
  end(): void;
  /** Forgets everything, including the last event id (set it to `lastEventId`). */
  reset(lastEventId?: string): void;
  /** The last event id string: set at each dispatch, even when the event carries no data. */
  readonly lastEventId: string;
}

const DIGITS = /^[0-9]+$/;

/** True when `text` has "data:" at `at` (compared by code unit: no allocation, no call). */
function isDataField(text: string, at: number): boolean {
  return text.charCodeAt(at + 1) === 0x61 && text.charCodeAt(at + 2) === 0x74 &&
    text.charCodeAt(at + 3) === 0x61 && text.charCodeAt(at + 4) === COLON;
}

/** True when `text` has "event:" at `at`. */
function isEventField(text: string, at: number): boolean {
  return text.charCodeAt(at + 1) === 0x76 && text.charCodeAt(at + 2) === 0x65 &&
    text.charCodeAt(at + 3) === 0x6e && text.charCodeAt(at + 4) === 0x74 &&
    text.charCodeAt(at + 5) === COLON;
}

/**
 * Creates an incremental event-stream parser. Chunks may split the stream anywhere, even
 * inside a CRLF or a UTF-8 sequence.
 *
 * @example Parse a stream fed in two pieces
 * ```ts
 * import assert from "node:assert/strict";
 * import { createEventStreamParser, type EventStreamParserEvent } from "./parser.ts";
 * const events: EventStreamParserEvent[] = [];
 * const parser = createEventStreamParser({ onEvent: (event) => events.push(event) });
 * const bytes = new TextEncoder().encode("id: 1\nevent: greet\ndata: hi\r\n\r\n");
 * parser.feed(bytes.subarray(0, 20)); // the cut falls anywhere, even inside a CRLF
 * parser.feed(bytes.subarray(20));
 * assert.deepEqual(events, [{ type: "event", event: "greet", data: "hi", lastEventId: "1" }]);
 * ```
 */
export function createEventStreamParser(options: EventStreamParserOptions): EventStreamParser {
  const onEvent = options.onEvent;
  if (typeof onEvent !== "function") {
    throw new TypeError("Cannot create parser: onEvent must be a function");
  }
  const maxEventSize = options.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE;
  if (!(maxEventSize > 0)) {
    throw new RangeError(
      `Cannot create parser: maxEventSize must be positive, got ${maxEventSize}`,
    );
  }

  let decoder: TextDecoder | undefined;
  /** No character seen yet: a leading BOM is still to be skipped. */
  let atStreamStart = true;
  /** The previous chunk ended with CR: an LF opening the next chunk belongs to that CRLF. */
  let skipLF = false;
  /** The start of a line whose end has not arrived yet. */
  let partial = "";
  /** Dropping an oversized event: ignore lines until the next blank line. */
  let discarding = false;
  /** Dropping the rest of an oversized line. */
  let discardingLine = false;
  // WHATWG HTML §9.2.6: "a data buffer, an event type buffer, and a last event ID buffer".
  let data = "";
  /** Data lines in the current event: the spec's data buffer is empty iff this is 0. */
  let dataLines = 0;
  let eventType = "";
  let idBuffer = options.lastEventId ?? "";
  let lastEventId = idBuffer;

  function overflow(): void {
    partial = "";
    data = "";
    dataLines = 0;
    eventType = "";
    discarding = true;
    onEvent({
      type: "error",
      error: {
        code: "SSE_ERR_EVENT_TOO_BIG",
        message: `Cannot parse event stream: event exceeds ${maxEventSize} characters`,
      },
    });
  }

  function dispatch(): void {
    if (discarding) {
      // The oversized event ends here; it is dropped whole.
      discarding = false;
      data = "";
      dataLines = 0;
      eventType = "";
      return;
    }
    // §9.2.6 step 1: "Set the last event ID string of the event source to the value of the
    // last event ID buffer." (even when no event follows: an id-only block sets it)
    lastEventId = idBuffer;
    // Step 2: "If the data buffer is an empty string, set the data buffer and the event type
    // buffer to the empty string and return." (The buffer is empty iff no data line came.)
    if (dataLines === 0) {
      eventType = "";
      return;
    }
    // Step 3: "If the data buffer's last character is a U+000A LINE FEED (LF) character, then
    // remove the last character from the data buffer." Values are kept joined by LF, which is
    // that buffer with its last LF already removed.
    const value = data;
    // Steps 5-6: type "message" unless the event type buffer holds something else.
    const type = eventType === "" ? "message" : eventType;
    // Step 7: "Set the data buffer and the event type buffer to the empty string."
    data = "";
    dataLines = 0;
    eventType = "";
    onEvent({ type: "event", event: type, data: value, lastEventId });
  }

  function appendData(value: string): void {
    // §9.2.6 "data": "Append the field value to the data buffer, then append a single U+000A
    // LINE FEED (LF) character to the data buffer." (as a join by LF, see dispatch)
    data = dataLines === 0 ? value : data + "\n" + value;
    dataLines++;
  }

  function setId(value: string): void {
    // §9.2.6 "id": "If the field value does not contain U+0000 NULL, then set the last event
    // ID buffer to the field value. Otherwise, ignore the field."
    if (value.indexOf("\0") === -1) idBuffer = value;
  }

  function processField(field: string, value: string): void {
    // §9.2.6: field names are compared literally ("event", not "Event").
    switch (field) {
      case "event":
        // "Set the event type buffer to field value."
        eventType = value;
        return;
      case "data":
        appendData(value);
        return;
      case "id":
        setId(value);
        return;
      case "retry":
        // "If the field value consists of only ASCII digits, then interpret the field value as
        // an integer in base ten, and set the event stream's reconnection time to that
        // integer. Otherwise, ignore the field." (An empty value has no digits: ignored.)
        if (DIGITS.test(value)) {
          const retry = Number(value);
          if (Number.isSafeInteger(retry)) onEvent({ type: "retry", retry });
        }
        return;
      default:
        // "Otherwise: The field is ignored."
        return;
    }
  }

  /** The value of a `name:` line starting at `from`: one leading space removed. */
  function valueAfter(text: string, from: number, end: number): string {
    return text.slice(text.charCodeAt(from) === SPACE ? from + 1 : from, end);
  }

  /** Processes the line `text[start, end)` (no line end inside). */
  function processLine(text: string, start: number, end: number): void {
    // "If the line is empty (a blank line): Dispatch the event."
    if (start === end) {
      dispatch();
      return;
    }
    if (discarding) return;
    if (end - start + data.length + eventType.length > maxEventSize) {
      overflow();
      return;
    }
    // Fast paths for the common fields, read in place: "data:", "id:", "event:". A field name
    // holds no line break, so a matching prefix lies wholly inside the line.
    const first = text.charCodeAt(start);
    if (first === 0x64 && isDataField(text, start)) {
      appendData(valueAfter(text, start + 5, end));
      return;
    }
    if (
      first === 0x69 && text.charCodeAt(start + 1) === 0x64 && text.charCodeAt(start + 2) === COLON
    ) {
      setId(valueAfter(text, start + 3, end));
      return;
    }
    if (first === 0x65 && isEventField(text, start)) {
      eventType = valueAfter(text, start + 6, end);
      return;
    }
    // "If the line starts with a U+003A COLON character (:): Ignore the line."
    if (first === COLON) {
      onEvent({ type: "comment", comment: valueAfter(text, start + 1, end) });
      return;
    }
    const line = text.slice(start, end);
    const colon = line.indexOf(":");
    if (colon === -1) {
      // "Otherwise, the string is not empty but does not contain a U+003A COLON character (:):
      // Process the field using ... the whole line as the field name, and the empty string as
      // the field value."
      processField(line, "");
      return;
    }
    // "Collect the characters on the line before the first U+003A COLON character (:) ...
    // after the first U+003A COLON character (:) ... If value starts with a U+0020 SPACE
    // character, remove it from value."
    processField(line.slice(0, colon), valueAfter(line, colon + 1, line.length));
  }

  function feedText(text: string): void {
    const length = text.length;
    if (length === 0) return;
    let pos = 0;
    // §9.2.5: "stream = [ bom ] *event": one BOM, only at the very start of the stream.
    if (atStreamStart) {
      atStreamStart = false;
      if (text.startsWith(BOM)) pos = 1;
    }
    // §9.2.5: "a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character pair ... being the
    // ways in which a line can end": the CR already ended the line; its LF is no new line.
    if (skipLF) {
      skipLF = false;
      if (pos < length && text.charCodeAt(pos) === LF) pos++;
    }
    let lf = -2;
    let cr = -2;
    while (pos < length) {
      if (lf !== -1 && lf < pos) lf = text.indexOf("\n", pos);
      if (cr !== -1 && cr < pos) cr = text.indexOf("\r", pos);
      const end = cr === -1 ? lf : lf === -1 ? cr : cr < lf ? cr : lf;
      if (end === -1) {
        // No line end in this chunk: keep the start of the line, within the bound.
        if (discardingLine) return;
        if (partial.length + (length - pos) + data.length + eventType.length > maxEventSize) {
          if (!discarding) overflow();
          partial = "";
          discardingLine = true;
          return;
        }
        partial = partial.length === 0 ? text.slice(pos) : partial + text.slice(pos);
        return;
      }
      if (discardingLine) {
        discardingLine = false;
        partial = "";
      } else if (partial.length === 0) {
        processLine(text, pos, end);
      } else {
        const line = partial + text.slice(pos, end);
        partial = "";
        processLine(line, 0, line.length);
      }
      if (text.charCodeAt(end) === CR) {
        if (end + 1 === length) skipLF = true;
        else if (text.charCodeAt(end + 1) === LF) pos = end + 1;
      }
      pos = (pos > end ? pos : end) + 1;
    }
  }

  function resetStream(): void {
    decoder = undefined;
    atStreamStart = true;
    skipLF = false;
    partial = "";
    discarding = false;
    discardingLine = false;
    data = "";
    dataLines = 0;
    eventType = "";
    idBuffer = lastEventId;
  }

  return {
    feed(chunk: Uint8Array | string): void {
      if (typeof chunk === "string") {
        feedText(chunk);
        return;
      }
      // The parser strips the BOM itself (above), so the decoder must keep it.
      decoder ??= new TextDecoder("utf-8", { ignoreBOM: true });
      feedText(decoder.decode(chunk, { stream: true }));
    },
    end(): void {
      if (decoder !== undefined) feedText(decoder.decode());
      // §9.2.6: "Once the end of the file is reached, any pending data must be discarded. (If
      // the file ends in the middle of an event, before the final empty line, the incomplete
      // event is not dispatched.)"
      resetStream();
    },
    reset(id = ""): void {
      lastEventId = id;
      resetStream();
    },
    get lastEventId(): string {
      return lastEventId;
    },
  };
}
