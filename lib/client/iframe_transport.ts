/**
 * The hidden-iframe ("forever frame") transport: a hidden `<iframe>` loads
 * `GET /channels/{ch}/iframe?callback=NAME&after=ID`, whose scripts call `parent.NAME(message)`.
 * The frame must be same-origin with the page (it calls into it), so on another origin this
 * transport fails at once and the client falls back. The hub ends a frame after about 1 MiB so
 * the DOM stops growing: a frame that delivered something and ended is reopened at once from
 * the last id; one that ended having delivered nothing is a failure.
 *
 * @module
 */
import { channelUrl, placeChannel } from "./_http.ts";
import type { PushwireMessage, Transport, TransportHost } from "./transport.ts";

// The few DOM shapes used here (Deno's type checker has no DOM library).
interface FrameDocument {
  readonly URL: string;
  readonly body: { readonly childNodes: { readonly length: number } } | null;
}
interface FrameElement {
  hidden: boolean;
  tabIndex: number;
  title: string;
  src: string;
  readonly contentDocument: FrameDocument | null;
  setAttribute(name: string, value: string): void;
  addEventListener(type: "load", listener: () => void): void;
  remove(): void;
}
interface PageDocument {
  readonly readyState: string;
  readonly body: { append(node: FrameElement): void };
  createElement(tag: "iframe"): FrameElement;
}

interface Frame {
  readonly controller: AbortController;
  element: FrameElement | undefined;
  callback: string | undefined;
  watch: ReturnType<typeof setInterval> | undefined;
}

/**
 * Hidden-iframe streaming.
 *
 * @example Made by the client, one per connection attempt
 * ```ts
 * import assert from "node:assert/strict";
 * import { IframeTransport } from "./iframe_transport.ts";
 * assert.equal(typeof IframeTransport, "function");
 * ```
 */
export class IframeTransport implements Transport {
  /** This transport's name. */
  readonly name = "iframe" as const;
  static #seq = 0;
  #host: TransportHost;
  #frames = new Map<string, Frame>();

  /**
   * Creates the instance.
   *
   * @param host Where to report.
   */
  constructor(host: TransportHost) {
    this.#host = host;
  }

  /** Opens the frame of `channel`. */
  add(channel: string): void {
    if (this.#frames.has(channel)) return;
    const g = globalThis as { document?: PageDocument; location?: { origin: string } };
    if (g.document === undefined || g.location === undefined) {
      this.#host.failed("the iframe transport needs a page");
      return;
    }
    if (this.#host.base.origin !== g.location.origin) {
      this.#host.failed("the iframe transport needs the hub on the page's origin");
      return;
    }
    const frame: Frame = {
      controller: new AbortController(),
      element: undefined,
      callback: undefined,
      watch: undefined,
    };
    this.#frames.set(channel, frame);
    placeChannel(this.#host, channel, frame.controller.signal).then((placed) => {
      if (placed && !frame.controller.signal.aborted) this.#open(channel, frame);
    }, (error) => {
      if (!frame.controller.signal.aborted) this.#host.failed(String(error));
    });
  }

  /** Removes the frame of `channel`. */
  remove(channel: string): void {
    const frame = this.#frames.get(channel);
    if (frame === undefined) return;
    this.#frames.delete(channel);
    frame.controller.abort();
    this.#drop(frame);
  }

  /** Removes every frame. */
  close(): void {
    for (const channel of [...this.#frames.keys()]) this.remove(channel);
  }

  #drop(frame: Frame): void {
    clearInterval(frame.watch);
    if (frame.callback !== undefined) {
      delete (globalThis as unknown as Record<string, unknown>)[frame.callback];
    }
    frame.element?.remove();
    frame.element = undefined;
    frame.callback = undefined;
  }

  #open(channel: string, frame: Frame): void {
    const host = this.#host;
    const doc = (globalThis as unknown as { document: PageDocument }).document;
    // A forever frame added before the page's load event would hold that event back for good.
    if (doc.readyState !== "complete") {
      const later = () => {
        if (!frame.controller.signal.aborted) this.#open(channel, frame);
      };
      globalThis.addEventListener("load", later, { once: true });
      frame.controller.signal.addEventListener(
        "abort",
        () => globalThis.removeEventListener("load", later),
      );
      return;
    }
    const callback = `__pushwireFrame${++IframeTransport.#seq}`;
    let delivered = 0;
    (globalThis as unknown as Record<string, unknown>)[callback] = (
      value: PushwireMessage | { reset: true; cursor: string },
    ) => {
      if (frame.controller.signal.aborted || frame.callback !== callback) return;
      delivered++;
      if ("reset" in value && value.reset === true && !("id" in value)) {
        host.reset(channel, typeof value.cursor === "string" ? value.cursor : "");
      } else host.message(channel, value as PushwireMessage);
    };
    const element = doc.createElement("iframe");
    element.hidden = true;
    element.tabIndex = -1;
    element.title = "pushwire";
    element.setAttribute("aria-hidden", "true");
    frame.element = element;
    frame.callback = callback;
    // The frame document is same-origin: once it has committed, the stream is flowing. An error
    // page (hub down) stays unreadable, so it never counts as open. After that, every script and
    // heartbeat comment adds a node to its body: a body that stops growing for idleTimeoutMs
    // is a dead connection (a frame cut mid-stream may never fire "load").
    const deadline = Date.now() + host.settings.requestTimeoutMs;
    let committed = false;
    let nodes = -1;
    let activeAt = Date.now();
    frame.watch = setInterval(() => {
      const now = Date.now();
      let doc: FrameDocument | null = null;
      try {
        doc = element.contentDocument;
      } catch {
        // Not readable (yet).
      }
      if (!committed) {
        if (doc !== null && doc.URL.includes("/iframe")) {
          committed = true;
          activeAt = now;
          if (!frame.controller.signal.aborted) host.opened();
        } else if (now > deadline) {
          this.#drop(frame);
          host.failed("the iframe stream did not open in time");
        }
        return;
      }
      const count = doc?.body?.childNodes.length ?? -1;
      if (count !== nodes) {
        nodes = count;
        activeAt = now;
      } else if (now - activeAt > host.settings.idleTimeoutMs) {
        this.#drop(frame);
        host.failed("the iframe stream went silent");
      }
    }, 100);
    // "load" fires when the endless document ends: the hub closed it (size limit, restart) or
    // answered an error.
    element.addEventListener("load", () => {
      if (frame.controller.signal.aborted || frame.element !== element) return;
      this.#drop(frame);
      if (delivered > 0) this.#open(channel, frame);
      else host.failed("the iframe stream ended");
    });
    element.src = channelUrl(host, channel, "/iframe", {
      callback,
      after: host.cursorOf(channel),
    });
    doc.body.append(element);
  }
}
