// examples/websocketd.ts as a child process, with its documented permissions, driven by our
// client and by Python's `websockets`.
import assert from "node:assert/strict";
import { connect } from "../../lib/websocket_io/mod.ts";
import { Example, processExists, within } from "./_example.ts";

function allowRun(command: string): (flag: string) => string {
  return (flag) => flag.startsWith("--allow-run=") ? `--allow-run=${command}` : flag;
}

Deno.test("websocketd.ts echoes lines through cat and kills it when the socket closes", async () => {
  const example = await Example.start("websocketd.ts", ["--port", "PORT", "--", "cat"]);
  try {
    const client = await connect(`ws://127.0.0.1:${example.port}/`);
    const [, pid] = await example.waitFor(/started cat \(pid (\d+)\)/);
    assert.ok(await processExists(Number(pid)));
    const received: string[] = [];
    client.send("hello");
    client.send("two words");
    for await (const message of client) {
      received.push(message as string);
      if (received.length === 2) break;
    }
    assert.deepEqual(received, ["hello", "two words"]);
    client.close(1000);
    await within(client.closed, "client close");
    await example.waitFor(new RegExp(`pid ${pid} exited \\(SIGTERM\\)`));
    assert.equal(await processExists(Number(pid)), false);
  } finally {
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

Deno.test("websocketd.ts runs `tr a-z A-Z` per connection for a Python websockets client", async () => {
  // stdbuf: tr buffers its output when writing to a pipe, as most C programs do.
  const example = await Example.start(
    "websocketd.ts",
    ["--port", "PORT", "--", "stdbuf", "-oL", "tr", "a-z", "A-Z"],
    allowRun("stdbuf"),
  );
  try {
    const python = new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        `import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1]) as ws:
        for line in ["hello", "pushwire rocks"]:
            await ws.send(line)
            print(await asyncio.wait_for(ws.recv(), 10))
asyncio.run(main())`,
        `ws://127.0.0.1:${example.port}/`,
      ],
      stdout: "piped",
      stderr: "piped",
    });
    const { code, stdout, stderr } = await within(python.output(), "python client");
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.equal(new TextDecoder().decode(stdout), "HELLO\nPUSHWIRE ROCKS\n");
    const [, pid] = await example.waitFor(/started stdbuf \(pid (\d+)\)/);
    await example.waitFor(new RegExp(`pid ${pid} exited`));
    assert.equal(await processExists(Number(pid)), false);
  } finally {
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

Deno.test("websocketd.ts closes the socket with 1000 when the process exits", async () => {
  const example = await Example.start(
    "websocketd.ts",
    ["--port", "PORT", "--", "head", "-n", "1"],
    allowRun("head"),
  );
  try {
    const client = await connect(`ws://127.0.0.1:${example.port}/`);
    client.send("only line");
    client.send("never read");
    const received: unknown[] = [];
    for await (const message of client) received.push(message);
    assert.deepEqual(received, ["only line"]);
    const closed = await within(client.closed, "client close");
    assert.equal(closed.code, 1000);
    assert.equal(closed.reason, "process exited");
  } finally {
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

Deno.test("websocketd.ts stops reading the command's stdout while the client does not read", async () => {
  // `yes` writes forever: without backpressure the server would buffer it until its 32 MiB
  // slow-consumer bound dropped the client (1013) and killed the process.
  const line = "x".repeat(1000);
  const example = await Example.start(
    "websocketd.ts",
    ["--port", "PORT", "--", "yes", line],
    allowRun("yes"),
  );
  try {
    const client = await connect(`ws://127.0.0.1:${example.port}/`, { maxQueuedMessages: 1 });
    const [, pid] = await example.waitFor(/started yes \(pid (\d+)\)/);
    const written = async () =>
      Number(/wchar: (\d+)/.exec(await Deno.readTextFile(`/proc/${pid}/io`))![1]);
    // The client reads nothing: pipe, server queue and socket buffers fill, then `yes` waits.
    let [before, after] = [-1, await written()];
    for (let i = 0; i < 300 && after !== before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      [before, after] = [after, await written()];
    }
    assert.equal(after, before, "yes keeps writing");
    assert.ok(after < 32 * 1024 * 1024, `${after} bytes written`);
    assert.ok(await processExists(Number(pid)));
    let n = 0;
    for await (const message of client) {
      assert.equal(message, line);
      if (++n === 1000) break;
    }
    client.close(1000);
    await within(client.closed, "client close");
    await example.waitFor(new RegExp(`pid ${pid} exited`));
  } finally {
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

Deno.test("websocketd.ts stops reading the socket while the command does not read its stdin", async () => {
  const example = await Example.start("websocketd.ts", ["--port", "PORT", "--", "cat"]);
  let pid = 0;
  try {
    // No compression: every byte sent is a byte on the wire.
    const client = await connect(`ws://127.0.0.1:${example.port}/`, { perMessageDeflate: false });
    pid = Number((await example.waitFor(/started cat \(pid (\d+)\)/))[1]);
    Deno.kill(pid, "SIGSTOP"); // cat stops reading its stdin
    const line = "y".repeat(65535);
    for (let i = 0; i < 400; i++) client.send(line); // 25 MiB, under its 32 MiB bound
    // The server stops reading the socket once the pipe to cat is full: the kernel's buffers
    // fill, and most of the 25 MiB stays with the client.
    let [before, after] = [-1, client.bufferedAmount];
    for (let i = 0; i < 300 && after !== before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      [before, after] = [after, client.bufferedAmount];
    }
    assert.equal(after, before, "the server keeps reading");
    assert.ok(after > 8 * 1024 * 1024, `only ${after} bytes wait in the client`);
    Deno.kill(pid, "SIGCONT");
    let n = 0;
    for await (const message of client) {
      assert.equal(message, line);
      if (++n === 400) break;
    }
    client.close(1000);
    await within(client.closed, "client close");
  } finally {
    try {
      if (pid !== 0) Deno.kill(pid, "SIGCONT"); // a stopped process ignores SIGTERM until then
    } catch {
      // cat exited already: the socket closed.
    }
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

// `trap "" TERM` is inherited through exec: cat, then sleep, ignore SIGTERM. cat exits at the
// end of its stdin; sleep (same pid) keeps stdout open and would outlive every bounded wait.
const IGNORES_TERM = ["sh", "-c", 'trap "" TERM; cat; exec sleep 300'];

Deno.test("websocketd.ts kills a command that ignores SIGTERM with SIGKILL after a grace period", async () => {
  const example = await Example.start(
    "websocketd.ts",
    ["--port", "PORT", "--", ...IGNORES_TERM],
    allowRun("sh"),
  );
  try {
    const client = await connect(`ws://127.0.0.1:${example.port}/`);
    const [, pid] = await example.waitFor(/started sh \(pid (\d+)\)/);
    client.send("still here");
    for await (const message of client) {
      assert.equal(message, "still here");
      break;
    }
    const closedAt = Date.now();
    client.close(1000);
    await within(client.closed, "client close");
    await example.waitFor(new RegExp(`pid ${pid} exited \\(SIGKILL\\)`));
    const waited = Date.now() - closedAt;
    assert.ok(waited >= 1_500, `killed after ${waited} ms: SIGTERM was not ignored`);
    assert.equal(await processExists(Number(pid)), false);
  } finally {
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

Deno.test("websocketd.ts shuts down while a command ignores SIGTERM", async () => {
  const example = await Example.start(
    "websocketd.ts",
    ["--port", "PORT", "--", ...IGNORES_TERM],
    allowRun("sh"),
  );
  let stopped = false;
  try {
    const client = await connect(`ws://127.0.0.1:${example.port}/`);
    const [, pid] = await example.waitFor(/started sh \(pid (\d+)\)/);
    const { code, stderr } = await example.stop();
    stopped = true;
    assert.equal(code, 0, stderr);
    assert.match(example.stdout, new RegExp(`pid ${pid} exited \\(SIGKILL\\)`));
    assert.equal(await processExists(Number(pid)), false);
    const closed = await within(client.closed, "client close");
    assert.equal(closed.code, 1001);
  } finally {
    if (!stopped) await example.stop("SIGKILL");
  }
});
