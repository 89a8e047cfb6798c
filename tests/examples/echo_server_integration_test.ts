// examples/echo_server.ts as the contract runs it (a child process, `--port`), driven by a
// raw client through a few cases in the style of Autobahn|Testsuite 1-7 and 9: byte-at-a-time
// input, fragments with an interleaved ping, a 16 MiB message, fail-fast errors with the right
// close code, and the server closing TCP after every close.
import assert from "node:assert/strict";
import { encodeFrame } from "../../lib/websocket/frame_encoder.ts";
import {
  closeCodeOf,
  closePayload,
  decoder,
  encoder,
  RawPeer,
  within,
} from "../websocket_io/_helpers.ts";

async function withEchoServer(fn: (port: number) => Promise<void>): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../examples/echo_server.ts", import.meta.url).pathname,
      "--port",
      "0",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  try {
    let line = "";
    while (!/:(\d+)\//.test(line)) {
      const { value, done } = await within(stdout.read(), "echo server start", 60_000);
      if (done) throw new Error(`echo server exited: ${await stderr}`);
      line += value;
    }
    await fn(Number(/:(\d+)\//.exec(line)![1]));
  } finally {
    child.kill("SIGINT");
    await stdout.cancel();
    const status = await within(child.status, "echo server exit");
    await stderr;
    assert.equal(status.code, 0);
  }
}

async function expectClose(peer: RawPeer, code: number): Promise<void> {
  assert.equal(closeCodeOf(await peer.nextFrame()), code);
  assert.equal(await peer.nextFrame(), undefined, "the server must close TCP");
}

Deno.test("examples/echo_server.ts passes Autobahn-style framing, UTF-8, close and size cases", async (t) => {
  await withEchoServer(async (port) => {
    await t.step("a text message written one byte at a time is echoed", async () => {
      const { peer } = await RawPeer.upgrade(port, "/case/1");
      try {
        const frame = encodeFrame(0x1, encoder.encode("Hello, κόσμε"), { mask: true });
        for (let i = 0; i < frame.length; i++) await peer.write(frame.subarray(i, i + 1));
        assert.equal(decoder.decode((await peer.nextFrame())?.payload), "Hello, κόσμε");
        await peer.send(0x8, closePayload(1000));
        await expectClose(peer, 1000);
      } finally {
        peer.close();
      }
    });
    await t.step(
      "fragments with a ping in between: the pong comes first, then the whole message",
      async () => {
        const { peer } = await RawPeer.upgrade(port, "/case/5");
        try {
          await peer.send(0x1, "frag", false);
          await peer.send(0x9, "p");
          await peer.send(0x0, "ment");
          const pong = await peer.nextFrame();
          assert.equal(pong?.opcode, 0xa);
          const echo = await peer.nextFrame();
          assert.equal(echo?.opcode, 0x1);
          assert.equal(decoder.decode(echo?.payload), "fragment");
          await peer.send(0x8, closePayload(1000));
          await expectClose(peer, 1000);
        } finally {
          peer.close();
        }
      },
    );
    await t.step("a 16 MiB text message in 64 KiB fragments is echoed unchanged", async () => {
      const { peer } = await RawPeer.upgrade(port, "/case/9");
      try {
        const size = 16 * 1024 * 1024;
        const text = new Uint8Array(size).fill(0x2a);
        for (let offset = 0; offset < size; offset += 65536) {
          await peer.send(
            offset === 0 ? 0x1 : 0x0,
            text.subarray(offset, offset + 65536),
            offset + 65536 >= size,
          );
        }
        const echo = await peer.nextFrame();
        assert.equal(echo?.payload.length, size);
        assert(echo!.payload.every((b) => b === 0x2a));
        await peer.send(0x8, closePayload(1000));
        await expectClose(peer, 1000);
      } finally {
        peer.close();
      }
    });
    await t.step(
      "RSV1 without an extension fails with 1002 after echoing the message before it",
      async () => {
        const { peer } = await RawPeer.upgrade(port, "/case/3");
        try {
          await peer.send(0x1, "first");
          await peer.write(encodeFrame(0x1, encoder.encode("bad"), { mask: true, rsv1: true }));
          assert.equal(decoder.decode((await peer.nextFrame())?.payload), "first");
          await expectClose(peer, 1002);
        } finally {
          peer.close();
        }
      },
    );
    await t.step("invalid UTF-8 in a fragment fails fast with 1007", async () => {
      const { peer } = await RawPeer.upgrade(port, "/case/6");
      try {
        await peer.send(
          0x1,
          new Uint8Array([
            0xce,
            0xba,
            0xe1,
            0xbd,
            0xb9,
            0xcf,
            0x83,
            0xce,
            0xbc,
            0xce,
            0xb5,
            0xf4,
            0x90,
          ]),
          false,
        );
        await expectClose(peer, 1007); // before the message ends
      } finally {
        peer.close();
      }
    });
    await t.step("close frames with a 1-byte payload or code 1005 fail with 1002", async () => {
      for (const payload of [new Uint8Array([0x03]), closePayload(1005)]) {
        const { peer } = await RawPeer.upgrade(port, "/case/7");
        try {
          await peer.send(0x8, payload);
          await expectClose(peer, 1002);
        } finally {
          peer.close();
        }
      }
    });
  });
});
