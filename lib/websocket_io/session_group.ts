/**
 * A set of live sessions to broadcast to: every route keeps one, applications make more
 * (rooms, topics).
 *
 * @module
 */
import { PreparedMessage } from "./prepared_message.ts";

/** What a group needs from a session (every `EndpointSession` has it). */
export interface Broadcastable {
  /** Only `"open"` sessions receive broadcasts. */
  readonly state: string;
  /** Resolves when the session ends; the group then forgets it. */
  readonly closed: Promise<unknown>;
  /** Queues a message framed once for many sessions. */
  sendPrepared(message: PreparedMessage): boolean;
}

/**
 * A set of sessions that forgets each one when it closes. {@linkcode SessionGroup.broadcast}
 * frames a message once and queues the same bytes on every open member.
 *
 * @example A room
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionGroup } from "./session_group.ts";
 * import type { PreparedMessage } from "./prepared_message.ts";
 *
 * const frames: Uint8Array[] = [];
 * const member = {
 *   state: "open",
 *   closed: new Promise<void>(() => {}),
 *   sendPrepared: (message: PreparedMessage) => frames.push(message.frame) > 0,
 * };
 * const room = new SessionGroup<typeof member>();
 * room.add(member);
 * room.add({ ...member });
 * assert.equal(room.broadcast("hello"), 2);
 * assert.equal(frames[0], frames[1]); // one frame, queued twice
 * ```
 *
 * @typeParam S The member type.
 */
export class SessionGroup<S extends Broadcastable = Broadcastable> {
  readonly #members = new Set<S>();

  /** Number of members. */
  get size(): number {
    return this.#members.size;
  }

  /**
   * Adds a session; it leaves the group by itself when it closes.
   *
   * @param session The session.
   * @returns This group.
   */
  add(session: S): this {
    if (this.#members.has(session)) return this;
    this.#members.add(session);
    session.closed.finally(() => this.#members.delete(session));
    return this;
  }

  /**
   * Removes a session.
   *
   * @param session The session.
   * @returns Whether it was a member.
   */
  delete(session: S): boolean {
    return this.#members.delete(session);
  }

  /**
   * Tells whether a session is a member.
   *
   * @param session The session.
   * @returns `true` if it is.
   */
  has(session: S): boolean {
    return this.#members.has(session);
  }

  /** Iterates over the members. */
  [Symbol.iterator](): IterableIterator<S> {
    return this.#members.values();
  }

  /**
   * Sends one message to every open member (optionally filtered), framed once.
   *
   * @param message A string (text), bytes (binary) or a message prepared already.
   * @param filter Members for which it returns `false` are skipped (e.g. the sender).
   * @returns How many members it was queued on.
   */
  broadcast(
    message: string | Uint8Array | PreparedMessage,
    filter?: (session: S) => boolean,
  ): number {
    const prepared = message instanceof PreparedMessage ? message : new PreparedMessage(message);
    let count = 0;
    for (const session of this.#members) {
      if (session.state !== "open" || (filter !== undefined && !filter(session))) continue;
      session.sendPrepared(prepared);
      count++;
    }
    return count;
  }
}
