/**
 * `deno task start`: the hub server, on the in-memory broker or (`--redis`) as one node of
 * several sharing a Redis server. Every transport shares one
 * port (`lib/net/` one-port server): HTTP (publish, polls, SSE, iframe, demo page, metrics)
 * and WebSocket (`/channels/{ch}/ws`, `/ws` with subprotocol `pushwire.v1`; see
 * docs/PROTOCOL-ws.md). SIGINT/SIGTERM shut down gracefully; WebSocket sessions close
 * with 1001.
 *
 * ```sh
 * deno run --allow-net --allow-env --allow-read lib/cli/start.ts [options]
 * ```
 *
 * | option | meaning |
 * | --- | --- |
 * | `--port N` | TCP port (else the `PORT` environment variable, else 8000) |
 * | `--hostname H` | interface to bind (default `127.0.0.1`: loopback only; `0.0.0.0` for all) |
 * | `--allow-origin ORIGIN` | repeatable: origins allowed with credentials (default: any origin, no credentials) |
 * | `--secret KEY` | require HS256 tokens signed with KEY to publish and subscribe |
 * | `--tcp-port N` | also start the socket relay for plugin-socket clients on this TCP port |
 * | `--redis URL` | run as one node of several on a Redis broker (`redis://HOST:PORT`) |
 *
 * @module
 */
import { Hub } from "../hub/hub.ts";
import { hubError, isHubError } from "../hub/hub_error.ts";
import { errorResponse } from "../server/_response.ts";
import { crossSiteCookieError, isAllowed, tokenOf, verifyToken } from "../server/auth.ts";
import { demoPageRoute } from "../server/demo/demo_page.ts";
import { createHubHandler, type HubHandlerOptions } from "../server/hub_handler.ts";
import { Metrics } from "../server/metrics.ts";
import { buildPolicyFile } from "../relay/policy_file.ts";
import { Relay } from "../relay/relay.ts";
import { createRelayHandler } from "../relay/relay_http_handler.ts";
import { listenRelay } from "../relay/relay_listener.ts";
import { serveOnePort } from "../net/one_port_server.ts";
import { createWebSocketRoutes } from "../server/ws/websocket_routes.ts";
import { pushwireScriptRoute } from "../client/browser_module.ts";

/** Parsed command line of {@linkcode main}. */
export interface StartOptions {
  /** Port to listen on. */
  readonly port: number;
  /** Interface to bind. */
  readonly hostname: string;
  /** Origins allowed with credentials; empty: any origin without credentials. */
  readonly allowOrigins: readonly string[];
  /** HS256 secret; undefined: no auth. */
  readonly secret: string | undefined;
  /** Port of the socket relay; undefined: no relay. */
  readonly tcpPort: number | undefined;
  /** `redis://` URL of the shared broker; undefined: the in-memory broker. */
  readonly redis: string | undefined;
  /** `--help` was given. */
  readonly help: boolean;
}

/** The `--help` text. */
export const USAGE: string = `Usage: deno task start [options]

  --port N               port to listen on (default: $PORT, else 8000)
  --hostname H           interface to bind (default: 127.0.0.1)
  --allow-origin ORIGIN  allow this origin with credentials (repeatable; default: any origin, no credentials)
  --secret KEY           require HS256 tokens signed with KEY to publish and subscribe
  --redis URL            run as one node of several on Redis (redis://HOST:PORT)
  --tcp-port N           also start the socket relay (plugin-socket clients) on this TCP port
  --help                 show this text
`;

function parsePort(text: string, source: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) {
    throw new RangeError(`Cannot start: ${source} must be a port number 0-65535, got "${text}"`);
  }
  return Number(text);
}

/**
 * Parses the command line; throws a `TypeError` / `RangeError` with a message for the user.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStartArgs } from "./start.ts";
 * const options = parseStartArgs(["--port", "9000", "--allow-origin", "http://a.test"], {});
 * assert.equal(options.port, 9000);
 * assert.deepEqual(options.allowOrigins, ["http://a.test"]);
 * assert.equal(parseStartArgs(["--redis", "redis://x:6379"], {}).redis, "redis://x:6379");
 * assert.throws(() => parseStartArgs(["--redis", "x:6379"], {}), /redis:\/\//);
 * assert.equal(parseStartArgs(["--tcp-port", "8001"], {}).tcpPort, 8001);
 * ```
 */
export function parseStartArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): StartOptions {
  let port = env.PORT !== undefined && env.PORT !== "" ? parsePort(env.PORT, "PORT") : 8000;
  let hostname = "127.0.0.1";
  const allowOrigins: string[] = [];
  let secret: string | undefined;
  let tcpPort: number | undefined;
  let redis: string | undefined;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq !== -1 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq !== -1 && arg.startsWith("--")) return arg.slice(eq + 1);
      const next = args[++i];
      if (next === undefined) throw new TypeError(`Cannot start: ${name} needs a value`);
      return next;
    };
    switch (name) {
      case "--port":
        port = parsePort(value(), "--port");
        break;
      case "--hostname":
        hostname = value();
        break;
      case "--allow-origin":
        allowOrigins.push(value());
        break;
      case "--secret":
        secret = value();
        if (secret === "") throw new TypeError("Cannot start: --secret must not be empty");
        break;
      case "--redis":
        redis = value();
        if (!/^rediss?:\/\/[^/]/.test(redis)) {
          throw new TypeError(`Cannot start: --redis must be a redis:// URL, got "${redis}"`);
        }
        break;
      case "--tcp-port":
        tcpPort = parsePort(value(), "--tcp-port");
        break;
      case "--help":
      case "-h":
        help = true;
        break;
      default:
        throw new TypeError(`Cannot start: unknown option "${arg}" (see --help)`);
    }
  }
  return { port, hostname, allowOrigins, secret, tcpPort, redis, help };
}

/** The handler options a {@linkcode StartOptions} selects. */
export function handlerOptionsOf(options: StartOptions): HubHandlerOptions {
  return {
    ...(options.allowOrigins.length > 0 ? { allowOrigins: options.allowOrigins } : {}),
    ...(options.secret === undefined ? {} : { secret: options.secret }),
  };
}

/** A port free right now on `hostname`. */
function freePort(hostname: string): number {
  const probe = Deno.listen({ hostname, port: 0 });
  const { port } = probe.addr;
  probe.close();
  return port;
}

/** Sends `/relay/...` paths to the relay's HTTP handler; anything else is a 404. */
function relayFallback(
  handler: (request: Request) => Promise<Response>,
): (request: Request) => Promise<Response> {
  return (request) =>
    new URL(request.url).pathname.startsWith("/relay/")
      ? handler(request)
      : Promise.resolve(errorResponse(
        hubError("HUB_ERR_NOT_FOUND", 404, "Cannot route: no route for this path"),
        new Headers(),
      ));
}

/** With `--secret`, a relay subscription needs a token that may subscribe to the channel. */
function relayAuthorizer(
  secret: string,
  trusted: readonly string[],
): (request: Request, channel: string) => Promise<boolean> {
  return async (request, channel) => {
    const token = tokenOf(request);
    if (token === undefined) return false;
    // Another site's page could otherwise subscribe its own relay id with the victim's cookie.
    if (crossSiteCookieError(request, new URL(request.url), trusted) !== undefined) return false;
    const claims = await verifyToken(token, secret);
    return !isHubError(claims) && isAllowed(claims, "subscribe", channel);
  };
}

/**
 * The hub on the broker `options` select. The Redis adapter (and its npm client) is loaded
 * only when `--redis` asks for it, so the default server imports nothing outside the runtime.
 */
async function hubOf(options: StartOptions): Promise<Hub> {
  if (options.redis === undefined) return new Hub();
  const { RedisBroker } = await import("../hub/redis_broker.ts");
  let broker;
  try {
    broker = await RedisBroker.connect({ url: options.redis });
  } catch (error) {
    throw new Error(`${redactUrl(options.redis)}: ${(error as Error).message}`);
  }
  console.log(`pushwire broker: ${redactUrl(options.redis)}`);
  return new Hub({ broker });
}

/** The URL without its password, for logs. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** The line printed when `what` cannot listen on `hostname:port`. */
function cannotListen(
  what: "the hub" | "the socket relay",
  hostname: string,
  port: number,
  error: unknown,
): string {
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const option = what === "the hub" ? "--port or PORT" : "--tcp-port";
  const reason = error instanceof Deno.errors.AddrInUse
    ? `the port is in use (choose another with ${option})`
    : (error as Error).message;
  return `Cannot start: ${what} cannot listen on ${host}:${port}: ${reason}`;
}

/** Runs the server until SIGINT/SIGTERM. Returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  let options: StartOptions;
  try {
    options = parseStartArgs(args, { PORT: Deno.env.get("PORT") });
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  let hub: Hub;
  try {
    hub = await hubOf(options);
  } catch (error) {
    console.error(`Cannot start: ${(error as Error).message}`);
    return 1;
  }
  const metrics = new Metrics(hub);
  const controller = new AbortController();
  // The policy file names the relay's real port, so `--tcp-port 0` picks one up front.
  const tcpPort = options.tcpPort === 0 ? freePort(options.hostname) : options.tcpPort;
  const relay = tcpPort === undefined ? undefined : new Relay({
    source: hub,
    policy: { origins: options.allowOrigins, ports: [tcpPort] },
    metrics,
  });
  let relayListener: ReturnType<typeof listenRelay> | undefined;
  try {
    relayListener = relay === undefined ? undefined : listenRelay(relay, {
      hostname: options.hostname,
      port: tcpPort!,
      signal: controller.signal,
    });
  } catch (error) {
    // A port in use or not allowed: say which, without a stack trace.
    console.error(cannotListen("the socket relay", options.hostname, tcpPort!, error));
    await hub.close();
    return 1;
  }
  if (relayListener !== undefined) {
    console.log(
      `pushwire socket relay listening on ${options.hostname}:${relayListener.addr.port}`,
    );
  }
  // WebSocket (`/channels/{ch}/ws`, `/ws`) and HTTP share the one port: the one-port server
  // hands upgrade requests to the WebSocket server and relays the rest to the hub handler.
  const websocket = createWebSocketRoutes(hub, {
    metrics,
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    ...(options.allowOrigins.length > 0 ? { allowOrigins: options.allowOrigins } : {}),
  });
  let server: ReturnType<typeof serveOnePort>;
  try {
    server = serveOnePort(
      {
        hostname: options.hostname,
        port: options.port,
        signal: controller.signal,
        onListen({ hostname, port }) {
          const host = hostname.includes(":") ? `[${hostname}]` : hostname;
          console.log(`pushwire hub listening on http://${host}:${port}/`);
        },
      },
      {
        upgrade: websocket.server.handleUpgrade,
        fetch: createHubHandler(hub, {
          ...handlerOptionsOf(options),
          metrics,
          // An upgrade arriving later on a kept-alive connection reaches the handler instead.
          channelRoutes: { ws: websocket.channelRoute },
          routes: {
            "/": demoPageRoute,
            "/ws": websocket.wsRoute,
            "/pushwire.js": pushwireScriptRoute,
            "/pushwire.d.ts": pushwireScriptRoute,
            ...(relay === undefined ? {} : {
              "/crossdomain.xml": () =>
                new Response(buildPolicyFile({ origins: options.allowOrigins }), {
                  headers: { "content-type": "text/x-cross-domain-policy" },
                }),
            }),
          },
          ...(relay === undefined ? {} : {
            fallback: relayFallback(createRelayHandler(relay, {
              ...(options.secret === undefined
                ? {}
                : { authorize: relayAuthorizer(options.secret, options.allowOrigins) }),
            })),
          }),
        }),
      },
    );
  } catch (error) {
    console.error(cannotListen("the hub", options.hostname, options.port, error));
    controller.abort();
    await relayListener?.finished;
    await hub.close();
    return 1;
  }
  let websocketClosed: Promise<void> | undefined;
  const stop = () => {
    controller.abort();
    // Upgraded connections are the WebSocket server's: close them with 1001 (going away).
    websocketClosed ??= websocket.shutdown();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // Not every platform has every signal.
    }
  }
  await server.finished;
  await (websocketClosed ?? websocket.shutdown());
  await relayListener?.finished;
  await hub.close();
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
