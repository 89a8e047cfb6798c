// examples/stock_ticker.ts as a child process, with its documented permissions, read by our
// EventSource and Deno's built-in one.
import assert from "node:assert/strict";
import { EventSource as PushwireEventSource } from "../../lib/sse/mod.ts";
import { launchChromium } from "../_cdp.ts";
import { Example, within } from "./_example.ts";

interface Source extends EventTarget {
  close(): void;
}

/** Collects the ids of the first `count` quotes, then closes the source. */
function quoteIds(source: Source, count: number): Promise<number[]> {
  const ids: number[] = [];
  return within(
    new Promise<number[]>((resolve) => {
      source.addEventListener("quote", (e) => {
        const event = e as MessageEvent<string>;
        const quote = JSON.parse(event.data);
        assert.equal(typeof quote.symbol, "string");
        assert.equal(typeof quote.price, "number");
        ids.push(Number(event.lastEventId));
        if (ids.length === count) {
          source.close();
          resolve(ids);
        }
      });
    }),
    "quotes",
  );
}

function consecutive(ids: readonly number[]): boolean {
  return ids.every((id, i) => i === 0 || id === ids[i - 1]! + 1);
}

Deno.test("stock_ticker.ts sends the latest quote of every symbol, then resumes without duplicates", async () => {
  const example = await Example.start("stock_ticker.ts", ["--port", "PORT", "--interval", "20"]);
  const url = `http://127.0.0.1:${example.port}/quotes`;
  try {
    const first = await quoteIds(new PushwireEventSource(url), 10);
    // The snapshot: one quote per symbol (4), at once, oldest first; then live quotes.
    assert.deepEqual([...first].sort((a, b) => a - b), first);
    assert.ok(consecutive(first.slice(4)), `live quotes in order: ${first}`);
    const last = first.at(-1)!;
    await new Promise((resolve) => setTimeout(resolve, 200)); // quotes go by while away

    // Our client resumes with the Last-Event-ID header.
    const resumed = await quoteIds(new PushwireEventSource(url, { lastEventId: String(last) }), 20);
    assert.equal(resumed[0], last + 1, "no duplicate, no gap");
    assert.ok(consecutive(resumed), `resumed in order: ${resumed}`);

    // Deno's EventSource cannot set headers on its first request: the id goes in the query.
    const after = resumed.at(-1)!;
    const builtIn = await quoteIds(new EventSource(`${url}?lastEventId=${after}`), 5);
    assert.deepEqual(builtIn, [after + 1, after + 2, after + 3, after + 4, after + 5]);
  } finally {
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});

Deno.test("stock_ticker.ts serves its page and exits with 0 on SIGINT while streaming", async () => {
  const example = await Example.start("stock_ticker.ts");
  const source = new PushwireEventSource(`http://127.0.0.1:${example.port}/quotes`);
  try {
    const page = await fetch(`http://127.0.0.1:${example.port}/`);
    assert.match(await page.text(), /new EventSource\("\/quotes"\)/);
    assert.equal(
      await fetch(`http://127.0.0.1:${example.port}/nope`).then(async (r) => {
        await r.body?.cancel();
        return r.status;
      }),
      404,
    );
    await quoteIds(source, 1);
  } finally {
    source.close();
    const { code, stderr } = await example.stop("SIGINT");
    assert.equal(code, 0, stderr);
  }
});

Deno.test("stock_ticker.ts page fills a row per symbol in Chromium", async () => {
  const example = await Example.start("stock_ticker.ts", ["--port", "PORT", "--interval", "50"]);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage(800, 600);
    await page.goto(`http://127.0.0.1:${example.port}/`);
    const rows = await page.waitFor<string[]>(
      `(() => { const rows = [...document.querySelectorAll("#quotes tr")].map((r) => r.textContent);
        return rows.length === 4 && rows; })()`,
      "a row per symbol",
    );
    assert.deepEqual(rows.map((row) => row.replace(/[\d.]+$/, "")).sort(), [
      "ACME",
      "GLOBEX",
      "INITECH",
      "UMBRELLA",
    ]);
    assert.ok(rows.every((row) => /\d+\.\d\d$/.test(row)));
    assert.deepEqual(page.exceptions, []);
    await page.close();
  } finally {
    await browser.close();
    const { code, stderr } = await example.stop();
    assert.equal(code, 0, stderr);
  }
});
