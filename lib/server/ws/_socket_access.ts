// Shared by both WebSocket endpoints: the token check before the 101, per-action grants
// from the kept claims, and the frames each message is serialized into once.
import type { HubError } from "../../hub/hub_error.ts";
import { hubError } from "../../hub/hub_error.ts";
import type { Message } from "../../hub/message.ts";
import { messageJson } from "../../hub/message.ts";
import type { WebSocketRequest } from "../../websocket_io/endpoint.ts";
import { PreparedMessage } from "../../websocket_io/prepared_message.ts";
import {
  crossSiteCookieError,
  isAllowed,
  type TokenAction,
  type TokenClaims,
  tokenOf,
  verifyToken,
} from "../auth.ts";
import { muxMessageText } from "./mux_protocol.ts";

/** How a socket is authenticated: no key (open hub) or an HS256 key. */
export interface SocketAuth {
  readonly key: Promise<CryptoKey> | undefined;
  readonly now: () => number;
  /** Origins trusted with the token cookie besides the request's own host. */
  readonly trustedOrigins?: readonly string[] | undefined;
}

/**
 * The claims of the upgrade request's token: undefined when the hub is open, a 401
 * `HubError` when a token is required and missing or invalid.
 */
export async function claimsOf(
  request: WebSocketRequest,
  auth: SocketAuth,
): Promise<TokenClaims | HubError | undefined> {
  if (auth.key === undefined) return undefined;
  // tokenOf reads the headers and the query only.
  const url = new URL(request.url);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  const token = tokenOf({ headers: request.headers } as Request, url);
  if (token === undefined) {
    return hubError("HUB_ERR_UNAUTHORIZED", 401, "Cannot authenticate: a token is required");
  }
  // Cross-site WebSocket hijacking: another site's page opening a socket with the cookie.
  const forged = crossSiteCookieError(request, url, auth.trustedOrigins);
  if (forged !== undefined) return forged;
  return await verifyToken(token, await auth.key, auth.now());
}

/**
 * Checks `action` on `channel` with the claims kept since the handshake: undefined when
 * allowed, a 401 error once the token has expired, a 403 error when it does not grant it.
 */
export function grant(
  claims: TokenClaims | undefined,
  action: TokenAction,
  channel: string,
  now: number,
): HubError | undefined {
  if (claims === undefined) return undefined;
  if (typeof claims.exp === "number" && now / 1000 >= claims.exp) {
    return hubError("HUB_ERR_UNAUTHORIZED", 401, "Cannot authenticate: the token has expired");
  }
  if (isAllowed(claims, action, channel)) return undefined;
  return hubError(
    "HUB_ERR_FORBIDDEN",
    403,
    `Cannot ${action}: the token does not grant channel "${channel}"`,
  );
}

const channelFrames = new WeakMap<Message, PreparedMessage>();
const muxFrames = new WeakMap<Message, PreparedMessage>();

/** `/channels/{ch}/ws`: the message JSON as one text frame, framed once per message. */
export function channelFrameOf(message: Message): PreparedMessage {
  let frame = channelFrames.get(message);
  if (frame === undefined) {
    frame = new PreparedMessage(messageJson(message));
    channelFrames.set(message, frame);
  }
  return frame;
}

/** `/ws`: the `{"type":"message","message":...}` text frame, framed once per message. */
export function muxFrameOf(message: Message): PreparedMessage {
  let frame = muxFrames.get(message);
  if (frame === undefined) {
    frame = new PreparedMessage(muxMessageText(message));
    muxFrames.set(message, frame);
  }
  return frame;
}
