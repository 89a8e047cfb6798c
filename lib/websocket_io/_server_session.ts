// The EndpointSession the hand-written server hands to endpoints: a WebSocketSession plus
// the request, the route's codec and hooks. Hook errors are reported to the endpoint's
// `error` hook and close the session (1007 for a message the codec refuses, 1011 else).
import { CLOSE_INTERNAL_ERROR, CLOSE_INVALID_PAYLOAD } from "../websocket/_constants.ts";
import { DeflateCodec } from "../websocket/deflate_codec.ts";
import type { DeflateParams, PerMessageDeflateOptions } from "../websocket/permessage_deflate.ts";
import type { Endpoint, EndpointSession, WebSocketRequest } from "./endpoint.ts";
import type { PreparedMessage } from "./prepared_message.ts";
import type { Route } from "./router.ts";
import {
  type HeartbeatTimer,
  type SessionCloseEvent,
  type SessionOptions,
  type SessionState,
  WebSocketSession,
} from "./session.ts";

let nextId = 1;

/** Allocates a process-unique session id (shared with the Deno.serve adapter). */
export function nextSessionId(): number {
  return nextId++;
}

/** Everything the server decided during the handshake. */
export interface ServerSessionInit {
  readonly conn: Deno.Conn;
  readonly request: WebSocketRequest;
  readonly route: Route;
  readonly protocol: string;
  readonly data: unknown;
  readonly preamble: Uint8Array;
  /** The `Sec-WebSocket-Extensions` answered, `""` if none. */
  readonly extensions: string;
  /** The permessage-deflate agreement and the server's policy, when negotiated. */
  readonly deflate?: { readonly params: DeflateParams; readonly options: PerMessageDeflateOptions };
  readonly options: SessionOptions;
  readonly heartbeat: HeartbeatTimer | undefined;
  readonly onClose: (session: ServerSession) => void;
}

export class ServerSession implements EndpointSession<unknown, unknown> {
  readonly id: number = nextSessionId();
  readonly request: WebSocketRequest;
  data: unknown;
  readonly session: WebSocketSession;
  readonly #endpoint: Endpoint<unknown, unknown, unknown>;

  constructor(init: ServerSessionInit) {
    this.request = init.request;
    this.data = init.data;
    const endpoint = init.route.endpoint;
    this.#endpoint = endpoint;
    const maxMessageSize = endpoint.maxMessageSize;
    const codec = endpoint.codec;
    this.session = new WebSocketSession({
      conn: init.conn,
      role: "server",
      ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
      protocol: init.protocol,
      extensions: init.extensions,
      ...(init.deflate === undefined ? {} : {
        deflate: new DeflateCodec({
          ...init.deflate.options,
          role: "server",
          params: init.deflate.params,
          ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
        }),
      }),
      preamble: init.preamble,
      options: init.options,
      ...(init.heartbeat === undefined ? {} : { heartbeat: init.heartbeat }),
      handler: {
        message: (data) => {
          let value: unknown = data;
          if (codec !== undefined) {
            try {
              value = codec.decode(data);
            } catch (error) {
              this.#report(error);
              this.session.close(CLOSE_INVALID_PAYLOAD);
              return;
            }
          }
          return endpoint.message?.(this, value);
        },
        error: (error) => this.#report(error),
        close: (event) => {
          init.onClose(this);
          try {
            endpoint.close?.(this, event);
          } catch (error) {
            this.#report(error);
          }
        },
      },
    });
  }

  /** Runs the open hook, then starts reading. */
  async start(rest: Uint8Array): Promise<void> {
    try {
      const opening = this.#endpoint.open?.(this);
      // A slow open hook must not outlive the session (shutdown, close timeout).
      if (opening instanceof Promise) await Promise.race([opening, this.session.closed]);
    } catch (error) {
      this.#report(error);
      this.session.close(CLOSE_INTERNAL_ERROR);
    }
    this.session.start(rest);
  }

  #report(error: unknown): void {
    try {
      this.#endpoint.error?.(this, error);
    } catch {
      // Nothing left to report to.
    }
  }

  get params(): Readonly<Record<string, string>> {
    return this.request.params;
  }
  get protocol(): string {
    return this.session.protocol;
  }
  get extensions(): string {
    return this.session.extensions;
  }
  get state(): SessionState {
    return this.session.state;
  }
  get bufferedAmount(): number {
    return this.session.bufferedAmount;
  }
  get closed(): Promise<SessionCloseEvent> {
    return this.session.closed;
  }
  send(message: unknown): boolean {
    const codec = this.#endpoint.codec;
    return this.session.send(
      codec === undefined ? message as string | Uint8Array : codec.encode(message),
    );
  }
  sendPrepared(message: PreparedMessage): boolean {
    return this.session.sendPrepared(message);
  }
  ping(data?: Uint8Array | string): void {
    this.session.ping(data);
  }
  drained(): Promise<void> {
    return this.session.drained();
  }
  close(code?: number, reason?: string): void {
    this.session.close(code, reason);
  }
}
