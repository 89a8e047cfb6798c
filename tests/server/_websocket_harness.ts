// Test helpers for the WebSocket routes: the hub on the one-port server exactly as
// `deno task start` mounts it (HTTP and both WebSocket routes on one 127.0.0.1 port), and a
// frame reader with a timeout for our client.
import { Hub, type HubOptions } from "../../lib/hub/hub.ts";
import { serveOnePort } from "../../lib/net/one_port_server.ts";
import { createHubHandler, type HubHandlerOptions } from "../../lib/server/hub_handler.ts";
import { Metrics } from "../../lib/server/metrics.ts";
import {
  createWebSocketRoutes,
  type WebSocketRoutes,
  type WebSocketRoutesOptions,
} from "../../lib/server/ws/websocket_routes.ts";
import type { ClientSession } from "../../lib/websocket_io/client.ts";
import { within } from "../_wait.ts";
export { within };

export interface WsTestHub {
  /** `http://127.0.0.1:PORT` */
  readonly base: string;
  /** `ws://127.0.0.1:PORT` */
  readonly wsBase: string;
  readonly hub: Hub;
  readonly metrics: Metrics;
  readonly websocket: WebSocketRoutes;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export function startWsHub(
  options: WebSocketRoutesOptions & { readonly handler?: HubHandlerOptions } = {},
  hubOptions: HubOptions = {},
): WsTestHub {
  const hub = new Hub(hubOptions);
  const metrics = new Metrics(hub);
  const websocket = createWebSocketRoutes(hub, { ...options, metrics });
  const server = serveOnePort({ hostname: "127.0.0.1", port: 0, onListen() {} }, {
    fetch: createHubHandler(hub, {
      heartbeatIntervalMs: 0,
      ...(options.secret === undefined ? {} : { secret: options.secret }),
      ...options.handler,
      metrics,
      channelRoutes: { ws: websocket.channelRoute },
      routes: { "/ws": websocket.wsRoute },
    }),
    upgrade: websocket.server.handleUpgrade,
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await websocket.shutdown(2000);
      await hub.close(); // ends SSE streams and long polls
      await server.shutdown();
    })();
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    wsBase: `ws://127.0.0.1:${server.addr.port}`,
    hub,
    metrics,
    websocket,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Reads frames of one client, one at a time, each within a timeout. */
export class FrameReader {
  readonly #iterator: AsyncIterator<string | Uint8Array>;
  constructor(client: ClientSession) {
    this.#iterator = client[Symbol.asyncIterator]();
  }
  /** The next text frame; fails on a binary frame, the end of the stream or a timeout. */
  async next(what = "a frame", ms = 30_000): Promise<string> {
    const result = await within(this.#iterator.next(), what, ms);
    if (result.done) throw new Error(`The socket closed while waiting for ${what}`);
    if (typeof result.value !== "string") throw new Error(`Got a binary frame for ${what}`);
    return result.value;
  }
  /** The next frame parsed as JSON. */
  async json(what = "a frame", ms = 30_000): Promise<Record<string, unknown>> {
    return JSON.parse(await this.next(what, ms));
  }
  /** Resolves true once the stream ended (the socket closed). */
  async ended(ms = 30_000): Promise<boolean> {
    for (;;) {
      const result = await within(this.#iterator.next(), "the socket to close", ms);
      if (result.done) return true;
    }
  }
}

/** POSTs text and returns the new id. */
export async function publishText(base: string, channel: string, text: string): Promise<string> {
  const response = await fetch(`${base}/channels/${channel}`, {
    method: "POST",
    headers: { "Content-Type": "text/plain" },
    body: text,
  });
  if (response.status !== 201) {
    throw new Error(`POST answered ${response.status}: ${await response.text()}`);
  }
  return (await response.json() as { id: string }).id;
}

/** The messages of a short poll. */
export async function poll(
  base: string,
  channel: string,
): Promise<{ messages: { id: string; data: unknown }[]; text: string }> {
  const response = await fetch(`${base}/channels/${channel}`);
  const text = await response.text();
  return { messages: JSON.parse(text).messages, text };
}
