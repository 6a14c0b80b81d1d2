// Test fixtures: real results directories made by running the sim — single runs, runs with fault events, and sweep directories in `splitnet sweep`'s format.
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSim, writeResults } from '@splitnet/controller';
import { compileScenarioText, formatResolvedYaml } from '@splitnet/scenario';
import { flatten } from '../src/index.js';

export const BASE = `name: fixture
duration: 3ms
topology: { vms: { count: 1, queues: 2 }, workers: 2 }
traffic: [ { flows: 8, rate: 10Gbps, size: 1518, pattern: poisson } ]
coalescing: { frontend: { policy: none } }
`;

export function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'splitnet-report-test-'));
}

/** A real run's results directory (sim), as `splitnet run --out dir` writes it. */
export function writeRun(dir: string, text = BASE, overrides: readonly string[] = [], seed?: number): Record<string, unknown> {
  const s = compileScenarioText(text, 'fixture.yaml', { overrides, ...(seed !== undefined ? { seed } : {}) });
  const result = runSim(s);
  writeResults(dir, formatResolvedYaml(s), { splitnet: '0.1.0', runtime: 'sim', seed: s.seed, command: ['splitnet', 'run', 'fixture.yaml'] }, result);
  return result.summary as unknown as Record<string, unknown>;
}

/** Append fault events as the fault injector logs them: f1 killed and restored, f2 never ended. */
export function addFaultEvents(dir: string): void {
  const lines = [
    { t: 1_000_000, actor: 'controller', kind: 'fault-start', detail: { id: 'f1', action: 'kill', target: 'worker.0' } },
    { t: 1_600_000, actor: 'controller', kind: 'fault-end', detail: { id: 'f1', action: 'kill', target: 'worker.0' } },
    { t: 2_200_000, actor: 'controller', kind: 'fault-start', detail: { id: 'f2', action: 'delay', target: { link: 'backend->worker.1' } } },
  ];
  appendFileSync(join(dir, 'events.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

export interface AxisSpec {
  readonly path: string;
  readonly values: readonly (string | number)[];
  /** As `splitnet sweep` writes it: members of one zip share this number and advance together. */
  readonly zip?: number;
}

/**
 * A sweep directory in the format of `splitnet sweep` (docs/results.md): sweep.json, table.json
 * (one row per run: run, point, rep, seed, one column per axis, every summary metric flattened),
 * and runs/<run>/ with each run's own results. Points are the axes' cartesian product, the last axis
 * varying fastest.
 */
export function writeSweep(dir: string, axes: readonly AxisSpec[], repetitions: number, base = BASE, name = 'fixture-sweep', baseSeed = 1): void {
  // Axes with the same `zip` form one group (one position per value index); the points are the groups' product.
  const groups: AxisSpec[][] = [];
  for (const a of axes) {
    const last = groups[groups.length - 1];
    if (a.zip !== undefined && last?.[0]?.zip === a.zip) last.push(a);
    else groups.push([a]);
  }
  const points: Record<string, string | number>[] = [{}];
  for (const g of groups) {
    const next: Record<string, string | number>[] = [];
    const n = g[0]?.values.length ?? 0;
    for (const p of points) for (let i = 0; i < n; i++) next.push({ ...p, ...Object.fromEntries(g.map((a) => [a.path, a.values[i] as string | number])) });
    points.splice(0, points.length, ...next);
  }
  const table: Record<string, unknown>[] = [];
  mkdirSync(join(dir, 'runs'), { recursive: true });
  points.forEach((p, i) => {
    for (let rep = 0; rep < repetitions; rep++) {
      const run = `p${String(i).padStart(3, '0')}-r${rep}`;
      const seed = baseSeed + i * repetitions + rep;
      const overrides = Object.entries(p).map(([k, v]) => `${k}=${String(v)}`);
      const summary = writeRun(join(dir, 'runs', run), base, overrides, seed);
      table.push({ run, point: i, rep, seed, ...p, ...Object.fromEntries(flatten(summary)) });
    }
  });
  const sweep = { name, base: 'fixture.yaml', axes, repetitions, baseSeed, points: points.length, runs: table.length };
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(sweep, null, 2) + '\n');
  writeFileSync(join(dir, 'table.json'), JSON.stringify(table, null, 2) + '\n');
}
