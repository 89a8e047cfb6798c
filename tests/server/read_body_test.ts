import assert from "node:assert/strict";
import { readBody } from "../../lib/server/read_body.ts";

function chunked(chunks: Uint8Array[]): Request {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
  return new Request("http://x/", { method: "POST", body });
}

Deno.test("readBody joins a body split at every point", async () => {
  const bytes = new TextEncoder().encode("hello, world");
  for (let split = 0; split <= bytes.length; split++) {
    const result = await readBody(chunked([bytes.subarray(0, split), bytes.subarray(split)]), 100);
    assert.deepEqual(result, bytes, `split ${split}`);
  }
});

Deno.test("readBody refuses from Content-Length without reading", async () => {
  let pulled = false;
  const body = new ReadableStream<Uint8Array>({
    pull() {
      pulled = true;
    },
  });
  const request = new Request("http://x/", {
    method: "POST",
    body,
    headers: { "Content-Length": "11" },
  });
  const result = await readBody(request, 10);
  assert.ok(!(result instanceof Uint8Array) && result.status === 413);
  assert.equal(pulled, false);
});

Deno.test("readBody stops reading a stream as soon as it passes the limit", async () => {
  let pulls = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      controller.enqueue(new Uint8Array(4));
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  const result = await readBody(new Request("http://x/", { method: "POST", body }), 10);
  assert.ok(!(result instanceof Uint8Array) && result.code === "HUB_ERR_BODY_TOO_LARGE");
  assert.ok(cancelled);
  assert.ok(pulls <= 4, `pulled ${pulls} chunks`);
});

Deno.test("readBody accepts a body of exactly the limit and an empty body", async () => {
  assert.equal(
    (await readBody(
      new Request("http://x/", { method: "POST", body: "x".repeat(10) }),
      10,
    ) as Uint8Array)
      .length,
    10,
  );
  assert.equal((await readBody(new Request("http://x/"), 10) as Uint8Array).length, 0);
});
