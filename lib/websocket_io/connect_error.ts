/**
 * The error a client's opening handshake rejects with.
 *
 * @module
 */

/** Why a client could not connect; `code` is stable. */
export type ConnectErrorCode =
  | "WS_ERR_CONNECT_URL"
  | "WS_ERR_CONNECT_TRANSPORT"
  | "WS_ERR_CONNECT_TIMEOUT"
  | "WS_ERR_CONNECT_HEAD"
  | "WS_ERR_HANDSHAKE_METHOD"
  | "WS_ERR_HANDSHAKE_HTTP_VERSION"
  | "WS_ERR_HANDSHAKE_HOST"
  | "WS_ERR_HANDSHAKE_UPGRADE"
  | "WS_ERR_HANDSHAKE_CONNECTION"
  | "WS_ERR_HANDSHAKE_VERSION"
  | "WS_ERR_HANDSHAKE_KEY"
  | "WS_ERR_HANDSHAKE_PROTOCOL"
  | "WS_ERR_HANDSHAKE_EXTENSIONS"
  | "WS_ERR_HANDSHAKE_STATUS"
  | "WS_ERR_HANDSHAKE_ACCEPT";

/**
 * The opening handshake failed: no WebSocket connection exists. `status` is the server's
 * HTTP status when it answered with something other than `101`.
 */
export class WebSocketConnectError extends Error {
  /** Stable machine-readable identifier. */
  readonly code: ConnectErrorCode;
  /** The server's status, when it answered. */
  readonly status: number | undefined;

  /**
   * Creates the error.
   *
   * @param code Stable identifier.
   * @param message Human-readable explanation.
   * @param status The server's status, when it answered.
   */
  constructor(code: ConnectErrorCode, message: string, status?: number) {
    super(message);
    this.name = "WebSocketConnectError";
    this.code = code;
    this.status = status;
  }
}
