// A partition process's code warm-up: its own partition of the scenario rehearsed alone, before it says hello, so that the timed run starts with compiled code.
import type { Nanos } from '@splitnet/model';
import type { CompiledScenario } from '@splitnet/scenario';
import { encodeEnvelopeBody } from '@splitnet/transport';
import { PartitionEngine } from './partition-engine.js';

/** What the rehearsal did, for the partition's log. */
export interface RehearsalResult {
  readonly emulatedMs: number;
  readonly wallMs: number;
  readonly windows: number;
  readonly sent: number;
}

/** Emulated time rehearsed per step (ns): the wall budget is checked between steps. */
const STEP: Nanos = 1_000_000;

/**
 * Why: a fresh Node process runs the datapath in V8's interpreter and baseline code for its first second or so of work,
 * which lands inside the timed run (measured: a 20 ms run of 2 partitions at 5.9 % of sim, 100 ms at 6.4 %). As live's
 * actors do (`live.codeWarmup`), a partition rehearses before it announces itself: a fresh engine of its own partition
 * (fresh actors, the same scenario) runs alone — its neighbours unheard, what it would send them encoded into wire
 * bodies and dropped — up to `emulated` ns or `wallBudgetMs` of wall time, whichever comes first. Nothing of it is
 * kept: the run's engine is another, so the results are the same with or without it.
 */
export function rehearsePartition(s: CompiledScenario, index: number, emulated: Nanos, wallBudgetMs: number): RehearsalResult {
  const t0 = performance.now();
  let sent = 0;
  const engine = new PartitionEngine(s, index, {
    send: (_to, _from, _toRef, seq, at, due, msg) => {
      encodeEnvelopeBody(seq, at, due, msg);
      sent++;
    },
    promise: () => {},
    sample: () => {},
  });
  const until = Math.min(emulated, s.duration);
  let windows = 0;
  for (let t = STEP; engine.reached < until && performance.now() - t0 < wallBudgetMs; t += STEP) {
    engine.rehearseUntil = Math.min(t, until);
    if (engine.advance()) windows++;
  }
  return { emulatedMs: engine.reached / 1e6, wallMs: Math.round(performance.now() - t0), windows, sent };
}
