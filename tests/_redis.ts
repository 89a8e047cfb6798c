// A throwaway `redis-server` for tests: free port on 127.0.0.1, fresh temp dir, no RDB
// snapshots; optional AOF with fsync on every write (so a kill loses nothing acknowledged).
// Fails (does not skip) when redis-server is not installed. Also a TCP proxy to it, to cut one
// node off from Redis while others stay connected.

/** Options of {@linkcode startRedis}. */
export interface RedisServerOptions {
  /** Keep an append-only file with `appendfsync always` (survives a restart). */
  readonly appendOnly?: boolean;
}

/** A running test Redis. */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL: no shutdown save) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (after `kill`). */
  restart(): Promise<void>;
  /** Kills the server and removes its directory. */
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** Bound on a start: a failure detector, generous because a loaded machine starts slowly. */
const START_TIMEOUT_MS = 30_000;

/** redis-server exited before it accepted a connection (e.g. its port was taken). */
class ExitedAtStart extends Error {}

async function waitAccepting(port: number, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) throw new ExitedAtStart(`redis-server on port ${port} exited at start`);
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(
    `redis-server on port ${port} did not accept connections within ${START_TIMEOUT_MS} ms`,
  );
}

/** Starts `redis-server`; throws when it is missing or does not come up. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  // A free port is closed before redis binds it, so another process may take it first: a
  // server that exits at start is tried again on another port.
  for (let attempt = 1;; attempt++) {
    try {
      return await startRedisOn(freePort(), options);
    } catch (error) {
      if (!(error instanceof ExitedAtStart) || attempt === 3) throw error;
    }
  }
}

async function startRedisOn(port: number, options: RedisServerOptions): Promise<RedisServer> {
  const dir = await Deno.makeTempDir({ prefix: "pushwire_redis_" });
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--daemonize",
    "no",
    "--loglevel",
    "warning",
    ...(options.appendOnly ? ["--appendonly", "yes", "--appendfsync", "always"] : [
      "--appendonly",
      "no",
    ]),
  ];
  let child: Deno.ChildProcess | undefined;
  const spawn = async () => {
    try {
      child = new Deno.Command("redis-server", { args, stdout: "null", stderr: "null" }).spawn();
    } catch (error) {
      throw new Error("redis-server is required for these tests (apt-get install redis-server)", {
        cause: error,
      });
    }
    await waitAccepting(port, child);
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (running === undefined) return;
    try {
      running.kill("SIGKILL");
    } catch {
      // already exited
    }
    await running.status;
  };
  try {
    await spawn();
  } catch (error) {
    await kill();
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: async () => {
      await kill();
      await spawn();
    },
    stop: async () => {
      await kill();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A TCP proxy in front of a test Redis: one node connects through it and can be cut off. */
export interface RedisProxy {
  /** `redis://127.0.0.1:PORT` of the proxy. */
  readonly url: string;
  /** Drops every proxied connection and refuses new ones until `heal`. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  heal(): void;
  /** Cuts for good. */
  stop(): Promise<void>;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed by the other direction
  }
}

async function forward(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buffer);
      if (n === null) break;
      for (let at = 0; at < n;) at += await to.write(buffer.subarray(at, n));
    }
  } catch {
    // closed by cut(), or by the other direction
  }
  closeQuietly(from);
  closeQuietly(to);
}

/** Starts a proxy to `server`'s port. */
export function startRedisProxy(server: RedisServer): RedisProxy {
  const port = freePort();
  let listener: Deno.Listener | undefined;
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const track = (task: Promise<void>) => {
    tasks.add(task);
    task.finally(() => tasks.delete(task));
  };
  let generation = 0;
  const serve = async (client: Deno.Conn) => {
    const accepted = generation;
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    } catch {
      closeQuietly(client);
      return;
    }
    if (accepted !== generation) { // cut while connecting
      closeQuietly(client);
      closeQuietly(upstream);
      return;
    }
    conns.add(client);
    conns.add(upstream);
    await Promise.all([forward(client, upstream), forward(upstream, client)]);
    conns.delete(client);
    conns.delete(upstream);
  };
  const heal = () => {
    if (listener !== undefined) return;
    const accepting = Deno.listen({ hostname: "127.0.0.1", port });
    listener = accepting;
    track((async () => {
      try {
        for await (const client of accepting) track(serve(client));
      } catch {
        // closed by cut()
      }
    })());
  };
  const cut = async () => {
    generation++;
    listener?.close();
    listener = undefined;
    for (const conn of conns) closeQuietly(conn);
    while (tasks.size > 0) await Promise.all([...tasks]);
  };
  heal();
  return { url: `redis://127.0.0.1:${port}`, cut, heal, stop: cut };
}
