// Ids of the memory broker: `${epoch}-${seq}`. `epoch` names one broker incarnation (base-36
// start time), `seq` is a broker-wide counter, so ids grow within every channel and a cursor
// from a previous server is recognized as foreign instead of being confused with a new id.

/** A parsed memory-broker id. */
export interface MemoryId {
  readonly epoch: string;
  readonly seq: number;
}

const ID_PATTERN = /^([0-9a-z]{1,16})-(0|[1-9][0-9]{0,15})$/;

/** Parses `text` as a memory-broker id; undefined when malformed. */
export function parseMemoryId(text: string): MemoryId | undefined {
  const match = ID_PATTERN.exec(text);
  if (match === null) return undefined;
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(seq)) return undefined;
  return { epoch: match[1]!, seq };
}

/** Renders an id. */
export function formatMemoryId(epoch: string, seq: number): string {
  return `${epoch}-${seq}`;
}

/** Reports whether `epoch` can start an id. */
export function isEpoch(epoch: string): boolean {
  return /^[0-9a-z]{1,16}$/.test(epoch);
}
