// HTTP helpers shared by the HTTP transports: URLs, bounded JSON requests, applying a poll
// answer, placing a channel that has no cursor yet. Browser APIs only (fetch, AbortController).
import type { PushwireMessage, TransportHost } from "./transport.ts";

/** `{base}/channels/{channel}{suffix}?params` with `token` added when set. */
export function channelUrl(
  host: TransportHost,
  channel: string,
  suffix: string,
  params: Record<string, string | undefined>,
): string {
  const url = new URL(
    host.base.href.replace(/\/+$/, "") + "/channels/" + encodeURIComponent(channel) + suffix,
  );
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(key, value);
  }
  if (host.token !== undefined) url.searchParams.set("token", host.token);
  return url.href;
}

/** The answer of a request that did not succeed. */
export interface HttpFailure {
  readonly status: number;
  readonly code: string | undefined;
  readonly message: string;
}

/** True for a status that will not change by retrying (4xx but 408 and 429). */
export function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** Reads the hub's JSON error (`{"error","code"}`) of `response`. */
export async function failureOf(response: Response): Promise<HttpFailure> {
  let code: string | undefined;
  let message = `HTTP ${response.status}`;
  try {
    const body = await response.json() as { error?: unknown; code?: unknown };
    if (typeof body.code === "string") code = body.code;
    if (typeof body.error === "string") message = body.error;
  } catch {
    // Not the hub's JSON (a proxy's page): the status says enough.
  }
  return { status: response.status, code, message };
}

/** Reports a failed response: a refusal stops the channel, anything else the connection. */
export async function reportFailure(
  host: TransportHost,
  channel: string,
  response: Response,
): Promise<void> {
  const failure = await failureOf(response);
  if (isRefusal(failure.status)) host.refused(channel, failure);
  else host.failed(`${failure.message} (HTTP ${failure.status})`);
}

/**
 * `fetch` aborted by `signal` or after `timeoutMs` (the wait before the headers and the body).
 * Resolves with the parsed JSON, or with the failed `Response` when the status is not 2xx.
 */
export async function requestJson(
  url: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ readonly ok: true; readonly body: unknown } | Response> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal.addEventListener("abort", abort);
  const timer = setTimeout(abort, timeoutMs);
  try {
    const response = await fetch(url, { cache: "no-store", signal: controller.signal });
    if (!response.ok) return response;
    return { ok: true, body: await response.json() };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", abort);
  }
}

/** Hands a poll answer (`{messages, cursor, reset?}`) to the host, in order. */
export function applyBatch(host: TransportHost, channel: string, body: unknown): void {
  const batch = body as { messages?: unknown; cursor?: unknown; reset?: unknown };
  if (batch === null || typeof batch !== "object" || !Array.isArray(batch.messages)) {
    throw new TypeError("Cannot read poll answer: no messages array");
  }
  const cursor = typeof batch.cursor === "string" ? batch.cursor : undefined;
  if (batch.reset === true) host.reset(channel, cursor ?? "");
  for (const message of batch.messages as PushwireMessage[]) host.message(channel, message);
  if (cursor !== undefined) host.advance(channel, cursor);
}

/**
 * Places `channel` when it has no cursor yet: its retained history (`GET /channels/{ch}`) when
 * the subscription asked for it, else the channel's position (a long poll with `timeout=0`
 * answers at once with it). True when the channel is placed; false when the host was told why
 * not.
 */
export async function placeChannel(
  host: TransportHost,
  channel: string,
  signal: AbortSignal,
): Promise<boolean> {
  if (host.cursorOf(channel) !== undefined) return true;
  const url = host.historyOf(channel)
    ? channelUrl(host, channel, "", {})
    : channelUrl(host, channel, "/longpoll", { timeout: "0" });
  const answer = await requestJson(url, signal, host.settings.requestTimeoutMs);
  if (answer instanceof Response) {
    await reportFailure(host, channel, answer);
    return false;
  }
  applyBatch(host, channel, answer.body);
  return true;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/** The value of an SSE `data:` field: parsed JSON when it is JSON, else the text. */
export function parseData(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
