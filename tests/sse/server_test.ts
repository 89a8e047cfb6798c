import assert from "node:assert/strict";
import {
  createEventStream,
  lastEventIdOf,
  serveEventSource,
  type ServeEventSourceOptions,
} from "../../lib/sse/server.ts";

const decoder = new TextDecoder();

async function readText(response: Response): Promise<string> {
  return await response.text();
}

Deno.test("createEventStream answers 200 with the three event-stream headers and extra headers", async () => {
  const stream = createEventStream({ headers: { "X-Extra": "1", "Cache-Control": "max-age=9" } });
  const { response } = stream;
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("Content-Type"), "text/event-stream; charset=utf-8");
  assert.equal(response.headers.get("Cache-Control"), "no-cache, no-transform");
  assert.equal(response.headers.get("X-Accel-Buffering"), "no");
  assert.equal(response.headers.get("X-Extra"), "1");
  stream.close();
  // The default reconnection time is stated first, so every client waits the same.
  assert.equal(await readText(response), "retry: 3000\n\n");
  assert.equal(await stream.closed, "closed");
});

Deno.test("createEventStream sends no retry when told retry: null", async () => {
  const stream = createEventStream({ retry: null });
  stream.close();
  assert.equal(await readText(stream.response), "");
});

Deno.test("createEventStream sends the initial retry first, then events, then ends on close()", async () => {
  const stream = createEventStream({ retry: 2500 });
  assert.equal(stream.send({ id: "1", data: "a" }), true);
  assert.equal(stream.write(new TextEncoder().encode("data: raw\n\n")), true);
  stream.close();
  assert.equal(stream.send({ data: "late" }), false);
  assert.equal(stream.write(new Uint8Array(1)), false);
  assert.equal(await readText(stream.response), "retry: 2500\n\nid: 1\ndata: a\n\ndata: raw\n\n");
  assert.equal(await stream.closed, "closed");
});

Deno.test("createEventStream sends comment heartbeats at the interval", async () => {
  const stream = createEventStream({ heartbeatInterval: 5, retry: null });
  const reader = stream.response.body!.getReader();
  const { value } = await reader.read();
  assert.equal(decoder.decode(value), ":\n\n");
  stream.close();
  await reader.cancel();
  assert.equal(await stream.closed, "closed");
});

Deno.test("createEventStream frees everything when the signal aborts (client gone)", async () => {
  const abort = new AbortController();
  const stream = createEventStream({ signal: abort.signal, heartbeatInterval: 10 });
  stream.send({ data: "x" });
  abort.abort();
  assert.equal(await stream.closed, "client-gone");
  assert.equal(stream.send({ data: "y" }), false);
  await stream.response.body!.cancel();
});

Deno.test("createEventStream with an already aborted signal is closed at once", async () => {
  const stream = createEventStream({ signal: AbortSignal.abort() });
  assert.equal(await stream.closed, "client-gone");
  assert.equal(stream.send({ data: "y" }), false);
});

Deno.test("createEventStream reports client-gone when the body is cancelled", async () => {
  const stream = createEventStream();
  await stream.response.body!.cancel();
  assert.equal(await stream.closed, "client-gone");
  assert.equal(stream.send({ data: "y" }), false);
});

Deno.test("createEventStream overflows when an unread queue would pass maxQueuedBytes", async () => {
  const stream = createEventStream({ maxQueuedBytes: 1000, heartbeatInterval: 0, retry: null });
  const data = "x".repeat(400);
  assert.equal(stream.send({ data }), true); // 408 bytes queued
  assert.equal(stream.send({ data }), true); // 816
  assert.equal(stream.send({ data }), false); // would be 1224: dropped
  assert.equal(await stream.closed, "overflow");
  await assert.rejects(() => stream.response.text(), /overflow/);
});

Deno.test("createEventStream accepts one event larger than the bound into an empty queue", async () => {
  const stream = createEventStream({ maxQueuedBytes: 100, heartbeatInterval: 0, retry: null });
  assert.equal(stream.send({ data: "x".repeat(500) }), true);
  stream.close();
  assert.equal((await stream.response.text()).length, 508);
});

Deno.test("createEventStream keeps sending to a reader that keeps up", async () => {
  const stream = createEventStream({ maxQueuedBytes: 1000, heartbeatInterval: 0, retry: null });
  const reader = stream.response.body!.getReader();
  for (let i = 0; i < 50; i++) {
    assert.equal(stream.send({ data: "x".repeat(400) }), true, `event ${i}`);
    await reader.read();
  }
  stream.close();
  assert.equal((await reader.read()).done, true);
});

Deno.test("createEventStream refuses bad options and forging events", () => {
  assert.throws(() => createEventStream({ retry: -1 }), RangeError);
  assert.throws(() => createEventStream({ heartbeatInterval: -5 }), RangeError);
  assert.throws(() => createEventStream({ maxQueuedBytes: 0 }), RangeError);
  const stream = createEventStream({ heartbeatInterval: 0 });
  assert.throws(() => stream.send({ id: "1\n", data: "x" }), TypeError);
  stream.close();
});

Deno.test("lastEventIdOf prefers the header, then the query, else null", () => {
  const url = "http://x/c/events?lastEventId=q";
  assert.equal(lastEventIdOf(new Request(url, { headers: { "Last-Event-ID": "h" } })), "h");
  assert.equal(lastEventIdOf(new Request(url)), "q");
  assert.equal(lastEventIdOf(new Request(url, { headers: { "Last-Event-ID": "" } })), "q");
  assert.equal(lastEventIdOf(new Request("http://x/?lastEventId=")), null);
  assert.equal(lastEventIdOf(new Request("http://x/")), null);
  assert.equal(lastEventIdOf(new Request("http://x/?lastEventId=%E2%9C%93")), "✓");
  // The header carries UTF-8 bytes (WHATWG HTML §9.2.3), which Headers hands over as Latin-1.
  const utf8 = String.fromCharCode(...new TextEncoder().encode("✓é"));
  assert.equal(
    lastEventIdOf(new Request("http://x/", { headers: { "Last-Event-ID": utf8 } })),
    "✓é",
  );
  // Bytes that are not UTF-8 come back as they were read.
  assert.equal(
    lastEventIdOf(new Request("http://x/", { headers: { "Last-Event-ID": "\xe9t\xe9" } })),
    "\xe9t\xe9",
  );
  assert.equal(
    lastEventIdOf(new Request("http://x/", { headers: { "Last-Event-ID": "caf\xc3\xa9" } })),
    "café",
  );
});

function options(extra: Partial<ServeEventSourceOptions> = {}): ServeEventSourceOptions {
  return {
    heartbeatInterval: 0,
    retry: null,
    onConnect({ stream, lastEventId }) {
      stream.send({ data: `after ${lastEventId}` });
      stream.close();
    },
    ...extra,
  };
}

Deno.test("serveEventSource answers a CORS preflight allowing Last-Event-ID", async () => {
  const response = await serveEventSource(
    new Request("http://x/", {
      method: "OPTIONS",
      headers: { Origin: "http://a.test", "Access-Control-Request-Headers": "last-event-id" },
    }),
    options({ cors: { origin: ["http://a.test"], maxAge: 60 } }),
  );
  assert.equal(response.status, 204);
  assert.equal(response.headers.get("Access-Control-Allow-Origin"), "http://a.test");
  assert.equal(response.headers.get("Vary"), "Origin");
  assert.match(response.headers.get("Access-Control-Allow-Headers")!, /Last-Event-ID/);
  assert.match(response.headers.get("Access-Control-Allow-Methods")!, /GET/);
  assert.equal(response.headers.get("Access-Control-Max-Age"), "60");
});

Deno.test("serveEventSource gives no CORS headers to an origin not allowed", async () => {
  const request = new Request("http://x/", {
    method: "OPTIONS",
    headers: { Origin: "http://evil.test" },
  });
  const response = await serveEventSource(
    request,
    options({ cors: { origin: ["http://a.test"] } }),
  );
  assert.equal(response.headers.get("Access-Control-Allow-Origin"), null);
  const none = await serveEventSource(request, options());
  assert.equal(none.headers.get("Access-Control-Allow-Origin"), null);
});

Deno.test("serveEventSource streams with CORS headers and resumes from the query", async () => {
  const response = await serveEventSource(
    new Request("http://x/?lastEventId=41", { headers: { Origin: "http://a.test" } }),
    options({ cors: { origin: "*" } }),
  );
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("Access-Control-Allow-Origin"), "*");
  assert.equal(await response.text(), "data: after 41\n\n");
});

Deno.test("serveEventSource echoes the origin with credentials", async () => {
  const response = await serveEventSource(
    new Request("http://x/", { headers: { Origin: "http://a.test" } }),
    options({ cors: { origin: (o) => o.endsWith(".test"), credentials: true } }),
  );
  assert.equal(response.headers.get("Access-Control-Allow-Origin"), "http://a.test");
  assert.equal(response.headers.get("Access-Control-Allow-Credentials"), "true");
  await response.body?.cancel();
});

Deno.test("serveEventSource answers 204 when onConnect says stop", async () => {
  const response = await serveEventSource(
    new Request("http://x/", { headers: { "Last-Event-ID": "9" } }),
    options({ onConnect: ({ lastEventId }) => lastEventId === "9" ? "stop" : undefined }),
  );
  assert.equal(response.status, 204);
  assert.equal(response.body, null);
});

Deno.test("serveEventSource refuses other methods with 405", async () => {
  const response = await serveEventSource(new Request("http://x/", { method: "POST" }), options());
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("Allow"), "GET, OPTIONS");
});

Deno.test("serveEventSource closes the stream and rethrows when onConnect throws", async () => {
  await assert.rejects(
    () =>
      serveEventSource(
        new Request("http://x/"),
        options({
          heartbeatInterval: 10,
          onConnect() {
            throw new Error("boom");
          },
        }),
      ),
    /boom/,
  );
});
