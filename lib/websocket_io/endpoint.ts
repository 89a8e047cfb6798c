/**
 * The endpoints API, in the spirit of JSR 356 (Jakarta WebSocket) endpoints: an accept
 * decision that sees the request before the `101`, lifecycle hooks, optional typed codecs
 * and a per-endpoint message size limit. Routes and session groups are in `router.ts` and
 * `session_group.ts`; the same endpoints run on the hand-written server (`server.ts`) and
 * on `Deno.serve` (`deno_serve_adapter.ts`).
 *
 * @module
 */
import type { ExtensionOffer } from "../websocket/extension_header.ts";
import type { PreparedMessage } from "./prepared_message.ts";
import type { SessionCloseEvent, SessionState } from "./session.ts";

/** The upgrade request as an endpoint's `accept` and sessions see it. */
export interface WebSocketRequest {
  /** `ws://` or `wss://` URL of the request (host from the `Host` header). */
  readonly url: URL;
  /** Path parameters of the route, e.g. `{ room: "lobby" }` for `/rooms/:room`. */
  readonly params: Readonly<Record<string, string>>;
  /** The request's header fields. */
  readonly headers: Headers;
  /** The `Origin` header, when sent (browsers always send it). */
  readonly origin: string | undefined;
  /** Subprotocols the client offered, in its order. */
  readonly protocols: readonly string[];
  /** Extensions the client offered, in its order. */
  readonly extensions: readonly ExtensionOffer[];
  /** Cookies from the `Cookie` header, by name (the first of repeated names wins). */
  readonly cookies: ReadonlyMap<string, string>;
  /** The client's address. */
  readonly remoteAddr: Deno.Addr;
}

/** Accept the upgrade; built by {@linkcode accept}. */
export interface AcceptUpgrade<Data> {
  /** Decision kind. */
  readonly type: "accept";
  /** The subprotocol to answer with; it must be one the client offered. */
  readonly protocol?: string;
  /** Extra `101` header fields, e.g. `Set-Cookie`. */
  readonly headers?: HeadersInit;
  /** The session's initial `data`. */
  readonly data?: Data;
}

/** Refuse the upgrade with an HTTP error; built by {@linkcode reject}. */
export interface RejectUpgrade {
  /** Decision kind. */
  readonly type: "reject";
  /** HTTP status, 400 to 599. */
  readonly status: number;
  /** Plain-text body. */
  readonly reason: string;
  /** Extra header fields, e.g. `WWW-Authenticate`. */
  readonly headers?: HeadersInit;
}

/** What an endpoint's `accept` returns; `undefined` accepts with the defaults. */
export type AcceptDecision<Data> = AcceptUpgrade<Data> | RejectUpgrade;

/**
 * Builds an accept decision.
 *
 * @example Choose a subprotocol and attach session data
 * ```ts
 * import assert from "node:assert/strict";
 * import { accept } from "./endpoint.ts";
 * const decision = accept({ protocol: "chat", data: { user: "ada" } });
 * assert.equal(decision.type, "accept");
 * ```
 *
 * @param options Subprotocol, extra header fields and session data.
 * @returns The decision.
 */
export function accept<Data>(
  options: Omit<AcceptUpgrade<Data>, "type"> = {},
): AcceptUpgrade<Data> {
  return { type: "accept", ...options };
}

/**
 * Builds a rejection: the client gets this HTTP status and the socket is closed.
 *
 * @example Refuse an unauthenticated request
 * ```ts
 * import assert from "node:assert/strict";
 * import { reject } from "./endpoint.ts";
 * const decision = reject(401, "Cannot connect: a session cookie is required");
 * assert.equal(decision.status, 401);
 * ```
 *
 * @param status HTTP status, 400 to 599.
 * @param reason Plain-text body.
 * @param headers Extra header fields.
 * @returns The decision.
 * @throws {RangeError} If `status` is not an integer from 400 to 599.
 */
export function reject(status: number, reason = "", headers?: HeadersInit): RejectUpgrade {
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`Cannot reject: status must be an integer from 400 to 599, got ${status}`);
  }
  return headers === undefined
    ? { type: "reject", status, reason }
    : { type: "reject", status, reason, headers };
}

/**
 * Turns raw messages into typed values and back (JSR 356 encoders/decoders). A `decode`
 * that throws closes the session with 1007 (invalid payload data).
 */
export interface Codec<In, Out> {
  /** Decodes a received message. */
  decode(message: string | Uint8Array): In;
  /** Encodes a value to send: a string goes out as text, bytes as binary. */
  encode(value: Out): string | Uint8Array;
}

/**
 * A JSON codec: text messages hold JSON; binary messages are refused (decode throws, the
 * session closes with 1007).
 *
 * @example Typed messages both ways
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonCodec } from "./endpoint.ts";
 * const codec = jsonCodec<{ n: number }>();
 * assert.deepEqual(codec.decode('{"n":1}'), { n: 1 });
 * assert.equal(codec.encode({ n: 2 }), '{"n":2}');
 * ```
 *
 * @typeParam In The type of received values (not checked at run time).
 * @typeParam Out The type of sent values.
 * @returns The codec.
 */
export function jsonCodec<In = unknown, Out = In>(): Codec<In, Out> {
  return {
    decode(message: string | Uint8Array): In {
      if (typeof message !== "string") {
        throw new TypeError("Cannot decode message: JSON arrives in text messages only");
      }
      return JSON.parse(message) as In;
    },
    encode(value: Out): string {
      return JSON.stringify(value);
    },
  };
}

/**
 * A live session as an endpoint sees it. Implemented by the hand-written server and by the
 * `Deno.serve` adapter.
 *
 * @typeParam Out What `send` takes (the codec's input; raw strings/bytes without a codec).
 * @typeParam Data The type of the per-session `data`.
 */
export interface EndpointSession<Out = string | Uint8Array, Data = unknown> {
  /** Unique per process, for logs. */
  readonly id: number;
  /** The upgrade request. */
  readonly request: WebSocketRequest;
  /** Shortcut for `request.params`. */
  readonly params: Readonly<Record<string, string>>;
  /** Application state for this session (from the accept decision, or set in `open`). */
  data: Data;
  /** The negotiated subprotocol, `""` if none. */
  readonly protocol: string;
  /** The negotiated extensions, `""` if none. */
  readonly extensions: string;
  /** `"open"`, `"closing"` or `"closed"`. */
  readonly state: SessionState;
  /** Bytes not yet accepted by the socket. */
  readonly bufferedAmount: number;
  /** Resolves once the session ended. */
  readonly closed: Promise<SessionCloseEvent>;
  /**
   * Sends a value (encoded by the endpoint's codec, if any).
   *
   * @returns `false` when saturated (wait for `drained()`) or not open (dropped).
   */
  send(message: Out): boolean;
  /** Sends a message framed once for many sessions; returns as `send`. */
  sendPrepared(message: PreparedMessage): boolean;
  /** Sends a ping, when the transport supports it. */
  ping(data?: Uint8Array | string): void;
  /** Resolves once `bufferedAmount` is at most the high-water mark, or the session ended. */
  drained(): Promise<void>;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
}

/**
 * A WebSocket endpoint: what happens on one route. Every hook is optional; messages are
 * delivered one at a time, in order (a hook's promise is awaited before the next message).
 *
 * @example A chat room endpoint with JSON messages
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Endpoint, jsonCodec, reject } from "./endpoint.ts";
 * type Chat = { text: string };
 * const room: Endpoint<Chat, Chat, { nick: string }> = {
 *   codec: jsonCodec<Chat>(),
 *   maxMessageSize: 64 * 1024,
 *   accept: (request) =>
 *     request.cookies.has("nick") ? undefined : reject(401, "Cannot join: no nick cookie"),
 *   open: (session) => {
 *     session.data = { nick: session.request.cookies.get("nick")! };
 *   },
 *   message: (session, message) => {
 *     session.send({ text: `${session.data.nick}: ${message.text}` });
 *   },
 * };
 * assert.ok(typeof room.message === "function");
 * ```
 *
 * @typeParam In Received values (the codec's output; raw strings/bytes without a codec).
 * @typeParam Out Sent values.
 * @typeParam Data Per-session data.
 */
export interface Endpoint<In = string | Uint8Array, Out = string | Uint8Array, Data = unknown> {
  /** Subprotocols this endpoint speaks, most preferred first (used when `accept` picks none). */
  readonly protocols?: readonly string[];
  /** Typed messages; without one, messages are strings (text) and `Uint8Array`s (binary). */
  readonly codec?: Codec<In, Out>;
  /**
   * Largest message accepted, in bytes; a bigger one closes the session with 1009.
   * @default {16777216} (16 MiB)
   */
  readonly maxMessageSize?: number;
  /**
   * Decides before the `101`: return {@linkcode reject} to answer an HTTP error, {@linkcode
   * accept} to pick a subprotocol, add header fields or set `data`; `undefined` accepts.
   * Bounded by the server's handshake timeout; throwing answers 500.
   */
  accept?(
    request: WebSocketRequest,
  ): AcceptDecision<Data> | undefined | Promise<AcceptDecision<Data> | undefined>;
  /**
   * The session is open; runs before any message is delivered (a returned Promise is
   * awaited first).
   */
  open?(session: EndpointSession<Out, Data>): unknown;
  /**
   * A message arrived. A returned Promise is awaited before the next message is read.
   * Throwing (or rejecting) closes the session with 1011.
   */
  message?(session: EndpointSession<Out, Data>, message: In): unknown;
  /** The session ended (called once, after the transport closed). */
  close?(session: EndpointSession<Out, Data>, event: SessionCloseEvent): void;
  /** A hook threw or a message could not be decoded. */
  error?(session: EndpointSession<Out, Data>, error: unknown): void;
}
