// Test fixture: a real hub behind a relay listener (TCP) and the relay's HTTP handler,
// both on 127.0.0.1 port 0, plus a small NUL-framed document reader for Deno clients.
import { Hub } from "../../lib/hub/hub.ts";
import { MemoryBroker } from "../../lib/hub/memory_broker.ts";
import { Relay, type RelayOptions } from "../../lib/relay/relay.ts";
import { createRelayHandler } from "../../lib/relay/relay_http_handler.ts";
import { listenRelay, type RelayListener } from "../../lib/relay/relay_listener.ts";

export interface RelayFixture {
  readonly hub: Hub;
  readonly relay: Relay;
  readonly tcp: RelayListener;
  readonly httpBase: string;
  readonly tcpPort: number;
  close(): Promise<void>;
}

/** Starts a relay over `hub` (a memory hub with deep history by default); `close` closes `hub`. */
export function startRelay(
  options: Omit<RelayOptions, "source"> = {},
  tickMs = 50,
  hub: Hub = new Hub({
    broker: new MemoryBroker({ history: { maxMessages: 100_000, maxBytes: 256 * 1024 * 1024 } }),
  }),
): RelayFixture {
  const relay = new Relay({ source: hub, ...options });
  const tcp = listenRelay(relay, { port: 0, tickMs });
  const handler = createRelayHandler(relay);
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return {
    hub,
    relay,
    tcp,
    httpBase: `http://127.0.0.1:${http.addr.port}`,
    tcpPort: tcp.addr.port,
    async close() {
      await tcp.shutdown();
      await http.shutdown();
      await hub.close();
    },
  };
}

/** Reads NUL-terminated documents from a socket, each wait bounded. */
export class DocumentReader {
  readonly #conn: Deno.Conn;
  #buffer = new Uint8Array(0);
  #eof = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /**
   * The next document's bytes without its NUL; null at EOF. Rejects after `timeoutMs` (a
   * failure detector, generous because the machine may be loaded).
   */
  async next(timeoutMs = 30_000): Promise<Uint8Array | null> {
    for (;;) {
      const nul = this.#buffer.indexOf(0);
      if (nul >= 0) {
        const doc = this.#buffer.slice(0, nul);
        this.#buffer = this.#buffer.slice(nul + 1);
        return doc;
      }
      if (this.#eof) return null;
      await this.#fill(timeoutMs);
    }
  }

  /** Every byte until EOF (the remaining documents, NULs included). */
  async rest(timeoutMs = 30_000): Promise<Uint8Array> {
    while (!this.#eof) await this.#fill(timeoutMs);
    return this.#buffer;
  }

  async #fill(timeoutMs: number): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no data within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const n = await Promise.race([this.#conn.read(chunk).catch(() => null), timeout]);
      if (n === null) {
        this.#eof = true;
        return;
      }
      const joined = new Uint8Array(this.#buffer.length + n);
      joined.set(this.#buffer);
      joined.set(chunk.subarray(0, n), this.#buffer.length);
      this.#buffer = joined;
    } finally {
      clearTimeout(timer);
    }
  }
}

const decoder = new TextDecoder();

/** A relay document read back the way an XML parser would see it. */
export type ParsedDocument =
  | { type: "greeting"; id: string }
  | { type: "message"; channel: string; id: string; event?: string; data: unknown }
  | { type: "reset"; channel: string }
  | { type: "error"; code: string };

function unescape(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+);/g, (_, name: string) => {
    switch (name) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
      default:
        return String.fromCodePoint(Number(name.slice(1)));
    }
  });
}

/** Parses one relay document (without its NUL); throws on anything unexpected. */
export function parseDocument(bytes: Uint8Array): ParsedDocument {
  const text = decoder.decode(bytes);
  let m = /^<pushwire id="([^"]*)"\/>$/.exec(text);
  if (m) return { type: "greeting", id: unescape(m[1]!) };
  m = /^<message channel="([^"]*)" id="([^"]*)"(?: event="([^"]*)")?>([^<]*)<\/message>$/.exec(
    text,
  );
  if (m) {
    const doc: ParsedDocument = {
      type: "message",
      channel: unescape(m[1]!),
      id: unescape(m[2]!),
      data: JSON.parse(unescape(m[4]!)),
    };
    if (m[3] !== undefined) doc.event = unescape(m[3]);
    return doc;
  }
  m = /^<reset channel="([^"]*)"\/>$/.exec(text);
  if (m) return { type: "reset", channel: unescape(m[1]!) };
  m = /^<error code="([^"]*)"\/>$/.exec(text);
  if (m) return { type: "error", code: m[1]! };
  throw new Error(`Unexpected relay document: ${JSON.stringify(text)}`);
}

/** Connects a Deno TCP client and reads its greeting. */
export async function connectClient(
  port: number,
): Promise<{ conn: Deno.TcpConn; reader: DocumentReader; id: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = new DocumentReader(conn);
  const first = await reader.next();
  if (first === null) throw new Error("relay closed before greeting");
  const greeting = parseDocument(first);
  if (greeting.type !== "greeting") throw new Error(`expected a greeting, got ${greeting.type}`);
  return { conn, reader, id: greeting.id };
}

/** POSTs a subscription and returns status and JSON body. */
export async function subscribe(
  base: string,
  id: string,
  channel: string,
  after?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const query = after === undefined ? "" : `?after=${encodeURIComponent(after)}`;
  const response = await fetch(`${base}/relay/${id}/channels/${channel}${query}`, {
    method: "POST",
  });
  return { status: response.status, body: await response.json() };
}

/** Reads `count` message documents. */
export async function readMessages(
  reader: DocumentReader,
  count: number,
): Promise<Extract<ParsedDocument, { type: "message" }>[]> {
  const out: Extract<ParsedDocument, { type: "message" }>[] = [];
  while (out.length < count) {
    const bytes = await reader.next();
    if (bytes === null) throw new Error(`EOF after ${out.length} of ${count} messages`);
    const doc = parseDocument(bytes);
    if (doc.type !== "message") throw new Error(`expected a message, got ${doc.type}`);
    out.push(doc);
  }
  return out;
}
