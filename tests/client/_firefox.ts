// Headless Firefox (Debian firefox-esr) showing one URL, for a smoke test: the page reports back
// to the test server itself. Firefox runs under setsid as the leader of its own process group;
// close() signals the group (SIGTERM, then SIGKILL), awaits the exit and removes the profile.
// A missing Firefox makes the test fail, never skip.
import { withTimeout } from "../_chromium.ts";

/** The browser binary; override with the `FIREFOX` environment variable. */
export const FIREFOX_PATH: string = Deno.env.get("FIREFOX") ?? "/usr/bin/firefox-esr";

/** A running headless Firefox. */
export interface Firefox {
  /** The last 64 KiB of its output, for failure messages. */
  output(): string;
  /** Kills it, awaits its exit and removes its profile. Idempotent. */
  close(): Promise<void>;
}

// No first-run pages, updates, telemetry or background connections in the test profile.
const PREFS = `user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
`;

/** Starts headless Firefox on `url`. */
export async function openInFirefox(url: string): Promise<Firefox> {
  try {
    Deno.statSync(FIREFOX_PATH);
  } catch {
    throw new Error(`Cannot start ${FIREFOX_PATH}: not found (apt-get install firefox-esr)`);
  }
  const profile = await Deno.makeTempDir({ prefix: "pushwire-firefox-" });
  await Deno.writeTextFile(`${profile}/user.js`, PREFS);
  const child = new Deno.Command("/usr/bin/setsid", {
    args: [FIREFOX_PATH, "-headless", "-no-remote", "-new-instance", "-profile", profile, url],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { MOZ_DISABLE_AUTO_SAFE_MODE: "1" },
  }).spawn();
  let log = "";
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    try {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        log = (log + text).slice(-64 * 1024);
      }
    } catch {
      // Closed.
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  let closing: Promise<void> | undefined;
  const signal = (name: Deno.Signal) => {
    try {
      Deno.kill(-child.pid, name);
    } catch {
      // Gone already.
    }
  };
  return {
    output: () => log,
    close: () =>
      closing ??= (async () => {
        try {
          signal("SIGTERM");
          await withTimeout(child.status, 5_000, "Firefox ignored SIGTERM").catch(() => {
            signal("SIGKILL");
            return withTimeout(child.status, 10_000, "Firefox did not exit");
          });
          signal("SIGKILL"); // any child left in the group
          await withTimeout(drained, 5_000, "Firefox output did not end").catch(() => {});
        } finally {
          for (let attempt = 0; attempt < 20; attempt++) {
            try {
              await Deno.remove(profile, { recursive: true });
              break;
            } catch (error) {
              if (error instanceof Deno.errors.NotFound) break;
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }
        }
      })(),
  };
}
