/**
 * Strict UTF-8 decoding for WebSocket text (RFC 6455 §5.6, §8.1): one-shot and incremental,
 * failing as soon as a byte sequence is certainly invalid.
 *
 * Built on the WHATWG `TextDecoder` with `fatal: true`: its UTF-8 decoder checks each byte
 * against the range the previous bytes allow, so overlongs (`e0 80`), surrogates (`ed a0`)
 * and code points past U+10FFFF (`f4 90`) fail at the byte that makes them invalid, not at
 * the end of the message. `ignoreBOM: true` keeps a leading U+FEFF as text, as sent.
 *
 * @module
 */

const STREAM: TextDecodeOptions = { stream: true };
const DECODER_OPTIONS: TextDecoderOptions = { fatal: true, ignoreBOM: true };

/**
 * Decodes a complete UTF-8 byte sequence strictly.
 *
 * @example Valid and invalid input
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeUtf8 } from "./utf8.ts";
 * assert(decodeUtf8(new Uint8Array([0xce, 0xba])) === "κ");
 * assert(decodeUtf8(new Uint8Array([0xed, 0xa0, 0x80])) === undefined);
 * ```
 *
 * @param bytes The whole sequence.
 * @returns The text, or `undefined` when the bytes are not valid UTF-8 (including a
 * sequence cut short at the end).
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  // Replacement decoding is 1.5-3x faster than fatal decoding here, and it turns every
  // invalid sequence into U+FFFD: a result without U+FFFD proves the bytes valid. Only text
  // holding U+FFFD (sent as such, or from an error) is decoded again, strictly, for the verdict.
  const text = replacingDecoder.decode(bytes);
  if (!text.includes("\uFFFD")) return text;
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

const replacingDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
const strictDecoder = new TextDecoder("utf-8", DECODER_OPTIONS);

/**
 * Incremental strict UTF-8 decoder for a message that arrives in fragments: a character may
 * straddle fragments, and an invalid sequence is reported with the fragment that makes it
 * certain.
 *
 * @example Fail fast across fragments
 * ```ts
 * import assert from "node:assert/strict";
 * import { Utf8StreamDecoder } from "./utf8.ts";
 * const decoder = new Utf8StreamDecoder();
 * assert(decoder.push(new Uint8Array([0xce, 0xba, 0xed])) === "κ"); // `ed` may start a valid char
 * assert(decoder.push(new Uint8Array([0xa0])) === undefined); // `ed a0` is a surrogate: certain
 * ```
 *
 * @example A character split between fragments
 * ```ts
 * import assert from "node:assert/strict";
 * import { Utf8StreamDecoder } from "./utf8.ts";
 * const decoder = new Utf8StreamDecoder();
 * assert(decoder.push(new Uint8Array([0xe2, 0x82])) === "");
 * assert(decoder.end(new Uint8Array([0xac])) === "€");
 * ```
 */
export class Utf8StreamDecoder {
  #decoder = new TextDecoder("utf-8", DECODER_OPTIONS);

  /**
   * Decodes one more fragment of the message.
   *
   * @param bytes The fragment.
   * @returns The text completed by this fragment (possibly `""`), or `undefined` once the
   * message is certainly invalid UTF-8; the decoder is then reset.
   */
  push(bytes: Uint8Array): string | undefined {
    try {
      return this.#decoder.decode(bytes, STREAM);
    } catch {
      this.reset();
      return undefined;
    }
  }

  /**
   * Decodes the last fragment and ends the message; the decoder is ready for the next one.
   *
   * @param bytes The last fragment, if any.
   * @returns The remaining text, or `undefined` when the message is invalid or ends inside
   * a multi-byte character.
   */
  end(bytes?: Uint8Array): string | undefined {
    try {
      return this.#decoder.decode(bytes);
    } catch {
      this.reset();
      return undefined;
    }
  }

  /** Drops any partial character so the next {@linkcode push} starts a new message. */
  reset(): void {
    // WHATWG Encoding leaves a decoder's state unspecified after a fatal error: start afresh.
    this.#decoder = new TextDecoder("utf-8", DECODER_OPTIONS);
  }
}

/**
 * Checks UTF-8 that arrives in pieces and only says whether it is certainly invalid yet: the
 * fail-fast check of a text frame still arriving, whose text is decoded once it is complete.
 * Cheaper than {@linkcode Utf8StreamDecoder}: each piece is checked whole by
 * {@linkcode decodeUtf8} (its fast path), with a character cut between pieces carried over and
 * checked on its own.
 *
 * @example A character split between pieces, then a surrogate split the same way
 * ```ts
 * import assert from "node:assert/strict";
 * import { Utf8Probe } from "./utf8.ts";
 * const probe = new Utf8Probe();
 * assert(probe.push(new Uint8Array([0x61, 0xe2, 0x82])));
 * assert(probe.push(new Uint8Array([0xac, 0xed])));
 * assert(!probe.push(new Uint8Array([0xa0]))); // `ed a0` starts a surrogate: certain
 * ```
 */
export class Utf8Probe {
  /** The bytes of a character the last piece began but did not finish. */
  readonly #pending = new Uint8Array(4);
  #pendingLength = 0;

  /**
   * Checks one more piece.
   *
   * @param bytes The piece.
   * @returns `false` once the bytes so far are certainly not UTF-8; `true` while they may be
   * (a character left unfinished counts as possible).
   */
  push(bytes: Uint8Array): boolean {
    let start = 0;
    const pending = this.#pending;
    if (this.#pendingLength > 0) {
      const length = sequenceLength(pending[0]!);
      while (
        this.#pendingLength < length && start < bytes.length && (bytes[start]! & 0xc0) === 0x80
      ) {
        pending[this.#pendingLength++] = bytes[start++]!;
      }
      if (this.#pendingLength < length) {
        // A byte other than a continuation came before the character was finished.
        if (start < bytes.length) return false;
        return validPrefix(pending, this.#pendingLength);
      }
      if (decodeUtf8(pending.subarray(0, length)) === undefined) return false;
      this.#pendingLength = 0;
    }
    // Carry over a character the piece ends inside of: its lead byte is in the last 3 bytes.
    let end = bytes.length;
    let lead = end - 1;
    while (lead >= start && lead > end - 3 && (bytes[lead]! & 0xc0) === 0x80) lead--;
    if (lead >= start && end - lead < sequenceLength(bytes[lead]!)) {
      pending.set(bytes.subarray(lead, end));
      this.#pendingLength = end - lead;
      end = lead;
    }
    if (end > start && decodeUtf8(bytes.subarray(start, end)) === undefined) return false;
    return this.#pendingLength === 0 || validPrefix(pending, this.#pendingLength);
  }

  /**
   * Starts new text, or text that goes on from `tail`.
   *
   * @param tail The unfinished character the text so far ended with (see
   * {@linkcode unfinishedTail}); none by default.
   */
  reset(tail?: Uint8Array): void {
    this.#pendingLength = 0;
    if (tail === undefined || tail.length === 0) return;
    this.#pending.set(tail);
    this.#pendingLength = tail.length;
  }
}

const NO_TAIL = new Uint8Array(0);

/**
 * The unfinished character (0 to 3 bytes) at the end of `before` followed by `bytes`, both
 * already known to be a valid UTF-8 prefix: what a fragment hands on to the next one, which
 * may finish it. `before` is the tail the text ended with before `bytes`.
 *
 * @example A euro sign cut after its second byte
 * ```ts
 * import assert from "node:assert/strict";
 * import { unfinishedTail } from "./utf8.ts";
 * const tail = unfinishedTail(new Uint8Array(0), new Uint8Array([0x61, 0xe2]));
 * assert.deepEqual(unfinishedTail(tail, new Uint8Array([0x82])), new Uint8Array([0xe2, 0x82]));
 * ```
 */
export function unfinishedTail(before: Uint8Array, bytes: Uint8Array): Uint8Array {
  // An unfinished character has at most 3 bytes: with 3 new bytes, `before` cannot hold it.
  let joined = bytes;
  if (bytes.length < 3) {
    joined = new Uint8Array(before.length + bytes.length);
    joined.set(before);
    joined.set(bytes, before.length);
  }
  const end = joined.length;
  let lead = end - 1;
  while (lead >= 0 && lead > end - 4 && (joined[lead]! & 0xc0) === 0x80) lead--;
  if (lead < 0 || end - lead >= sequenceLength(joined[lead]!)) return NO_TAIL;
  return joined.slice(lead);
}

/** Bytes in the character a lead byte starts: 1 to 4, or 0 for a byte no character starts with. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead < 0xc2) return 0;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  return lead < 0xf5 ? 4 : 0;
}

/** Whether the unfinished character `bytes[0 .. n)` (lead, then continuation bytes) can still
 * be finished: only the second byte has a narrower range (RFC 3629 §4). */
function validPrefix(bytes: Uint8Array, n: number): boolean {
  if (n < 2) return true;
  const lead = bytes[0]!;
  const second = bytes[1]!;
  if (lead === 0xe0) return second >= 0xa0;
  if (lead === 0xed) return second <= 0x9f;
  if (lead === 0xf0) return second >= 0x90;
  if (lead === 0xf4) return second <= 0x8f;
  return true;
}
