/**
 * A WebSocket echo server for conformance suites (Autobahn|Testsuite fuzzingclient): every
 * text and binary message is sent back unchanged, on any path.
 *
 * ```sh
 * deno run -A examples/echo_server.ts --port 9001
 * ```
 *
 * @module
 */
import { WebSocketRouter } from "../lib/websocket_io/router.ts";
import { WebSocketServer } from "../lib/websocket_io/server.ts";

const MiB = 1024 * 1024;

function portArgument(args: readonly string[]): number {
  const index = args.indexOf("--port");
  const value = index >= 0 ? args[index + 1] : args.find((a) => a.startsWith("--port="))?.slice(7);
  const port = Number(value ?? 9001);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Invalid --port: ${value}`);
  }
  return port;
}

const router = new WebSocketRouter();
router.route("/*", {
  // Autobahn's case 9 sends messages of up to 16 MiB.
  maxMessageSize: 64 * MiB,
  message: (session, message) => void session.send(message),
});
const server = new WebSocketServer(router, { maxBufferedAmount: 256 * MiB });
const { addr } = server.listen({ hostname: "0.0.0.0", port: portArgument(Deno.args) });
// deno-lint-ignore no-console
console.log(`echo server listening on ws://${addr.hostname}:${addr.port}/`);
async function stop(): Promise<void> {
  await server.shutdown();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
