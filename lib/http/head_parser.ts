/**
 * A strict, bounded, incremental HTTP/1.1 message-head parser (RFC 9112 §2-§5), sans-I/O:
 * bytes in, one `head` or `error` event out. It reads the request head of a WebSocket
 * upgrade on the server and the `101` response head on the client; it never reads a body.
 *
 * Decisions, each strict where RFC 9112 allows a choice:
 * - Lines end in CRLF only. A bare LF (RFC 9112 §2.2 "MAY recognize") and a bare CR
 *   (§2.2 "MUST consider that element to be invalid") are both rejected with 400.
 * - Empty lines before a request-line are ignored (§2.2 SHOULD); they count toward
 *   `maxHeadSize`.
 * - The request-line is `method SP request-target SP HTTP-version`, single spaces only
 *   (§3). `HTTP-version` is `HTTP/` DIGIT `.` DIGIT, case-sensitive (§2.3); a major
 *   version other than 1 answers 505, any other shape 400. `HTTP/1.0` and `HTTP/1.x`
 *   are accepted and reported as written (`"1.0"`, `"1.1"`); the caller decides.
 * - The request-target is origin-form or absolute-form; asterisk-form only for OPTIONS and
 *   authority-form only for CONNECT (§3.2). Only RFC 3986 characters; `%` needs two hex
 *   digits; `#`, spaces, controls and non-ASCII bytes answer 400.
 * - A status-line is `HTTP-version SP 3DIGIT SP reason-phrase` (§4); like h11 the
 *   `SP reason-phrase` may be missing entirely.
 * - Field names are tokens immediately followed by `:`; whitespace before the colon is
 *   rejected (§5.1 MUST). A line starting with SP/HTAB (obs-fold, §5.2, or whitespace
 *   after the start-line, §2.2) is rejected, in requests and responses alike.
 * - Field values are trimmed of OWS; CTLs other than HTAB are rejected (RFC 9110 §5.5).
 *   Bytes 0x80-0xFF (obs-text) are allowed in values and the reason phrase and decoded as
 *   ISO-8859-1, one byte per UTF-16 unit, so no input byte is lost or mis-decoded;
 *   anywhere else in the head they are rejected with 400.
 * - A request with HTTP/1.1 or later needs exactly one valid `Host` field line (RFC 9112
 *   §3.2 MUST).
 * - The head, counting every byte through the final blank line, is bounded by
 *   `maxHeadSize` and the field lines by `maxHeaders`; past either, 431.
 *
 * Work is linear in the input, whatever the chunking: each byte is decoded once (at most the
 * head budget left, never a body that follows) and scanned once for LF, and each completed
 * line is parsed once; only the current incomplete line is kept, as a string.
 *
 * @module
 */
import {
  COLON,
  CR,
  DEFAULT_MAX_HEAD_SIZE,
  DEFAULT_MAX_HEADERS,
  FIELD_VALUE_CHAR,
  HTAB,
  SP,
  TARGET_CHAR,
  TCHAR,
} from "./_constants.ts";

/** Which message head a {@linkcode HeadParser} reads. */
export type HeadKind = "request" | "response";

/** A parsed request head: request-line and field lines. */
export interface RequestHead {
  /** Discriminates request from response heads. */
  readonly kind: "request";
  /** The method token, case preserved (methods are case-sensitive, RFC 9110 §9.1). */
  readonly method: string;
  /** The request-target exactly as sent, e.g. `/chat?room=1`. */
  readonly target: string;
  /** The version digits, e.g. `"1.1"`. */
  readonly httpVersion: string;
  /** The field lines; repeated names are joined with ", " by `Headers`. */
  readonly headers: Headers;
  /** Every field line in order with the name's original case, values trimmed of OWS. */
  readonly rawHeaders: ReadonlyArray<readonly [name: string, value: string]>;
}

/** A parsed response head: status-line and field lines. */
export interface ResponseHead {
  /** Discriminates request from response heads. */
  readonly kind: "response";
  /** The version digits, e.g. `"1.1"`. */
  readonly httpVersion: string;
  /** The three-digit status code, 100-599. */
  readonly status: number;
  /** The reason phrase, possibly empty (ISO-8859-1 decoded). */
  readonly statusText: string;
  /** The field lines; repeated names are joined with ", " by `Headers`. */
  readonly headers: Headers;
  /** Every field line in order with the name's original case, values trimmed of OWS. */
  readonly rawHeaders: ReadonlyArray<readonly [name: string, value: string]>;
}

/** The head type a parser of kind `K` produces. */
export type HeadOf<K extends HeadKind> = K extends "request" ? RequestHead : ResponseHead;

/** Stable identifiers of every head error; listed in docs/ERRORS.md. */
export type HeadErrorCode =
  | "HTTP_ERR_BARE_LF"
  | "HTTP_ERR_BARE_CR"
  | "HTTP_ERR_INVALID_REQUEST_LINE"
  | "HTTP_ERR_INVALID_METHOD"
  | "HTTP_ERR_INVALID_TARGET"
  | "HTTP_ERR_INVALID_VERSION"
  | "HTTP_ERR_UNSUPPORTED_VERSION"
  | "HTTP_ERR_INVALID_STATUS_LINE"
  | "HTTP_ERR_INVALID_FIELD_NAME"
  | "HTTP_ERR_WHITESPACE_BEFORE_COLON"
  | "HTTP_ERR_OBS_FOLD"
  | "HTTP_ERR_INVALID_FIELD_VALUE"
  | "HTTP_ERR_MISSING_HOST"
  | "HTTP_ERR_DUPLICATE_HOST"
  | "HTTP_ERR_INVALID_HOST"
  | "HTTP_ERR_HEAD_TOO_LARGE"
  | "HTTP_ERR_TOO_MANY_HEADERS";

/** The head was parsed; `rest` holds the bytes of the last chunk after the blank line. */
export interface HeadEvent<H extends RequestHead | ResponseHead = RequestHead | ResponseHead> {
  /** Event discriminator. */
  readonly type: "head";
  /** The parsed head. */
  readonly head: H;
  /** A copy of the bytes that followed the head in the last chunk (frames, body). */
  readonly rest: Uint8Array;
}

/** The peer sent a malformed or oversized head: answer `status` and close. */
export interface HeadErrorEvent {
  /** Event discriminator. */
  readonly type: "error";
  /** The HTTP status a server answers with (a client just fails the connection). */
  readonly status: 400 | 431 | 505;
  /** Stable machine-readable identifier. */
  readonly code: HeadErrorCode;
  /** Human-readable explanation, e.g. "Cannot parse head: obs-fold is not allowed". */
  readonly message: string;
}

/** What {@linkcode HeadParser.receive} reports once the head is complete or invalid. */
export type HeadParserEvent<H extends RequestHead | ResponseHead = RequestHead | ResponseHead> =
  | HeadEvent<H>
  | HeadErrorEvent;

/** Where a {@linkcode HeadParser} is: waiting for a line of some kind, or finished. */
export type HeadParserState = "start-line" | "field-line" | "done" | "failed";

/** Options of {@linkcode HeadParser}. */
export interface HeadParserOptions<K extends HeadKind = HeadKind> {
  /** Parse a request head (server side) or a response head (client side). */
  kind: K;
  /**
   * Largest head accepted, in bytes, from the first byte through the final CRLF CRLF;
   * beyond it the parser reports 431.
   *
   * @default {8192}
   */
  maxHeadSize?: number;
  /**
   * Largest number of field lines accepted; beyond it the parser reports 431.
   *
   * @default {100}
   */
  maxHeaders?: number;
}

/**
 * Incremental parser of one HTTP/1.1 message head. Feed bytes with
 * {@linkcode HeadParser.receive} until it returns an event; then the parser is finished.
 *
 * @example Parse a WebSocket upgrade request arriving in two chunks
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeadParser } from "./head_parser.ts";
 * const parser = new HeadParser({ kind: "request" });
 * const head = new TextEncoder().encode(
 *   "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\r\n",
 * );
 * assert.equal(parser.receive(head.subarray(0, 10)), undefined);
 * // The rest of the head arrives with the first two bytes of a frame.
 * const event = parser.receive(new Uint8Array([...head.subarray(10), 0x81, 0x00]));
 * assert(event?.type === "head");
 * assert.equal(event.head.target, "/chat");
 * assert.equal(event.head.headers.get("upgrade"), "websocket");
 * assert.deepEqual(event.rest, new Uint8Array([0x81, 0x00]));
 * ```
 *
 * @example Reject a head with obs-fold
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeadParser } from "./head_parser.ts";
 * const parser = new HeadParser({ kind: "request" });
 * const event = parser.receive(
 *   new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n"),
 * );
 * assert(event?.type === "error" && event.code === "HTTP_ERR_OBS_FOLD" && event.status === 400);
 * ```
 *
 * @typeParam K The kind of head parsed, `"request"` or `"response"`.
 */
export class HeadParser<K extends HeadKind = HeadKind> {
  readonly #kind: K;
  readonly #maxHeadSize: number;
  readonly #maxHeaders: number;
  #state: HeadParserState = "start-line";
  /** The current incomplete line, ISO-8859-1 decoded (one UTF-16 unit per byte). */
  #pending = "";
  /** Head bytes consumed so far, complete lines and the partial one. */
  #total = 0;
  #method = "";
  #target = "";
  #version = "";
  #status = 0;
  #statusText = "";
  #headers = new Headers();
  #rawHeaders: Array<readonly [string, string]> = [];
  #hostCount = 0;
  #hostValid = true;

  /**
   * Creates a parser for one message head.
   *
   * @param options The head kind and limits.
   * @throws {TypeError} When `kind` is neither `"request"` nor `"response"`.
   * @throws {RangeError} When a limit is not a positive safe integer.
   */
  constructor(options: HeadParserOptions<K>) {
    const { kind, maxHeadSize = DEFAULT_MAX_HEAD_SIZE, maxHeaders = DEFAULT_MAX_HEADERS } = options;
    if (kind !== "request" && kind !== "response") {
      throw new TypeError(`Cannot create HeadParser: kind must be "request" or "response"`);
    }
    if (!Number.isSafeInteger(maxHeadSize) || maxHeadSize < 1) {
      throw new RangeError(
        `Cannot create HeadParser: maxHeadSize must be a positive integer, got ${maxHeadSize}`,
      );
    }
    if (!Number.isSafeInteger(maxHeaders) || maxHeaders < 0) {
      throw new RangeError(
        `Cannot create HeadParser: maxHeaders must be a non-negative integer, got ${maxHeaders}`,
      );
    }
    this.#kind = kind;
    this.#maxHeadSize = maxHeadSize;
    this.#maxHeaders = maxHeaders;
  }

  /** Where the parser is: `"start-line"`, `"field-line"`, `"done"` or `"failed"`. */
  get state(): HeadParserState {
    return this.#state;
  }

  /**
   * Consumes the next chunk of bytes.
   *
   * @param chunk Bytes from the peer, of any size (may be empty).
   * @returns A `head` event once the blank line ending the head arrived, an `error`
   * event once the head is known to be invalid, else `undefined` (send more bytes).
   * @throws {TypeError} When called again after an event was returned.
   */
  receive(chunk: Uint8Array): HeadParserEvent<HeadOf<K>> | undefined {
    if (this.#state === "done" || this.#state === "failed") {
      throw new TypeError(
        `Cannot receive: the head parser is ${this.#state} (create a new one per message)`,
      );
    }
    // Decode only what the head may still use; string index = byte index (ISO-8859-1).
    const limit = Math.min(chunk.length, this.#maxHeadSize - this.#total);
    const text = latin1(chunk, limit);
    let pos = 0;
    while (true) {
      const lf = text.indexOf("\n", pos);
      if (lf === -1) {
        // RFC 9112 §2.2 framing never ends inside the budget: more bytes means too large.
        if (limit < chunk.length) {
          return this.#fail(
            431,
            "HTTP_ERR_HEAD_TOO_LARGE",
            `Cannot parse head: it exceeds ${this.#maxHeadSize} bytes`,
          );
        }
        this.#total += limit - pos;
        this.#pending += text.slice(pos);
        return undefined;
      }
      const line = this.#pending + text.slice(pos, lf + 1);
      this.#pending = "";
      this.#total += lf + 1 - pos;
      pos = lf + 1;
      const event = this.#completeLine(line);
      if (event !== undefined) {
        if (event.type === "error") return event;
        return { type: "head", head: event.head, rest: chunk.slice(pos) };
      }
    }
  }

  /** Handles one line, which ends in LF. */
  #completeLine(raw: string): HeadParserEvent<HeadOf<K>> | undefined {
    // RFC 9112 §2.2: the line terminator is CRLF; a bare LF is rejected (strict choice).
    if (raw.length < 2 || raw.charCodeAt(raw.length - 2) !== CR) {
      return this.#fail(400, "HTTP_ERR_BARE_LF", "Cannot parse head: line ends in a bare LF");
    }
    const line = raw.slice(0, -2);
    // RFC 9112 §2.2: a bare CR MUST be treated as invalid.
    if (line.indexOf("\r") !== -1) {
      return this.#fail(400, "HTTP_ERR_BARE_CR", "Cannot parse head: line contains a bare CR");
    }
    if (this.#state === "start-line") {
      if (line.length === 0 && this.#kind === "request") return undefined; // §2.2 SHOULD ignore
      const error = this.#kind === "request" ? this.#requestLine(line) : this.#statusLine(line);
      if (error !== undefined) return error;
      this.#state = "field-line";
      return undefined;
    }
    if (line.length === 0) return this.#finish();
    return this.#fieldLine(line);
  }

  #requestLine(line: string): HeadErrorEvent | undefined {
    const sp1 = line.indexOf(" ");
    const sp2 = sp1 === -1 ? -1 : line.indexOf(" ", sp1 + 1);
    // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
    if (sp1 === -1 || sp2 === -1 || line.indexOf(" ", sp2 + 1) !== -1) {
      return this.#fail(
        400,
        "HTTP_ERR_INVALID_REQUEST_LINE",
        "Cannot parse head: request-line must be method SP request-target SP HTTP-version",
      );
    }
    if (sp1 === 0 || !allIn(line, 0, sp1, TCHAR)) {
      return this.#fail(400, "HTTP_ERR_INVALID_METHOD", "Cannot parse head: method is not a token");
    }
    const versionError = this.#checkVersion(line.slice(sp2 + 1));
    if (versionError !== undefined) return versionError;
    this.#method = line.slice(0, sp1);
    const target = line.slice(sp1 + 1, sp2);
    const targetError = checkTarget(target, this.#method);
    if (targetError !== undefined) {
      return this.#fail(400, "HTTP_ERR_INVALID_TARGET", `Cannot parse head: ${targetError}`);
    }
    this.#target = target;
    return undefined;
  }

  #statusLine(line: string): HeadErrorEvent | undefined {
    // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
    if (
      line.length < 12 || line.charCodeAt(8) !== SP ||
      (line.length > 12 && line.charCodeAt(12) !== SP)
    ) {
      return this.#fail(
        400,
        "HTTP_ERR_INVALID_STATUS_LINE",
        "Cannot parse head: status-line must be HTTP-version SP 3DIGIT SP reason-phrase",
      );
    }
    const versionError = this.#checkVersion(line.slice(0, 8));
    if (versionError !== undefined) return versionError;
    const code = line.slice(9, 12);
    if (!/^[1-5][0-9][0-9]$/.test(code)) {
      return this.#fail(
        400,
        "HTTP_ERR_INVALID_STATUS_LINE",
        "Cannot parse head: status code must be three digits from 100 to 599",
      );
    }
    if (!allIn(line, 13, line.length, FIELD_VALUE_CHAR)) {
      return this.#fail(
        400,
        "HTTP_ERR_INVALID_STATUS_LINE",
        "Cannot parse head: reason phrase contains a control character",
      );
    }
    this.#status = Number(code);
    this.#statusText = line.slice(13);
    return undefined;
  }

  /** Checks `HTTP/` DIGIT `.` DIGIT (RFC 9112 §2.3) and that the major version is 1. */
  #checkVersion(version: string): HeadErrorEvent | undefined {
    if (!/^HTTP\/[0-9]\.[0-9]$/.test(version)) {
      return this.#fail(
        400,
        "HTTP_ERR_INVALID_VERSION",
        "Cannot parse head: HTTP-version must be HTTP/DIGIT.DIGIT",
      );
    }
    if (version.charCodeAt(5) !== 0x31) {
      return this.#fail(
        505,
        "HTTP_ERR_UNSUPPORTED_VERSION",
        `Cannot parse head: ${version} is not supported, only HTTP/1.x`,
      );
    }
    this.#version = version.slice(5);
    return undefined;
  }

  #fieldLine(line: string): HeadErrorEvent | undefined {
    const first = line.charCodeAt(0);
    // RFC 9112 §5.2 obs-fold / §2.2 whitespace after the start-line: rejected (strict choice).
    if (first === SP || first === HTAB) {
      return this.#fail(
        400,
        "HTTP_ERR_OBS_FOLD",
        "Cannot parse head: a field line starts with whitespace (obs-fold is not allowed)",
      );
    }
    let colon = 0;
    while (colon < line.length && TCHAR[line.charCodeAt(colon)] === 1) colon++;
    if (colon === 0 || colon === line.length || line.charCodeAt(colon) !== COLON) {
      let ws = colon;
      while (ws < line.length && isOws(line.charCodeAt(ws))) ws++;
      // RFC 9112 §5.1: whitespace between field name and colon MUST be rejected with 400.
      if (colon > 0 && ws > colon && line.charCodeAt(ws) === COLON) {
        return this.#fail(
          400,
          "HTTP_ERR_WHITESPACE_BEFORE_COLON",
          "Cannot parse head: whitespace between field name and colon",
        );
      }
      return this.#fail(
        400,
        "HTTP_ERR_INVALID_FIELD_NAME",
        colon === line.length
          ? "Cannot parse head: field line has no colon"
          : "Cannot parse head: field name is not a token",
      );
    }
    let start = colon + 1;
    let end = line.length;
    while (start < end && isOws(line.charCodeAt(start))) start++;
    while (end > start && isOws(line.charCodeAt(end - 1))) end--;
    if (!allIn(line, start, end, FIELD_VALUE_CHAR)) {
      return this.#fail(
        400,
        "HTTP_ERR_INVALID_FIELD_VALUE",
        "Cannot parse head: field value contains a control character",
      );
    }
    if (this.#rawHeaders.length >= this.#maxHeaders) {
      return this.#fail(
        431,
        "HTTP_ERR_TOO_MANY_HEADERS",
        `Cannot parse head: more than ${this.#maxHeaders} field lines`,
      );
    }
    const name = line.slice(0, colon);
    const value = line.slice(start, end);
    this.#headers.append(name, value);
    this.#rawHeaders.push([name, value]);
    if (this.#kind === "request" && colon === 4 && name.toLowerCase() === "host") {
      this.#hostCount++;
      if (!isValidHost(value)) this.#hostValid = false;
    }
    return undefined;
  }

  #finish(): HeadParserEvent<HeadOf<K>> {
    if (this.#kind === "request" && this.#version !== "1.0") {
      // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without exactly one
      // Host field line or with an invalid Host value.
      if (this.#hostCount === 0) {
        return this.#fail(400, "HTTP_ERR_MISSING_HOST", "Cannot parse head: Host is missing");
      }
      if (this.#hostCount > 1) {
        return this.#fail(
          400,
          "HTTP_ERR_DUPLICATE_HOST",
          "Cannot parse head: Host appears more than once",
        );
      }
    }
    if (this.#kind === "request" && !this.#hostValid) {
      return this.#fail(400, "HTTP_ERR_INVALID_HOST", "Cannot parse head: Host value is invalid");
    }
    this.#state = "done";
    const head: RequestHead | ResponseHead = this.#kind === "request"
      ? {
        kind: "request",
        method: this.#method,
        target: this.#target,
        httpVersion: this.#version,
        headers: this.#headers,
        rawHeaders: this.#rawHeaders,
      }
      : {
        kind: "response",
        httpVersion: this.#version,
        status: this.#status,
        statusText: this.#statusText,
        headers: this.#headers,
        rawHeaders: this.#rawHeaders,
      };
    return { type: "head", head: head as HeadOf<K>, rest: new Uint8Array(0) };
  }

  #fail(status: 400 | 431 | 505, code: HeadErrorCode, message: string): HeadErrorEvent {
    this.#state = "failed";
    this.#pending = "";
    return { type: "error", status, code, message };
  }
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/** Tells whether every unit of `text` in [start, end) is marked in `table` (units ≤ 0xFF). */
function allIn(text: string, start: number, end: number, table: Uint8Array): boolean {
  for (let i = start; i < end; i++) if (table[text.charCodeAt(i)] !== 1) return false;
  return true;
}

const utf8 = new TextDecoder();

/**
 * ISO-8859-1 decoding of `bytes[0, end)`: each byte becomes the UTF-16 unit of the same
 * value (WHATWG "latin1" is windows-1252, so TextDecoder cannot do it). ASCII input, the
 * common case, takes the native UTF-8 decoder, which is identical on ASCII.
 */
function latin1(bytes: Uint8Array, end: number): string {
  if (end <= 16) {
    let out = "";
    for (let i = 0; i < end; i++) out += String.fromCharCode(bytes[i]!);
    return out;
  }
  let ascii = true;
  for (let i = 0; i < end; i++) {
    if (bytes[i]! > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return utf8.decode(bytes.subarray(0, end));
  let out = "";
  for (let i = 0; i < end; i += 4096) {
    const piece = bytes.subarray(i, Math.min(i + 4096, end));
    out += String.fromCharCode.apply(null, piece as unknown as number[]);
  }
  return out;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Returns why `target` is not a valid request-target for `method` (RFC 9112 §3.2), if so. */
function checkTarget(target: string, method: string): string | undefined {
  if (target.length === 0) return "request-target is empty";
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (TARGET_CHAR[c] !== 1) {
      return `request-target contains the invalid byte 0x${c.toString(16).padStart(2, "0")}`;
    }
    if (c === 0x25 && !(isHex(target.charCodeAt(i + 1)) && isHex(target.charCodeAt(i + 2)))) {
      return "request-target has a % not followed by two hex digits";
    }
  }
  // §3.2.4: asterisk-form only for a server-wide OPTIONS request.
  if (target === "*") return method === "OPTIONS" ? undefined : "asterisk-form is only for OPTIONS";
  // §3.2.3: authority-form only (and always) for CONNECT.
  if (method === "CONNECT") {
    return /^(?:\[[0-9A-Za-z:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+):[0-9]+$/.test(target)
      ? undefined
      : "CONNECT needs an authority-form target (host:port)";
  }
  if (target.charCodeAt(0) === 0x2f) return undefined; // §3.2.1 origin-form
  // §3.2.2 absolute-form: scheme ":" hier-part [ "?" query ]
  if (/^[A-Za-z][A-Za-z0-9+\-.]*:/.test(target)) return undefined;
  return "request-target must be origin-form (/path) or absolute-form (scheme:...)";
}

/** RFC 9110 §7.2: Host = uri-host [ ":" port ]. */
function isValidHost(value: string): boolean {
  return /^(?:\[[0-9A-Za-z:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/.test(value);
}
