/**
 * Hidden-iframe streaming ("forever frame"), the pure part: the padded prelude, one
 * `<script>` per message, and the escaping that keeps message data inside its script.
 *
 * A message is JSON in a `<script>` element, so the JSON is made safe for the HTML tokenizer
 * and for old JavaScript parsers: `<`, `>` and `&` become `\u003c`, `\u003e`, `\u0026` (no
 * `</script>`, `<!--` or `]]>` can appear), and U+2028 / U+2029 become escapes (they end a
 * line in pre-ES2019 string literals). The callback is a dotted identifier path, so it cannot
 * carry code.
 *
 * @module
 */

/** Allowed callbacks: a dotted path of JavaScript identifiers, at most 128 characters. */
export const CALLBACK_PATTERN: RegExp = /^[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*$/;
/** Longest callback accepted. */
export const MAX_CALLBACK_LENGTH = 128;
/** Callback used when the request names none. */
export const DEFAULT_CALLBACK = "pushwireMessage";
/**
 * Bytes of padding in the prelude. Old browsers buffer the first bytes of a response before
 * rendering anything (IE about 256 B to 2 KiB, old Safari and Chrome about 1 KiB); 4 KiB
 * clears every known threshold.
 */
export const IFRAME_PADDING_BYTES = 4096;

/**
 * Reports whether `name` is a safe callback ({@linkcode CALLBACK_PATTERN}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCallbackName } from "./iframe_script.ts";
 * assert.ok(isCallbackName("app.onMessage"));
 * assert.ok(!isCallbackName("alert(1)"));
 * assert.ok(!isCallbackName("parent.constructor.constructor"));
 * ```
 */
export function isCallbackName(name: string): boolean {
  return name.length <= MAX_CALLBACK_LENGTH && CALLBACK_PATTERN.test(name) &&
    !name.split(".").some((part) => UNSAFE_SEGMENTS.has(part));
}

/**
 * Path segments that reach the `Function` constructor or rewrite prototypes
 * (`x.constructor.constructor` is `Function`): refused even though they are identifiers.
 */
const UNSAFE_SEGMENTS: ReadonlySet<string> = new Set(["constructor", "prototype", "__proto__"]);

const UNSAFE = /[<>&\u2028\u2029]/g;
const ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * Escapes JSON text for a `<script>` element. The result is still valid JSON and a valid
 * JavaScript expression with the same value.
 *
 * @example No message can close its script
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeJsonForScript } from "./iframe_script.ts";
 * const json = escapeJsonForScript(JSON.stringify("</script>\u2028"));
 * assert.ok(!json.includes("</script>") && !json.includes("\u2028"));
 * assert.ok(JSON.parse(json) === "</script>\u2028");
 * ```
 */
export function escapeJsonForScript(json: string): string {
  return json.replace(UNSAFE, (char) => ESCAPES[char]!);
}

/**
 * The first bytes of an iframe stream: a minimal HTML document, padded past the buffering
 * threshold of old browsers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { iframePrelude, IFRAME_PADDING_BYTES } from "./iframe_script.ts";
 * assert.ok(iframePrelude().length > IFRAME_PADDING_BYTES);
 * ```
 */
export function iframePrelude(): string {
  return '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>pushwire</title></head><body>\n' +
    `<!--${" ".repeat(IFRAME_PADDING_BYTES)}-->\n`;
}

/**
 * One `<script>` calling `parent.CALLBACK(value)`, where `json` is the JSON text of the value.
 * `callback` must satisfy {@linkcode isCallbackName}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { iframeScript } from "./iframe_script.ts";
 * assert.ok(iframeScript("cb", '{"data":"<b>"}') === '<script>parent.cb({"data":"\\u003cb\\u003e"});</script>\n');
 * ```
 */
export function iframeScript(callback: string, json: string): string {
  if (!isCallbackName(callback)) {
    throw new TypeError(`Cannot write iframe script: callback "${callback}" is not a safe name`);
  }
  return `<script>parent.${callback}(${escapeJsonForScript(json)});</script>\n`;
}

/** A heartbeat: an empty comment keeps proxies from timing the stream out, no script runs. */
export const IFRAME_HEARTBEAT = "<!-- -->\n";
