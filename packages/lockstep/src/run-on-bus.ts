// Every partition of a lockstep run in this process, each on a Transport of its own: the in-process placement, and the way tests prove the partitions agree with sim.
import type { Nanos } from '@splitnet/model';
import type { RunResult } from '@splitnet/results';
import type { CompiledScenario } from '@splitnet/scenario';
import type { Transport } from '@splitnet/transport';
import { mergeRun } from './merge-run.js';
import { PartitionWire } from './partition-wire.js';
import type { PartitionShot } from './partition-engine.js';

/** What the control plane does to a report or an account on its way to the controller (JSON), done here too. */
function asSent<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/**
 * Run `s` in lockstep with each partition in this process on `transportFor(its index)`; the result is sim's.
 * `onWindows`: the windows each partition ran, in the plan's order.
 */
export async function runLockstepInProcess(
  s: CompiledScenario,
  runId: string,
  transportFor: (partition: number) => Transport,
  onWindows?: (windows: readonly number[]) => void,
): Promise<RunResult> {
  const samples = new Map<Nanos, PartitionShot[]>();
  const wires: PartitionWire[] = [];
  const first = new PartitionWire(s, runId, 0, transportFor(0), (t, reports) => record(0, t, reports));
  const n = first.engine.plan.partitions.length;
  function record(i: number, t: Nanos, shot: PartitionShot): void {
    let row = samples.get(t);
    if (row === undefined) samples.set(t, (row = Array.from({ length: n }, () => ({ reports: [] }))));
    row[i] = asSent(shot);
  }
  wires.push(first);
  for (let i = 1; i < n; i++) wires.push(new PartitionWire(s, runId, i, transportFor(i), (t, reports) => record(i, t, reports)));
  for (const w of wires) w.start();
  await Promise.all(wires.map((w) => w.done));
  for (const w of wires) w.close();
  onWindows?.(wires.map((w) => w.engine.final().windows));
  return mergeRun(s, { plan: first.engine.plan, samples, finals: wires.map((w) => asSent(w.engine.final())) });
}
