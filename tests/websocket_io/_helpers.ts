// Shared pieces of the websocket_io tests: a server on a free loopback port, a raw TCP peer
// that speaks frames by hand (to act as a misbehaving or silent client), TLS material made
// with openssl at test time, and bounded waits.
import { HeadParser, type ResponseHead } from "../../lib/http/head_parser.ts";
import type { Frame } from "../../lib/websocket/frame.ts";
import { FrameDecoder } from "../../lib/websocket/frame_decoder.ts";
import { encodeFrame } from "../../lib/websocket/frame_encoder.ts";
import type { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import { WebSocketServer, type WebSocketServerOptions } from "../../lib/websocket_io/server.ts";
import { within as withinMs } from "../_wait.ts";

/** Bound of one wait: a failure detector, generous so that a loaded machine still passes. */
export const TIMEOUT_MS = 30_000;

/** Rejects after `ms` (default {@linkcode TIMEOUT_MS}) unless `promise` settles first. */
export function within<T>(promise: Promise<T>, what: string, ms = TIMEOUT_MS): Promise<T> {
  return withinMs(promise, what, ms);
}
export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A listening server on 127.0.0.1:0; `close()` shuts it down. */
export interface TestServer extends AsyncDisposable {
  readonly server: WebSocketServer;
  readonly port: number;
  url(path?: string): string;
  close(): Promise<void>;
}

export function startServer(
  router: WebSocketRouter,
  options: WebSocketServerOptions = {},
  tls?: { cert: string; key: string },
): TestServer {
  const server = new WebSocketServer(router, options);
  const { addr } = server.listen({ hostname: "127.0.0.1", port: 0, ...tls });
  const close = () => server.shutdown({ timeout: 2000 });
  return {
    server,
    port: addr.port,
    url: (path = "/") =>
      `${tls ? "wss" : "ws"}://${tls ? "localhost" : "127.0.0.1"}:${addr.port}${path}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

export const SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

export function upgradeRequest(path = "/", extra: Record<string, string> = {}): string {
  let head = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${SAMPLE_KEY}\r\nSec-WebSocket-Version: 13\r\n`;
  for (const [name, value] of Object.entries(extra)) head += `${name}: ${value}\r\n`;
  return head + "\r\n";
}

/** A client written by hand: sends masked frames, decodes the server's frames. */
export class RawPeer {
  readonly conn: Deno.Conn;
  readonly #decoder = new FrameDecoder({ role: "client", maxFrameSize: 64 * 1024 * 1024 });
  #eof = false;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  static async connect(port: number): Promise<RawPeer> {
    return new RawPeer(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Connects, sends the upgrade request and reads the response head. */
  static async upgrade(
    port: number,
    path = "/",
    extra: Record<string, string> = {},
  ): Promise<{ peer: RawPeer; head: ResponseHead; body: string }> {
    const peer = await RawPeer.connect(port);
    await peer.write(encoder.encode(upgradeRequest(path, extra)));
    const { head, rest } = await peer.readHead();
    peer.feed(rest);
    return { peer, head, body: "" };
  }

  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.conn.write(bytes.subarray(offset));
  }

  /** Sends one masked frame. */
  send(
    opcode: number,
    payload: Uint8Array | string = new Uint8Array(0),
    fin = true,
  ): Promise<void> {
    const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
    return this.write(encodeFrame(opcode, bytes, { mask: true, fin }));
  }

  async readHead(): Promise<{ head: ResponseHead; rest: Uint8Array }> {
    const parser = new HeadParser({ kind: "response" });
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await within(this.conn.read(buffer), "reading the response head");
      if (n === null) throw new Error("the server closed before the response head");
      const event = parser.receive(buffer.subarray(0, n));
      if (event === undefined) continue;
      if (event.type === "error") throw new Error(event.message);
      return { head: event.head, rest: event.rest };
    }
  }

  feed(bytes: Uint8Array): void {
    if (bytes.length > 0) this.#decoder.receive(bytes.slice());
  }

  /** The next frame from the server, or `undefined` once it closed the connection. */
  async nextFrame(): Promise<Frame | undefined> {
    for (;;) {
      const event = this.#decoder.next();
      if (event?.type === "frame") return event.frame;
      if (event?.type === "error") throw new Error(event.error.message);
      if (this.#eof) return undefined;
      const buffer = new Uint8Array(64 * 1024);
      const n = await within(this.conn.read(buffer), "reading a frame").catch((error) => {
        if (error instanceof Deno.errors.ConnectionReset) return null;
        throw error;
      });
      if (n === null) this.#eof = true;
      else this.#decoder.receive(buffer.subarray(0, n));
    }
  }

  /**
   * Reads everything until the server closes, returning the text (for HTTP answers). A read
   * error (a reset) counts as the end; a server that never closes fails the wait.
   */
  async readToEnd(): Promise<string> {
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await within(this.conn.read(buffer).catch(() => null), "the server to close");
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
    return decoder.decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** Close payload helper: status code big-endian, then the reason. */
export function closePayload(code: number, reason = ""): Uint8Array {
  const text = encoder.encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

export function closeCodeOf(frame: Frame | undefined): number | undefined {
  if (frame === undefined || frame.opcode !== 0x8) return undefined;
  if (frame.payload.length < 2) return 1005;
  return (frame.payload[0]! << 8) | frame.payload[1]!;
}

/** A test CA and a `localhost` / 127.0.0.1 certificate it signed, made by openssl now. */
export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

let tlsFiles: Promise<TlsFiles> | undefined;

export function testTls(): Promise<TlsFiles> {
  tlsFiles ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "pushwire-tls-" });
    try {
      const run = async (args: string[]) => {
        const { code, stderr } = await new Deno.Command("openssl", {
          args,
          cwd: dir,
          stdout: "null",
          stderr: "piped",
        }).output();
        if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${decoder.decode(stderr)}`);
      };
      const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
      await run([
        "req",
        "-x509",
        ...ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=pushwire test CA",
      ]);
      await run([
        "req",
        ...ec,
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=localhost",
      ]);
      await Deno.writeTextFile(
        `${dir}/ext.cnf`,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n" +
          "extendedKeyUsage=serverAuth\n",
      );
      await run([
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
      ]);
      return {
        ca: await Deno.readTextFile(`${dir}/ca.pem`),
        cert: await Deno.readTextFile(`${dir}/leaf.pem`),
        key: await Deno.readTextFile(`${dir}/leaf.key`),
      };
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  })();
  return tlsFiles;
}
