// examples/chat.ts as a child process, with its documented permissions: members on our
// client, Deno's built-in WebSocket and Python's `websockets`, and the hub's HTTP transports
// on the same port.
import assert from "node:assert/strict";
import type { Message } from "../../lib/hub/mod.ts";
import { EventSource } from "../../lib/sse/mod.ts";
import { type ClientSession, connect, WebSocketConnectError } from "../../lib/websocket_io/mod.ts";
import { launchChromium } from "../_cdp.ts";
import { Example, TIMEOUT_MS, within } from "./_example.ts";

/** One member's messages as "event nick[: text]" lines. */
class Member {
  readonly lines: string[] = [];
  readonly #iterator: AsyncIterator<string | Uint8Array>;

  constructor(readonly session: ClientSession) {
    this.#iterator = session[Symbol.asyncIterator]();
  }

  static async join(port: number, nick: string, room = "lobby"): Promise<Member> {
    return new Member(await connect(`ws://127.0.0.1:${port}/rooms/${room}?nick=${nick}`));
  }

  /** Reads until `count` lines were received in all; returns them. */
  async read(count: number): Promise<string[]> {
    while (this.lines.length < count) {
      const { value, done } = await within(this.#iterator.next(), "chat message");
      assert.equal(done, false);
      this.lines.push(lineOf(JSON.parse(value as string)));
    }
    return this.lines;
  }

  async leave(): Promise<void> {
    this.session.close(1000);
    await within(this.session.closed, "leave");
  }
}

function lineOf(message: Message): string {
  const data = message.data as { nick: string; text?: string };
  return `${message.event} ${data.nick}${data.text === undefined ? "" : `: ${data.text}`}`;
}

Deno.test("chat.ts replays history on join and publishes join, say and leave to the room", async () => {
  const example = await Example.start("chat.ts");
  try {
    const alice = await Member.join(example.port, "alice");
    assert.deepEqual(await alice.read(1), ["join alice"]);
    alice.session.send("hi all");
    assert.deepEqual(await alice.read(2), ["join alice", "say alice: hi all"]);

    // Bob on Deno's WebSocket: the history, then his own join.
    const bob = new WebSocket(`ws://127.0.0.1:${example.port}/rooms/lobby?nick=bob`);
    const bobLines: string[] = [];
    await within(
      new Promise<void>((resolve) => {
        bob.onmessage = (event) => {
          if (bobLines.push(lineOf(JSON.parse(event.data))) === 3) resolve();
        };
      }),
      "bob's history",
    );
    assert.deepEqual(bobLines, ["join alice", "say alice: hi all", "join bob"]);
    assert.deepEqual(await alice.read(3), ["join alice", "say alice: hi all", "join bob"]);

    // Another room hears nothing of the lobby.
    const carol = await Member.join(example.port, "carol", "kitchen");
    assert.deepEqual(await carol.read(1), ["join carol"]);

    const bobClosed = new Promise((resolve) => bob.onclose = resolve);
    bob.close(1000);
    await within(bobClosed, "bob leaves");
    assert.equal((await alice.read(4))[3], "leave bob");
    await alice.leave();
    await carol.leave();
  } finally {
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

Deno.test("chat.ts refuses a bad room or nick with 400 and closes on a line over 4 KiB with 1009", async () => {
  const example = await Example.start("chat.ts");
  try {
    for (const path of ["/rooms/no%20room?nick=ann", "/rooms/lobby?nick=a%3Cb"]) {
      const refused = await connect(`ws://127.0.0.1:${example.port}${path}`).catch((e) => e);
      assert.ok(refused instanceof WebSocketConnectError, path);
      assert.equal(refused.status, 400, path);
    }
    const dave = await Member.join(example.port, "dave");
    assert.deepEqual(await dave.read(1), ["join dave"]);
    dave.session.send("x".repeat(4097));
    const closed = await within(dave.session.closed, "the close after a long line");
    assert.equal(closed.code, 1009);
    // The long line was never published; the leave was (right after the close: bounded wait).
    let lines: string[] = [];
    const deadline = Date.now() + TIMEOUT_MS;
    while (lines.length < 2 && Date.now() < deadline) {
      const url = `http://127.0.0.1:${example.port}/channels/room.lobby`;
      lines = (await (await fetch(url)).json()).messages.map(lineOf);
      if (lines.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(lines, ["join dave", "leave dave"]);
  } finally {
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

Deno.test("chat.ts rooms are hub channels: SSE, HTTP publish and Python share the port", async () => {
  const example = await Example.start("chat.ts");
  const base = `http://127.0.0.1:${example.port}`;
  const source = new EventSource(`${base}/channels/room.lobby/events`);
  const opened = new Promise((resolve) => source.onopen = resolve);
  try {
    const page = await fetch(`${base}/`);
    assert.match(await page.text(), /import \* as pushwire from "\/pushwire\.js"/);
    for (
      const [path, type] of [["/pushwire.js", "text/javascript"], [
        "/pushwire.d.ts",
        "application/typescript",
      ]]
    ) {
      const script = await fetch(`${base}${path}`);
      assert.equal(script.status, 200, path);
      assert.match(script.headers.get("content-type")!, new RegExp(`^${type}`));
      assert.match(await script.text(), /subscribe/);
    }
    const seen: string[] = [];
    const sseSay = new Promise<void>((resolve) => {
      source.addEventListener("say", (event) => {
        seen.push(`say ${(event as MessageEvent<string>).data}`);
        if (seen.length === 2) resolve();
      });
    });
    await within(opened, "SSE open");

    const alice = await Member.join(example.port, "alice");
    await alice.read(1);
    const posted = await fetch(`${base}/channels/room.lobby?event=say`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ nick: "curl", text: "over HTTP" }),
    });
    assert.equal(posted.status, 201);
    await posted.body?.cancel();
    assert.equal((await alice.read(2))[1], "say curl: over HTTP");

    const python = new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        `import asyncio, json, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1]) as ws:
        seen = [json.loads(await asyncio.wait_for(ws.recv(), 30)) for _ in range(3)]
        print(" / ".join(m["event"] + " " + m["data"]["nick"] for m in seen))
        await ws.send("from python")
        print(json.loads(await asyncio.wait_for(ws.recv(), 30))["data"]["text"])
asyncio.run(main())`,
        `ws://127.0.0.1:${example.port}/rooms/lobby?nick=py`,
      ],
      stdout: "piped",
      stderr: "piped",
    });
    const { code, stdout, stderr } = await within(python.output(), "python member");
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.equal(
      new TextDecoder().decode(stdout),
      "join alice / say curl / join py\nfrom python\n",
    );
    await within(sseSay, "SSE says");
    assert.deepEqual(seen, [
      'say {"nick":"curl","text":"over HTTP"}',
      'say {"nick":"py","text":"from python"}',
    ]);
    await alice.leave();

    const refused = await connect(`ws://127.0.0.1:${example.port}/rooms/lobby`).catch((e) => e);
    assert.ok(refused instanceof WebSocketConnectError);
    assert.equal(refused.status, 400, "a nick is required");
  } finally {
    source.close();
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

const LOG =
  `[...document.querySelectorAll("#log li")].map((li) => li.textContent.replace(/^\\S+ /, ""))`;
const STATUS = `document.getElementById("status").textContent`;

/**
 * Two tabs join the lobby, one talks, one leaves: each tab sees the history on join, the
 * conversation and the leave, carried by `transport`. Returns each tab's console errors.
 */
async function twoTabsTalk(example: Example, transport: string): Promise<string[][]> {
  const browser = await launchChromium();
  try {
    const base = `http://127.0.0.1:${example.port}`;
    const ann = await browser.newPage(800, 600, true);
    await ann.goto(`${base}/?nick=ann#lobby`);
    await ann.waitFor(`${LOG}.includes("* ann joins lobby")`, "ann's join");
    const bob = await browser.newPage(800, 600, true);
    await bob.goto(`${base}/?nick=bob#lobby`);
    await bob.waitFor(`${LOG}.includes("* bob joins lobby")`, "bob's join");
    await ann.evaluate(
      `document.getElementById("text").value = "hello bob"; document.getElementById("say").requestSubmit()`,
    );
    const expected = ["* ann joins lobby", "* bob joins lobby", "<ann> hello bob"];
    for (const page of [ann, bob]) {
      await page.waitFor(`${LOG}.length === 3`, "the conversation");
      assert.deepEqual(await page.evaluate(LOG), expected);
      assert.equal(await page.evaluate(STATUS), `open (${transport})`);
    }
    await bob.close();
    await ann.waitFor(`${LOG}.includes("* bob leaves lobby")`, "bob's leave");
    assert.deepEqual([...ann.exceptions, ...bob.exceptions], []);
    await ann.close();
    return [ann.consoleErrors, bob.consoleErrors];
  } finally {
    await browser.close();
  }
}

Deno.test("chat.ts page: two Chromium tabs join a room and talk over WebSocket", async () => {
  const example = await Example.start("chat.ts");
  try {
    for (const errors of await twoTabsTalk(example, "websocket")) {
      assert.deepEqual(errors.filter((e) => e.includes("WebSocket")), []);
    }
  } finally {
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

Deno.test("chat.ts page: with WebSocket upgrades refused, two Chromium tabs talk over SSE", async () => {
  const example = await Example.start("chat.ts", ["--port", "PORT", "--no-websocket"]);
  try {
    const refused = await connect(`ws://127.0.0.1:${example.port}/ws`).catch((e) => e);
    assert.ok(refused instanceof WebSocketConnectError);
    assert.equal(refused.status, 403);
    // Each tab (its own browser context, nothing remembered) tried WebSocket first.
    for (const errors of await twoTabsTalk(example, "sse")) {
      assert.ok(
        errors.some((e) => /WebSocket connection to .*\/ws' failed.* 403/.test(e)),
        errors.join("\n"),
      );
    }
  } finally {
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});
