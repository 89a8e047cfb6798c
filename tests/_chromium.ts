// A small headless Chromium launcher for interop tests: open one URL, let the page do its work
// and report back to the test server (e.g. by POSTing results), then close.
//
// `openInChromium(url)` starts /usr/bin/chromium with the headless flags of the common rules, a
// fresh --user-data-dir and --remote-debugging-port=0, waits for the "DevTools listening on
// ws://..." line (proof the browser is up; `devtoolsUrl` for tests that want CDP), and keeps
// draining stderr so the browser never blocks on a full pipe. Chromium runs under setsid as
// the leader of its own process group; `close()` signals the whole group (SIGTERM, then
// SIGKILL), awaits the browser's exit and the end of every child, cancels the stderr reader
// and removes the profile directory, in every path.
// Every wait has a timeout. A missing Chromium makes the test fail, never skip.

/** The browser binary; override with the `CHROMIUM` environment variable. */
export const CHROMIUM_PATH: string = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

/** Headless flags (no sandbox: tests run as root in CI) plus the DevTools port (0: any free port). */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--remote-debugging-port=0",
];

/** Options of {@linkcode openInChromium}. */
export interface ChromiumOptions {
  /** Time allowed for the browser to start, in ms (generous: CI may be loaded). @default {60000} */
  readonly startTimeout?: number;
  /** Time allowed for the browser to exit once killed, in ms. @default {10000} */
  readonly exitTimeout?: number;
  /** Extra command-line flags. */
  readonly flags?: readonly string[];
}

/** A running headless Chromium showing one page. */
export interface Chromium {
  /** The browser's DevTools WebSocket URL (`ws://127.0.0.1:PORT/devtools/browser/...`). */
  readonly devtoolsUrl: string;
  /** The last 64 KiB of the browser's stderr, for failure messages. */
  stderr(): string;
  /** Kills the browser, awaits its exit and removes its profile directory. Idempotent. */
  close(): Promise<void>;
}

const STDERR_KEEP = 64 * 1024;

/** Rejects with `message` after `ms`, unless `promise` settles first; the timer is always cleared. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${message} (timed out after ${ms} ms)`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts headless Chromium on `url` and resolves once its DevTools endpoint is up.
 *
 * @throws When Chromium is missing or does not start in time (the test fails).
 */
export async function openInChromium(
  url: string,
  options: ChromiumOptions = {},
): Promise<Chromium> {
  const startTimeout = options.startTimeout ?? 60_000;
  const exitTimeout = options.exitTimeout ?? 10_000;
  try {
    Deno.statSync(CHROMIUM_PATH);
  } catch {
    throw new Error(`Cannot start ${CHROMIUM_PATH}: not found (install the chromium package)`);
  }
  const profile = await Deno.makeTempDir({ prefix: "pushwire-chromium-" });
  let child: Deno.ChildProcess;
  try {
    // setsid makes Chromium lead a process group of its own, so close() can end its renderer,
    // zygote and crashpad children too: any one left would keep writing into the profile.
    child = new Deno.Command("/usr/bin/setsid", {
      args: [
        CHROMIUM_PATH,
        ...CHROMIUM_FLAGS,
        `--user-data-dir=${profile}`,
        ...(options.flags ?? []),
        url,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    await Deno.remove(profile, { recursive: true });
    throw new Error(
      `Cannot start ${CHROMIUM_PATH} (install the chromium package): ${String(error)}`,
    );
  }

  let log = "";
  let resolveUrl!: (url: string) => void;
  const devtools = new Promise<string>((resolve) => resolveUrl = resolve);
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const drained = (async () => {
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        log = (log + value).slice(-STDERR_KEEP);
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(log);
        if (match) resolveUrl(match[1]!);
      }
    } catch {
      // Cancelled by close().
    }
  })();

  let closing: Promise<void> | undefined;
  const group = child.pid;
  const signalGroup = (signal: Deno.Signal) => {
    try {
      Deno.kill(-group, signal);
    } catch {
      // The group is gone already.
    }
  };
  const close = (): Promise<void> =>
    closing ??= (async () => {
      try {
        // SIGTERM lets the browser shut down cleanly; SIGKILL if it does not within 3 s.
        signalGroup("SIGTERM");
        await withTimeout(child.status, 3_000, "Chromium ignored SIGTERM").catch(() => {
          signalGroup("SIGKILL");
          return withTimeout(child.status, exitTimeout, "Chromium did not exit");
        });
        await waitForGroupToEnd(group, exitTimeout, () => signalGroup("SIGKILL"));
      } finally {
        // Cancel rather than wait for EOF: a child could still hold the pipe.
        await reader.cancel().catch(() => {});
        await drained;
        await removeProfile(profile);
      }
    })();

  try {
    const exited = child.status.then((status) => {
      throw new Error(`Chromium exited early with code ${status.code}:\n${log}`);
    });
    exited.catch(() => {});
    const devtoolsUrl = await withTimeout(
      Promise.race([devtools, exited]),
      startTimeout,
      "Chromium did not start",
    );
    return { devtoolsUrl, stderr: () => log, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Live (not zombie) processes in process group `group`, read from /proc. */
function liveMembers(group: number): number {
  let live = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // Fields after "(comm) ": state, ppid, pgrp.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === group && fields[0] !== "Z") live++;
    } catch {
      // The process ended while we looked.
    }
  }
  return live;
}

/** Waits until no live process is left in `group`; past `timeoutMs`, calls `kill` once more. */
async function waitForGroupToEnd(
  group: number,
  timeoutMs: number,
  kill: () => void,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let killed = false;
  while (liveMembers(group) > 0) {
    if (Date.now() > deadline) {
      if (killed) throw new Error(`Chromium's process group ${group} did not end`);
      kill();
      killed = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Removes the profile directory, retrying while the file system settles (at most 2 s). */
async function removeProfile(profile: string): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.remove(profile, { recursive: true });
      return;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
