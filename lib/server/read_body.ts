/**
 * Reads a publish body with a byte limit enforced while streaming: an oversized body is
 * refused from its `Content-Length` before any byte is read, or as soon as the bytes read pass
 * the limit (chunked uploads), never buffered whole.
 *
 * @module
 */
import { type HubError, hubError } from "../hub/hub_error.ts";

/** Default largest publish body: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES: number = 1024 * 1024;

function tooLarge(maxBytes: number): HubError {
  return hubError(
    "HUB_ERR_BODY_TOO_LARGE",
    413,
    `Cannot publish: the body is over the limit of ${maxBytes} bytes`,
  );
}

/**
 * Reads the whole body of `request`, at most `maxBytes` bytes.
 *
 * @example Refuse a body over 4 bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { readBody } from "./read_body.ts";
 * const result = await readBody(new Request("http://x/", { method: "POST", body: "hello" }), 4);
 * assert.ok(!(result instanceof Uint8Array) && result.status === 413);
 * ```
 */
export async function readBody(
  request: Request,
  maxBytes: number = DEFAULT_MAX_BODY_BYTES,
): Promise<Uint8Array | HubError> {
  const body = request.body;
  if (body === null) return new Uint8Array(0);
  const length = request.headers.get("Content-Length");
  if (length !== null && /^[0-9]+$/.test(length) && Number(length) > maxBytes) {
    await body.cancel().catch(() => {});
    return tooLarge(maxBytes);
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
