/**
 * The SSE transport: `GET /channels/{ch}/events?lastEventId=ID` read with `fetch` and parsed
 * by {@linkcode SseEventParser}, one stream per channel. `fetch` rather than `EventSource`:
 * every event name is seen (an `EventSource` only dispatches names it has listeners for), the
 * resume id is the client's own, and reconnection is the client's (backoff, fallback).
 *
 * @module
 */
import { channelUrl, parseData, placeChannel, reportFailure } from "./_http.ts";
import { SseEventParser } from "./sse_event_parser.ts";
import type { Transport, TransportHost } from "./transport.ts";
import { ChannelLoops } from "./_channel_loops.ts";

/**
 * Server-Sent Events over `fetch`.
 *
 * @example Made by the client, one per connection attempt
 * ```ts
 * import assert from "node:assert/strict";
 * import { SseTransport } from "./sse_transport.ts";
 * assert.equal(typeof SseTransport, "function");
 * ```
 */
export class SseTransport implements Transport {
  /** This transport's name. */
  readonly name = "sse" as const;
  #host: TransportHost;
  #streams: ChannelLoops;

  /**
   * Creates the instance.
   *
   * @param host Where to report.
   */
  constructor(host: TransportHost) {
    this.#host = host;
    this.#streams = new ChannelLoops(host, (channel, signal) => this.#run(channel, signal));
  }

  /** Opens the stream of `channel`. */
  add(channel: string): void {
    this.#streams.add(channel);
  }

  /** Closes the stream of `channel`. */
  remove(channel: string): void {
    this.#streams.remove(channel);
  }

  /** Closes every stream. */
  close(): void {
    this.#streams.close();
  }

  async #run(channel: string, signal: AbortSignal): Promise<void> {
    const host = this.#host;
    if (!await placeChannel(host, channel, signal) || signal.aborted) return;
    const url = channelUrl(host, channel, "/events", { lastEventId: host.cursorOf(channel) });
    // A stream silent past idleTimeoutMs (the hub sends heartbeats) is dead: abort it.
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal.addEventListener("abort", abort);
    let timer = setTimeout(abort, host.settings.requestTimeoutMs);
    try {
      const response = await fetch(url, {
        cache: "no-store",
        headers: { Accept: "text/event-stream" },
        signal: controller.signal,
      });
      if (!response.ok || response.body === null) {
        await reportFailure(host, channel, response);
        return;
      }
      host.opened();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseEventParser();
      for (;;) {
        clearTimeout(timer);
        timer = setTimeout(abort, host.settings.idleTimeoutMs);
        const { done, value } = await reader.read();
        if (done) break;
        for (const event of parser.feed(value)) {
          if (signal.aborted) return;
          // `reset` is reserved for the hub (no message may carry it); one with nothing
          // retained after it also carries the cursor as its id.
          if (event.event === "reset") {
            const cursor = (parseData(event.data) as { cursor?: unknown } | null)?.cursor;
            host.reset(channel, typeof cursor === "string" ? cursor : "");
            continue;
          }
          host.message(
            channel,
            event.event === "message"
              ? { id: event.id, channel, data: parseData(event.data) }
              : { id: event.id, channel, event: event.event, data: parseData(event.data) },
          );
        }
      }
      if (!signal.aborted) host.failed("the event stream ended");
    } catch (error) {
      if (!signal.aborted) {
        host.failed(controller.signal.aborted ? "the event stream went silent" : String(error));
      }
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", abort);
    }
  }
}
