import assert from "node:assert/strict";
import { detectServeOnConnection } from "../../lib/net/_handoff.ts";

const serveOn = detectServeOnConnection();

/** A client connection and the server's end of it, handed to the runtime. */
async function servedPair() {
  assert.ok(serveOn);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const accepted = await listener.accept();
  listener.close();
  const server = serveOn(
    accepted,
    () => new Response("ok"),
    () => new Response(null, { status: 500 }),
  );
  return { client, server };
}

Deno.test("the runtime internal for handing off a connection is found on this Deno", () => {
  // The one-port server's speed rests on it; if a Deno upgrade removes it, this says so.
  assert.equal(typeof serveOn, "function");
});

Deno.test("cancel after the runtime closed the connection is a no-op, not an uncaught error", async () => {
  const { client, server } = await servedPair();
  await client.write(
    new TextEncoder().encode("GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
  );
  const buffer = new Uint8Array(1024);
  let text = "";
  for (let i = 0; i < 100; i++) {
    const n = await client.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  client.close();
  assert.match(text, /^HTTP\/1\.1 200 /);
  await server.finished;
  // The abort listener would throw BadResource here: the connection is gone.
  server.cancel();
  server.cancel();
});

Deno.test("cancel force-closes a connection the runtime is still serving", async () => {
  const { client, server } = await servedPair();
  // No request: the connection idles until cancelled.
  server.cancel();
  await server.finished;
  const n = await client.read(new Uint8Array(16)).catch(() => null);
  assert.equal(n, null);
  client.close();
});
