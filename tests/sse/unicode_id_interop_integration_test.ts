// A last event id outside Latin-1, over a real reconnection: WHATWG HTML §9.2.3 has clients send
// `Last-Event-ID` "encoded as UTF-8". Headless Chromium, Deno's built-in EventSource and ours
// must all send the id's UTF-8 bytes, and lastEventIdOf must read them back as the id sent.
import assert from "node:assert/strict";
import { EventSource } from "../../lib/sse/event_source.ts";
import { createEventStream, lastEventIdOf } from "../../lib/sse/server.ts";
import { type Chromium, openInChromium, withTimeout } from "../_chromium.ts";

const ID = "✓é 你好 😀";

interface Seen {
  /** The header as Headers hands it over: one character per byte. */
  readonly bytes: number[];
  readonly resumeFrom: string | null;
}

function startServer() {
  const seen = new Map<string, Seen[]>();
  let arrived: () => void = () => {};
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/page.html") {
      return new Response(
        `<!doctype html><meta charset="utf-8"><script>new EventSource("/events?run=chromium");</script>`,
        { headers: { "content-type": "text/html; charset=utf-8" } },
      );
    }
    const run = url.searchParams.get("run") ?? "";
    const connections = seen.get(run) ?? [];
    seen.set(run, connections);
    const header = request.headers.get("Last-Event-ID");
    connections.push({
      bytes: header === null ? [] : Array.from(header, (char) => char.charCodeAt(0)),
      resumeFrom: lastEventIdOf(request),
    });
    if (connections.length > 1) {
      arrived();
      return new Response(null, { status: 204 }); // stop: one resume is all this test needs
    }
    const stream = createEventStream({ retry: 50, heartbeatInterval: 0, signal: request.signal });
    stream.send({ id: ID, data: "x" });
    stream.close(); // the server drops the connection; the client resumes by id
    return stream.response;
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    seen,
    resumed: (run: string) =>
      new Promise<void>((resolve) => {
        arrived = () => {
          if ((seen.get(run)?.length ?? 0) > 1) resolve();
        };
        arrived();
      }),
    close: () => server.shutdown(),
  };
}

const UTF8 = Array.from(new TextEncoder().encode(ID));

Deno.test("Chromium, Deno and our EventSource send a Unicode last event id as UTF-8, and lastEventIdOf reads it", async () => {
  const server = startServer();
  let browser: Chromium | undefined;
  try {
    browser = await openInChromium(`${server.origin}/page.html`);
    await withTimeout(server.resumed("chromium"), 60_000, "Chromium did not reconnect");
    const ours = new EventSource(`${server.origin}/events?run=ours`, { reconnectionTime: 50 });
    await withTimeout(ours.closed, 30_000, "our EventSource did not stop at 204");
    const deno = new globalThis.EventSource(`${server.origin}/events?run=deno`);
    try {
      await withTimeout(server.resumed("deno"), 30_000, "Deno's EventSource did not reconnect");
    } finally {
      deno.close();
    }
    for (const run of ["chromium", "ours", "deno"]) {
      const [first, second] = server.seen.get(run)!;
      assert.deepEqual(first, { bytes: [], resumeFrom: null }, run);
      assert.deepEqual(second, { bytes: UTF8, resumeFrom: ID }, run);
    }
  } finally {
    await browser?.close();
    await server.close();
  }
});
