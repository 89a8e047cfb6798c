// The few answers the one-port server writes itself, before any handler runs.

/** RFC 9110 §15 reason phrases of the statuses written here. */
const REASON: Readonly<Record<number, string>> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

const encoder = new TextEncoder();

/** An empty response with `status` that announces the connection will close. */
export function errorResponseBytes(status: 400 | 408 | 431 | 503 | 505): Uint8Array {
  return encoder.encode(
    `HTTP/1.1 ${status} ${REASON[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
  );
}
