// A partition's timeline, for measuring how two partitions' windows overlap (docs/lockstep.md#how-fast): off unless
// SPLITNET_LOCKSTEP_TRACE names a directory, where each partition writes `trace-<index>.json` at its end.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The environment variable naming the trace's directory (in the environment of `splitnet run`). */
export const TRACE_ENV = 'SPLITNET_LOCKSTEP_TRACE';

/** Records kept at most (the first ones of the run). */
const MAX_RECORDS = 20_000;

/**
 * One record, wall instants in ms since the epoch (performance.timeOrigin + performance.now(): comparable across
 * one machine's processes): a window run (`w`: start, end, the emulated span), a promise sent (`s`) or put in hand
 * (`r`: with its sender's publish instant), handed to the link (`x`: its write returned), a message taken in (`m`).
 */
export type TraceRecord =
  | { readonly k: 'w'; readonly s: number; readonly e: number; readonly from: number; readonly to: number }
  | { readonly k: 's' | 'x'; readonly at: number; readonly to: number; readonly promise: number }
  | { readonly k: 'm'; readonly at: number }
  | { readonly k: 'r'; readonly at: number; readonly sent: number; readonly promise: number };

export class WindowTrace {
  private readonly records: TraceRecord[] = [];

  private constructor(private readonly file: string) {}

  /** A trace when the environment asks for one, else null. */
  static fromEnv(index: number): WindowTrace | null {
    const dir = process.env[TRACE_ENV];
    return dir === undefined || dir === '' ? null : new WindowTrace(join(dir, `trace-${index}.json`));
  }

  static now(): number {
    return performance.timeOrigin + performance.now();
  }

  add(r: TraceRecord): void {
    if (this.records.length < MAX_RECORDS) this.records.push(r);
  }

  write(): void {
    writeFileSync(this.file, JSON.stringify(this.records));
  }
}
