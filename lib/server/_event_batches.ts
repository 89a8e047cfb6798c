// A streaming route's subscription read a turn at a time: the first event that arrives, then
// every event published behind it in the same event-loop turn, so that the route writes them
// as one chunk (one socket write per subscriber, not one per message).
import type { Subscription, SubscriptionEvent } from "../hub/subscription.ts";

/**
 * The events of `subscription` in batches of one turn each (at most the hub's take limit after
 * the first). Ends when the subscription does; leaving the loop early closes it.
 */
export async function* eventBatches(
  subscription: Subscription,
): AsyncGenerator<SubscriptionEvent[], void, undefined> {
  for await (const first of subscription) {
    await subscription.waitForBatch();
    const rest = subscription.takeQueued();
    if (rest.length === 0) yield [first];
    else yield [first, ...rest];
  }
}
