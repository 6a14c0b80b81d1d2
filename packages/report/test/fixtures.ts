// Test fixtures: real results directories made by running the sim — single runs, runs with fault events, and sweep directories written by the sweep's own planner and table writers.
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSim } from '@splitnet/controller';
import { writeResults } from '@splitnet/results';
import { buildTable, compileRun, parseSweepText, planSweep, sweepJson, tableCsv, tableJson } from '@splitnet/experiments';
import { compileScenarioText, formatResolvedYaml } from '@splitnet/scenario';

/** Two queues served by vRSS: flows hashed per flow in netback (Linux's default would put them all on queue 0 of one NIC queue). */
export const BASE = `name: fixture
duration: 3ms
topology: { vms: { count: 1, queues: 2 }, workers: 2, steering: toeplitz, toeplitz: { hashSlot: false } }
traffic: [ { flows: 8, rate: 10Gbps, size: 1518, pattern: poisson } ]
coalescing: { frontend: { policy: none } }
`;

/** Three hosts: two UDP senders on each of hosts 1 and 2 at 4 Gbit/s (16 Gbit/s) into one guest of host 0, behind a 10 Gbit/s port with a 64 KiB queue. */
export const INCAST = `name: incast
hosts: 3
duration: 3ms
warmup: 0.5ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 2, queues: 1 }, workers: 1 }
fabric: { queueBytes: 65536 }
traffic:
${[1, 2].flatMap((h) => [0, 1].map((v) => `  - { from: h${h}.vm.${v}, to: h0.vm.0, protocol: udp, rate: 4Gbps, flows: 1 }`)).join('\n')}
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

/** The sweep file's text for `axes` (members of one `zip` written as one item), values as JSON (which YAML reads). */
function sweepText(name: string, axes: readonly AxisSpec[], repetitions: number, baseSeed: number): string {
  const items: string[] = [];
  const axis = (a: AxisSpec, indent: string) => `${indent}- path: ${a.path}\n${indent}  values: ${JSON.stringify(a.values)}\n`;
  for (let i = 0; i < axes.length;) {
    const a = axes[i] as AxisSpec;
    let j = i + 1;
    if (a.zip !== undefined) while (j < axes.length && axes[j]?.zip === a.zip) j++;
    items.push(
      a.zip === undefined
        ? axis(a, '  ')
        : `  - zip:\n${axes
            .slice(i, j)
            .map((b) => axis(b, '      '))
            .join('')}`,
    );
    i = j;
  }
  return `name: ${name}\nbase: base.yaml\nseed: ${baseSeed}\nrepetitions: ${repetitions}\naxes:\n${items.join('')}`;
}

/**
 * A sweep directory exactly as `splitnet sweep` writes it (docs/results.md): the sweep planned by
 * @splitnet/experiments from a sweep file made of `axes`, each run run in the sim (on this thread, not
 * on worker threads) into runs/<run>/, then sweep.json, table.json and table.csv by the sweep's own
 * writers. Points are the axes' cartesian product (a zip's members in step), the last axis varying fastest.
 */
export function writeSweep(dir: string, axes: readonly AxisSpec[], repetitions: number, base = BASE, name = 'fixture-sweep', baseSeed = 1): void {
  const src = tmp();
  writeFileSync(join(src, 'base.yaml'), base);
  const plan = planSweep(parseSweepText(sweepText(name, axes, repetitions, baseSeed), join(src, 'sweep.yaml')));
  mkdirSync(join(dir, 'runs'), { recursive: true });
  const summaries = new Map<string, unknown>();
  for (const spec of plan.runs) {
    const s = compileRun(spec);
    const result = runSim(s);
    writeResults(
      join(dir, 'runs', spec.run),
      formatResolvedYaml(s),
      { splitnet: '0.1.0', runtime: 'sim', seed: s.seed, command: ['splitnet', 'sweep', 'sweep.yaml'] },
      result,
    );
    summaries.set(spec.run, result.summary);
  }
  const table = buildTable(plan, summaries);
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(sweepJson(plan), null, 2) + '\n');
  writeFileSync(join(dir, 'table.json'), tableJson(table));
  writeFileSync(join(dir, 'table.csv'), tableCsv(table));
}
