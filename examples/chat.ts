/**
 * Multi-room chat on the hub, HTTP and WebSocket on one port. Each room is a hub channel
 * (`room.NAME`): joining replays the room's history, then streams it live; join and leave
 * notices are published as events (`join`, `leave`), chat lines as `say`. The page uses the
 * browser client (`/pushwire.js`): WebSocket when it gets through, else SSE or polling, and
 * publishes over HTTP. A program can join over WebSocket at `/rooms/NAME?nick=NICK`, where
 * the server publishes its join, lines and leave. Because the rooms are plain hub channels,
 * every hub transport on the same port reaches them too: follow a room with
 * `curl -N http://127.0.0.1:8080/channels/room.lobby/events`, or talk into it with
 * `curl -d '{"nick":"curl","text":"hi"}' -H content-type:application/json
 * 'http://127.0.0.1:8080/channels/room.lobby?event=say'`.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 examples/chat.ts --port 8080
 * ```
 *
 * Open http://127.0.0.1:8080/?nick=ann#lobby and http://127.0.0.1:8080/?nick=bob#lobby.
 * (`--allow-net=127.0.0.1` without a port: the one-port server relays plain HTTP to an
 * internal loopback port.) `--no-websocket` refuses every upgrade with 403, as a proxy that
 * blocks WebSocket would: the page falls back to SSE.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { pushwireScriptRoute } from "../lib/client/browser_module.ts";
import { Hub, isHubError, messageJson, type Subscription } from "../lib/hub/mod.ts";
import { serveOnePort, type UpgradeRequestHead } from "../lib/net/mod.ts";
import { createHubHandler } from "../lib/server/mod.ts";
import { createWebSocketRoutes } from "../lib/server/ws/mod.ts";
import { buildRejectionResponse } from "../lib/websocket/mod.ts";
import { reject } from "../lib/websocket_io/mod.ts";

const hub = new Hub();

interface Member {
  nick: string;
  channel: string;
  subscription?: Subscription;
}

// The hub's own routes (`/ws` for the browser client, `/channels/{ch}/ws`), plus the rooms.
const ws = createWebSocketRoutes(hub);
ws.router.route<string | Uint8Array, string, Member>("/rooms/:room", {
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
<p id="status">connecting</p>
<ul id="log"></ul><form id="say"><input id="text" autocomplete="off" autofocus></form>
<script type="module">
  import * as pushwire from "/pushwire.js";
  const room = location.hash.slice(1) || "lobby";
  const nick = new URLSearchParams(location.search).get("nick") ?? prompt("Nick?", "guest") ?? "guest";
  const channel = "room." + room;
  const log = (line) => document.getElementById("log").append(Object.assign(document.createElement("li"), { textContent: line }));
  const post = async (event, data) => {
    const result = await pushwire.publish("/", channel, data, { event });
    if (result.type === "error") log("* not sent: " + result.status + " " + result.message);
  };
  let joined = false;
  // The client's default order: WebSocket; where it is blocked, SSE, iframe, long, short poll.
  pushwire.subscribe("/", channel, {
    history: true, // the room's history, then live from where it ended
    onMessage({ event, data, time }) {
      const at = new Date(time ?? Date.now()).toTimeString().slice(0, 8); // SSE carries no time
      log(event === "say" ? at + " <" + data.nick + "> " + data.text : at + " * " + data.nick + " " + event + "s " + room);
    },
    onReset: () => log("* some messages were lost"),
    onError: ({ status, message }) => log("* cannot join: " + status + " " + message),
    onStatus({ state, transport }) {
      document.getElementById("status").textContent = state + (transport ? " (" + transport + ")" : "");
      // Announce the join once the room is heard, and once only: a reconnect opens again.
      if (state === "open" && !joined) {
        joined = true;
        post("join", { nick });
      }
    },
  });
  // Over HTTP the hub cannot tell that a member left: the page says so; keepalive lets the
  // request outlive the page.
  addEventListener("pagehide", () => fetch("/channels/" + channel + "?event=leave", {
    method: "POST",
    keepalive: true,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ nick }),
  }));
  document.getElementById("say").onsubmit = (event) => {
    event.preventDefault();
    post("say", { nick, text: document.getElementById("text").value });
    document.getElementById("text").value = "";
  };
</script>`;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "8080" },
    "no-websocket": { type: "boolean", default: false },
  },
});

/** `--no-websocket`: every upgrade gets 403, as behind a proxy that blocks WebSocket. */
async function refuseUpgrade(_head: UpgradeRequestHead, conn: Deno.TcpConn): Promise<void> {
  const refusal = new TextEncoder().encode(
    buildRejectionResponse(403, "Cannot upgrade: WebSocket is off (--no-websocket)"),
  );
  try {
    for (let n = 0; n < refusal.length;) n += await conn.write(refusal.subarray(n));
  } finally {
    conn.close();
  }
}

const server = serveOnePort({
  hostname: "127.0.0.1",
  port: Number(values.port),
  onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
}, {
  fetch: createHubHandler(hub, {
    routes: {
      "/": () => new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } }),
      "/pushwire.js": pushwireScriptRoute,
      "/pushwire.d.ts": pushwireScriptRoute,
    },
  }),
  upgrade: values["no-websocket"] ? refuseUpgrade : ws.server.handleUpgrade,
});

async function stop(): Promise<void> {
  await server.shutdown();
  await ws.shutdown(); // members leave
  await hub.close();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
