import assert from "node:assert/strict";
import { post, startHub } from "./_harness.ts";

Deno.test("POST /channels/{ch} publishes text as a JSON string and answers 201 {id, channel}", async () => {
  const t = startHub();
  try {
    const response = await post(
      t.base,
      "/channels/news",
      "hello\nworld",
      "text/plain; charset=utf-8",
    );
    assert.equal(response.status, 201);
    const body = await response.json();
    assert.deepEqual(Object.keys(body), ["id", "channel"]);
    assert.equal(body.channel, "news");
    const history = await (await fetch(`${t.base}/channels/news`)).json();
    assert.equal(history.messages[0].data, "hello\nworld");
    assert.equal(history.messages[0].id, body.id);
    assert.equal(typeof history.messages[0].time, "number");
    assert.equal("event" in history.messages[0], false);
  } finally {
    await t.close();
  }
});

Deno.test("POST /channels/{ch} publishes JSON as the parsed value, with ?event=", async () => {
  const t = startHub();
  try {
    const response = await post(
      t.base,
      "/channels/news?event=update",
      '{"n":[1,true,null]}',
      "application/json; charset=UTF-8",
    );
    assert.equal(response.status, 201);
    await response.body?.cancel();
    const history = await (await fetch(`${t.base}/channels/news`)).json();
    assert.deepEqual(history.messages[0].data, { n: [1, true, null] });
    assert.equal(history.messages[0].event, "update");
  } finally {
    await t.close();
  }
});

Deno.test("POST /channels/{ch} decodes a text body in its declared charset", async () => {
  const t = startHub();
  try {
    const response = await post(
      t.base,
      "/channels/c",
      new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
      "text/plain; charset=iso-8859-1",
    );
    assert.equal(response.status, 201);
    await response.body?.cancel();
    const history = await (await fetch(`${t.base}/channels/c`)).json();
    assert.equal(history.messages[0].data, "café");
  } finally {
    await t.close();
  }
});

Deno.test("POST /channels/{ch} answers 400 for invalid JSON, bad UTF-8 and bad event names", async () => {
  const t = startHub();
  try {
    const cases: [string, BodyInit, string, string][] = [
      ["/channels/c", "{nope", "application/json", "HUB_ERR_INVALID_JSON"],
      ["/channels/c", "", "application/json", "HUB_ERR_INVALID_JSON"],
      ["/channels/c", new Uint8Array([0xff, 0xfe, 0x41]), "text/plain", "HUB_ERR_INVALID_BODY"],
      ["/channels/c?event=a%0Ab", "x", "text/plain", "HUB_ERR_INVALID_EVENT"],
      ["/channels/c?event=", "x", "text/plain", "HUB_ERR_INVALID_EVENT"],
      [`/channels/c?event=${"e".repeat(65)}`, "x", "text/plain", "HUB_ERR_INVALID_EVENT"],
      ["/channels/c?event=reset", "x", "text/plain", "HUB_ERR_INVALID_EVENT"],
    ];
    for (const [path, body, type, code] of cases) {
      const response = await post(t.base, path, body, type);
      assert.equal(response.status, 400, path);
      assert.equal((await response.json()).code, code, path);
    }
    assert.equal(t.hub.stats.published, 0);
  } finally {
    await t.close();
  }
});

Deno.test("Channel routes answer 400 for invalid channel names", async () => {
  const t = startHub();
  try {
    for (const name of ["a%2Fb", "a%20b", "%C3%A9", "x".repeat(129), "%E0%A4%A"]) {
      for (const path of [`/channels/${name}`, `/channels/${name}/events`]) {
        const response = path.endsWith("events")
          ? await fetch(`${t.base}${path}`)
          : await post(t.base, path, "x");
        assert.equal(response.status, 400, path);
        assert.equal((await response.json()).code, "HUB_ERR_INVALID_CHANNEL", path);
      }
    }
  } finally {
    await t.close();
  }
});

Deno.test("POST /channels/{ch} answers 413 from Content-Length before reading the body", async () => {
  const t = startHub();
  try {
    const response = await post(t.base, "/channels/c", new Uint8Array(1024 * 1024 + 1));
    assert.equal(response.status, 413);
    assert.equal((await response.json()).code, "HUB_ERR_BODY_TOO_LARGE");
    const exact = await post(t.base, "/channels/c", "x".repeat(1024 * 1024));
    assert.equal(exact.status, 201);
    await exact.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("POST /channels/{ch} answers 413 while streaming a chunked body over the limit", async () => {
  const t = startHub({ maxBodyBytes: 1000 });
  try {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 5000) return controller.close();
        sent += 100;
        controller.enqueue(new Uint8Array(100).fill(0x61));
      },
    });
    const response = await post(t.base, "/channels/c", body);
    assert.equal(response.status, 413);
    await response.body?.cancel();
    assert.equal(t.hub.stats.published, 0);
  } finally {
    await t.close();
  }
});

Deno.test("POST /channels/{ch} answers 415 for other or missing content types and charsets", async () => {
  const t = startHub();
  try {
    for (
      const type of [
        "image/png",
        "application/octet-stream",
        "multipart/form-data",
        "text/plain; charset=nope",
      ]
    ) {
      const response = await post(t.base, "/channels/c", "x", type);
      assert.equal(response.status, 415, type);
      assert.equal((await response.json()).code, "HUB_ERR_UNSUPPORTED_MEDIA_TYPE");
    }
    const bare = await fetch(`${t.base}/channels/c`, {
      method: "POST",
      body: new Uint8Array([1]),
    });
    assert.equal(bare.status, 415);
    await bare.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("Channel routes answer 405 with Allow for other methods", async () => {
  const t = startHub();
  try {
    const put = await fetch(`${t.base}/channels/c`, { method: "PUT", body: "x" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("Allow"), "GET, POST, OPTIONS");
    await put.body?.cancel();
    const postEvents = await post(t.base, "/channels/c/events", "x");
    assert.equal(postEvents.status, 405);
    await postEvents.body?.cancel();
  } finally {
    await t.close();
  }
});
