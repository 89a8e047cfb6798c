// Test helpers: a hub served on 127.0.0.1 port 0, bounded polling, and a stream reader.
import { Hub, type HubOptions } from "../../lib/hub/hub.ts";
import { createHubHandler, type HubHandlerOptions } from "../../lib/server/hub_handler.ts";
import { Metrics } from "../../lib/server/metrics.ts";
import { until } from "../_wait.ts";
export { until };

export interface TestHub {
  readonly base: string;
  readonly hub: Hub;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

export function startHub(options: HubHandlerOptions = {}, hubOptions: HubOptions = {}): TestHub {
  const hub = new Hub(hubOptions);
  const metrics = new Metrics(hub);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createHubHandler(hub, { heartbeatIntervalMs: 0, ...options, metrics }),
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    hub,
    metrics,
    async close() {
      await hub.close(); // ends every stream and waiter, so shutdown does not wait on them
      await server.shutdown();
    },
  };
}

/** Accumulates a response body as text and waits for content. */
export class BodyReader {
  text = "";
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();

  constructor(response: Response) {
    this.#reader = response.body!.getReader();
  }

  /** Reads until `predicate(text)` holds; fails after `ms` or at the end of the body. */
  async waitFor(predicate: (text: string) => boolean, ms = 30_000): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Timed out; body so far: ${this.text.slice(-500)}`)),
        ms,
      );
    });
    try {
      while (!predicate(this.text)) {
        const { done, value } = await Promise.race([this.#reader.read(), timeout]);
        if (done) throw new Error(`Body ended; body so far: ${this.text.slice(-500)}`);
        this.text += this.#decoder.decode(value, { stream: true });
      }
      return this.text;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads to the end. */
  async rest(): Promise<string> {
    for (;;) {
      const { done, value } = await this.#reader.read();
      if (done) return this.text;
      this.text += this.#decoder.decode(value, { stream: true });
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

export function post(
  base: string,
  path: string,
  body: BodyInit,
  contentType = "text/plain",
  headers: HeadersInit = {},
): Promise<Response> {
  const all = new Headers(headers);
  all.set("Content-Type", contentType);
  return fetch(`${base}${path}`, { method: "POST", headers: all, body });
}
