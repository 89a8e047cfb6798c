// Chrome DevTools Protocol sessions over Deno's built-in WebSocket, for end-to-end tests.
//
// `launchChromium()` starts headless Chromium with `openInChromium` (./_chromium.ts: fresh
// profile, `--remote-debugging-port=0`, the "DevTools listening on ws://..." line) and connects
// to its browser endpoint. `browser.newPage()` opens a tab attached in flat session mode;
// `CdpPage` navigates, evaluates, polls with a bounded wait and takes screenshots.
// `browser.close()` ends everything in every path: Browser.close, the socket, then the
// launcher's kill, stderr reader and profile removal.

import { type Chromium as ChromiumProcess, openInChromium, withTimeout } from "./_chromium.ts";

export { withTimeout };

/** Options of {@linkcode launchChromium}. */
export interface LaunchOptions {
  /**
   * Default timeout of one CDP command.
   * @default {30000}
   */
  readonly commandTimeoutMs?: number;
}

/** A CDP event: method and params, with the session it belongs to (flat mode). */
export interface CdpEvent {
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly sessionId: string | undefined;
}

interface Pending {
  readonly method: string;
  readonly resolve: (result: Record<string, unknown>) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Sleeps `ms` milliseconds (one timer, always cleared by firing). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One WebSocket connection to the browser endpoint; commands are matched to answers by id. */
export class CdpConnection {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(event: CdpEvent) => void>();
  readonly #closed: Promise<void>;
  readonly #commandTimeoutMs: number;
  #nextId = 1;
  #isClosed = false;

  private constructor(socket: WebSocket, commandTimeoutMs: number) {
    this.#socket = socket;
    this.#commandTimeoutMs = commandTimeoutMs;
    this.#closed = new Promise((resolve) => {
      socket.addEventListener("close", () => {
        this.#isClosed = true;
        for (const [id, pending] of this.#pending) {
          clearTimeout(pending.timer);
          pending.reject(new Error(`CDP ${pending.method}: connection closed before the answer`));
          this.#pending.delete(id);
        }
        resolve();
      });
    });
    socket.addEventListener("message", (event) => this.#onMessage(String(event.data)));
  }

  /** Connects to `url` (the browser's `ws://.../devtools/browser/...` endpoint). */
  static async connect(url: string, commandTimeoutMs: number): Promise<CdpConnection> {
    const socket = new WebSocket(url);
    const opened = new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`Cannot connect to ${url}`)), {
        once: true,
      });
    });
    const connection = new CdpConnection(socket, commandTimeoutMs);
    try {
      await withTimeout(opened, 30_000, `CDP WebSocket ${url} did not open`);
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }

  #onMessage(text: string): void {
    const message = JSON.parse(text) as {
      id?: number;
      result?: Record<string, unknown>;
      error?: { message: string; code: number };
      method?: string;
      params?: Record<string, unknown>;
      sessionId?: string;
    };
    if (message.id !== undefined) {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error) {
        pending.reject(new Error(`CDP ${pending.method} failed: ${message.error.message}`));
      } else pending.resolve(message.result ?? {});
      return;
    }
    if (message.method !== undefined) {
      const event: CdpEvent = {
        method: message.method,
        params: message.params ?? {},
        sessionId: message.sessionId,
      };
      for (const listener of this.#listeners) listener(event);
    }
  }

  /** Sends one command and resolves with its result; rejects on error, close or timeout. */
  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs: number = this.#commandTimeoutMs,
  ): Promise<Record<string, unknown>> {
    if (this.#isClosed) return Promise.reject(new Error(`CDP ${method}: connection is closed`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`CDP ${method} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve, reject, timer });
      const message: Record<string, unknown> = { id, method, params };
      if (sessionId !== undefined) message.sessionId = sessionId;
      this.#socket.send(JSON.stringify(message));
    });
  }

  /** Calls `listener` for every event; returns the function that removes it. */
  onEvent(listener: (event: CdpEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Closes the socket and waits (bounded) for the close to complete. */
  async close(): Promise<void> {
    if (!this.#isClosed && this.#socket.readyState !== WebSocket.CLOSED) {
      try {
        this.#socket.close();
      } catch { /* already closing */ }
    }
    await withTimeout(this.#closed, 5_000, "CDP WebSocket did not close").catch(() => {});
  }
}

/** Options of {@linkcode CdpPage.waitFor}. */
export interface WaitForOptions {
  /**
   * Give up after this many milliseconds (a failure detector: generous for loaded machines).
   * @default {30000}
   */
  readonly timeoutMs?: number;
  /**
   * Poll period.
   * @default {100}
   */
  readonly intervalMs?: number;
}

/** One tab, driven through its flat-mode session. */
export class CdpPage {
  /** Uncaught exceptions the page reported (Runtime.exceptionThrown), as text. */
  readonly exceptions: string[] = [];
  /** Console errors the page logged (console.error and browser log errors). */
  readonly consoleErrors: string[] = [];
  readonly #connection: CdpConnection;
  readonly #sessionId: string;
  readonly #targetId: string;
  readonly #stopListening: () => void;

  constructor(connection: CdpConnection, targetId: string, sessionId: string) {
    this.#connection = connection;
    this.#targetId = targetId;
    this.#sessionId = sessionId;
    this.#stopListening = connection.onEvent((event) => {
      if (event.sessionId !== sessionId) return;
      if (event.method === "Runtime.exceptionThrown") {
        const details = event.params.exceptionDetails as {
          text?: string;
          exception?: { description?: string };
        };
        this.exceptions.push(details.exception?.description ?? details.text ?? "exception");
      } else if (event.method === "Runtime.consoleAPICalled" && event.params.type === "error") {
        const args = event.params.args as { value?: unknown; description?: string }[];
        this.consoleErrors.push(args.map((a) => String(a.value ?? a.description)).join(" "));
      } else if (event.method === "Log.entryAdded") {
        const entry = event.params.entry as { level: string; text: string; url?: string };
        if (entry.level === "error") this.consoleErrors.push(`${entry.text} ${entry.url ?? ""}`);
      }
    });
  }

  /** Sends a command in this page's session. */
  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.#connection.send(method, params, this.#sessionId);
  }

  /** Navigates to `url` and waits until `document.readyState` is "complete". */
  async goto(url: string, timeoutMs = 30_000): Promise<void> {
    const result = await this.send("Page.navigate", { url });
    if (typeof result.errorText === "string") {
      throw new Error(`Cannot navigate to ${url}: ${result.errorText}`);
    }
    await this.waitFor(
      `document.readyState === "complete" && location.href === ${JSON.stringify(url)}`,
      `${url} to finish loading`,
      { timeoutMs },
    );
  }

  /** Evaluates `expression` in the page (promises awaited) and returns its JSON value. */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const result = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    const details = result.exceptionDetails as
      | { text?: string; exception?: { description?: string } }
      | undefined;
    if (details !== undefined) {
      throw new Error(
        `Evaluating ${expression} threw: ${details.exception?.description ?? details.text}`,
      );
    }
    return (result.result as { value?: T }).value as T;
  }

  /**
   * Polls `expression` until it is truthy and returns its value; on timeout throws an error
   * naming `what` and the last value seen.
   */
  async waitFor<T = unknown>(
    expression: string,
    what: string,
    options: WaitForOptions = {},
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const intervalMs = options.intervalMs ?? 100;
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        last = await this.evaluate<T>(expression);
        if (last) return last as T;
      } catch (error) {
        last = error instanceof Error ? error.message : error;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting for ${what}; last value: ${
            JSON.stringify(last)
          }`,
        );
      }
      await delay(intervalMs);
    }
  }

  /** A PNG screenshot of the viewport. */
  async screenshot(): Promise<Uint8Array> {
    const result = await this.send("Page.captureScreenshot", { format: "png" });
    const binary = atob(result.data as string);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  /** Closes the tab. */
  async close(): Promise<void> {
    this.#stopListening();
    await this.#connection.send("Target.closeTarget", { targetId: this.#targetId }).catch(() => {});
  }
}

/** A running Chromium with its CDP connection. */
export interface Chromium extends AsyncDisposable {
  /** The browser-level CDP connection. */
  readonly cdp: CdpConnection;
  /** The tail of Chromium's stderr (for failure messages). */
  stderr(): string;
  /**
   * Opens a new tab of `width`×`height` CSS pixels with Runtime, Page and Log enabled. An
   * `isolated` tab gets its own browser context (cookies, storage and HTTP connection pool, as
   * a separate user would have): a browser opens at most 6 HTTP/1.1 connections per host across
   * all the tabs of one context.
   */
  newPage(width?: number, height?: number, isolated?: boolean): Promise<CdpPage>;
  /** Ends the browser and removes its profile; safe to call twice. */
  close(): Promise<void>;
}

/** Starts headless Chromium with a fresh profile and connects to it over CDP. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Chromium> {
  const commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
  const browserProcess: ChromiumProcess = await openInChromium("about:blank", {
    flags: [
      "--no-default-browser-check",
      "--disable-extensions",
      "--hide-scrollbars",
      "--mute-audio",
    ],
  });
  let cdp: CdpConnection | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        if (cdp !== undefined) {
          await cdp.send("Browser.close", {}, undefined, 3_000).catch(() => {});
          await cdp.close();
        }
      } finally {
        await browserProcess.close();
      }
    })();
    return closing;
  };
  try {
    cdp = await CdpConnection.connect(browserProcess.devtoolsUrl, commandTimeoutMs);
  } catch (error) {
    await close();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\nChromium stderr:\n${browserProcess.stderr()}`);
  }
  const connection = cdp;

  return {
    cdp: connection,
    stderr: () => browserProcess.stderr(),
    async newPage(width = 1440, height = 1000, isolated = false): Promise<CdpPage> {
      const target: Record<string, unknown> = { url: "about:blank" };
      if (isolated) {
        const { browserContextId } = await connection.send("Target.createBrowserContext");
        target.browserContextId = browserContextId;
      }
      const { targetId } = await connection.send("Target.createTarget", target);
      const { sessionId } = await connection.send("Target.attachToTarget", {
        targetId,
        flatten: true,
      });
      const page = new CdpPage(connection, targetId as string, sessionId as string);
      await page.send("Runtime.enable");
      await page.send("Page.enable");
      await page.send("Log.enable");
      await page.send("Emulation.setDeviceMetricsOverride", {
        width,
        height,
        deviceScaleFactor: 1,
        mobile: false,
      });
      return page;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
