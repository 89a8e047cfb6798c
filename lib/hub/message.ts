/**
 * The message every transport delivers, and its cached encodings: a message published once
 * is serialized once, however many subscribers receive it.
 *
 * @module
 */
import { utf8Length } from "./_utf8.ts";

/**
 * A published message. As JSON: `{"id", "channel", "event"?, "data", "time"}`.
 *
 * `id` is assigned by the broker, opaque to clients and strictly increasing within a channel
 * in publish order. `time` is the broker's clock in milliseconds since the epoch.
 */
export interface Message {
  /** Broker-assigned id, strictly increasing within the channel. */
  readonly id: string;
  /** The channel it was published on. */
  readonly channel: string;
  /** Optional event name (see `EVENT_NAME_PATTERN`). */
  readonly event?: string;
  /** Any JSON value: text bodies become a string, JSON bodies their parsed value. */
  readonly data: unknown;
  /** Publish time, milliseconds since the Unix epoch. */
  readonly time: number;
}

interface Encoded {
  json?: string;
  dataText?: string;
  bytes?: number;
}

const cache = new WeakMap<Message, Encoded>();

function encodedOf(message: Message): Encoded {
  let encoded = cache.get(message);
  if (encoded === undefined) {
    encoded = {};
    cache.set(message, encoded);
  }
  return encoded;
}

/**
 * Returns the JSON text of `message` (keys in the order id, channel, event, data, time),
 * computed once per message and cached.
 *
 * @example Serialize a message
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageJson } from "./message.ts";
 * const json = messageJson({ id: "1", channel: "news", data: "hi", time: 5 });
 * assert.ok(json === '{"id":"1","channel":"news","data":"hi","time":5}');
 * ```
 */
export function messageJson(message: Message): string {
  const encoded = encodedOf(message);
  if (encoded.json === undefined) {
    encoded.json = JSON.stringify(
      message.event === undefined
        ? { id: message.id, channel: message.channel, data: message.data, time: message.time }
        : {
          id: message.id,
          channel: message.channel,
          event: message.event,
          data: message.data,
          time: message.time,
        },
    );
  }
  return encoded.json;
}

/**
 * Returns `message.data` as text: the string itself when it is a string, else its JSON
 * encoding (what an SSE `data:` field carries). Cached per message.
 *
 * @example Text stays text, anything else becomes JSON
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataText } from "./message.ts";
 * assert.ok(dataText({ id: "1", channel: "c", data: "hi", time: 0 }) === "hi");
 * assert.ok(dataText({ id: "2", channel: "c", data: { a: 1 }, time: 0 }) === '{"a":1}');
 * ```
 */
export function dataText(message: Message): string {
  const encoded = encodedOf(message);
  if (encoded.dataText === undefined) {
    encoded.dataText = typeof message.data === "string"
      ? message.data
      : JSON.stringify(message.data) ?? "null";
  }
  return encoded.dataText;
}

/**
 * Returns the size of `message` in bytes: the UTF-8 length of {@linkcode messageJson}.
 * History and subscriber queues count this size against their byte limits. Cached.
 *
 * @example Measure a message
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageSize } from "./message.ts";
 * assert.ok(messageSize({ id: "1", channel: "c", data: "é", time: 0 }) === 45);
 * ```
 */
export function messageSize(message: Message): number {
  const encoded = encodedOf(message);
  if (encoded.bytes === undefined) encoded.bytes = utf8Length(messageJson(message));
  return encoded.bytes;
}
