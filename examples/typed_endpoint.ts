/**
 * A typed endpoint, the JSR 356 (Jakarta WebSocket) way: a path parameter (`/rooms/:room`), a
 * decoder and an encoder (JSON, checked), a `maxMessageSize`, and a broadcast to every session
 * of the room, framed once whatever the number of sessions.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1:8080 examples/typed_endpoint.ts --port 8080
 * ```
 *
 * Send `{"text":"hi"}` to `ws://127.0.0.1:8080/rooms/lobby`: every session in `lobby` gets
 * `{"room":"lobby","from":1,"text":"hi"}`. A message that is not `{"text": string}` closes the
 * session with 1007, one over 4 KiB with 1009; a bad room name gets HTTP 400.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  type Codec,
  type EndpointSession,
  jsonCodec,
  reject,
  SessionGroup,
  WebSocketRouter,
  WebSocketServer,
} from "../lib/websocket_io/mod.ts";

/** What clients send. */
interface Say {
  readonly text: string;
}
/** What clients receive. */
interface Said {
  readonly room: string;
  readonly from: number;
  readonly text: string;
}

const json = jsonCodec<unknown, Said>();
/** Decoders may refuse: a throw closes the session with 1007 (invalid payload data). */
const codec: Codec<Say, Said> = {
  decode(message) {
    const value = json.decode(message); // not JSON, or binary: throws
    if (typeof (value as Say | null)?.text !== "string") {
      throw new TypeError('Cannot decode message: expected {"text": string}');
    }
    return { text: (value as Say).text };
  },
  encode: json.encode,
};

const rooms = new Map<string, SessionGroup<EndpointSession<Said>>>();
const router = new WebSocketRouter();
router.route<Say, Said>("/rooms/:room", {
  codec,
  maxMessageSize: 4096,
  accept: (request) =>
    /^[a-z0-9-]{1,32}$/.test(request.params.room!)
      ? undefined
      : reject(400, "Cannot join: a room name is 1-32 of a-z, 0-9 and -"),
  open(session) {
    const room = session.params.room!;
    if (!rooms.has(room)) rooms.set(room, new SessionGroup());
    rooms.get(room)!.add(session);
  },
  message(session, { text }) {
    const room = session.params.room!;
    rooms.get(room)?.broadcast(codec.encode({ room, from: session.id, text }));
  },
  close(session) {
    const room = session.params.room!;
    const group = rooms.get(room);
    group?.delete(session);
    if (group?.size === 0) rooms.delete(room);
  },
});

const { values } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string", default: "8080" } },
});
const server = new WebSocketServer(router);
const { addr } = server.listen({ hostname: "127.0.0.1", port: Number(values.port) });
console.log(`listening on http://127.0.0.1:${addr.port} (ws://127.0.0.1:${addr.port}/rooms/ROOM)`);

async function stop(): Promise<void> {
  await server.shutdown();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
