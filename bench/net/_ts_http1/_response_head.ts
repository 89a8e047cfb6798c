// Pure helpers that turn a Response's status and headers into HTTP/1.1 head bytes
// (RFC 9112 §4 status-line, §5 field lines). No I/O.

/** Reason phrases for the statuses a Response is likely to carry (RFC 9110 §15). */
const REASON: Readonly<Record<number, string>> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
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

/** Returns the reason phrase for `status` (empty when unknown: RFC 9112 §4 allows it). */
export function reasonPhrase(status: number, statusText = ""): string {
  return statusText !== "" ? statusText : REASON[status] ?? "";
}

let dateSecond = -1;
let dateValue = "";

/** The IMF-fixdate for now (RFC 9110 §5.6.7), recomputed at most once a second. */
export function httpDate(now: number = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(second * 1000).toUTCString();
  }
  return dateValue;
}

/** Fields the server frames itself; a Response's own values for them are dropped. */
export function isFramingField(name: string): boolean {
  return name === "content-length" || name === "transfer-encoding" ||
    name === "connection" || name === "keep-alive";
}

/**
 * Writes `text` (a ByteString: every code unit ≤ 0xFF, as `Headers` guarantees) as
 * latin1 into a new buffer with `extra` spare bytes at the end.
 */
export function encodeLatin1(text: string, extra = 0): Uint8Array {
  const out = new Uint8Array(text.length + extra);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** A minimal response for protocol errors the server answers itself; it closes the connection. */
export function errorResponseBytes(status: number): Uint8Array {
  return encodeLatin1(
    `HTTP/1.1 ${status} ${
      reasonPhrase(status)
    }\r\nconnection: close\r\ncontent-length: 0\r\ndate: ${httpDate()}\r\n\r\n`,
  );
}
