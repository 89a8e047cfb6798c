import assert from "node:assert/strict";
import { EventSource } from "../../lib/sse/event_source.ts";
import { createEventStream, type EventStream, serveEventSource } from "../../lib/sse/server.ts";
import { until } from "../_wait.ts";

function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("createEventStream drops a subscriber that stops reading once its queue is full", async () => {
  let stream: EventStream | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    stream = createEventStream({
      signal: request.signal,
      maxQueuedBytes: 64 * 1024,
      heartbeatInterval: 0,
    });
    return stream.response;
  });
  // A raw TCP client that sends its request and then never reads.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  try {
    await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await until(() => stream !== undefined, "the request");
    const data = "x".repeat(16 * 1024);
    let accepted = 0;
    // Bounded: 4096 * 16 KiB = 64 MiB is far past any socket buffer plus the 64 KiB queue.
    for (let i = 0; i < 4096 && stream!.send({ data }); i++) {
      accepted++;
      await tick();
    }
    assert.equal(await stream!.closed, "overflow");
    assert.ok(accepted < 4096, `the queue was bounded (accepted ${accepted} events)`);
  } finally {
    conn.close();
    await server.shutdown();
  }
});

Deno.test("createEventStream reports client-gone and frees its timer when the client disconnects", async () => {
  let stream: EventStream | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    stream = createEventStream({ signal: request.signal, heartbeatInterval: 20, retry: null });
    stream.send({ data: "hi" });
    return stream.response;
  });
  try {
    const abort = new AbortController();
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, { signal: abort.signal });
    const reader = response.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "data: hi\n\n");
    abort.abort();
    await reader.read().catch(() => {});
    assert.equal(await stream!.closed, "client-gone");
    assert.equal(stream!.send({ data: "late" }), false);
  } finally {
    await server.shutdown();
  }
});

Deno.test("serveEventSource under Deno.serve: our EventSource resumes by Last-Event-ID until 204", async () => {
  const history = ["a", "b", "c", "d"];
  const seenIds: (string | null)[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      serveEventSource(request, {
        retry: 5,
        heartbeatInterval: 0,
        onConnect({ lastEventId, stream }) {
          seenIds.push(lastEventId);
          const after = Number(lastEventId ?? -1);
          if (after >= history.length - 1) return "stop";
          // Two events per connection, then the server drops it.
          for (let id = after + 1; id <= Math.min(after + 2, history.length - 1); id++) {
            stream.send({ id: String(id), data: history[id]! });
          }
          stream.close();
          return undefined;
        },
      }),
  );
  try {
    const source = new EventSource(`http://127.0.0.1:${server.addr.port}/events`);
    const received: string[] = [];
    source.onmessage = (event) => received.push(`${event.lastEventId}:${event.data}`);
    await source.closed;
    assert.deepEqual(received, ["0:a", "1:b", "2:c", "3:d"]);
    assert.deepEqual(seenIds, [null, "1", "3"]);
  } finally {
    await server.shutdown();
  }
});
