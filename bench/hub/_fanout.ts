// One fan-out group for the fan-out benches (SSE, iframe, WebSocket, relay): a floor peer as
// the baseline and the pushwire side, each iteration sending `messages` to every receiver and
// done when every receiver has counted them.
import { until } from "./_loopback.ts";

/** One side of a fan-out group. */
export interface FanOutSide {
  /** The bench's name. */
  readonly name: string;
  /** Messages each receiver has counted so far. */
  readonly counts: Int32Array;
  /** Sends one iteration's messages (to every receiver). */
  send(): void | Promise<void>;
}

/** Registers the floor (baseline) and pushwire benches of one group. */
export function fanOutGroup(options: {
  readonly group: string;
  readonly messages: number;
  readonly n: number;
  readonly warmup: number;
  readonly floor: FanOutSide;
  readonly pushwire: FanOutSide;
}): void {
  const { group, messages, n, warmup } = options;
  for (const [side, baseline] of [[options.floor, true], [options.pushwire, false]] as const) {
    let target = 0;
    Deno.bench({
      name: side.name,
      group,
      baseline,
      n,
      warmup,
      async fn() {
        await side.send();
        target += messages;
        await until(() => everyoneHas(side.counts, target));
      },
    });
  }
}

function everyoneHas(counts: Int32Array, target: number): boolean {
  for (let i = 0; i < counts.length; i++) if (counts[i]! < target) return false;
  return true;
}
