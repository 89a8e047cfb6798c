import assert from "node:assert/strict";
import { ServerSentEventEncoderStream } from "../../lib/sse/encoder_stream.ts";

Deno.test("ServerSentEventEncoderStream encodes each message in order", async () => {
  const body = ReadableStream.from([{ id: "1", data: "a" }, { comment: "hb" }, { data: "b\nc" }])
    .pipeThrough(new ServerSentEventEncoderStream());
  assert.equal(await new Response(body).text(), "id: 1\ndata: a\n\n: hb\n\ndata: b\ndata: c\n\n");
});

Deno.test("ServerSentEventEncoderStream errors the stream on a message that could forge an event", async () => {
  const body = ReadableStream.from([{ data: "ok" }, { event: "x\ndata: forged" }])
    .pipeThrough(new ServerSentEventEncoderStream());
  await assert.rejects(() => new Response(body).text(), TypeError);
});
