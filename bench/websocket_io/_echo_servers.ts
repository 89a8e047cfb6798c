// The two echo servers of `echo_bench.ts`, in a process of their own so the bench's client
// does not share their event loop: ours (WebSocketServer over Deno.listen) and the reference
// (Deno.serve + Deno.upgradeWebSocket). Prints `{"ours":PORT,"deno":PORT}` on the first
// stdout line, then serves until stdin closes.
import { WebSocketRouter } from "../../lib/websocket_io/router.ts";
import { WebSocketServer } from "../../lib/websocket_io/server.ts";

const router = new WebSocketRouter();
router.route("/*", { message: (session, message) => void session.send(message) });
const ours = new WebSocketServer(router, { pingInterval: 0, idleTimeout: 0 });
const { addr } = ours.listen({ hostname: "127.0.0.1", port: 0 });

const deno = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => socket.send(event.data);
  return response;
});

// deno-lint-ignore no-console
console.log(JSON.stringify({ ours: addr.port, deno: deno.addr.port }));
for await (const _ of Deno.stdin.readable) { /* until the bench closes stdin */ }
await ours.shutdown({ timeout: 1000 });
await deno.shutdown();
