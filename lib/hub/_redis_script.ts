// The one Lua script of the Redis broker: a stream's metadata and the entries after a cursor,
// read atomically in one round trip (a trim between two commands would make `reset` wrong).
// XINFO runs server-side so its full first/last entries never cross the wire.
import { compareStreamIds, ZERO_ID } from "./_redis_id.ts";

/**
 * KEYS[1] = stream; ARGV[1] = XRANGE start (`(ID` exclusive, `-` for all, `` for none);
 * ARGV[2] = COUNT. Returns `{0}` when the stream does not exist, else
 * `{1, last-generated-id, recorded-first-entry-id, entries-added, length, entries}`.
 */
export const READ_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local f = {}
for i = 1, #info, 2 do f[info[i]] = info[i + 1] end
local entries = {}
if ARGV[1] ~= '' then
  local r = redis.pcall('XRANGE', KEYS[1], ARGV[1], '+', 'COUNT', ARGV[2])
  if type(r) == 'table' and r.err == nil then entries = r end
end
return {1, f['last-generated-id'], f['recorded-first-entry-id'], f['entries-added'], f['length'], entries}
`;

/** A decoded stream entry: id and flat field/value list. */
export type RawEntry = readonly [id: string, fields: readonly string[]];

/** What {@linkcode READ_SCRIPT} answers, decoded. */
export type StreamState =
  | { readonly exists: false }
  | {
    readonly exists: true;
    readonly lastId: string;
    readonly firstId: string;
    readonly added: number;
    readonly length: number;
    readonly entries: readonly RawEntry[];
  };

/** Decodes a {@linkcode READ_SCRIPT} reply; throws a `TypeError` on an unexpected shape. */
export function decodeStreamState(reply: unknown): StreamState {
  if (!Array.isArray(reply)) throw new TypeError("Cannot read stream: unexpected script reply");
  if (reply[0] === 0) return { exists: false };
  const [, lastId, firstId, added, length, entries] = reply as [
    number,
    unknown,
    unknown,
    unknown,
    unknown,
    unknown,
  ];
  if (
    typeof lastId !== "string" || typeof firstId !== "string" || typeof added !== "number" ||
    typeof length !== "number" || !Array.isArray(entries)
  ) {
    throw new TypeError("Cannot read stream: unexpected script reply");
  }
  return { exists: true, lastId, firstId, added, length, entries: entries as RawEntry[] };
}

/**
 * Whether entries after `id` may be missing from the stream `state` describes: the `reset`
 * rule of a history read, also how a node checks its own fan-out position after a reconnect.
 * True when the stream is gone (unless `id` is `0-0`), when `id` is ahead of it (a lost and
 * re-created stream), or when `id` precedes the first retained entry and either entries were
 * trimmed or `id` is not `0-0` (only `0-0` legitimately precedes a stream's first entry).
 * Conservative at the exact trim boundary: Redis 7.0 does not record trimmed ids.
 */
export function isLostAfter(state: StreamState, id: string): boolean {
  if (!state.exists) return id !== ZERO_ID;
  if (compareStreamIds(id, state.lastId) > 0) return true;
  const first = state.length === 0 ? state.lastId : state.firstId;
  return compareStreamIds(id, first) < 0 && (state.added > state.length || id !== ZERO_ID);
}
