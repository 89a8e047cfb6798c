// Runs an example as users do: the `deno run` permissions come from the command in the
// example's header comment (so the documented least-privilege flags are what is tested), with
// the documented port replaced by a free one.
import assert from "node:assert/strict";
import { within as withinMs } from "../_wait.ts";

/** Bound of one wait: a failure detector, generous because a loaded machine is slow. */
export const TIMEOUT_MS = 60_000;

/** Rejects after `ms` (default {@linkcode TIMEOUT_MS}) unless `promise` settles first. */
export function within<T>(promise: Promise<T>, what: string, ms = TIMEOUT_MS): Promise<T> {
  return withinMs(promise, what, ms);
}

/** A port free on 127.0.0.1 right now. */
export function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = probe.addr;
  probe.close();
  return port;
}

/** The permission flags of the `deno run` command in the example's header comment. */
export async function documentedFlags(name: string): Promise<string[]> {
  const source = await Deno.readTextFile(exampleUrl(name));
  const line = source.split("\n").find((l) => l.includes(`deno run `) && l.includes(name));
  assert.ok(line !== undefined, `${name} documents no deno run command`);
  const words = line.slice(line.indexOf("deno run ") + 9).split(/\s+/);
  return words.slice(0, words.findIndex((w) => w.endsWith(name)));
}

function exampleUrl(name: string): URL {
  return new URL(`../../examples/${name}`, import.meta.url);
}

/** A running example: its stdout so far, and a way to wait for a line. */
export class Example {
  readonly port: number;
  readonly #child: Deno.ChildProcess;
  readonly #pump: Promise<void>;
  readonly #stderr: Promise<string>;
  #stdout = "";
  #wake: (() => void) | undefined;
  #ended = false;

  private constructor(child: Deno.ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
    this.#stderr = new Response(child.stderr).text();
    this.#pump = (async () => {
      for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
        this.#stdout += text;
        this.#wake?.();
      }
      this.#ended = true;
      this.#wake?.();
    })();
  }

  /**
   * Starts `examples/NAME` with its documented permissions (the documented port, `:8080`
   * style, swapped for a free one) and `args` (where `PORT` stands for that port), and waits
   * for its "listening on http://127.0.0.1:PORT" line. `mapFlag` adjusts a documented flag
   * (e.g. `--allow-run` for another command).
   */
  static async start(
    name: string,
    args: readonly string[] = ["--port", "PORT"],
    mapFlag: (flag: string) => string = (flag) => flag,
  ): Promise<Example> {
    // A free port is closed before the example binds it, so another process may take it
    // first: an example that cannot bind is started again on another port.
    for (let attempt = 1;; attempt++) {
      try {
        return await Example.#startOn(freePort(), name, args, mapFlag);
      } catch (error) {
        if (!/AddrInUse/.test((error as Error).message) || attempt === 3) throw error;
      }
    }
  }

  static async #startOn(
    port: number,
    name: string,
    args: readonly string[],
    mapFlag: (flag: string) => string,
  ): Promise<Example> {
    const flags = (await documentedFlags(name))
      .map((flag) => mapFlag(flag.replace(/:\d+(?=$|,)/g, `:${port}`)));
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...flags,
        exampleUrl(name).pathname,
        ...args.map((a) => a === "PORT" ? String(port) : a),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const example = new Example(child, port);
    try {
      const [, listening] = await example.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      assert.equal(Number(listening), port);
    } catch (error) {
      const { stderr } = await example.stop("SIGKILL");
      throw new Error(`${name} did not start: ${(error as Error).message}\n${stderr}`);
    }
    return example;
  }

  /** The example's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Everything printed so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** Waits until stdout matches `pattern` (searched from `from`); returns the match. */
  async waitFor(pattern: RegExp, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const match = pattern.exec(this.#stdout.slice(from));
      if (match !== null) return match;
      if (this.#ended) throw new Error(`exited before printing ${pattern}:\n${this.#stdout}`);
      const woken = new Promise<void>((resolve) => this.#wake = resolve);
      await within(woken, `waiting for ${pattern}`, Math.max(1, deadline - Date.now()));
    }
  }

  /** Sends `signal`, waits for the exit; returns the status and stderr. */
  stop(signal: Deno.Signal = "SIGTERM"): Promise<{ code: number; stderr: string }> {
    try {
      this.#child.kill(signal);
    } catch {
      // Exited already.
    }
    return this.exited();
  }

  /** Waits for the example to exit by itself; returns the status and stderr. */
  async exited(): Promise<{ code: number; stderr: string }> {
    const status = await within(this.#child.status, "example exit");
    await this.#pump;
    return { code: status.code, stderr: await this.#stderr };
  }
}

/** Whether a process with this pid exists (Linux). */
export async function processExists(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie has exited
  } catch {
    return false;
  }
}
