// Hands an accepted connection, with no unread byte taken from it, to the runtime's HTTP server.
//
// RISK: this relies on an internal of Deno 2.9 (`Deno[Deno.internal].serveHttpOnConnection`,
// ext/http/00_serve.ts): `(conn, signal, handler, onError, onListen)` returning
// `{ finished, shutdown }`. It is not public API and may change or vanish in any release.
// It is feature-detected here; when absent or different, `lib/net/` relays instead
// (docs/ARCHITECTURE-one-port.md). Facts measured on 2.9.6 that the caller relies on:
// - the call takes the connection's resource even when it throws (e.g. "Busy" while a read
//   is pending), so it must only be called with no read in flight;
// - aborting `signal` force-closes the connection, but its abort listener throws BadResource
//   once the runtime has closed the connection, which can happen a turn before `finished`
//   settles. A throw from an abort listener is an uncaught error, so the listener is taken
//   from the signal and called here, guarded (`cancel`). Never call `shutdown()` (it takes
//   the handle that a later cancel needs).

/** A Deno.serve-style handler. */
export type RuntimeHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** A connection served by the runtime. */
export interface RuntimeConnectionServer {
  /** Settles when the runtime is done with the connection. */
  readonly finished: Promise<void>;
  /** Force-closes the connection; does nothing once it is closed. Never throws. */
  cancel(): void;
}

/** The detected internal, bound to the shape it was checked for. */
export type ServeOnConnection = (
  conn: Deno.TcpConn,
  handler: RuntimeHandler,
  onError: (error: unknown) => Response | Promise<Response>,
) => RuntimeConnectionServer;

/** Finds `serveHttpOnConnection` with the expected name and arity, or `undefined`. */
export function detectServeOnConnection(): ServeOnConnection | undefined {
  let fn: unknown;
  try {
    const symbol = (Deno as unknown as { internal?: unknown }).internal;
    if (typeof symbol !== "symbol") return undefined;
    const internals = (Deno as unknown as Record<symbol, Record<string, unknown> | undefined>)[
      symbol
    ];
    fn = internals?.serveHttpOnConnection;
  } catch {
    return undefined;
  }
  // (connection, signal, handler, onError, onListen), as in Deno 2.x's ext/http/00_serve.ts.
  if (typeof fn !== "function" || fn.length !== 5 || fn.name !== "serveHttpOnConnection") {
    return undefined;
  }
  const serveOn = fn as (
    conn: Deno.TcpConn,
    signal: AbortSignal,
    handler: RuntimeHandler,
    onError: (error: unknown) => Response | Promise<Response>,
    onListen: () => void,
  ) => unknown;
  return (conn, handler, onError) => {
    // A real signal whose abort listener is kept here rather than registered, so that
    // calling it can be guarded.
    const signal = new AbortController().signal;
    let onAbort: ((event: Event) => void) | undefined;
    signal.addEventListener = (_type: string, listener: unknown) => {
      if (typeof listener === "function") onAbort = listener as (event: Event) => void;
    };
    const server = serveOn(conn, signal, handler, onError, () => {}) as
      | { finished?: unknown }
      | undefined;
    if (!(server?.finished instanceof Promise) || onAbort === undefined) {
      throw new TypeError("serveHttpOnConnection returned an unexpected value");
    }
    const finished = server.finished as Promise<void>;
    return {
      finished,
      cancel() {
        const listener = onAbort;
        onAbort = undefined;
        try {
          listener?.call(signal, new Event("abort"));
        } catch {
          // BadResource: the runtime closed the connection already.
        }
      },
    };
  };
}
