// The object `subscribe` returns: the subscriber's callbacks and a view of its channel cursor.
import type { SubscribeOptions, Subscription } from "./pushwire_client.ts";

/** One subscriber of a channel of a client. */
export class SubscriptionImpl implements Subscription {
  readonly channel: string;
  readonly options: SubscribeOptions;
  closed = false;
  #detach: (subscription: SubscriptionImpl) => void;
  #lastId: () => string | undefined;

  constructor(
    channel: string,
    options: SubscribeOptions,
    lastId: () => string | undefined,
    detach: (subscription: SubscriptionImpl) => void,
  ) {
    this.channel = channel;
    this.options = options;
    this.#lastId = lastId;
    this.#detach = detach;
  }

  get lastId(): string | undefined {
    return this.#lastId();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#detach(this);
  }
}
