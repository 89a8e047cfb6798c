import assert from "node:assert/strict";
import { EventSource, EventSourceErrorEvent } from "../../lib/sse/event_source.ts";
import { lastEventIdOf } from "../../lib/sse/server.ts";

type Step = Response | Error | "hang";

/** A scripted `fetch`: each call takes the next step; records each request. */
function scriptedFetch(steps: Step[]) {
  const requests: { headers: Headers; credentials: RequestCredentials | undefined }[] = [];
  const fetch = (_input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    requests.push({ headers: new Headers(init?.headers), credentials: init?.credentials });
    const step = steps.shift() ?? new Response(null, { status: 204 });
    if (step === "hang") {
      return new Promise((_, reject) =>
        init?.signal?.addEventListener(
          "abort",
          () => reject(new DOMException("aborted", "AbortError")),
        )
      );
    }
    return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
  };
  return { fetch: fetch as typeof globalThis.fetch, requests };
}

const sse = (body: string | ReadableStream<Uint8Array>, type = "text/event-stream") =>
  new Response(body, { status: 200, headers: { "content-type": type } });

interface Log {
  entries: string[];
}

function record(source: EventSource, types: string[] = []): Log {
  const log: Log = { entries: [] };
  source.addEventListener("open", () => log.entries.push(`open ${source.readyState}`));
  source.addEventListener("error", (event) => {
    const code = event instanceof EventSourceErrorEvent ? event.code : "?";
    log.entries.push(`error ${code} ${source.readyState}`);
  });
  for (const type of ["message", ...types]) {
    source.addEventListener(type, (event) => {
      const message = event as MessageEvent<string>;
      log.entries.push(`${type} ${JSON.stringify(message.data)} id=${message.lastEventId}`);
    });
  }
  return log;
}

Deno.test("EventSource dispatches open, messages and named events with lastEventId and origin", async () => {
  const { fetch } = scriptedFetch([sse("id: 1\ndata: a\n\nevent: add\ndata: b\ndata: c\n\n")]);
  const source = new EventSource("http://127.0.0.1:9/x", { fetch, reconnectionTime: 1 });
  const log = record(source, ["add"]);
  const origins: string[] = [];
  source.onmessage = (event) => origins.push(event.origin);
  await source.closed;
  assert.deepEqual(log.entries, [
    "open 1",
    `message "a" id=1`,
    `add "b\\nc" id=1`,
    "error SSE_ERR_STREAM_ENDED 0",
    "error SSE_ERR_STATUS 2",
  ]);
  assert.deepEqual(origins, ["http://127.0.0.1:9"]);
  assert.equal(source.readyState, EventSource.CLOSED);
});

Deno.test("EventSource reconnects after the stream ends, honouring retry and sending Last-Event-ID", async () => {
  const { fetch, requests } = scriptedFetch([
    sse("retry: 1\nid: 5\ndata: one\n\n"),
    sse("data: two\n\n"),
    new Response(null, { status: 204 }),
  ]);
  const source = new EventSource("http://x.test/", { fetch, reconnectionTime: 60_000 });
  const log = record(source);
  await source.closed; // 60 s would time the test out: retry: 1 was honoured
  assert.equal(requests[0]!.headers.get("Last-Event-ID"), null);
  assert.equal(requests[0]!.headers.get("Accept"), "text/event-stream");
  assert.equal(requests[1]!.headers.get("Last-Event-ID"), "5");
  assert.equal(requests[2]!.headers.get("Last-Event-ID"), "5");
  assert.deepEqual(log.entries, [
    "open 1",
    `message "one" id=5`,
    "error SSE_ERR_STREAM_ENDED 0",
    "open 1",
    `message "two" id=5`,
    "error SSE_ERR_STREAM_ENDED 0",
    "error SSE_ERR_STATUS 2",
  ]);
});

Deno.test("EventSource sends no Last-Event-ID once an empty id reset it", async () => {
  const { fetch, requests } = scriptedFetch([sse("retry: 1\nid: 5\n\nid\n\n")]);
  const source = new EventSource("http://x.test/", { fetch });
  await source.closed;
  assert.equal(requests[1]!.headers.has("Last-Event-ID"), false);
  assert.equal(source.lastEventId, "");
});

Deno.test("EventSource fails without retrying on 204, other statuses and other types", async () => {
  for (
    const [response, code] of [
      [new Response(null, { status: 204 }), "SSE_ERR_STATUS"],
      [
        new Response("no", { status: 500, headers: { "content-type": "text/event-stream" } }),
        "SSE_ERR_STATUS",
      ],
      [sse("data: x\n\n", "text/plain"), "SSE_ERR_CONTENT_TYPE"],
      [new Response("data: x\n\n"), "SSE_ERR_CONTENT_TYPE"],
    ] as const
  ) {
    const { fetch, requests } = scriptedFetch([response, sse("data: never\n\n")]);
    const source = new EventSource("http://x.test/", { fetch, reconnectionTime: 1 });
    const log = record(source);
    await source.closed;
    assert.deepEqual(log.entries, [`error ${code} 2`]);
    assert.equal(requests.length, 1);
  }
});

Deno.test("EventSource accepts a content type with parameters in any case", async () => {
  const { fetch } = scriptedFetch([sse("data: x\n\n", "Text/Event-Stream ; charset=UTF-8")]);
  const source = new EventSource("http://x.test/", { fetch, reconnectionTime: 1 });
  const log = record(source);
  await source.closed;
  assert.equal(log.entries[1], `message "x" id=`);
});

Deno.test("EventSource reconnects after a network error", async () => {
  const { fetch, requests } = scriptedFetch([new TypeError("refused"), sse("data: x\n\n")]);
  const source = new EventSource("http://x.test/", { fetch, reconnectionTime: 1 });
  const log = record(source);
  await source.closed;
  assert.equal(requests.length, 3);
  assert.deepEqual(log.entries.slice(0, 3), [
    "error SSE_ERR_NETWORK 0",
    "open 1",
    `message "x" id=`,
  ]);
});

Deno.test("EventSource treats a body that breaks off as a network error and reconnects", async () => {
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulls++ === 0) controller.enqueue(new TextEncoder().encode("data: a\n\ndata: half"));
      else controller.error(new Error("reset"));
    },
  }, { highWaterMark: 0 });
  const { fetch } = scriptedFetch([sse(body)]);
  const source = new EventSource("http://x.test/", { fetch, reconnectionTime: 1 });
  const log = record(source);
  await source.closed;
  assert.deepEqual(log.entries, [
    "open 1",
    `message "a" id=`,
    "error SSE_ERR_NETWORK 0",
    "error SSE_ERR_STATUS 2",
  ]);
});

Deno.test("EventSource close() in a handler stops the events still in the same chunk", async () => {
  const { fetch, requests } = scriptedFetch([sse("data: 1\n\ndata: 2\n\ndata: 3\n\n")]);
  const source = new EventSource("http://x.test/", { fetch });
  const seen: string[] = [];
  source.onmessage = (event) => {
    seen.push(event.data);
    source.close();
  };
  await source.closed;
  assert.deepEqual(seen, ["1"]);
  assert.equal(source.readyState, 2);
  assert.equal(requests.length, 1);
});

Deno.test("EventSource close() while waiting to reconnect cancels the timer", async () => {
  const { fetch, requests } = scriptedFetch([sse("data: 1\n\n")]);
  const source = new EventSource("http://x.test/", { fetch, reconnectionTime: 60_000 });
  source.onerror = () => source.close();
  await source.closed;
  assert.equal(requests.length, 1);
});

Deno.test("EventSource close() while connecting aborts the request", async () => {
  const { fetch } = scriptedFetch(["hang"]);
  const source = new EventSource("http://x.test/", { fetch });
  const log = record(source);
  source.close();
  await source.closed;
  assert.deepEqual(log.entries, []);
});

Deno.test("EventSource counts headers slower than connectTimeout as a network error", async () => {
  const { fetch, requests } = scriptedFetch(["hang"]);
  const source = new EventSource("http://x.test/", {
    fetch,
    connectTimeout: 5,
    reconnectionTime: 1,
  });
  const log = record(source);
  await source.closed;
  assert.equal(requests.length, 2);
  assert.deepEqual(log.entries, ["error SSE_ERR_NETWORK 0", "error SSE_ERR_STATUS 2"]);
});

Deno.test("EventSource fails the connection on an event over maxEventSize", async () => {
  const { fetch, requests } = scriptedFetch([sse("data: ok\n\ndata: " + "x".repeat(100) + "\n\n")]);
  const source = new EventSource("http://x.test/", { fetch, maxEventSize: 32 });
  const log = record(source);
  await source.closed;
  assert.deepEqual(log.entries, ["open 1", `message "ok" id=`, "error SSE_ERR_EVENT_TOO_BIG 2"]);
  assert.equal(requests.length, 1);
});

Deno.test("EventSource handler attributes replace each other and can be cleared", async () => {
  const { fetch } = scriptedFetch([sse("data: 1\n\n")]);
  const source = new EventSource("http://x.test/", { fetch, reconnectionTime: 1 });
  const seen: string[] = [];
  source.onmessage = () => seen.push("first");
  source.onmessage = () => seen.push("second");
  source.onopen = () => seen.push("open");
  source.onopen = null;
  source.onerror = () => seen.push("error");
  assert.equal(source.onopen, null);
  await source.closed;
  assert.deepEqual(seen, ["second", "error", "error"]);
});

Deno.test("EventSource exposes url, withCredentials and the readyState constants", async () => {
  const { fetch, requests } = scriptedFetch([new Response(null, { status: 204 })]);
  const source = new EventSource(new URL("http://x.test/a/../b?q"), {
    fetch,
    withCredentials: true,
  });
  assert.equal(source.url, "http://x.test/b?q");
  assert.equal(source.withCredentials, true);
  assert.equal(source.readyState, source.CONNECTING);
  assert.deepEqual([EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED], [0, 1, 2]);
  await source.closed;
  assert.equal(requests[0]!.credentials, "include");
});

Deno.test("EventSource throws a SyntaxError DOMException on a URL it cannot parse", () => {
  assert.throws(
    () => new EventSource("not a url"),
    (error: unknown) => error instanceof DOMException && error.name === "SyntaxError",
  );
});

Deno.test("EventSource with backoff waits the jittered delay computed from reconnectionTime", async () => {
  // random() = 1 with jitter 1 makes every delay 0: the run stays fast and deterministic.
  const { fetch, requests } = scriptedFetch([
    new TypeError("down"),
    new TypeError("down"),
    sse("data: up\n\n"),
  ]);
  const source = new EventSource("http://x.test/", {
    fetch,
    reconnectionTime: 50_000,
    backoff: { jitter: 1 },
    random: () => 1,
  });
  const log = record(source);
  await source.closed;
  assert.equal(requests.length, 4);
  assert.equal(log.entries.filter((e) => e.startsWith("message")).length, 1);
});

Deno.test("EventSource sends the lastEventId option as Last-Event-ID on its first connection", async () => {
  const { fetch, requests } = scriptedFetch([sse("data: x\n\n")]);
  const source = new EventSource("http://x.test/", {
    fetch,
    lastEventId: "41",
    reconnectionTime: 1,
  });
  const ids: string[] = [];
  source.onmessage = (event) => ids.push(event.lastEventId);
  await source.closed;
  assert.equal(requests[0]!.headers.get("Last-Event-ID"), "41");
  assert.deepEqual(ids, ["41"]);
});

Deno.test("EventSource sends a non-ASCII id as its UTF-8 bytes in Last-Event-ID", async () => {
  const { fetch, requests } = scriptedFetch([sse("retry: 1\nid: ✓é😀\ndata: x\n\n")]);
  const source = new EventSource("http://x.test/", { fetch, reconnectionTime: 1 });
  const log = record(source);
  await source.closed; // before the fix, Headers.set threw and the rejection went unhandled
  const header = requests[1]!.headers.get("Last-Event-ID")!;
  const bytes = Uint8Array.from(header, (char) => char.charCodeAt(0));
  assert.deepEqual(bytes, new TextEncoder().encode("✓é😀"));
  assert.equal(
    lastEventIdOf(new Request("http://x.test/", { headers: requests[1]!.headers })),
    "✓é😀",
  );
  assert.deepEqual(log.entries, [
    "open 1",
    `message "x" id=✓é😀`,
    "error SSE_ERR_STREAM_ENDED 0",
    "error SSE_ERR_STATUS 2",
  ]);
});

Deno.test("EventSource throws a TypeError at once for invalid extra headers", () => {
  const { fetch, requests } = scriptedFetch([]);
  assert.throws(
    () => new EventSource("http://x.test/", { fetch, headers: { "X-Bad": "a\nb" } }),
    TypeError,
  );
  assert.equal(requests.length, 0);
});
