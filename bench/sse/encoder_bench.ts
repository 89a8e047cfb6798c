// Event encoding: encodeServerSentEvent against a naive template-string encoder (one string of
// the whole event, then TextEncoder.encode) in the same group, per workload. The naive one
// does no validation; ours also refuses CR/LF/NUL in event and id and checks retry.
import { encodeServerSentEvent, type ServerSentEvent } from "../../lib/sse/encoder.ts";
import { ServerSentEventEncoderStream } from "../../lib/sse/encoder_stream.ts";

const textEncoder = new TextEncoder();

/** The baseline: the whole event built as one template string, split on LF only. */
function naiveEncode(event: ServerSentEvent): Uint8Array {
  const comment = event.comment === undefined ? "" : `: ${event.comment}\n`;
  const retry = event.retry === undefined ? "" : `retry: ${event.retry}\n`;
  const id = event.id === undefined ? "" : `id: ${event.id}\n`;
  const type = event.event === undefined ? "" : `event: ${event.event}\n`;
  const data = event.data === undefined ? "" : `data: ${event.data.split("\n").join("\ndata: ")}\n`;
  return textEncoder.encode(`${comment}${retry}${id}${type}${data}\n`);
}

const WORKLOADS: [string, ServerSentEvent][] = [
  [
    "typical event (id, event, 180 B JSON data)",
    {
      id: "1732262400000-42",
      event: "price",
      data: JSON.stringify({
        id: "1732262400000-42",
        channel: "ticker.eur-usd",
        data: { bid: 1.08423, ask: 1.08431, volume: 1250000, venue: "lp-3" },
        time: 1732262400000,
      }),
    },
  ],
  ["tiny event (data: hello)", { data: "hello" }],
  ["Unicode event (120 chars, mixed scripts)", {
    id: "7",
    data: "héllo wörld — 你好世界 — привет мир 😀 ".repeat(3),
  }],
  ["multi-line 4 KiB data (64 lines)", { id: "9", data: ("x".repeat(63) + "\n").repeat(64) }],
  ["64 KiB data", { id: "10", data: "y".repeat(64 * 1024) }],
];

for (const [label, event] of WORKLOADS) {
  // Same bytes from both when the data has no CR (the naive one ignores CR).
  const ours = new TextDecoder().decode(encodeServerSentEvent(event));
  const theirs = new TextDecoder().decode(naiveEncode(event));
  if (ours.replaceAll("data: \n", "data:\n") !== theirs.replaceAll("data: \n", "data:\n")) {
    throw new Error(`encoders disagree on ${label}`);
  }
  const group = `encode ${label}`;
  Deno.bench({
    name: `naive template string: ${group}`,
    group,
    baseline: true,
    fn() {
      if (naiveEncode(event).length === 0) throw new Error("empty");
    },
  });
  Deno.bench({
    name: `encodeServerSentEvent: ${group}`,
    group,
    fn() {
      if (encodeServerSentEvent(event).length === 0) throw new Error("empty");
    },
  });
}

{
  const events = Array.from({ length: 1000 }, (_, i) => ({ ...WORKLOADS[0]![1], id: String(i) }));
  const group = "encode 1000 typical events through a stream";
  Deno.bench({
    name: `naive template string in a TransformStream: ${group}`,
    group,
    baseline: true,
    async fn() {
      const stream = ReadableStream.from(events).pipeThrough(
        new TransformStream<ServerSentEvent, Uint8Array>({
          transform: (event, controller) => controller.enqueue(naiveEncode(event)),
        }),
      );
      for await (const _ of stream);
    },
  });
  Deno.bench({
    name: `ServerSentEventEncoderStream: ${group}`,
    group,
    async fn() {
      for await (
        const _ of ReadableStream.from(events).pipeThrough(new ServerSentEventEncoderStream())
      );
    },
  });
}
