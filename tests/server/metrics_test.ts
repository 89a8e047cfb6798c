import assert from "node:assert/strict";
import { Hub } from "../../lib/hub/hub.ts";
import { Metrics } from "../../lib/server/metrics.ts";

Deno.test("Metrics counts connections by transport, deliveries and drops", async () => {
  const hub = new Hub();
  const metrics = new Metrics(hub);
  metrics.connectionOpened("sse");
  metrics.connectionOpened("sse");
  metrics.connectionOpened("custom_transport");
  metrics.connectionClosed("sse");
  metrics.addDelivered(5);
  metrics.addDropped(2);
  await hub.publish("c", 1);
  const text = metrics.render();
  assert.match(text, /^pushwire_connections\{transport="sse"\} 1$/m);
  assert.match(text, /^pushwire_connections\{transport="ws"\} 0$/m);
  assert.match(text, /^pushwire_connections\{transport="custom_transport"\} 1$/m);
  assert.match(text, /^pushwire_messages_published_total 1$/m);
  assert.match(text, /^pushwire_messages_delivered_total 5$/m);
  assert.match(text, /^pushwire_messages_dropped_total 2$/m);
  assert.ok(text.endsWith("\n"));
  assert.throws(() => metrics.connectionOpened('bad"label'), TypeError);
  await hub.close();
});
