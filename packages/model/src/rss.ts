// STUB (to be implemented): Toeplitz RSS hash, RSS inputs for IPv4/IPv6, and the indirection table.
export const DEFAULT_RSS_KEY: Uint8Array = new Uint8Array(40);
export function toeplitzHash(_key: ArrayLike<number>, _input: ArrayLike<number>): number {
  throw new Error('not implemented');
}
export class IndirectionTable {
  readonly entries: Uint16Array;
  constructor(size: number, queues: number) {
    this.entries = new Uint16Array(size);
    for (let i = 0; i < size; i++) this.entries[i] = i % queues;
  }
  queueFor(hash: number): number {
    return this.entries[hash % this.entries.length] ?? 0;
  }
}
