/**
 * A stock ticker over Server-Sent Events with resume: a new subscriber gets the current quote
 * of every symbol at once, then each quote as it comes; one that reconnects (the browser sends
 * `Last-Event-ID` by itself) gets exactly the quotes it missed, no duplicates, no gaps. Each
 * quote is encoded once and written to every subscriber.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1:8080 examples/stock_ticker.ts --port 8080
 * ```
 *
 * Open http://127.0.0.1:8080/ or `curl -N http://127.0.0.1:8080/quotes`. `--interval MS` sets
 * the time between quotes (default 500).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { encodeServerSentEvent, type EventStream, serveEventSource } from "../lib/sse/mod.ts";

/** Quotes kept for resuming subscribers (about 8 minutes at the default interval). */
const MAX_HISTORY = 1000;
const prices: Record<string, number> = { ACME: 120, GLOBEX: 56.5, INITECH: 9.8, UMBRELLA: 310 };

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "8080" },
    interval: { type: "string", default: "500" },
  },
});

interface Quote {
  readonly id: number;
  readonly symbol: string;
  readonly bytes: Uint8Array;
}
const history: Quote[] = [];
const latest = new Map<string, Quote>();
const subscribers = new Set<EventStream>();
let lastId = 0;

const symbols = Object.keys(prices);
function tick(symbol = symbols[Math.floor(Math.random() * symbols.length)]!): void {
  const price = prices[symbol] =
    Math.round(prices[symbol]! * (1 + (Math.random() - 0.5) / 50) * 100) / 100;
  const id = ++lastId;
  const data = JSON.stringify({ symbol, price, time: Date.now() });
  const quote = {
    id,
    symbol,
    bytes: encodeServerSentEvent({ id: String(id), event: "quote", data }),
  };
  history.push(quote);
  if (history.length > MAX_HISTORY) history.shift();
  latest.set(symbol, quote);
  for (const stream of subscribers) stream.write(quote.bytes);
}
for (const symbol of symbols) tick(symbol); // a first quote for every symbol
const ticker = setInterval(() => tick(), Number(values.interval));

/** What a subscriber gets first: what it missed when resuming, else the latest quotes. */
function backlog(lastEventId: string | null): Quote[] {
  const after = Number(lastEventId);
  const resumable = lastEventId !== null && Number.isInteger(after) && after <= lastId &&
    after >= history[0]!.id - 1;
  if (resumable) return history.filter((quote) => quote.id > after);
  return [...latest.values()].sort((a, b) => a.id - b.id);
}

const page = `<!doctype html><meta charset="utf-8"><title>Ticker</title>
<table id="quotes"></table>
<script>
  const rows = {};
  new EventSource("/quotes").addEventListener("quote", (event) => {
    const { symbol, price } = JSON.parse(event.data);
    rows[symbol] ??= document.getElementById("quotes").insertRow();
    rows[symbol].innerHTML = "<th>" + symbol + "</th><td>" + price.toFixed(2) + "</td>";
  });
</script>`;

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
}, (request) => {
  const { pathname } = new URL(request.url);
  if (pathname === "/") return new Response(page, { headers: { "content-type": "text/html" } });
  if (pathname !== "/quotes") return new Response("Not Found", { status: 404 });
  return serveEventSource(request, {
    retry: 1000,
    onConnect({ lastEventId, stream }) {
      for (const quote of backlog(lastEventId)) stream.write(quote.bytes);
      subscribers.add(stream);
      stream.closed.then(() => subscribers.delete(stream));
    },
  });
});

async function stop(): Promise<void> {
  clearInterval(ticker);
  for (const stream of subscribers) stream.close();
  await server.shutdown();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
