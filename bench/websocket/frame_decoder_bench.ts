// Frame decoding: FrameDecoder (receive + next) against ws's Receiver (write + its 'message'
// event) in the same group, for each payload size, masked (client to server) and unmasked
// (server to client). ws runs without its optional native `bufferutil`, as installed here.
import { Buffer } from "node:buffer";
import { Receiver } from "npm:ws@8";
import { encodeFrame } from "../../lib/websocket/frame_encoder.ts";
import { FrameDecoder } from "../../lib/websocket/frame_decoder.ts";

const SIZES: [string, number][] = [
  ["2 B", 2],
  ["125 B", 125],
  ["1 KiB", 1024],
  ["64 KiB", 64 * 1024],
  ["1 MiB", 1024 * 1024],
];
const MAX_PAYLOAD = 64 * 1024 * 1024;

for (const [label, size] of SIZES) {
  for (const masked of [true, false]) {
    const kind = masked ? "masked" : "unmasked";
    const group = `decode ${label} ${kind}`;
    const name = `decode ${label} ${kind} binary frame`;
    const payload = new Uint8Array(size).map((_, i) => i & 0xff);
    // One fixture per side, built once. Both decoders unmask in place, so a masked fixture
    // alternates between masked and plain payload bytes across iterations; the header (and
    // so the work) is the same every time.
    const wire = encodeFrame(0x2, payload, masked ? { mask: true } : {});
    const ours = wire.slice();
    const theirs = Buffer.from(wire);

    // RFC 6455 §5.1: a server receives masked frames, a client unmasked ones.
    const receiver = new Receiver({
      isServer: masked,
      maxPayload: MAX_PAYLOAD,
      binaryType: "nodebuffer",
    });
    let messages = 0;
    receiver.on("message", () => messages++);
    receiver.on("error", (error: Error) => {
      throw error;
    });

    const decoder = new FrameDecoder({
      role: masked ? "server" : "client",
      maxFrameSize: MAX_PAYLOAD,
    });

    Deno.bench({
      name: `ws Receiver: ${name}`,
      group,
      baseline: true,
      fn() {
        const before = messages;
        receiver.write(theirs);
        if (messages !== before + 1) throw new Error("ws did not emit the message");
      },
    });

    Deno.bench({
      name: `FrameDecoder: ${name}`,
      group,
      fn() {
        decoder.receive(ours);
        const event = decoder.next();
        if (event?.type !== "frame" || event.frame.payload.length !== size) {
          throw new Error("FrameDecoder did not decode the frame");
        }
      },
    });
  }
}

// A 1 MiB frame arriving in 64 KiB reads, as from a socket: the payload spans 17 chunks and is
// gathered once.
{
  const payload = new Uint8Array(1024 * 1024).map((_, i) => i & 0xff);
  const wire = encodeFrame(0x2, payload, { mask: true });
  const CHUNK = 64 * 1024;
  const ours: Uint8Array[] = [];
  const theirs: Buffer[] = [];
  for (let at = 0; at < wire.length; at += CHUNK) {
    ours.push(wire.slice(at, at + CHUNK));
    theirs.push(Buffer.from(wire.subarray(at, at + CHUNK)));
  }
  const group = "decode 1 MiB masked in 64 KiB chunks";
  const name = "decode 1 MiB masked binary frame from 64 KiB chunks";
  const receiver = new Receiver({ isServer: true, maxPayload: MAX_PAYLOAD });
  let messages = 0;
  receiver.on("message", () => messages++);
  const decoder = new FrameDecoder({ role: "server", maxFrameSize: MAX_PAYLOAD });

  Deno.bench({
    name: `ws Receiver: ${name}`,
    group,
    baseline: true,
    fn() {
      const before = messages;
      for (const chunk of theirs) receiver.write(chunk);
      if (messages !== before + 1) throw new Error("ws did not emit the message");
    },
  });

  Deno.bench({
    name: `FrameDecoder: ${name}`,
    group,
    fn() {
      for (const chunk of ours) decoder.receive(chunk);
      const event = decoder.next();
      if (event?.type !== "frame") throw new Error("FrameDecoder did not decode the frame");
    },
  });
}
