// A hub served the way `deno task start` serves it (HTTP and both WebSocket routes on one
// port, the client at /pushwire.js), that can be stopped and started again on the SAME port
// with the SAME hub (history intact): a server restart as clients see it. Optionally with
// WebSocket upgrades refused (403), as a proxy that breaks them would.
import { Hub } from "../../lib/hub/hub.ts";
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
  /** Refuse every WebSocket upgrade with 403. */
  readonly blockWebSocket?: boolean;
  /** Extra routes (e.g. a test page at "/"). */
  readonly routes?: Readonly<Record<string, RouteHandler>>;
}

const FORBIDDEN = new TextEncoder().encode(
  "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
);

export class RestartableHub {
  readonly hub: Hub;
  readonly #options: RestartableHubOptions;
  #port = 0;
  #server: OnePortServer | undefined;
  #websocket: WebSocketRoutes | undefined;

  constructor(options: RestartableHubOptions = {}) {
    this.#options = options;
    this.hub = new Hub({
      broker: new MemoryBroker({ history: { maxMessages: options.history ?? 10_000 } }),
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
    const blocked = this.#options.blockWebSocket === true;
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
      upgrade: blocked
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
