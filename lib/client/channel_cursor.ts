/**
 * Where a subscription stands in one channel: the last id delivered (the resume point every
 * transport reconnects from), a bounded memory of recent ids that drops a message seen
 * twice (two transports overlapping during a switch, a batch re-read after a lost answer), and
 * the resume point of the last reset reported, so a reconnect that hears it again does not
 * report it twice.
 * Pure: no I/O.
 *
 * @module
 */

/**
 * The resume point and duplicate filter of one channel.
 *
 * @example Deliver once, resume after the last id
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChannelCursor } from "./channel_cursor.ts";
 * const cursor = new ChannelCursor(undefined);
 * assert.equal(cursor.accept("a-1"), true);
 * assert.equal(cursor.accept("a-1"), false);
 * assert.equal(cursor.lastId, "a-1");
 * ```
 */
export class ChannelCursor {
  /** Ids remembered to drop duplicates; older ones are forgotten first. */
  readonly seenLimit: number;
  #lastId: string | undefined;
  #seen = new Set<string>();
  // The resume point at which the last reset was reported.
  #resetReported = false;
  #resetAt: string | undefined;

  /**
   * Creates the instance.
   *
   * @param lastId Resume after this id; undefined: not placed in the channel yet.
   * @param seenLimit Ids remembered for duplicate detection. @default {1024}
   */
  constructor(lastId: string | undefined, seenLimit = 1024) {
    if (!(seenLimit >= 1)) throw new RangeError("Cannot create cursor: seenLimit must be >= 1");
    this.seenLimit = seenLimit;
    this.#lastId = lastId;
    if (lastId !== undefined) this.#remember(lastId);
  }

  /** The id to resume after; undefined until the channel position is known. */
  get lastId(): string | undefined {
    return this.#lastId;
  }

  /**
   * Records message `id`; false when it was already delivered (drop it), true when it is new
   * (deliver it: the cursor now resumes after it).
   */
  accept(id: string): boolean {
    if (this.#seen.has(id)) return false;
    this.#remember(id);
    this.#lastId = id;
    return true;
  }

  /**
   * Moves the resume point to `cursor` without a message (a poll answer's `cursor`, the channel
   * position, the cursor of a reset).
   */
  advance(cursor: string): void {
    if (cursor === "") return;
    this.#lastId = cursor;
  }

  /**
   * Records a reset the hub reported at the resume point: false when one was already reported
   * there (drop it), true when it is news (report it).
   *
   * A reset says messages were dropped between the last one delivered and the next one. The
   * resume point does not move: the retained messages the reset announces are still on their
   * way, and a reconnect must ask for them again, so it hears the reset again. Until a message
   * is delivered that is the same gap, whatever more the hub dropped meanwhile.
   *
   * @example A reconnect hears the same reset
   * ```ts
   * import assert from "node:assert/strict";
   * import { ChannelCursor } from "./channel_cursor.ts";
   * const cursor = new ChannelCursor("a-1");
   * assert.equal(cursor.reset(), true);
   * assert.equal(cursor.reset(), false);
   * assert.equal(cursor.lastId, "a-1"); // the retained messages are still owed
   * assert.equal(cursor.accept("a-7"), true);
   * assert.equal(cursor.reset(), true); // a gap after a-7 is a new one
   * ```
   */
  reset(): boolean {
    if (this.#resetReported && this.#resetAt === this.#lastId) return false;
    this.#resetReported = true;
    this.#resetAt = this.#lastId;
    return true;
  }

  #remember(id: string): void {
    this.#seen.add(id);
    if (this.#seen.size > this.seenLimit) {
      // A Set iterates in insertion order: the first entry is the oldest.
      this.#seen.delete(this.#seen.values().next().value as string);
    }
  }
}
