// Flushing one message through a long-lived `node:zlib` raw stream (context takeover).
// Private helper of `deflate_codec.ts`. The stream API is asynchronous: the synchronous
// path of `node:zlib` (`_processChunk`) closes the handle after one call, which would lose
// the LZ77 window that context takeover keeps between messages.

import { constants, type DeflateRaw, type InflateRaw } from "node:zlib";

/** RFC 7692 §7.2.2: the octets appended to a compressed message before inflating it. */
export const DEFLATE_TAIL: Uint8Array = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** How inflating one message ended. */
export type InflateOutcome =
  | { readonly type: "ok"; readonly data: Uint8Array }
  | { readonly type: "too-big" }
  | { readonly type: "error"; readonly message: string };

/**
 * Compresses one message with a sync flush (RFC 7692 §7.2.1) on a stream that keeps its
 * window for the next one. The result still ends with `00 00 ff ff`.
 */
export function deflateOnStream(stream: DeflateRaw, data: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const onData = (chunk: Uint8Array) => {
      chunks.push(chunk);
      size += chunk.length;
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      stream.off("data", onData);
      stream.off("error", onError);
    };
    stream.on("data", onData);
    stream.on("error", onError);
    if (data.length > 0) stream.write(data);
    stream.flush(constants.Z_SYNC_FLUSH, (error?: Error | null) => {
      cleanup();
      if (error || stream.destroyed) reject(error ?? new Error("the zlib stream was destroyed"));
      else resolve(joinChunks(chunks, size));
    });
  });
}

/**
 * Inflates one message (the tail appended) on a stream that keeps its window, counting the
 * output as it is produced: once it passes `limit`, the stream is destroyed at once, so at
 * most `limit` plus one stream chunk is ever held (the decompression bomb defence).
 * After `"too-big"` or `"error"` the stream is unusable.
 */
export function inflateOnStream(
  stream: InflateRaw,
  data: Uint8Array,
  limit: number,
): Promise<InflateOutcome> {
  return new Promise((resolve) => {
    let chunks: Uint8Array[] = [];
    let size = 0;
    let done = false;
    const finish = (outcome: InflateOutcome) => {
      if (done) return;
      done = true;
      stream.off("data", onData);
      stream.off("error", onError);
      resolve(outcome);
    };
    const onData = (chunk: Uint8Array) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        chunks = [];
        // Stop zlib before it produces the rest: destroy() ends the processing loop.
        stream.destroy();
        finish({ type: "too-big" });
        return;
      }
      chunks.push(chunk);
    };
    const onError = (error: Error) => finish({ type: "error", message: error.message });
    stream.on("data", onData);
    stream.on("error", onError);
    if (data.length > 0) stream.write(data);
    stream.write(DEFLATE_TAIL);
    // A zlib error reaches the flush callback before the "error" event.
    stream.flush(constants.Z_SYNC_FLUSH, (error?: Error | null) => {
      if (error || stream.destroyed) {
        finish({ type: "error", message: error?.message ?? "the zlib stream was destroyed" });
      } else {
        finish({ type: "ok", data: joinChunks(chunks, size) });
      }
    });
  });
}

/** Joins chunks once; a single chunk is returned as it is. */
export function joinChunks(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) {
    const only = chunks[0]!;
    // A node:zlib Buffer as a plain Uint8Array view (no copy).
    return new Uint8Array(only.buffer, only.byteOffset, only.byteLength);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
