// A wire tap for interop tests: our server behind a listener of the test's own, each accepted
// connection wrapped so that every byte read and written is also decoded into frames. Peers
// written elsewhere (Chromium, Python) give no access to their frames; the tap shows what
// crossed the wire on our side: RSV1 (compressed) or not, and the payload size of each data
// message, both ways.
import { FrameDecoder } from "../../lib/websocket/frame_decoder.ts";
import type { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import { WebSocketServer, type WebSocketServerOptions } from "../../lib/websocket_io/server.ts";
import type { TestServer } from "./_helpers.ts";

/** One data message as it crossed the wire, fragments summed. */
export interface WireMessage {
  /** 0x1 text, 0x2 binary. */
  readonly opcode: number;
  /** RSV1 on its first frame: compressed with permessage-deflate (RFC 7692 §6). */
  readonly rsv1: boolean;
  /** Payload bytes on the wire (compressed size when `rsv1`). */
  readonly bytes: number;
}

const latin1 = new TextDecoder("latin1");
/** Longer than any handshake head of these tests. */
const MAX_HEAD = 16 * 1024;

/** Frames decoded one way of one connection, after the HTTP head. */
class Direction {
  readonly messages: WireMessage[] = [];
  /** Control frames with RSV1 set: RFC 7692 §6 forbids them. */
  controlRsv1 = 0;
  readonly #decoder: FrameDecoder;
  #head = "";
  #inHead = true;
  #current: { opcode: number; rsv1: boolean; bytes: number } | undefined;

  constructor(role: "server" | "client") {
    this.#decoder = new FrameDecoder({ role, maxFrameSize: 64 * 1024 * 1024 });
  }

  feed(bytes: Uint8Array): void {
    // The decoder keeps views of its chunks; the caller may reuse its buffer.
    let chunk = bytes.slice();
    if (this.#inHead) {
      // One char per byte (heads are ASCII), so an index in the text is an index in bytes.
      const before = this.#head.length;
      this.#head += latin1.decode(chunk.subarray(0, MAX_HEAD));
      const end = this.#head.indexOf("\r\n\r\n", Math.max(0, before - 3));
      if (end === -1) {
        if (this.#head.length >= MAX_HEAD) throw new Error("wire tap: no end of the HTTP head");
        return;
      }
      this.#inHead = false;
      chunk = chunk.subarray(end + 4 - before);
    }
    this.#decoder.receive(chunk);
    for (let event = this.#decoder.next(); event !== undefined; event = this.#decoder.next()) {
      if (event.type === "error") throw new Error(`wire tap: ${event.error.message}`);
      const { opcode, rsv1, fin, payload } = event.frame;
      if (opcode >= 0x8) {
        if (rsv1) this.controlRsv1++;
        continue;
      }
      if (opcode !== 0x0) this.#current = { opcode, rsv1, bytes: 0 };
      this.#current!.bytes += payload.length;
      if (fin) {
        this.messages.push(this.#current!);
        this.#current = undefined;
      }
    }
  }
}

/** What one connection carried: `received` from the peer, `sent` by our server. */
export class WireTap {
  readonly #in = new Direction("server");
  readonly #out = new Direction("client");

  /** Data messages from the peer, in order. */
  get received(): readonly WireMessage[] {
    return this.#in.messages;
  }

  /** Data messages from our server, in order. */
  get sent(): readonly WireMessage[] {
    return this.#out.messages;
  }

  /** Control frames with RSV1 set, both ways (must stay 0). */
  get controlRsv1(): number {
    return this.#in.controlRsv1 + this.#out.controlRsv1;
  }

  /** `conn`, with its reads and writes also fed to the tap. */
  wrap(conn: Deno.Conn): Deno.Conn {
    return new TappedConn(conn, this.#in, this.#out);
  }
}

class TappedConn implements Deno.Conn {
  readonly #conn: Deno.Conn;
  readonly #in: Direction;
  readonly #out: Direction;

  constructor(conn: Deno.Conn, inbound: Direction, outbound: Direction) {
    this.#conn = conn;
    this.#in = inbound;
    this.#out = outbound;
  }

  get localAddr(): Deno.Addr {
    return this.#conn.localAddr;
  }
  get remoteAddr(): Deno.Addr {
    return this.#conn.remoteAddr;
  }
  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    throw new TypeError("Cannot tap conn.readable: the server reads with read()");
  }
  get writable(): WritableStream<Uint8Array<ArrayBufferLike>> {
    throw new TypeError("Cannot tap conn.writable: the server writes with write()");
  }

  async read(p: Uint8Array): Promise<number | null> {
    const n = await this.#conn.read(p);
    if (n !== null && n > 0) this.#in.feed(p.subarray(0, n));
    return n;
  }
  async write(p: Uint8Array): Promise<number> {
    const n = await this.#conn.write(p);
    if (n > 0) this.#out.feed(p.subarray(0, n));
    return n;
  }
  close(): void {
    this.#conn.close();
  }
  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }
  ref(): void {
    this.#conn.ref();
  }
  unref(): void {
    this.#conn.unref();
  }
  [Symbol.dispose](): void {
    this.#conn[Symbol.dispose]();
  }
}

/** A {@linkcode TestServer} whose connections are tapped, one tap per connection. */
export interface TappedServer extends TestServer {
  /** One tap per accepted connection, in accept order. */
  readonly taps: readonly WireTap[];
}

/**
 * Our server on 127.0.0.1:0 (TLS with `tls`), fed by a listener of the test's own so that
 * each connection can be tapped before `handleConnection` takes it.
 */
export function startTappedServer(
  router: WebSocketRouter,
  options: WebSocketServerOptions = {},
  tls?: { cert: string; key: string },
): TappedServer {
  const server = new WebSocketServer(router, options);
  const listener: Deno.Listener = tls
    ? Deno.listenTls({ hostname: "127.0.0.1", port: 0, ...tls })
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const taps: WireTap[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      const tap = new WireTap();
      taps.push(tap);
      void server.handleConnection(tap.wrap(conn));
    }
  })().catch(() => {
    // The listener was closed.
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      listener.close();
      await accepting;
      await server.shutdown({ timeout: 2000 });
    })();
  return {
    server,
    port,
    taps,
    url: (path = "/") =>
      `${tls ? "wss" : "ws"}://${tls ? "localhost" : "127.0.0.1"}:${port}${path}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}
