/**
 * A `TransformStream` from {@linkcode ServerSentEvent} messages to UTF-8 bytes.
 *
 * @module
 */
import { encodeServerSentEvent, type ServerSentEvent } from "./encoder.ts";

/**
 * Transforms {@linkcode ServerSentEvent} messages into `text/event-stream` bytes with
 * {@linkcode encodeServerSentEvent}. A message that could forge another event errors the
 * stream with the encoder's `TypeError` / `RangeError`.
 *
 * @example Pipe messages into a response body
 * ```ts
 * import assert from "node:assert/strict";
 * import { ServerSentEventEncoderStream } from "./encoder_stream.ts";
 * const body = ReadableStream.from([{ data: "hello" }, { event: "bye", data: "" }])
 *   .pipeThrough(new ServerSentEventEncoderStream());
 * const text = await new Response(body).text();
 * assert.equal(text, "data: hello\n\nevent: bye\ndata: \n\n");
 * ```
 */
export class ServerSentEventEncoderStream extends TransformStream<ServerSentEvent, Uint8Array> {
  /** Creates the stream; it holds no state between messages. */
  constructor() {
    super({
      transform(message, controller) {
        controller.enqueue(encodeServerSentEvent(message));
      },
    });
  }
}
