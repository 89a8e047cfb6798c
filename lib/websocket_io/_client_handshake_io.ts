// The client's opening handshake over Deno.connect / Deno.connectTls: connect, write the GET,
// read and verify the 101 head, all within one timeout. Shared by connect() and the
// WHATWG-shaped WebSocketClient.
import { HeadParser } from "../http/head_parser.ts";
import {
  buildClientRequest,
  generateKey,
  verifyServerResponse,
} from "../websocket/client_handshake.ts";
import { formatExtensions } from "../websocket/extension_header.ts";
import {
  acceptPerMessageDeflateResponse,
  createPerMessageDeflateOffer,
  type DeflateParams,
  type PerMessageDeflateClientOptions,
} from "../websocket/permessage_deflate.ts";
import { WebSocketConnectError } from "./connect_error.ts";

/** Throws the RangeError the core would throw later, before any socket exists. */
export function checkMaxMessageSize(value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
    throw new RangeError(`Invalid maxMessageSize: ${value} is not a positive integer`);
  }
}

export interface HandshakeOptions {
  readonly protocols?: readonly string[];
  readonly origin?: string;
  readonly headers?: HeadersInit;
  readonly handshakeTimeout?: number;
  readonly caCerts?: string[];
  readonly maxHeadSize?: number;
  /**
   * Offer permessage-deflate (RFC 7692) with these options, or `false` not to.
   * @default {{}} (offered, as browsers do)
   */
  readonly perMessageDeflate?: PerMessageDeflateClientOptions | false;
}

export interface ClientTransport {
  readonly conn: Deno.Conn;
  readonly url: URL;
  readonly protocol: string;
  readonly extensions: string;
  /** The permessage-deflate agreement, when the server accepted the offer. */
  readonly deflate: DeflateParams | undefined;
  readonly rest: Uint8Array;
}

/** Parses a WebSocket URL as the WHATWG WebSocket constructor does (http(s) mapped to ws(s)). */
export function parseWebSocketUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new SyntaxError(`Cannot connect: ${JSON.stringify(String(input))} is not a URL`);
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw new SyntaxError(
      `Cannot connect: the URL scheme must be ws: or wss:, got ${url.protocol}`,
    );
  }
  if (url.hash !== "") {
    throw new SyntaxError("Cannot connect: a WebSocket URL has no fragment");
  }
  return url;
}

const encoder = new TextEncoder();

export async function clientHandshake(
  url: URL,
  options: HandshakeOptions,
): Promise<ClientTransport> {
  const timeoutMs = options.handshakeTimeout ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let conn: Deno.Conn | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      if (conn !== undefined) closeQuietly(conn);
      reject(
        new WebSocketConnectError(
          "WS_ERR_CONNECT_TIMEOUT",
          `Cannot connect: the handshake did not finish within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
  });
  timeout.catch(() => {});
  const secure = url.protocol === "wss:";
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
  try {
    const connecting = secure
      ? Deno.connectTls({
        hostname,
        port,
        ...(options.caCerts ? { caCerts: options.caCerts } : {}),
      })
      : Deno.connect({ hostname, port });
    // If the timeout wins, close the connection once it exists.
    connecting.then((c) => timedOut ? closeQuietly(c) : undefined, () => {});
    try {
      conn = await Promise.race([connecting, timeout]);
    } catch (error) {
      if (error instanceof WebSocketConnectError) throw error;
      throw new WebSocketConnectError(
        "WS_ERR_CONNECT_TRANSPORT",
        `Cannot connect to ${url.host}: ${error instanceof Error ? error.message : error}`,
      );
    }
    if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
    const key = generateKey();
    const deflateOffer = options.perMessageDeflate === false
      ? undefined
      : createPerMessageDeflateOffer(options.perMessageDeflate);
    const head = buildClientRequest({
      ...(deflateOffer === undefined ? {} : { extensions: [deflateOffer] }),
      host: url.host,
      path: url.pathname + url.search,
      key,
      ...(options.protocols ? { protocols: options.protocols } : {}),
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
      ...(options.headers !== undefined ? { headers: options.headers } : {}),
    });
    const work = (async () => {
      const bytes = encoder.encode(head);
      let offset = 0;
      while (offset < bytes.length) offset += await conn!.write(bytes.subarray(offset));
      const parser = new HeadParser({ kind: "response", maxHeadSize: options.maxHeadSize ?? 8192 });
      const buffer = new Uint8Array(4096);
      for (;;) {
        const n = await conn!.read(buffer);
        if (n === null) {
          throw new WebSocketConnectError(
            "WS_ERR_CONNECT_TRANSPORT",
            "Cannot connect: the server closed the connection during the handshake",
          );
        }
        const event = parser.receive(buffer.subarray(0, n));
        if (event === undefined) continue;
        if (event.type === "error") {
          throw new WebSocketConnectError("WS_ERR_CONNECT_HEAD", event.message);
        }
        const result = await verifyServerResponse(event.head, {
          key,
          ...(options.protocols ? { protocols: options.protocols } : {}),
          ...(deflateOffer === undefined ? {} : { extensions: [deflateOffer] }),
        });
        if (!result.ok) {
          throw new WebSocketConnectError(result.code, result.reason, event.head.status);
        }
        const deflate = deflateOffer === undefined
          ? { ok: true as const, params: undefined }
          : acceptPerMessageDeflateResponse(result.extensions, deflateOffer);
        if (!deflate.ok) {
          // RFC 7692 §5.2: the client MUST fail the connection.
          throw new WebSocketConnectError(
            "WS_ERR_HANDSHAKE_EXTENSIONS",
            deflate.reason,
            event.head.status,
          );
        }
        return {
          conn: conn!,
          url,
          protocol: result.protocol ?? "",
          extensions: result.extensions.length > 0 ? formatExtensions(result.extensions) : "",
          deflate: deflate.params,
          rest: event.rest,
        };
      }
    })();
    work.catch(() => {});
    try {
      return await Promise.race([work, timeout]);
    } catch (error) {
      if (error instanceof WebSocketConnectError) throw error;
      throw new WebSocketConnectError(
        "WS_ERR_CONNECT_TRANSPORT",
        `Cannot connect to ${url.host}: ${error instanceof Error ? error.message : error}`,
      );
    }
  } catch (error) {
    if (conn !== undefined) closeQuietly(conn);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
