// Hands an accepted connection, with no unread byte taken from it, to the runtime's HTTP server.
//
// RISK: this relies on an internal of Deno 2.9 (`Deno[Deno.internal].serveHttpOnConnection`,
// ext/http/00_serve.ts): `(conn, signal, handler, onError, onListen)` returning
// `{ finished, shutdown }`. It is not public API and may change or vanish in any release.
// It is feature-detected here; when absent or different, `lib/net/` relays instead
// (docs/ARCHITECTURE-one-port.md). Facts measured on 2.9.6 that the caller relies on:
// - the call takes the connection's resource even when it throws (e.g. "Busy" while a read
//   is pending), so it must only be called with no read in flight;
// - aborting `signal` force-closes the connection, but throws BadResource from the abort
//   listener once the server is finished or after `shutdown()`: abort only while running,
//   and never call `shutdown()` (it takes the handle that a later abort needs).

/** A Deno.serve-style handler. */
export type RuntimeHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** What `serveHttpOnConnection` returns, as far as it is used here. */
export interface RuntimeConnectionServer {
  readonly finished: Promise<void>;
}

/** The detected internal, bound to the shape it was checked for. */
export type ServeOnConnection = (
  conn: Deno.TcpConn,
  signal: AbortSignal,
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
  return (conn, signal, handler, onError) => {
    const server = serveOn(conn, signal, handler, onError, () => {}) as
      | { finished?: unknown }
      | undefined;
    if (!(server?.finished instanceof Promise)) {
      throw new TypeError("serveHttpOnConnection returned an unexpected value");
    }
    return server as RuntimeConnectionServer;
  };
}
