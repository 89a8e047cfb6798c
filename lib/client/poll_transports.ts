/**
 * The polling transports, one request loop per channel: long polling
 * (`GET /channels/{ch}/longpoll?after=ID&timeout=S`, answered as soon as there is news) and
 * short polling (`GET /channels/{ch}?after=ID` every `shortPollIntervalMs`). The first long
 * poll asks with `timeout=0`, so a working hub answers at once and the connection counts as
 * open without waiting for news.
 *
 * @module
 */
import {
  applyBatch,
  channelUrl,
  placeChannel,
  reportFailure,
  requestJson,
  sleep,
} from "./_http.ts";
import type { Transport, TransportHost } from "./transport.ts";
import { ChannelLoops } from "./_channel_loops.ts";

/**
 * Long polling.
 *
 * @example Made by the client, one per connection attempt
 * ```ts
 * import assert from "node:assert/strict";
 * import { LongPollTransport } from "./poll_transports.ts";
 * assert.equal(typeof LongPollTransport, "function");
 * ```
 */
export class LongPollTransport implements Transport {
  /** This transport's name. */
  readonly name: "longpoll" | "shortpoll" = "longpoll";
  /** Where to report. */
  protected readonly host: TransportHost;
  #polls: ChannelLoops;

  /**
   * Creates the instance.
   *
   * @param host Where to report.
   */
  constructor(host: TransportHost) {
    this.host = host;
    this.#polls = new ChannelLoops(host, (channel, signal) => this.#run(channel, signal));
  }

  /** Starts the poll loop of `channel`. */
  add(channel: string): void {
    this.#polls.add(channel);
  }

  /** Stops the poll loop of `channel`. */
  remove(channel: string): void {
    this.#polls.remove(channel);
  }

  /** Stops every loop. */
  close(): void {
    this.#polls.close();
  }

  /** The URL of the next poll; `first` is true for the loop's first request. */
  protected pollUrl(channel: string, first: boolean): string {
    const host = this.host;
    return channelUrl(host, channel, "/longpoll", {
      after: host.cursorOf(channel),
      timeout: first ? "0" : String(host.settings.longPollTimeoutS),
    });
  }

  /** How long to wait before the next poll, ms. */
  protected pauseMs(): number {
    return 0;
  }

  /** How long one poll may take, ms. */
  protected requestTimeoutMs(): number {
    return this.host.settings.requestTimeoutMs + this.host.settings.longPollTimeoutS * 1000;
  }

  async #run(channel: string, signal: AbortSignal): Promise<void> {
    const host = this.host;
    if (!await placeChannel(host, channel, signal)) return;
    for (let first = true; !signal.aborted; first = false) {
      const answer = await requestJson(
        this.pollUrl(channel, first),
        signal,
        this.requestTimeoutMs(),
      );
      if (signal.aborted) return;
      if (answer instanceof Response) return await reportFailure(host, channel, answer);
      applyBatch(host, channel, answer.body);
      host.opened();
      const pause = this.pauseMs();
      if (pause > 0) await sleep(pause, signal);
    }
  }
}

/**
 * Short polling: one plain GET every `shortPollIntervalMs`.
 *
 * @example Made by the client, one per connection attempt
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShortPollTransport } from "./poll_transports.ts";
 * assert.equal(typeof ShortPollTransport, "function");
 * ```
 */
export class ShortPollTransport extends LongPollTransport {
  /** This transport's name. */
  override readonly name: "longpoll" | "shortpoll" = "shortpoll";

  /** `GET /channels/{ch}?after=ID`. */
  protected override pollUrl(channel: string): string {
    return channelUrl(this.host, channel, "", { after: this.host.cursorOf(channel) });
  }

  /** The configured interval. */
  protected override pauseMs(): number {
    return this.host.settings.shortPollIntervalMs;
  }

  /** A plain request's timeout. */
  protected override requestTimeoutMs(): number {
    return this.host.settings.requestTimeoutMs;
  }
}
