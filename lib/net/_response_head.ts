// Encodes the HTTP/1.1 response head of the first response of a connection (RFC 9112 §4
// status-line, §5 field lines). Pure: the date is passed in.

/** RFC 9110 §15 reason phrases of common statuses; others go out with an empty reason. */
const REASON: Readonly<Record<number, string>> = {
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
  413: "Content Too Large",
  415: "Unsupported Media Type",
  426: "Upgrade Required",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** How the body after the head is delimited. */
export type ResponseFraming =
  | { readonly type: "length"; readonly length: number }
  | { readonly type: "chunked" }
  /** HTTP/1.0 streaming: the end of the body is the end of the connection. */
  | { readonly type: "close-delimited" }
  /** RFC 9110 §6.4.1: no content (HEAD, 204, 304); `length` is advertised when known. */
  | { readonly type: "bodyless"; readonly length: string | null };

/** Fields the server frames itself; a Response's own values for them are dropped. */
function isFramingField(name: string): boolean {
  return name === "content-length" || name === "transfer-encoding" ||
    name === "connection" || name === "keep-alive";
}

/** The IMF-fixdate of `now` (RFC 9110 §5.6.7). */
export function httpDate(now: number): string {
  return new Date(now).toUTCString();
}

/**
 * The head of `response` as latin1 bytes followed by `extra` spare bytes (for a body
 * written in the same call). `Headers` guarantees ByteString values.
 */
export function encodeResponseHead(
  status: number,
  statusText: string,
  headers: Headers,
  framing: ResponseFraming,
  keepAlive: boolean,
  date: string,
  extra = 0,
): Uint8Array {
  let head = `HTTP/1.1 ${status} ${statusText || REASON[status] || ""}\r\n`;
  for (const [name, value] of headers) {
    // Iteration yields each set-cookie on its own line (Fetch "sort and combine").
    if (!isFramingField(name)) head += `${name}: ${value}\r\n`;
  }
  if (!headers.has("date")) head += `date: ${date}\r\n`;
  if (!keepAlive || framing.type === "close-delimited") head += "connection: close\r\n";
  switch (framing.type) {
    case "length":
      head += `content-length: ${framing.length}\r\n`;
      break;
    case "chunked":
      head += "transfer-encoding: chunked\r\n";
      break;
    case "close-delimited":
      break;
    case "bodyless":
      if (framing.length !== null && status !== 204) {
        head += `content-length: ${framing.length}\r\n`;
      }
      break;
  }
  head += "\r\n";
  const out = new Uint8Array(head.length + extra);
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
  return out;
}

const CRLF_SIZE = 2;

/** `data` as one chunk of the chunked coding (RFC 9112 §7.1), after `prefix`. */
export function encodeChunk(prefix: Uint8Array, data: Uint8Array): Uint8Array {
  const size = data.length.toString(16);
  const out = new Uint8Array(prefix.length + size.length + CRLF_SIZE + data.length + CRLF_SIZE);
  out.set(prefix);
  let i = prefix.length;
  for (let k = 0; k < size.length; k++) out[i++] = size.charCodeAt(k);
  out[i++] = 0x0d;
  out[i++] = 0x0a;
  out.set(data, i);
  i += data.length;
  out[i++] = 0x0d;
  out[i] = 0x0a;
  return out;
}

/** RFC 9112 §7.1: the last chunk with no trailer section. */
export const LAST_CHUNK: Uint8Array = new Uint8Array([0x30, 0x0d, 0x0a, 0x0d, 0x0a]);
