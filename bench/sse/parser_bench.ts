// Stream parsing: createEventStreamParser against npm eventsource-parser (the parser inside npm
// eventsource 5) in the same group, on 1 MiB of typical events fed as 16 KiB byte chunks. Both
// decode UTF-8 the same way (a streaming TextDecoder); ours does it inside feed().
import { createParser } from "npm:eventsource-parser@^4.1.3";
import { encodeServerSentEvent } from "../../lib/sse/encoder.ts";
import { createEventStreamParser } from "../../lib/sse/parser.ts";

function buildStream(
  targetBytes: number,
  make: (i: number) => Uint8Array,
): { chunks: Uint8Array[]; events: number } {
  const parts: Uint8Array[] = [];
  let size = 0;
  let events = 0;
  while (size < targetBytes) {
    const part = make(events++);
    parts.push(part);
    size += part.length;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += 16 * 1024) chunks.push(all.subarray(i, i + 16 * 1024));
  return { chunks, events };
}

const WORKLOADS: [string, (i: number) => Uint8Array][] = [
  ["1 MiB of typical events (id, event, 180 B JSON)", (i) =>
    encodeServerSentEvent({
      id: String(i),
      event: "price",
      data: JSON.stringify({
        id: String(i),
        channel: "ticker.eur-usd",
        data: { bid: 1.08423, ask: 1.08431, volume: 1250000 },
        time: 1732262400000 + i,
      }),
    })],
  [
    "1 MiB of multi-line events (16 lines of 60 B)",
    (i) => encodeServerSentEvent({ id: String(i), data: ("z".repeat(60) + "\n").repeat(16) }),
  ],
  [
    "1 MiB of CRLF Unicode events",
    (i) => new TextEncoder().encode(`id: ${i}\r\ndata: héllo wörld — 你好 😀 ${i}\r\n\r\n`),
  ],
];

for (const [label, make] of WORKLOADS) {
  const { chunks, events } = buildStream(1024 * 1024, make);
  const group = `parse ${label}`;
  Deno.bench({
    name: `eventsource-parser: ${group}`,
    group,
    baseline: true,
    fn() {
      let seen = 0;
      const decoder = new TextDecoder();
      const parser = createParser({ onEvent: () => seen++ });
      for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }));
      if (seen !== events) throw new Error(`eventsource-parser saw ${seen} of ${events}`);
    },
  });
  Deno.bench({
    name: `createEventStreamParser: ${group}`,
    group,
    fn() {
      let seen = 0;
      const parser = createEventStreamParser({ onEvent: (e) => e.type === "event" && seen++ });
      for (const chunk of chunks) parser.feed(chunk);
      parser.end();
      if (seen !== events) throw new Error(`createEventStreamParser saw ${seen} of ${events}`);
    },
  });
}
