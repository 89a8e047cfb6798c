// One server per process for `one_port_wrk.ts`: `deno run -A _one_port_servers.ts OPTION HANDLER`.
// Prints the bound port on the first stdout line, then serves until SIGTERM/SIGINT.
//
// OPTION  a  bare Deno.serve (the reference)
//         b  node:http server adapting to Request/Response, with an `upgrade` listener
//         c  Deno.listen + a TypeScript HTTP/1.1 server for every request (_ts_http1/)
//         d  lib/net serveOnePort with `handoff: "relay"`: Deno.listen reads the first head;
//            upgrades stay, other connections are relayed to an internal Deno.serve on loopback
//         h  lib/net serveOnePort (default `handoff: "auto"`): the first request is answered
//            in userland, then the connection goes to Deno[Deno.internal].serveHttpOnConnection
//         r  not HTTP: a Deno.listen read/write loop answering every read with a fixed 200
//            response; the ceiling of any userland server on Deno.listen (handler unused)
//         e1 Deno[Deno.internal].serveHttpOnListener on a Deno.listen listener (no raw upgrade)
//         e2 deprecated Deno.serveHttp(conn) per accepted connection (no raw upgrade)
// HANDLER ok    `new Response("ok")`
//         json  a short-poll-like JSON answer built from the URL
import http from "node:http";
import type { Buffer } from "node:buffer";

type Handler = (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;

const MESSAGES = Array.from({ length: 3 }, (_, i) => ({
  id: String(i + 1).padStart(8, "0"),
  channel: "news",
  data: { n: i, text: "hello world" },
  time: 1_700_000_000_000 + i,
}));

const HANDLERS: Record<string, Handler> = {
  ok: () => new Response("ok"),
  json: (req) => {
    const url = new URL(req.url);
    const after = Number(url.searchParams.get("after") ?? "0");
    const messages = MESSAGES.filter((m) => Number(m.id) > after);
    return Response.json({ messages, cursor: messages.at(-1)?.id ?? String(after) }, {
      headers: { "cache-control": "no-store" },
    });
  },
};

const [option = "a", handlerName = "ok"] = Deno.args;
const handler = HANDLERS[handlerName];
if (!handler) throw new TypeError(`Unknown handler ${handlerName}`);
const ac = new AbortController();
const ready = (port: number) => console.log(String(port));

switch (option) {
  case "a": {
    Deno.serve({
      port: 0,
      hostname: "127.0.0.1",
      signal: ac.signal,
      onListen: (a) => ready(a.port),
    }, handler);
    break;
  }
  case "b": {
    const server = http.createServer(async (req, res) => {
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
      }
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const request = new Request(`http://${req.headers.host}${req.url}`, {
        method: req.method!,
        headers,
        body: hasBody ? (ReadableStream.from(req) as ReadableStream<Uint8Array>) : null,
      });
      const addr = {
        transport: "tcp" as const,
        hostname: req.socket.remoteAddress!,
        port: req.socket.remotePort!,
      };
      const response = await handler(request, { remoteAddr: addr, completed: Promise.resolve() });
      const out: Record<string, string> = {};
      response.headers.forEach((v, k) => (out[k] = v));
      res.writeHead(response.status, out);
      if (response.body) {
        for await (const chunk of response.body) res.write(chunk);
      }
      res.end();
    });
    server.on(
      "upgrade",
      (_req, socket: import("node:net").Socket, _head: Buffer) => socket.destroy(),
    );
    server.listen(0, "127.0.0.1", () => ready((server.address() as { port: number }).port));
    break;
  }
  case "c": {
    const { serveOnePort } = await import("./_ts_http1/ts_http1_server.ts");
    serveOnePort({
      hostname: "127.0.0.1",
      port: 0,
      signal: ac.signal,
      onListen: (a) => ready(a.port),
    }, { fetch: handler, upgrade: (_head, conn) => conn.close() });
    break;
  }
  case "d":
  case "h": {
    const { serveOnePort } = await import("../../lib/net/mod.ts");
    serveOnePort({
      hostname: "127.0.0.1",
      port: 0,
      signal: ac.signal,
      onListen: (a) => ready(a.port),
      handoff: option === "d" ? "relay" : "auto",
    }, { fetch: handler, upgrade: (_head, conn) => conn.close() });
    break;
  }
  case "r": {
    const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
    ready(listener.addr.port);
    const fixed = new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    (async () => {
      for await (const conn of listener) {
        (async () => {
          const buf = new Uint8Array(16 * 1024);
          while ((await conn.read(buf)) !== null) await conn.write(fixed);
        })().catch(() => {}).finally(() => conn.close());
      }
    })();
    break;
  }
  case "e1": {
    const { serveHttpOnListener } =
      (Deno as unknown as Record<symbol, Record<string, CallableFunction>>)[
        (Deno as unknown as { internal: symbol }).internal
      ]!;
    const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
    serveHttpOnListener!(
      listener,
      ac.signal,
      handler,
      () => new Response("error", { status: 500 }),
      () => {},
    );
    ready((listener.addr as Deno.NetAddr).port);
    break;
  }
  case "e2": {
    const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
    ready((listener.addr as Deno.NetAddr).port);
    (async () => {
      for await (const conn of listener) {
        (async () => {
          // deno-lint-ignore no-explicit-any
          const httpConn = (Deno as any).serveHttp(conn);
          for await (const ev of httpConn) {
            const info = { remoteAddr: conn.remoteAddr, completed: Promise.resolve() };
            (async () => ev.respondWith(await handler(ev.request, info)))().catch(() => {});
          }
        })().catch(() => {});
      }
    })();
    break;
  }
  default:
    throw new TypeError(`Unknown option ${option}`);
}

for (const sig of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(sig, () => Deno.exit(0));
}
