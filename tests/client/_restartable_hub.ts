// A hub served the way `deno task start` serves it (HTTP and both WebSocket routes on one
// port, the client at /pushwire.js), that can be stopped and started again on the SAME port
// with the SAME hub (history intact): a server restart as clients see it. Optionally with
// WebSocket upgrades blocked as a proxy would: refused (403), or held unanswered.
import { Hub } from "../../lib/hub/hub.ts";
import type { Broker } from "../../lib/hub/broker.ts";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import { type OnePortServer, serveOnePort } from "../../lib/net/one_port_server.ts";
import { pushwireScriptRoute } from "../../lib/client/browser_module.ts";
import { createHubHandler, type RouteHandler } from "../../lib/server/hub_handler.ts";
import {
  createWebSocketRoutes,
  type WebSocketRoutes,
} from "../../lib/server/ws/websocket_routes.ts";

export interface RestartableHubOptions {
  /** Messages kept per channel. @default {10000} */
  readonly history?: number;
  /**
   * Block every WebSocket upgrade: `"refuse"` answers 403; `"hang"` accepts the connection
   * and the upgrade request and never answers (a proxy that swallows it).
   */
  readonly blockWebSocket?: "refuse" | "hang";
  /** Extra routes (e.g. a test page at "/"). */
  readonly routes?: Readonly<Record<string, RouteHandler>>;
  /** The hub's broker (`history` is then the broker's). @default {a MemoryBroker} */
  readonly broker?: Broker;
}

const FORBIDDEN = new TextEncoder().encode(
  "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
);

export class RestartableHub {
  readonly hub: Hub;
  readonly #options: RestartableHubOptions;
  /** How WebSocket upgrades are blocked from the next {@linkcode start} on. */
  blockWebSocket: "refuse" | "hang" | undefined;
  #port = 0;
  #server: OnePortServer | undefined;
  #websocket: WebSocketRoutes | undefined;
  // Upgrade requests held unanswered ("hang"), each with its read loop.
  readonly #held = new Map<Deno.TcpConn, Promise<void>>();
  #heldCount = 0;

  constructor(options: RestartableHubOptions = {}) {
    this.#options = options;
    this.blockWebSocket = options.blockWebSocket;
    this.hub = new Hub({
      broker: options.broker ??
        new MemoryBroker({ history: { maxMessages: options.history ?? 10_000 } }),
    });
    this.start();
  }

  get base(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Listens (again) on the same port. */
  start(): void {
    if (this.#server !== undefined) throw new Error("already started");
    const websocket = createWebSocketRoutes(this.hub);
    const block = this.blockWebSocket;
    const blocked = block !== undefined;
    const forbidden: RouteHandler = () => new Response("blocked", { status: 403 });
    this.#server = serveOnePort({
      hostname: "127.0.0.1",
      port: this.#port,
      shutdownTimeout: 100, // then cut what is left, as a crash would
      onListen() {},
    }, {
      fetch: createHubHandler(this.hub, {
        heartbeatIntervalMs: 1000,
        channelRoutes: { ws: blocked ? forbidden : websocket.channelRoute },
        routes: {
          "/pushwire.js": pushwireScriptRoute,
          "/pushwire.d.ts": pushwireScriptRoute,
          "/ws": blocked ? forbidden : websocket.wsRoute,
          ...this.#options.routes,
        },
      }),
      upgrade: block === "hang"
        ? (_head, conn) => this.#hold(conn)
        : block === "refuse"
        ? async (_head, conn) => {
          try {
            await conn.write(FORBIDDEN);
          } finally {
            conn.close();
          }
        }
        : websocket.server.handleUpgrade,
    });
    this.#websocket = websocket;
    this.#port = this.#server.addr.port;
  }

  /** Stops listening and cuts every connection; the hub and its history stay. */
  async stop(): Promise<void> {
    const server = this.#server;
    const websocket = this.#websocket;
    this.#server = undefined;
    this.#websocket = undefined;
    await websocket?.shutdown(500);
    await server?.shutdown();
    // Upgraded connections are the handler's, not the server's: cut the held ones here.
    for (const conn of this.#held.keys()) closeQuietly(conn);
    await Promise.all(this.#held.values());
  }

  /** Upgrade requests held unanswered so far. */
  get heldUpgrades(): number {
    return this.#heldCount;
  }

  /** Reads and drops what the client sends, answering nothing, until it gives up. */
  #hold(conn: Deno.TcpConn): void {
    const loop = (async () => {
      const buffer = new Uint8Array(1024);
      try {
        while (await conn.read(buffer) !== null) {
          // Discarded: the upgrade is never answered.
        }
      } catch {
        // Closed by stop().
      } finally {
        this.#held.delete(conn);
        closeQuietly(conn);
      }
    })();
    this.#held.set(conn, loop);
    this.#heldCount++;
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }

  async close(): Promise<void> {
    try {
      await this.stop();
    } finally {
      await this.hub.close();
    }
  }

  async publish(channel: string, data: unknown): Promise<string> {
    return (await this.hub.publish(channel, data)).id;
  }
}

function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
