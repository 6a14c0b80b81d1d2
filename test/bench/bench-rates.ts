// The sim bench's reps, rate arithmetic and the lines both of its scenarios print: medians and best reps, the ratio to the traffic source, the target.
import { runSim } from '@splitnet/controller';
import type { RunResult } from '@splitnet/results';
import type { CompiledScenario } from '@splitnet/scenario';

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
export const best = (xs: readonly number[]): number => Math.max(...xs);
export const fmt = (x: number): string => `${(x / 1e6).toFixed(2)} M/s`;

/** Print the events, ratio-to-source and ratio-to-target lines of a scenario from its reps (sim and source measured in turn). */
export function printRatios(o: {
  readonly simRates: readonly number[];
  readonly srcRates: readonly number[];
  readonly eventRates: readonly number[];
  readonly target: number;
}): void {
  const sim = median(o.simRates);
  const reps = o.simRates.length;
  console.log(`  sim events                           ${fmt(median(o.eventRates))} events per host second`);
  console.log(
    `  ratio sim / traffic source           ${(sim / median(o.srcRates)).toFixed(3)} (best of ${reps} each: ${fmt(best(o.simRates))} / ${fmt(best(o.srcRates))} = ${(best(o.simRates) / best(o.srcRates)).toFixed(3)})`,
  );
  const label = `ratio sim / target (${o.target / 1e6} M/s)`.padEnd(37);
  console.log(`  ${label}${(sim / o.target).toFixed(2)}  ${sim >= o.target ? '(target met)' : '(below target)'}`);
}

/** A scenario's reps: the traffic source alone and the whole sim in turn, rep by rep, after one untimed run; `packetsOf` counts a run's emulated packets. */
export function measureInTurn(
  scenario: CompiledScenario,
  reps: number,
  sourceRate: () => number,
  packetsOf: (r: RunResult) => number,
): { srcRates: number[]; simRates: number[]; eventRates: number[]; last: RunResult } {
  const srcRates: number[] = [];
  const simRates: number[] = [];
  const eventRates: number[] = [];
  let last = runSim(scenario);
  for (let r = 0; r < reps; r++) {
    srcRates.push(sourceRate());
    const t0 = process.hrtime.bigint();
    last = runSim(scenario);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    simRates.push(packetsOf(last) / secs);
    eventRates.push(last.eventsProcessed / secs);
  }
  return { srcRates, simRates, eventRates, last };
}
