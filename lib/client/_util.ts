// Small helpers of the client.

/** Calls an app callback; what it throws is reported (uncaught) without breaking the client. */
export function callApp<T>(fn: ((value: T) => void) | undefined, value: T): void {
  if (fn === undefined) return;
  try {
    fn(value);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** `value` when it is a positive number below 2^31, `fallback` when undefined; else throws. */
export function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(typeof value === "number" && value > 0 && value < 2 ** 31)) {
    throw new RangeError(`Cannot create client: ${name} must be a positive number`);
  }
  return value;
}

/** Whether `name` is a hub channel name (`[A-Za-z0-9_.:-]{1,128}`). */
export function isChannelName(name: string): boolean {
  return typeof name === "string" && /^[A-Za-z0-9_.:-]{1,128}$/.test(name);
}
