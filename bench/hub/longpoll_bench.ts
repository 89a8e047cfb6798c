// Releasing 1,000 parked long-poll requests over loopback HTTP: the hub against the floor peer
// (park resolvers, answer them all) in one group. Bounded: a few iterations each. For p50/p99
// per client run bench/hub/longpoll_latency.ts.
import { longPollRound, serveFloor, serveHub } from "./_loopback.ts";

const CLIENTS = 1000;
const hub = serveHub();
const floor = serveFloor();
let cursor = await hub.hub.position("lp");
const group = `release ${CLIENTS} long-poll clients over loopback`;

Deno.bench({
  name: "floor: Deno.serve parking resolvers",
  group,
  baseline: true,
  n: 3,
  warmup: 1,
  async fn(b) {
    b.start();
    await longPollRound(floor, CLIENTS, "0");
    b.end();
  },
});

Deno.bench({
  name: "hub: GET /channels/lp/longpoll + POST",
  group,
  n: 3,
  warmup: 1,
  async fn(b) {
    b.start();
    cursor = (await longPollRound(hub, CLIENTS, cursor)).cursor;
    b.end();
  },
});

// Deno.bench has no teardown hook: close the servers once every bench of this file has run.
globalThis.addEventListener("unload", () => {
  void hub.close();
  void floor.close();
});
