import assert from "node:assert/strict";
import { constants, deflateRawSync } from "node:zlib";
import {
  DeflateCodec,
  type DeflateCodecOptions,
  deflateMessage,
} from "../../lib/websocket/deflate_codec.ts";
import type { DeflateParams } from "../../lib/websocket/permessage_deflate.ts";

const NO_TAKEOVER: DeflateParams = {
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};
const TAKEOVER: DeflateParams = {
  ...NO_TAKEOVER,
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
};

const encoder = new TextEncoder();
const hello = encoder.encode("Hello");

/** Runs `body` with codecs that are closed (their zlib streams freed) afterwards. */
async function withCodecs(
  options: DeflateCodecOptions[],
  body: (...codecs: DeflateCodec[]) => Promise<void>,
): Promise<void> {
  const codecs = options.map((o) => new DeflateCodec(o));
  try {
    await body(...codecs);
  } finally {
    for (const codec of codecs) codec.close();
    await Promise.all(codecs.map((c) => c.settled()));
    // Let the destroyed streams finish closing before the sanitizers look.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

function bytes(hex: string): Uint8Array {
  return Uint8Array.fromHex(hex);
}

/** Pseudo-random, poorly compressible bytes (fixed seed). */
function noise(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

Deno.test("deflateMessage compresses the RFC 7692 §7.2.3.1 'Hello' and strips the tail", () => {
  assert.equal(deflateMessage(hello).toHex(), "f248cdc9c90700");
});

Deno.test("deflateMessage sends an empty message as a single 00 byte (RFC 7692 §7.2.3.6)", () => {
  assert.equal(deflateMessage(new Uint8Array(0)).toHex(), "00");
});

Deno.test("deflateMessage honours a window of 8 with zlib's 9, decodable by an 8-bit inflater", async () => {
  // zlib's 9-bit window reaches back at most 2^9 - 262 = 250 bytes: a repeat at distance
  // 250 is found, one at 251 is not, so a 256-byte window always suffices.
  const near = new Uint8Array(750);
  near.set(noise(250), 0);
  near.set(noise(250), 250);
  near.set(noise(250), 500);
  const far = new Uint8Array(753);
  far.set(noise(251), 0);
  far.set(noise(251), 251);
  far.set(noise(251), 502);
  const nearOut = deflateMessage(near, { windowBits: 8 });
  const farOut = deflateMessage(far, { windowBits: 8 });
  assert(nearOut.length < 600, `repeats at 250 are matched (${nearOut.length} bytes)`);
  assert(farOut.length > 740, `repeats at 251 are not matched (${farOut.length} bytes)`);
  // The client inflates what the server compressed under server_max_window_bits=8.
  await withCodecs(
    [{ role: "client", params: { ...NO_TAKEOVER, serverMaxWindowBits: 8 } }],
    async (client) => {
      assert.deepEqual(await client.decompress(nearOut), { ok: true, data: near });
      assert.deepEqual(await client.decompress(farOut), { ok: true, data: far });
    },
  );
});

Deno.test("deflateMessage throws RangeError on invalid settings", () => {
  assert.throws(() => deflateMessage(hello, { level: 10 }), RangeError);
  assert.throws(() => deflateMessage(hello, { memLevel: 0 }), RangeError);
  assert.throws(() => deflateMessage(hello, { windowBits: 16 }), RangeError);
});

Deno.test("DeflateCodec compresses 'Hello' the same twice without context takeover (RFC 7692 §7.2.3.1)", async () => {
  await withCodecs([{ role: "server", params: NO_TAKEOVER, threshold: 0 }], async (server) => {
    assert.equal(server.compressContextTakeover, false);
    assert.deepEqual(await server.encode(hello), {
      data: bytes("f248cdc9c90700"),
      compressed: true,
    });
    assert.deepEqual(await server.encode(hello), {
      data: bytes("f248cdc9c90700"),
      compressed: true,
    });
  });
});

Deno.test("DeflateCodec shares the window with context takeover (RFC 7692 §7.2.3.2)", async () => {
  await withCodecs([{ role: "server", params: TAKEOVER, threshold: 0 }], async (server) => {
    assert.equal(server.compressContextTakeover, true);
    assert.equal((await server.compress(hello)).toHex(), "f248cdc9c90700");
    assert.equal((await server.compress(hello)).toHex(), "f200110000");
  });
});

Deno.test("DeflateCodec inflates the RFC 7692 §7.2.3 examples", async () => {
  await withCodecs(
    [{ role: "client", params: NO_TAKEOVER }, { role: "client", params: TAKEOVER }],
    async (fresh, shared) => {
      for (const codec of [fresh, shared]) {
        // §7.2.3.1 one compressed block, §7.2.3.3 a stored block, §7.2.3.5 two blocks.
        for (
          const hex of ["f248cdc9c90700", "000500faff48656c6c6f00", "f24805000000ffffcac9c90700"]
        ) {
          assert.deepEqual(await codec.decode("text", bytes(hex)), { type: "text", data: "Hello" });
        }
      }
      // §7.2.3.2: the second message refers to the first through the shared window.
      assert.deepEqual(await shared.decode("text", bytes("f248cdc9c90700")), {
        type: "text",
        data: "Hello",
      });
      assert.deepEqual(await shared.decode("text", bytes("f200110000")), {
        type: "text",
        data: "Hello",
      });
      // §7.2.3.4: a block with BFINAL set, without context takeover.
      assert.deepEqual(await fresh.decode("binary", bytes("f348cdc9c90700")), {
        type: "binary",
        data: hello,
      });
      // §7.2.3.6: an empty message, and an empty payload some peers send for it.
      assert.deepEqual(await fresh.decode("text", bytes("00")), { type: "text", data: "" });
      assert.deepEqual(await fresh.decode("text", new Uint8Array(0)), { type: "text", data: "" });
    },
  );
});

Deno.test("DeflateCodec sends an empty message on a shared window as a single 00 byte", async () => {
  await withCodecs(
    [{ role: "server", params: TAKEOVER, threshold: 0 }, { role: "client", params: TAKEOVER }],
    async (server, client) => {
      for (const message of [hello, new Uint8Array(0), new Uint8Array(0), hello]) {
        const sent = await server.encode(message);
        if (message.length === 0) assert.equal(sent.data.toHex(), "00");
        assert.deepEqual(await client.decode("binary", sent.data), {
          type: "binary",
          data: message,
        });
      }
    },
  );
});

Deno.test("DeflateCodec.encode leaves messages under the threshold uncompressed, in order", async () => {
  await withCodecs([{ role: "server", params: TAKEOVER, threshold: 16 }], async (server) => {
    const big = encoder.encode("x".repeat(64));
    const order: string[] = [];
    const jobs = [
      server.encode(big).then((m) => order.push(`big:${m.compressed}`)),
      server.encode(hello).then((m) => order.push(`small:${m.compressed}`)),
      server.encode(big).then((m) => order.push(`big:${m.compressed}`)),
    ];
    assert.equal(server.pending, 3);
    await Promise.all(jobs);
    assert.deepEqual(order, ["big:true", "small:false", "big:true"]);
    assert.equal(server.pending, 0);
    assert.deepEqual(await server.encode(hello), { data: hello, compressed: false });
  });
});

for (const [mode, params] of [["without", NO_TAKEOVER], ["with", TAKEOVER]] as const) {
  Deno.test(`DeflateCodec round-trips 0 B to 1 MiB text and binary ${mode} context takeover`, async () => {
    await withCodecs(
      [{ role: "server", params, threshold: 0 }, { role: "client", params, threshold: 0 }],
      async (server, client) => {
        const sizes = [0, 1, 5, 125, 126, 1023, 1024, 65535, 65536, 1 << 20];
        for (const size of sizes) {
          const text = "pushwire κόσμε ".repeat(Math.ceil(size / 16)).slice(0, size);
          const binary = noise(size, size + 1);
          for (const [from, to] of [[server, client], [client, server]] as const) {
            const sentText = await from.encode(encoder.encode(text));
            assert.deepEqual(await to.decode("text", sentText.data), { type: "text", data: text });
            const sentBinary = await from.encode(binary);
            assert.deepEqual(await to.decode("binary", sentBinary.data), {
              type: "binary",
              data: binary,
            });
          }
        }
      },
    );
  });

  Deno.test(`DeflateCodec keeps many concurrent jobs in order ${mode} context takeover`, async () => {
    await withCodecs(
      [{ role: "server", params, threshold: 0 }, { role: "client", params }],
      async (server, client) => {
        const messages = Array.from(
          { length: 50 },
          (_, i) => encoder.encode(`{"seq":${i}}`.repeat(i)),
        );
        const sent = await Promise.all(messages.map((m) => server.encode(m)));
        const received = await Promise.all(sent.map((m) => client.decode("binary", m.data)));
        assert.deepEqual(received, messages.map((data) => ({ type: "binary", data })));
      },
    );
  });

  Deno.test(`DeflateCodec accepts a message of exactly maxMessageSize ${mode} context takeover`, async () => {
    const limit = 100_000;
    await withCodecs(
      [{ role: "client", params }, { role: "server", params, maxMessageSize: limit }],
      async (client, server) => {
        const exact = await client.compress(new Uint8Array(limit).fill(7));
        const decoded = await server.decompress(exact);
        assert(decoded.ok && decoded.data.length === limit);
      },
    );
  });

  Deno.test(`DeflateCodec fails a message one byte over maxMessageSize with 1009 ${mode} context takeover`, async () => {
    const limit = 100_000;
    await withCodecs(
      [{ role: "client", params }, { role: "server", params, maxMessageSize: limit }],
      async (client, server) => {
        const over = await client.compress(new Uint8Array(limit + 1).fill(7));
        const decoded = await server.decode("binary", over);
        assert(decoded.type === "error");
        assert.equal(decoded.error.code, "WS_ERR_MESSAGE_TOO_BIG");
        assert.equal(decoded.error.closeCode, 1009);
      },
    );
  });

  Deno.test(`DeflateCodec stops a 1 GiB decompression bomb early ${mode} context takeover`, async () => {
    // 1 MiB of zeros compresses to about 1 KiB; sync-flushed pieces concatenate into one
    // valid stream, so 1024 copies make a ~1 MiB payload inflating to 1 GiB.
    const piece = deflateRawSync(new Uint8Array(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
    const bomb = new Uint8Array(piece.length * 1024);
    for (let i = 0; i < 1024; i++) bomb.set(piece, i * piece.length);
    const before = Deno.memoryUsage().rss;
    await withCodecs(
      [{ role: "server", params, maxMessageSize: 1 << 20 }],
      async (server) => {
        const decoded = await server.decode("binary", bomb.subarray(0, bomb.length - 4));
        assert(decoded.type === "error");
        assert.equal(decoded.error.closeCode, 1009);
        // Inflating it all would take 1 GiB; the limit plus a chunk is 1.06 MiB.
        const grown = Deno.memoryUsage().rss - before;
        assert(grown < 256 * 1024 * 1024, `rss grew by ${grown} bytes`);
      },
    );
  });

  Deno.test(`DeflateCodec fails corrupt data with 1007 ${mode} context takeover`, async () => {
    await withCodecs([{ role: "server", params }], async (server) => {
      // BTYPE 11 is reserved (RFC 1951 §3.2.3).
      const decoded = await server.decode("binary", bytes("ff"));
      assert(decoded.type === "error");
      assert.equal(decoded.error.code, "WS_ERR_DECOMPRESSION");
      assert.equal(decoded.error.closeCode, 1007);
    });
  });
}

Deno.test("DeflateCodec fails inflated text that is not UTF-8 with 1007", async () => {
  await withCodecs([{ role: "server", params: NO_TAKEOVER }], async (server) => {
    const decoded = await server.decode(
      "text",
      deflateMessage(bytes("48ed a080".replace(" ", ""))),
    );
    assert(decoded.type === "error");
    assert.equal(decoded.error.code, "WS_ERR_INVALID_UTF8");
    assert.equal(decoded.error.closeCode, 1007);
  });
});

Deno.test("DeflateCodec keeps failing after its shared inflate window is broken", async () => {
  await withCodecs([{ role: "server", params: TAKEOVER }], async (server) => {
    assert.equal((await server.decompress(bytes("ff"))).ok, false);
    const next = await server.decompress(bytes("f248cdc9c90700"));
    assert(!next.ok && next.error.code === "WS_ERR_DECOMPRESSION");
  });
});

Deno.test("DeflateCodec picks its window and takeover by role", async () => {
  const params: DeflateParams = {
    serverNoContextTakeover: true,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 9,
    clientMaxWindowBits: 15,
  };
  await withCodecs(
    [{ role: "server", params }, { role: "client", params }],
    async (server, client) => {
      assert.equal(server.compressContextTakeover, false);
      assert.equal(server.decompressContextTakeover, true);
      assert.equal(client.compressContextTakeover, true);
      assert.equal(client.decompressContextTakeover, false);
      // A 4 KiB repeat is out of reach of the server's 512-byte window.
      const data = new Uint8Array(8192);
      data.set(noise(4096), 0);
      data.set(noise(4096), 4096);
      const fromServer = await server.compress(data);
      const fromClient = await client.compress(data);
      assert(fromServer.length > 8000 && fromClient.length < 4200);
    },
  );
});

Deno.test("DeflateCodec.sharedSettings lets a broadcast compressed once be sent as it is", async () => {
  const params = { ...NO_TAKEOVER, serverMaxWindowBits: 10 };
  await withCodecs(
    [
      { role: "server", params, level: 1 },
      { role: "server", params: TAKEOVER },
      { role: "client", params },
    ],
    async (shared, takeover, client) => {
      assert.deepEqual(shared.sharedSettings, { level: 1, memLevel: 8, windowBits: 10 });
      assert.equal(takeover.sharedSettings, undefined);
      const message = encoder.encode("tick ".repeat(500));
      const once = deflateMessage(message, shared.sharedSettings);
      assert.deepEqual(await shared.compress(message), once);
      assert.deepEqual(await client.decode("binary", once), { type: "binary", data: message });
    },
  );
});

Deno.test("DeflateCodec throws on misuse", async () => {
  assert.throws(
    () => new DeflateCodec({ role: "peer" as "server", params: NO_TAKEOVER }),
    TypeError,
  );
  assert.throws(
    () => new DeflateCodec({ role: "server", params: NO_TAKEOVER, threshold: -1 }),
    RangeError,
  );
  assert.throws(
    () => new DeflateCodec({ role: "server", params: NO_TAKEOVER, maxMessageSize: 0 }),
    RangeError,
  );
  assert.throws(
    () => new DeflateCodec({ role: "server", params: NO_TAKEOVER, level: 11 }),
    RangeError,
  );
  assert.throws(
    () => new DeflateCodec({ role: "server", params: { ...NO_TAKEOVER, clientMaxWindowBits: 7 } }),
    RangeError,
  );
  await withCodecs([{ role: "server", params: TAKEOVER }], async (codec) => {
    const job = codec.compress(hello);
    codec.close();
    codec.close();
    assert.equal((await job).toHex(), "f248cdc9c90700", "a queued job still completes");
    assert.throws(() => codec.encode(hello), TypeError);
    assert.throws(() => codec.decode("text", hello), TypeError);
  });
});

Deno.test("DeflateCodec.trim frees an idle compressor and the next message starts a fresh window (RFC 7692 §7.2.3.1)", async () => {
  await withCodecs(
    [
      { role: "server", params: TAKEOVER, threshold: 0, compressorIdleMs: 100 },
      { role: "client", params: TAKEOVER },
    ],
    async (server, client) => {
      assert.equal((await server.compress(hello)).toHex(), "f248cdc9c90700");
      assert.equal((await server.compress(hello)).toHex(), "f200110000");
      assert.equal(server.compressorAllocated, true);
      assert.equal(server.trim(1000), false, "the first look only starts the idle clock");
      assert.equal(server.trim(1099), false);
      assert.equal(server.trim(1100), true);
      assert.equal(server.compressorAllocated, false);
      assert.equal(server.trim(5000), false, "nothing left to free");
      // No back-reference to the two earlier messages: the one-shot bytes of "Hello".
      const fresh = await server.compress(hello);
      assert.equal(fresh.toHex(), "f248cdc9c90700");
      assert.equal(server.compressorAllocated, true);
      // The peer kept its window throughout and decodes all three in order.
      for (const payload of [bytes("f248cdc9c90700"), bytes("f200110000"), fresh]) {
        assert.deepEqual(await client.decode("text", payload), { type: "text", data: "Hello" });
      }
    },
  );
});

Deno.test("DeflateCodec output stays decodable by a peer's long-lived inflater across many trims", async () => {
  await withCodecs(
    [
      { role: "server", params: TAKEOVER, threshold: 0, compressorIdleMs: 1 },
      { role: "client", params: TAKEOVER },
    ],
    async (server, client) => {
      // Similar JSON messages, so the window is used both before and after every trim.
      const messages = Array.from(
        { length: 60 },
        (_, i) =>
          encoder.encode(
            JSON.stringify({
              id: i,
              channel: "prices",
              bid: 100 + (i % 7),
              pad: "x".repeat(i * 37),
            }),
          ),
      );
      let now = 0;
      let freed = 0;
      for (const [i, message] of messages.entries()) {
        const payload = await server.compress(message);
        if (i % 5 === 4) {
          server.trim(now);
          if (server.trim(now + 1)) freed++;
          now += 2;
        }
        assert.deepEqual(await client.decode("binary", payload), { type: "binary", data: message });
      }
      assert.equal(freed, 12);
    },
  );
});

Deno.test("DeflateCodec.trim keeps the compressor while a message is queued, when disabled, and without takeover", async () => {
  await withCodecs(
    [
      { role: "server", params: TAKEOVER, threshold: 0, compressorIdleMs: 10 },
      { role: "server", params: TAKEOVER, threshold: 0, compressorIdleMs: 0 },
      { role: "server", params: NO_TAKEOVER, threshold: 0, compressorIdleMs: 10 },
    ],
    async (busy, disabled, none) => {
      await busy.compress(hello);
      busy.trim(0);
      const job = busy.compress(hello); // queued: the stream must survive it
      assert.equal(busy.trim(1000), false);
      assert.equal((await job).toHex(), "f200110000");
      assert.equal(busy.trim(2000), false, "used since the last look: the clock restarts");
      assert.equal(busy.trim(2010), true);

      await disabled.compress(hello);
      disabled.trim(0);
      assert.equal(disabled.trim(1e9), false);
      assert.equal(disabled.compressorAllocated, true);

      await none.compress(hello);
      assert.equal(none.compressorAllocated, false);
      assert.equal(none.trim(0), false);
    },
  );
  assert.equal(new DeflateCodec({ role: "server", params: TAKEOVER }).compressorIdleMs, 30_000);
  for (const compressorIdleMs of [-1, Infinity, NaN]) {
    assert.throws(
      () => new DeflateCodec({ role: "server", params: TAKEOVER, compressorIdleMs }),
      RangeError,
    );
  }
});

Deno.test("DeflateCodec.queueEncoded keeps a payload encoded elsewhere behind the queued messages", async () => {
  await withCodecs(
    [
      { role: "server", params: NO_TAKEOVER, threshold: 0 },
      { role: "server", params: TAKEOVER, threshold: 0 },
    ],
    async (shared, takeover) => {
      const order: string[] = [];
      const big = shared.encode(noise(256 * 1024)).then(() => order.push("big"));
      assert.equal(shared.pendingSends, 1);
      const payload = deflateMessage(hello, shared.sharedSettings);
      const queued = shared.queueEncoded({ data: payload, compressed: true }).then((m) => {
        order.push("queued");
        return m;
      });
      assert.equal(shared.pendingSends, 2);
      assert.deepEqual(await queued, { data: payload, compressed: true });
      await big;
      assert.deepEqual(order, ["big", "queued"]);
      assert.equal(shared.pendingSends, 0);
      // Only outgoing jobs count in pendingSends.
      const inflating = shared.decompress(payload);
      assert.equal(shared.pending, 1);
      assert.equal(shared.pendingSends, 0);
      await inflating;

      // With takeover only an uncompressed message may be slotted in.
      assert.throws(() => takeover.queueEncoded({ data: payload, compressed: true }), TypeError);
      assert.deepEqual(await takeover.queueEncoded({ data: hello, compressed: false }), {
        data: hello,
        compressed: false,
      });
    },
  );
});
