/**
 * Multi-room chat on the hub, HTTP and WebSocket on one port. Each room is a hub channel
 * (`room.NAME`): joining replays the room's history, then streams it live; join and leave
 * notices are published as events (`join`, `leave`), chat lines as `say`. Because the rooms
 * are plain hub channels, every hub transport on the same port reaches them too: follow a room
 * with `curl -N http://127.0.0.1:8080/channels/room.lobby/events`, or talk into it with
 * `curl -d '{"nick":"curl","text":"hi"}' -H content-type:application/json
 * 'http://127.0.0.1:8080/channels/room.lobby?event=say'`.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 examples/chat.ts --port 8080
 * ```
 *
 * Open http://127.0.0.1:8080/?nick=ann#lobby and http://127.0.0.1:8080/?nick=bob#lobby. (`--allow-net=127.0.0.1` without a port:
 * the one-port server relays plain HTTP to an internal loopback port.)
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Hub, isHubError, messageJson, type Subscription } from "../lib/hub/mod.ts";
import { serveOnePort } from "../lib/net/mod.ts";
import { createHubHandler } from "../lib/server/mod.ts";
import { reject, WebSocketRouter, WebSocketServer } from "../lib/websocket_io/mod.ts";

const hub = new Hub();

interface Member {
  nick: string;
  channel: string;
  subscription?: Subscription;
}

const router = new WebSocketRouter();
router.route<string | Uint8Array, string, Member>("/rooms/:room", {
  maxMessageSize: 4096,
  accept(request) {
    const nick = request.url.searchParams.get("nick") ?? "";
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(request.params.room!) || !/^[\w-]{1,24}$/.test(nick)) {
      return reject(400, "Cannot join: room and ?nick= are 1-64 and 1-24 of A-Z a-z 0-9 _ -");
    }
    return undefined; // accept
  },
  async open(session) {
    const channel = `room.${session.params.room}`;
    const nick = session.request.url.searchParams.get("nick")!;
    session.data = { nick, channel };
    // History first, then live from where history ended: nothing missed, nothing twice.
    const history = await hub.read(channel);
    if (isHubError(history)) return session.close(1011, history.message);
    const subscription = await hub.subscribe(channel, { after: history.cursor });
    if (isHubError(subscription)) return session.close(1011, subscription.message);
    session.data.subscription = subscription;
    if (session.state !== "open") return subscription.close(); // left while joining
    for (const message of history.messages) session.send(messageJson(message));
    await hub.publish(channel, { nick }, { event: "join" });
    (async () => {
      for await (const event of subscription) {
        if (event.type === "message" && !session.send(messageJson(event.message))) {
          await session.drained(); // a slow reader: the hub queues, then drops it (1013)
        }
      }
      if (subscription.closeReason === "slow_consumer") session.close(1013, "too slow");
    })();
  },
  async message(session, text) {
    if (typeof text !== "string") return session.close(1003, "text only");
    const { nick, channel } = session.data;
    await hub.publish(channel, { nick, text }, { event: "say" });
  },
  close(session) {
    const { nick, channel, subscription } = session.data ?? {};
    subscription?.close();
    if (channel !== undefined) hub.publish(channel, { nick }, { event: "leave" }).catch(() => {});
  },
});

const page = `<!doctype html><meta charset="utf-8"><title>Chat</title>
<ul id="log"></ul><form id="say"><input id="text" autocomplete="off" autofocus></form>
<script type="module">
  const room = location.hash.slice(1) || "lobby";
  const nick = new URLSearchParams(location.search).get("nick") ?? prompt("Nick?", "guest");
  const ws = new WebSocket("ws://" + location.host + "/rooms/" + room + "?nick=" + encodeURIComponent(nick));
  const log = (line) => document.getElementById("log").append(Object.assign(document.createElement("li"), { textContent: line }));
  ws.onmessage = (event) => {
    const { event: type, data, time } = JSON.parse(event.data);
    const at = new Date(time).toTimeString().slice(0, 8);
    log(type === "say" ? at + " <" + data.nick + "> " + data.text : at + " * " + data.nick + " " + type + "s " + room);
  };
  ws.onclose = (event) => log("* disconnected (" + event.code + ")");
  document.getElementById("say").onsubmit = (event) => {
    event.preventDefault();
    ws.send(document.getElementById("text").value);
    document.getElementById("text").value = "";
  };
</script>`;

const { values } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string", default: "8080" } },
});
const ws = new WebSocketServer(router);
const server = serveOnePort({
  hostname: "127.0.0.1",
  port: Number(values.port),
  onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
}, {
  fetch: createHubHandler(hub, {
    routes: {
      "/": () => new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } }),
    },
  }),
  upgrade: ws.handleUpgrade,
});

async function stop(): Promise<void> {
  await server.shutdown();
  await ws.shutdown(); // members leave
  await hub.close();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
