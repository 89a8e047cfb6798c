// The socket relay over real sockets: a Deno TCP client and a real Java client
// (java.net.Socket, examples/RelayClient.java) against a real hub.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { encodePolicyFile } from "../../lib/relay/policy_file.ts";
import {
  connectClient,
  DocumentReader,
  parseDocument,
  readMessages,
  startRelay,
  subscribe,
} from "./_relay_fixture.ts";
import { until } from "../_wait.ts";

const POLICY = { origins: ["https://app.example.com", "*.example.org"], ports: [8001] };
const REQUEST = new TextEncoder().encode("<policy-file-request/>\0");
// Every UTF-16 code unit class that XML 1.0 cannot carry raw, plus markup characters.
const AWKWARD = "nul\u0000 ctl\u0001\u001f del\u007f <tag> & \"q\" 'a' \ufffe\uffff \ud800 🎉";
/** A policy window no loaded machine outlasts between a connect and the first bytes sent. */
const LONG_POLICY_WINDOW_MS = 30_000;

Deno.test("Relay greets a Deno client, which subscribes over HTTP and receives messages in order", async () => {
  const fx = startRelay({ policyWindowMs: 20 });
  const client = await connectClient(fx.tcpPort);
  try {
    assert.match(client.id, /^[A-Za-z0-9_-]{22}$/);
    const sub = await subscribe(fx.httpBase, client.id, "news");
    assert.equal(sub.status, 200);
    assert.equal(sub.body.channel, "news");
    const published = [
      await fx.hub.publish("news", "one"),
      await fx.hub.publish("news", { n: 2 }, { event: "update" }),
      await fx.hub.publish("news", AWKWARD),
    ];
    const got = await readMessages(client.reader, 3);
    assert.deepEqual(got.map((m) => m.id), published.map((m) => m.id));
    assert.deepEqual(got.map((m) => m.data), ["one", { n: 2 }, AWKWARD]);
    assert.equal(got[1]!.event, "update");
    assert.ok(got.every((m) => m.channel === "news"));
  } finally {
    client.conn.close();
    await fx.close();
  }
});

Deno.test("Relay answers a policy-file request with the policy document and closes", async () => {
  const fx = startRelay({ policy: POLICY, policyWindowMs: LONG_POLICY_WINDOW_MS });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: fx.tcpPort });
  try {
    await conn.write(REQUEST);
    const bytes = await new DocumentReader(conn).rest();
    // Only the policy, NUL-terminated, then EOF: no greeting spoils it.
    assert.deepEqual(bytes, encodePolicyFile(POLICY));
    const text = new TextDecoder().decode(bytes);
    assert.match(text, /<allow-access-from domain="app.example.com" to-ports="8001"\/>/);
    assert.doesNotMatch(text, /domain="\*"/);
  } finally {
    conn.close();
    await fx.close();
  }
});

Deno.test("Relay resumes a Deno client from its last message id after a reconnect", async () => {
  const fx = startRelay({ policyWindowMs: 0 });
  try {
    const first = await connectClient(fx.tcpPort);
    assert.equal((await subscribe(fx.httpBase, first.id, "feed")).status, 200);
    const m1 = await fx.hub.publish("feed", "m1");
    const [got1] = await readMessages(first.reader, 1);
    assert.equal(got1!.id, m1.id);
    first.conn.close();
    // Published while the client is away.
    const m2 = await fx.hub.publish("feed", "m2");
    const m3 = await fx.hub.publish("feed", "m3");
    const second = await connectClient(fx.tcpPort);
    try {
      assert.notEqual(second.id, first.id);
      const sub = await subscribe(fx.httpBase, second.id, "feed", got1!.id);
      assert.equal(sub.status, 200);
      assert.equal(sub.body.cursor, m1.id);
      const m4 = await fx.hub.publish("feed", "m4");
      const got = await readMessages(second.reader, 3);
      assert.deepEqual(got.map((m) => m.id), [m2.id, m3.id, m4.id]);
      assert.deepEqual(got.map((m) => m.data), ["m2", "m3", "m4"]);
    } finally {
      second.conn.close();
    }
  } finally {
    await fx.close();
  }
});

Deno.test("Relay closes a client that sends anything but a policy-file request, saying why", async () => {
  const fx = startRelay({ policyWindowMs: 0 });
  try {
    const client = await connectClient(fx.tcpPort);
    try {
      await client.conn.write(new TextEncoder().encode("<policy-file-request/>x"));
      const doc = await client.reader.next();
      assert.ok(doc !== null);
      assert.deepEqual(parseDocument(doc), { type: "error", code: "RELAY_ERR_JUNK" });
      assert.equal(await client.reader.next(), null);
      const status = await fetch(`${fx.httpBase}/relay/${client.id}`);
      assert.equal(status.status, 200);
      assert.equal((await status.json()).reason, "RELAY_ERR_JUNK");
    } finally {
      client.conn.close();
    }
  } finally {
    await fx.close();
  }
});

Deno.test("Relay answers an HTTP request on its port with only an <error/> and closes", async () => {
  const fx = startRelay({ policyWindowMs: LONG_POLICY_WINDOW_MS });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: fx.tcpPort });
  try {
    await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
    // Within the policy window: no greeting, so no relay id for a peer that is no client.
    const rest = await new DocumentReader(conn).rest();
    assert.equal(new TextDecoder().decode(rest), '<error code="RELAY_ERR_JUNK"/>\0');
  } finally {
    conn.close();
    await fx.close();
  }
});

Deno.test("Relay shuts down promptly with a client that stopped reading while being closed", async () => {
  const fx = startRelay({ policyWindowMs: 0, maxQueueBytes: 64 * 1024 * 1024 });
  const client = await connectClient(fx.tcpPort);
  let clientOpen = true;
  // Closing the client unblocks a stuck shutdown, so a failure still releases everything.
  const closeClient = () => {
    if (clientOpen) client.conn.close();
    clientOpen = false;
  };
  let closed: Promise<void> | undefined;
  try {
    assert.equal((await subscribe(fx.httpBase, client.id, "flood")).status, 200);
    // Enough to fill both socket buffers, so a write stays pending.
    const chunk = "x".repeat(64 * 1024);
    for (let i = 0; i < 400; i++) await fx.hub.publish("flood", chunk);
    // Junk closes by flushing an <error/>, which queues behind the stalled write.
    await client.conn.write(new TextEncoder().encode("junk"));
    const core = fx.relay.get(client.id)!;
    await until(() => core.closeReason !== undefined, "the close for junk");
    assert.deepEqual(
      [core.closeReason?.code, core.closeReason?.flush, core.pendingMessages > 0],
      ["RELAY_ERR_JUNK", true, true],
    );
    closed = fx.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      closed.then(() => "closed"),
      // Generous for a loaded machine; a shutdown waiting for the reader would never end.
      new Promise<string>((resolve) => timer = setTimeout(() => resolve("stuck"), 30_000)),
    ]);
    clearTimeout(timer);
    assert.equal(outcome, "closed", "shutdown waited for a stalled reader");
  } finally {
    closeClient();
    await (closed ??= fx.close());
  }
});

Deno.test("Relay answers 404 for an unknown relay id", async () => {
  const fx = startRelay();
  try {
    const sub = await subscribe(fx.httpBase, "AAAAAAAAAAAAAAAAAAAAAA", "news");
    assert.equal(sub.status, 404);
    assert.equal(sub.body.code, "RELAY_ERR_UNKNOWN_ID");
    const bogus = await subscribe(fx.httpBase, "not-an-id", "news");
    assert.equal(bogus.status, 404);
  } finally {
    await fx.close();
  }
});

Deno.test("Relay turns away a connection over maxConnections with an <error/>", async () => {
  const fx = startRelay({ policyWindowMs: 0, maxConnections: 1 });
  try {
    const first = await connectClient(fx.tcpPort);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: fx.tcpPort });
    try {
      const reader = new DocumentReader(conn);
      const doc = await reader.next();
      assert.ok(doc !== null);
      assert.deepEqual(parseDocument(doc), {
        type: "error",
        code: "RELAY_ERR_TOO_MANY_CONNECTIONS",
      });
      assert.equal(await reader.next(), null);
    } finally {
      conn.close();
      first.conn.close();
    }
  } finally {
    await fx.close();
  }
});

Deno.test("Relay closes a connection that holds no subscription for the idle timeout", async () => {
  const fx = startRelay({ policyWindowMs: 0, idleTimeoutMs: 100 });
  try {
    const client = await connectClient(fx.tcpPort);
    try {
      const doc = await client.reader.next();
      assert.ok(doc !== null);
      assert.deepEqual(parseDocument(doc), { type: "error", code: "RELAY_ERR_IDLE" });
      assert.equal(await client.reader.next(), null);
      const status = await (await fetch(`${fx.httpBase}/relay/${client.id}`)).json();
      assert.deepEqual(status, {
        id: client.id,
        state: "closed",
        reason: "RELAY_ERR_IDLE",
        channels: {},
      });
    } finally {
      client.conn.close();
    }
  } finally {
    await fx.close();
  }
});

Deno.test("Relay disconnects a slow reader and keeps the cursor of what it was sent", async () => {
  const fx = startRelay({ policyWindowMs: 0, maxQueueBytes: 64 * 1024 });
  try {
    const client = await connectClient(fx.tcpPort);
    try {
      assert.equal((await subscribe(fx.httpBase, client.id, "firehose")).status, 200);
      // The client reads nothing while the relay is flooded; bounded by the hub queue
      // (1000 messages / 1 MiB) plus what the kernel buffers.
      const chunk = "x".repeat(16 * 1024);
      const ids: string[] = [];
      let status: Record<string, unknown> = { state: "open" };
      for (let i = 0; i < 5_000 && status.state === "open"; i++) {
        ids.push((await fx.hub.publish("firehose", `${i}:${chunk}`)).id);
        if (i % 50 === 49) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          status = await (await fetch(`${fx.httpBase}/relay/${client.id}`)).json();
        }
      }
      assert.equal(status.state, "closed");
      assert.equal(status.reason, "RELAY_ERR_SLOW_READER");
      const kept = (status.channels as Record<string, string>).firehose!;
      // Now read what was delivered: complete documents up to EOF.
      const received: string[] = [];
      const rest = await client.reader.rest();
      for (
        let start = 0, nul = rest.indexOf(0);
        nul >= 0;
        start = nul + 1, nul = rest.indexOf(0, start)
      ) {
        const doc = parseDocument(rest.subarray(start, nul));
        if (doc.type === "message") received.push(doc.id);
      }
      assert.deepEqual(received, ids.slice(0, received.length), "in order, none skipped");
      assert.ok(received.includes(kept), "the kept cursor is a message the client got");
      assert.ok(received.length < ids.length, "the slow reader did not get everything");
      // Resuming from the kept cursor continues with exactly the next message.
      const again = await connectClient(fx.tcpPort);
      try {
        assert.equal((await subscribe(fx.httpBase, again.id, "firehose", kept)).status, 200);
        const [next] = await readMessages(again.reader, 1);
        assert.equal(next!.id, ids[ids.indexOf(kept) + 1]);
      } finally {
        again.conn.close();
      }
    } finally {
      client.conn.close();
    }
  } finally {
    await fx.close();
  }
});

// ---------------------------------------------------------------------------------------------
// A real Java client. It must FAIL, not skip, when `java` is missing (CI installs a JDK).

const JAVA_CLIENT = fileURLToPath(new URL("../../examples/RelayClient.java", import.meta.url));
const JVM_START_TIMEOUT_MS = 120_000;

function spawnJava(args: string[]): Deno.ChildProcess {
  try {
    return new Deno.Command("java", {
      args: ["-Xshare:auto", "-XX:TieredStopAtLevel=1", JAVA_CLIENT, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
  } catch (error) {
    throw new Error(
      `java is required for this test (install a JDK, e.g. default-jdk-headless): ${error}`,
    );
  }
}

/** Splits a child's stdout into lines and lets a test wait for them with a deadline. */
class Lines {
  readonly #lines: string[] = [];
  #wake: (() => void) | undefined;
  #done = false;
  readonly finished: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.finished = (async () => {
      let partial = "";
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        const parts = (partial + text).split("\n");
        partial = parts.pop()!;
        this.#lines.push(...parts);
        this.#wake?.();
      }
      this.#done = true;
      this.#wake?.();
    })();
  }

  /** Waits until `count` lines (in total) exist; returns them all. */
  async waitFor(
    predicate: (lines: readonly string[]) => boolean,
    timeoutMs: number,
  ): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.#lines)) {
      if (this.#done) throw new Error(`java exited; output so far:\n${this.#lines.join("\n")}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; java output so far:\n${this.#lines.join("\n")}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#wake = undefined;
    }
    return [...this.#lines];
  }
}

const messagesIn = (lines: readonly string[]) => lines.filter((l) => l.startsWith("message "));

Deno.test("A Java client gets its id, subscribes over HTTP, receives in order and resumes after reconnect", async () => {
  // Room for a loaded JVM between its connect and its policy request; every greeting waits it.
  const fx = startRelay({ policy: POLICY, policyWindowMs: 2_000 });
  let policy: Deno.ChildProcess | undefined;
  let policyOutput: Promise<string> | undefined;
  let follower: Deno.ChildProcess | undefined;
  let lines: Lines | undefined;
  try {
    const before = await fx.hub.publish("java", "before");
    // Flash-style policy check and the follower run side by side: two JVMs start at once.
    policy = spawnJava(["--policy", `127.0.0.1:${fx.tcpPort}`]);
    policyOutput = new Response(policy.stdout).text();
    follower = spawnJava([`127.0.0.1:${fx.tcpPort}`, fx.httpBase, "java", before.id]);
    lines = new Lines(follower.stdout);
    let out = await lines.waitFor(
      (l) => l.some((x) => x.startsWith("subscribed ")),
      JVM_START_TIMEOUT_MS,
    );
    const id = out.find((l) => l.startsWith("id "))!.slice(3);
    assert.match(id, /^[A-Za-z0-9_-]{22}$/);
    assert.ok(out.includes(`subscribed java ${before.id}`));

    const published = [
      await fx.hub.publish("java", "one"),
      await fx.hub.publish("java", { n: 2 }, { event: "update" }),
      await fx.hub.publish("java", AWKWARD),
    ];
    out = await lines.waitFor((l) => messagesIn(l).length >= 3, 60_000);

    // The relay drops the connection; two messages are published while the client is away.
    fx.relay.get(id)!.close();
    published.push(await fx.hub.publish("java", "while away 1"));
    published.push(await fx.hub.publish("java", "while away 2"));
    out = await lines.waitFor((l) => messagesIn(l).length >= 5, 60_000);
    published.push(await fx.hub.publish("java", "live again"));
    out = await lines.waitFor((l) => messagesIn(l).length >= 6, 60_000);

    const ids = out.filter((l) => l.startsWith("id ")).map((l) => l.slice(3));
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1]);
    assert.ok(
      out.includes(`subscribed java ${published[2]!.id}`),
      "resubscribed after the last id",
    );
    // Each line is `message CHANNEL ID EVENT JSON`; the JSON went through a real XML parser.
    const got = messagesIn(out).map((line) => {
      const [, channel, id, event] = line.split(" ", 4);
      const json = line.slice(["message", channel, id, event].join(" ").length + 1);
      return { channel, id, event, data: JSON.parse(json) };
    });
    assert.deepEqual(
      got,
      published.map((m) => ({ channel: "java", id: m.id, event: m.event ?? "-", data: m.data })),
    );
    assert.ok(!out.some((l) => l.startsWith("reset ") || l.startsWith("error ")));

    const policyText = await policyOutput;
    assert.equal(
      policyText,
      new TextDecoder().decode(encodePolicyFile(POLICY)).slice(0, -1) + "\nclosed\n",
    );
    assert.equal((await policy.status).code, 0);
  } finally {
    for (const child of [follower, policy]) {
      try {
        child?.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await child?.status;
    }
    await lines?.finished;
    await policyOutput?.catch(() => "");
    await fx.close();
  }
});
