import assert from "node:assert/strict";
import {
  TRANSPORT_NAMES,
  type TransportMemory,
  TransportSelector,
} from "../../lib/client/transport_selector.ts";

function mapMemory(): TransportMemory & { store: Map<string, string> } {
  const store = new Map<string, string>();
  return {
    store,
    getItem: (key) => store.get(key) ?? null,
    setItem: (key, value) => void store.set(key, value),
  };
}

Deno.test("TransportSelector tries the fastest first by default", () => {
  const selector = new TransportSelector(TRANSPORT_NAMES);
  assert.deepEqual(selector.plan(0), ["websocket", "sse", "iframe", "longpoll", "shortpoll"]);
});

Deno.test("TransportSelector puts what worked first until rememberMs passes", () => {
  const memory = mapMemory();
  const selector = new TransportSelector(TRANSPORT_NAMES, { memory, rememberMs: 60_000 });
  selector.succeeded("longpoll", 1_000);
  assert.deepEqual(selector.plan(2_000), ["longpoll", "websocket", "sse", "iframe", "shortpoll"]);
  // A second selector on the same storage (the next page load) remembers too.
  const next = new TransportSelector(TRANSPORT_NAMES, { memory, rememberMs: 60_000 });
  assert.equal(next.remembered(60_999), "longpoll");
  assert.equal(next.remembered(61_000), undefined);
  assert.equal(next.remembered(999), undefined); // clock went back: not trusted
});

Deno.test("TransportSelector keys memory per hub", () => {
  const memory = mapMemory();
  new TransportSelector(TRANSPORT_NAMES, { memory, key: "a" }).succeeded("sse", 0);
  assert.equal(
    new TransportSelector(TRANSPORT_NAMES, { memory, key: "b" }).remembered(1),
    undefined,
  );
  assert.equal(new TransportSelector(TRANSPORT_NAMES, { memory, key: "a" }).remembered(1), "sse");
});

Deno.test("TransportSelector ignores a remembered transport not in its order", () => {
  const memory = mapMemory();
  new TransportSelector(TRANSPORT_NAMES, { memory }).succeeded("iframe", 0);
  const selector = new TransportSelector(["sse", "longpoll"], { memory });
  assert.deepEqual(selector.plan(1), ["sse", "longpoll"]);
});

Deno.test("TransportSelector survives storage that throws or holds garbage", () => {
  const throwing: TransportMemory = {
    getItem: () => {
      throw new Error("SecurityError");
    },
    setItem: () => {
      throw new Error("QuotaExceededError");
    },
  };
  const selector = new TransportSelector(TRANSPORT_NAMES, { memory: throwing });
  selector.succeeded("sse", 0);
  assert.equal(selector.plan(1)[0], "websocket");
  const garbage = mapMemory();
  garbage.store.set("pushwire.transport", "{not json");
  assert.equal(
    new TransportSelector(TRANSPORT_NAMES, { memory: garbage }).remembered(0),
    undefined,
  );
  garbage.store.set("pushwire.transport", JSON.stringify({ transport: "carrier-pigeon", at: 0 }));
  assert.equal(
    new TransportSelector(TRANSPORT_NAMES, { memory: garbage }).remembered(1),
    undefined,
  );
});

Deno.test("TransportSelector refuses an empty, unknown or repeated list", () => {
  assert.throws(() => new TransportSelector([]), TypeError);
  // @ts-expect-error: not a transport
  assert.throws(() => new TransportSelector(["flash"]), TypeError);
  assert.throws(() => new TransportSelector(["sse", "sse"]), TypeError);
});
