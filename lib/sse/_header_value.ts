// The `Last-Event-ID` header carries the id "encoded as UTF-8" (WHATWG HTML §9.2.3). Fetch
// headers are byte strings (one character per byte, U+0000-U+00FF), so a non-ASCII id
// is carried as its UTF-8 bytes, one character each, and read back the same way.

const decoder = new TextDecoder("utf-8", { fatal: true });
/** Anything but printable ASCII and tab: the text may differ from its UTF-8 byte string. */
const MAYBE_NON_ASCII = /[^\t -~]/;

/** `text` as the byte string of its UTF-8 encoding: what `Headers.set` accepts for any id. */
export function utf8ByteString(text: string): string {
  // Printable ASCII (every id this project's hub issues) is its own UTF-8 byte string.
  if (!MAYBE_NON_ASCII.test(text)) return text;
  let out = "";
  for (const byte of new TextEncoder().encode(text)) out += String.fromCharCode(byte);
  return out;
}

/**
 * A header byte string read as UTF-8; a value that is not valid UTF-8 is returned as it came
 * (its bytes read as Latin-1, as `Headers` gives them).
 */
export function decodeUtf8ByteString(value: string): string {
  if (!MAYBE_NON_ASCII.test(value)) return value;
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0xff) return value; // not a byte string: nothing to decode
    bytes[i] = code;
  }
  try {
    return decoder.decode(bytes);
  } catch {
    return value;
  }
}
