// Moves one hub subscription onto one WebSocket session with backpressure: while the socket
// is saturated the pump waits for it to drain, and messages wait in the subscription's
// bounded queue; when that overflows the hub ends the subscription (slow_consumer) and the
// caller tells the client to resume from its cursor; the caller does the same after a gap
// (the broker lost continuity), by its subscription's close reason.
import type { Message } from "../../hub/message.ts";
import type { Subscription } from "../../hub/subscription.ts";
import type { EndpointSession } from "../../websocket_io/endpoint.ts";
import type { PreparedMessage } from "../../websocket_io/prepared_message.ts";
import type { Metrics } from "../metrics.ts";

/** How a pump frames what it sends. */
export interface PumpFraming {
  /** The frame of a message, shared by every session. */
  frameOf(message: Message): PreparedMessage;
  /** The text frame announcing a reset. */
  resetText(cursor: string): string;
}

/**
 * Sends every event of `subscription` on `session` until either ends or `active()` turns
 * false. Resolves when done; never rejects.
 */
export async function pump(
  session: EndpointSession<string | Uint8Array, unknown>,
  subscription: Subscription,
  framing: PumpFraming,
  metrics: Metrics,
  active: () => boolean,
): Promise<void> {
  try {
    for await (const event of subscription) {
      if (session.state !== "open" || !active()) break;
      let ok: boolean;
      if (event.type === "message") {
        ok = session.sendPrepared(framing.frameOf(event.message));
        metrics.addDelivered(1);
      } else {
        ok = session.send(framing.resetText(event.cursor));
      }
      if (!ok) {
        if (session.state !== "open") break;
        await session.drained();
      }
    }
  } catch {
    // A session or subscription failure ends this pump only; the session reports its own.
  } finally {
    if (subscription.closeReason === undefined) subscription.close();
  }
}
