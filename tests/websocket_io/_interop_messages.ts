// The messages the interop tests exchange, built the same way in Deno, in Python and in the
// browser: text of exactly N bytes of UTF-8 (two-byte "é" plus one "a" for odd sizes, so
// multi-byte characters are on the wire), binary with a repeating pattern (compressible)
// and random binary (incompressible).
import assert from "node:assert/strict";
import type { WireMessage } from "./_interop_wire_tap.ts";

/** Empty, the largest one-byte length, a 16-bit length, a 64-bit length. */
export const SIZES: readonly number[] = [0, 125, 64 * 1024, 8 * 1024 * 1024];

export type MessageKind = "text" | "binary" | "random";
export type MessageCase = readonly [kind: MessageKind, size: number];

/** Text and patterned binary at every size. */
export const CASES: readonly MessageCase[] = SIZES.flatMap((size) => [
  ["text", size] as const,
  ["binary", size] as const,
]);

/** {@linkcode CASES} plus 8 MiB of random bytes, which deflate cannot shrink. */
export const DEFLATE_CASES: readonly MessageCase[] = [...CASES, ["random", 8 * 1024 * 1024]];

/** What a peer reports per message: kind, bytes it measured, echo equal to what it sent. */
export function allEchoed(cases: readonly MessageCase[]): Array<[MessageKind, number, true]> {
  return cases.map(([kind, size]) => [kind, size, true]);
}

export function messageOf([kind, size]: MessageCase): string | Uint8Array {
  if (kind === "text") return "\u00e9".repeat(Math.floor(size / 2)) + "a".repeat(size % 2);
  const bytes = new Uint8Array(size);
  if (kind === "binary") { for (let i = 0; i < size; i++) bytes[i] = (i * 13) & 0xff; }
  // getRandomValues fills at most 64 KiB per call.
  else for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

/** `message_of(kind, size)` in Python, the same messages as {@linkcode messageOf}. */
export const PYTHON_MESSAGE_OF = `
def message_of(kind, size):
    if kind == "text":
        return "\\u00e9" * (size // 2) + "a" * (size % 2)
    if kind == "random":
        return os.urandom(size)
    return (bytes((i * 13) & 0xff for i in range(256)) * (size // 256 + 1))[:size]
def size_of(message):
    return len(message.encode() if isinstance(message, str) else message)
`;

/** `messageOf(kind, size)` and `sizeOf(message)` for a page, as {@linkcode messageOf}. */
export const BROWSER_MESSAGE_OF = `
function messageOf(kind, size) {
  if (kind === "text") return "\\u00e9".repeat(Math.floor(size / 2)) + "a".repeat(size % 2);
  const bytes = new Uint8Array(size);
  if (kind === "binary") for (let i = 0; i < size; i++) bytes[i] = (i * 13) & 0xff;
  else for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}
function sizeOf(message) {
  return typeof message === "string" ? new TextEncoder().encode(message).length : message.byteLength;
}
`;

/**
 * Checks the data messages one way of a tapped connection against `cases`: the opcode, RSV1
 * where `compressed(case)` says so, the exact size when sent as it is, and a payload under a
 * tenth of the message for compressible ones of 64 KiB and more (so RSV1 is not just a flag).
 */
export function assertWire(
  actual: readonly WireMessage[],
  cases: readonly MessageCase[],
  compressed: (message: MessageCase) => boolean,
  what: string,
): void {
  assert.deepEqual(
    actual.map((m) => [m.opcode, m.rsv1]),
    cases.map((c) => [c[0] === "text" ? 0x1 : 0x2, compressed(c)]),
    `${what}: opcode and RSV1 per message`,
  );
  actual.forEach((message, i) => {
    const [kind, size] = cases[i]!;
    if (!message.rsv1) assert.equal(message.bytes, size, `${what}: ${kind} ${size} B on the wire`);
    else if (kind !== "random" && size >= 64 * 1024) {
      assert(
        message.bytes < size / 10,
        `${what}: ${kind} ${size} B compressed to ${message.bytes} B`,
      );
    }
  });
}
