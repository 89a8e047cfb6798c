/**
 * Channel and event names: the only identifiers a client chooses. Both patterns exclude
 * CR, LF, NUL, spaces, `/` and every non-ASCII character, so a name can travel in a URL path,
 * an SSE `event:` line, a Redis key or an XML attribute without escaping.
 *
 * @module
 */

/** A channel name: 1 to 128 characters from `A-Z a-z 0-9 _ . : -`. */
export const CHANNEL_NAME_PATTERN: RegExp = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * An event name: 1 to 64 characters from `A-Z a-z 0-9 _ . : -`. Safe on an SSE `event:` line
 * (no CR, LF or NUL can end the field early) and as a JavaScript string without escaping.
 */
export const EVENT_NAME_PATTERN: RegExp = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Reports whether `name` is a valid channel name ({@linkcode CHANNEL_NAME_PATTERN}).
 *
 * @example Check names before use
 * ```ts
 * import assert from "node:assert/strict";
 * import { isChannelName } from "./channel_name.ts";
 * assert.ok(isChannelName("chat.room-1"));
 * assert.ok(!isChannelName("a/b"));
 * assert.ok(!isChannelName(""));
 * ```
 */
export function isChannelName(name: string): boolean {
  return CHANNEL_NAME_PATTERN.test(name);
}

/**
 * Event names the hub itself sends: `reset` is the SSE event that says messages were lost, so a
 * message may not forge it.
 */
export const RESERVED_EVENT_NAMES: readonly string[] = ["reset"];

/**
 * Reports whether `name` is a valid event name ({@linkcode EVENT_NAME_PATTERN}) that is not
 * reserved ({@linkcode RESERVED_EVENT_NAMES}).
 *
 * @example Reject a name that would break an SSE line
 * ```ts
 * import assert from "node:assert/strict";
 * import { isEventName } from "./channel_name.ts";
 * assert.ok(isEventName("update"));
 * assert.ok(!isEventName("a\nb"));
 * assert.ok(!isEventName("reset"));
 * ```
 */
export function isEventName(name: string): boolean {
  return EVENT_NAME_PATTERN.test(name) && !RESERVED_EVENT_NAMES.includes(name);
}
