/**
 * A monitoring board: sensor readings (temperatures, voltages) and hot-plug events pushed over
 * WebSocket to a live chart. The endpoints run on plain `Deno.serve` (the page and the socket
 * share one port) through the `DenoServeAdapter`; a new board gets the last minute of readings
 * at once, then every reading as it is taken, broadcast to all boards.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1:8080 examples/monitor.ts --port 8080
 * ```
 *
 * Open http://127.0.0.1:8080/. `--interval MS` sets the time between readings (default 500);
 * a device is plugged in or out every 20 readings.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DenoServeAdapter, WebSocketRouter } from "../lib/websocket_io/mod.ts";

/** Readings kept for a board that connects (a minute at the default interval). */
const MAX_HISTORY = 120;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "8080" },
    interval: { type: "string", default: "500" },
  },
});

type Update =
  | { type: "reading"; time: number; values: Record<string, number> }
  | { type: "hotplug"; time: number; device: string; action: "added" | "removed" };

const history: Update[] = [];
let ticks = 0;
let plugged = false;
/** Stand-ins for real sensors (e.g. /sys/class/hwmon and udev). */
function measure(): Update[] {
  const t = ++ticks / 10;
  const updates: Update[] = [{
    type: "reading",
    time: Date.now(),
    values: {
      "cpu °C": 55 + 8 * Math.sin(t) + Math.random(),
      "board °C": 38 + 3 * Math.sin(t / 3) + Math.random(),
      "12V": 12 + (Math.random() - 0.5) / 5,
      "vcore V": 1.2 + (Math.random() - 0.5) / 20,
    },
  }];
  if (ticks % 20 === 0) {
    plugged = !plugged;
    updates.push({
      type: "hotplug",
      time: Date.now(),
      device: "usb 1-2",
      action: plugged ? "added" : "removed",
    });
  }
  return updates;
}

const router = new WebSocketRouter();
const live = router.route("/live", {
  open: (session) => void session.send(JSON.stringify({ type: "history", updates: history })),
});
const sampler = setInterval(() => {
  for (const update of measure()) {
    history.push(update);
    if (history.length > MAX_HISTORY) history.shift();
    live.sessions.broadcast(JSON.stringify(update));
  }
}, Number(values.interval));

const page = `<!doctype html><meta charset="utf-8"><title>Monitor</title>
<canvas id="chart" width="640" height="240"></canvas><ul id="events"></ul>
<script>
  const points = [], colors = ["#d33", "#e80", "#36c", "#393"];
  const chart = document.getElementById("chart").getContext("2d");
  function draw() {
    chart.clearRect(0, 0, 640, 240);
    const names = Object.keys(points.at(-1) ?? {});
    names.forEach((name, i) => {
      const series = points.map((p) => p[name]), lo = Math.min(...series), hi = Math.max(...series);
      chart.strokeStyle = chart.fillStyle = colors[i];
      chart.beginPath();
      series.forEach((v, x) => chart.lineTo(x * 640 / 120, 230 - (v - lo) / (hi - lo || 1) * 200));
      chart.stroke();
      chart.fillText(name + " " + series.at(-1).toFixed(2), 8, 14 + 14 * i);
    });
  }
  function apply(update) {
    if (update.type === "reading") points.push(update.values) > 120 && points.shift();
    else document.getElementById("events").insertAdjacentHTML("afterbegin",
      "<li>" + new Date(update.time).toLocaleTimeString() + " " + update.device + " " + update.action);
  }
  new WebSocket("ws://" + location.host + "/live").onmessage = (event) => {
    const message = JSON.parse(event.data);
    (message.type === "history" ? message.updates : [message]).forEach(apply);
    draw();
  };
</script>`;

const adapter = new DenoServeAdapter(router);
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  onListen: ({ port }) => console.log(`listening on http://127.0.0.1:${port}`),
}, (request) => {
  if (request.headers.get("upgrade")?.toLowerCase() === "websocket") return adapter.handle(request);
  if (new URL(request.url).pathname !== "/") return new Response("Not Found", { status: 404 });
  return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
});

async function stop(): Promise<void> {
  clearInterval(sampler);
  await adapter.shutdown();
  await server.shutdown();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
