// Spec constants and byte classes for HTTP/1.1 message heads (RFC 9110, RFC 9112).
// Private module: re-exported selectively through `mod.ts`.

/** Default largest head (start-line + field lines + blank line), in bytes: 8 KiB. */
export const DEFAULT_MAX_HEAD_SIZE = 8192;

/** Default largest number of field lines in one head. */
export const DEFAULT_MAX_HEADERS = 100;

/** RFC 9112 §2.2 line terminator bytes. */
export const CR = 0x0d;
/** Line feed. */
export const LF = 0x0a;
/** Space. */
export const SP = 0x20;
/** Horizontal tab. */
export const HTAB = 0x09;
/** Colon, the field-name terminator (RFC 9112 §5). */
export const COLON = 0x3a;

/** RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. */
export const TCHAR: Uint8Array = /* @__PURE__ */ (() => {
  const table = new Uint8Array(256);
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1;
  for (const ch of "!#$%&'*+-.^_`|~") table[ch.charCodeAt(0)] = 1;
  return table;
})();

/**
 * RFC 9110 §5.5: field-value octets. field-vchar = VCHAR / obs-text, plus SP and HTAB
 * between them. Every other CTL (NUL, CR, LF, DEL, ...) is invalid.
 */
export const FIELD_VALUE_CHAR: Uint8Array = /* @__PURE__ */ (() => {
  const table = new Uint8Array(256);
  table[HTAB] = 1;
  for (let c = 0x20; c <= 0x7e; c++) table[c] = 1;
  for (let c = 0x80; c <= 0xff; c++) table[c] = 1;
  return table;
})();

/**
 * RFC 3986 characters allowed in a request-target (RFC 9112 §3.2): unreserved, sub-delims,
 * gen-delims except "#", and "%" (checked separately for two HEXDIG). No obs-text.
 */
export const TARGET_CHAR: Uint8Array = /* @__PURE__ */ (() => {
  const table = new Uint8Array(256);
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1;
  for (const ch of "-._~!$&'()*+,;=:@/?[]%") table[ch.charCodeAt(0)] = 1;
  return table;
})();

/** RFC 9110 §15: reason phrases for the statuses this library writes. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  101: "Switching Protocols",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};
