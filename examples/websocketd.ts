/**
 * websocketd in a page: every WebSocket connection runs its own copy of a command; each text
 * message becomes a line on the command's stdin, each line of its stdout becomes a message.
 * The process gets SIGTERM when the socket closes (SIGKILL if it is still running after a
 * grace period), and the socket closes when the process exits.
 * Backpressure both ways: a client that does not read stops us reading stdout (the command
 * blocks on a full pipe), and a command that does not read stops us reading the socket.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1:8080 --allow-run=cat examples/websocketd.ts --port 8080 -- cat
 * ```
 *
 * `--allow-run` names the command (and `--allow-net` the port) you pass. Try it from a browser
 * console: `ws = new WebSocket("ws://127.0.0.1:8080/"); ws.onmessage = (e) => console.log(e.data)`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { WebSocketRouter, WebSocketServer } from "../lib/websocket_io/mod.ts";

/** Longest stdout line sent as one message; a longer one goes out in pieces of this size. */
const MAX_LINE = 64 * 1024;

/** Time a command gets to exit after SIGTERM before SIGKILL, which it cannot ignore, ms. */
const KILL_GRACE_MS = 2_000;

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string", default: "8080" } },
  allowPositionals: true,
});
const [command, ...commandArgs] = positionals;
if (command === undefined) {
  console.error("usage: websocketd.ts [--port N] -- COMMAND [ARGS...]");
  Deno.exit(2);
}

interface Process {
  readonly child: Deno.ChildProcess;
  readonly stdin: WritableStreamDefaultWriter<Uint8Array>;
  /** Aborted when the socket closes: stops reading stdout. */
  readonly reading: AbortController;
}

const encoder = new TextEncoder();
const exits = new Set<Promise<unknown>>();

/** Splits a byte stream into lines (without the `\n`), at most `MAX_LINE` code units each. */
async function* lines(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream(), { signal })) {
    rest += chunk;
    for (let nl = rest.indexOf("\n"); nl !== -1; nl = rest.indexOf("\n")) {
      yield rest.slice(0, nl).replace(/\r$/, "");
      rest = rest.slice(nl + 1);
    }
    for (; rest.length >= MAX_LINE; rest = rest.slice(MAX_LINE)) yield rest.slice(0, MAX_LINE);
  }
  if (rest !== "") yield rest;
}

const router = new WebSocketRouter();
router.route<string | Uint8Array, string, Process>("/*", {
  open(session) {
    const child = new Deno.Command(command, {
      args: commandArgs,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reading = new AbortController();
    session.data = { child, stdin: child.stdin.getWriter(), reading };
    console.log(`session ${session.id}: started ${command} (pid ${child.pid})`);
    const exited = (async () => {
      try {
        for await (const line of lines(child.stdout, reading.signal)) {
          // Socket full: stop reading stdout until it drains; the pipe fills, the command waits.
          if (!session.send(line)) await session.drained();
          if (session.state !== "open") break; // closing: the close hook kills the command
        }
      } catch (error) {
        if (!reading.signal.aborted) throw error;
      }
      const status = await child.status;
      console.log(
        `session ${session.id}: pid ${child.pid} exited (${
          status.signal ?? `code ${status.code}`
        })`,
      );
      session.close(1000, "process exited");
    })();
    exits.add(exited);
    exited.finally(() => exits.delete(exited));
  },
  // The returned promise pauses reading the socket until the command took the line.
  async message(session, message) {
    const bytes = typeof message === "string" ? encoder.encode(message + "\n") : message;
    await session.data.stdin.write(bytes).catch(() => {}); // the command may have exited
  },
  close(session) {
    const { child, stdin, reading } = session.data;
    stdin.close().catch(() => {});
    // Nothing more can be sent, and a process the command left behind may hold stdout open:
    // stop reading now rather than wait for an end of file that may never come.
    reading.abort();
    signal(child, "SIGTERM");
    const kill = setTimeout(() => signal(child, "SIGKILL"), KILL_GRACE_MS);
    child.status.finally(() => clearTimeout(kill));
  },
});

function signal(child: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    child.kill(name);
  } catch {
    // It exited already.
  }
}

const server = new WebSocketServer(router);
const { addr } = server.listen({ hostname: "127.0.0.1", port: Number(values.port) });
console.log(`listening on http://127.0.0.1:${addr.port} (ws://127.0.0.1:${addr.port}/)`);

async function stop(): Promise<void> {
  await server.shutdown(); // closes every session, which kills every process
  await Promise.all(exits);
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
