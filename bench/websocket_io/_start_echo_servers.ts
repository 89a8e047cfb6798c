// Starts `_echo_servers.ts` in a child process and reads the ports it prints, for the benches
// that drive both servers with one client.

/** The running child: the two servers' ports, and `stop()` (closes its stdin, waits). */
export interface EchoServers {
  readonly ports: { readonly ours: number; readonly deno: number };
  stop(): Promise<void>;
}

/** Spawns the echo servers and resolves once both listen. */
export async function startEchoServers(): Promise<EchoServers> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_echo_servers.ts", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("the echo servers exited");
    first += value;
  }
  lines.releaseLock();
  return {
    ports: JSON.parse(first),
    async stop() {
      await child.stdin.close().catch(() => {});
      await child.status;
    },
  };
}
