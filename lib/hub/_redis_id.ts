// Redis Stream ids: `MS-SEQ`, two unsigned 64-bit decimals. Cursors are stream ids, so a
// client can resume on any node. Ids are compared numerically without BigInt: with no leading
// zeros, a longer decimal is larger and equal lengths compare as strings.

const ID_PATTERN = /^(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})$/;
const U64_MAX = "18446744073709551615";

/** The id before every entry: the position of a channel that never had one. */
export const ZERO_ID = "0-0";

function fitsU64(digits: string): boolean {
  return digits.length < 20 || (digits.length === 20 && digits <= U64_MAX);
}

function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reports whether `text` is a complete stream id (`MS-SEQ`, each part a u64). */
export function isStreamId(text: string): boolean {
  const match = ID_PATTERN.exec(text);
  return match !== null && fitsU64(match[1]!) && fitsU64(match[2]!);
}

/** Orders two stream ids numerically; both must satisfy {@linkcode isStreamId}. */
export function compareStreamIds(a: string, b: string): number {
  const i = a.indexOf("-");
  const j = b.indexOf("-");
  const ms = compareDecimal(a.slice(0, i), b.slice(0, j));
  return ms !== 0 ? ms : compareDecimal(a.slice(i + 1), b.slice(j + 1));
}

/** The millisecond part of a stream id: the Redis server time the entry was added. */
export function streamIdTime(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}
