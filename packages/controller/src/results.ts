// Writes a run's results directory: resolved scenario, environment, metrics time series, summary (JSON + CSV), event log, latency histogram.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flattenDotted } from '@splitnet/model';
import { sig } from './metrics.js';
import type { RunResult, Summary } from './run-sim.js';

export interface ResultFiles {
  readonly dir: string;
  readonly files: readonly string[];
}

/** Flatten the summary into `key,value` rows (nested keys joined with dots) — easy to grep, diff and load. */
export function summaryCsv(summary: Summary): string {
  const rows = flattenDotted(summary).map(([k, v]) => `${k},${String(v)}`);
  return ['metric,value', ...rows].join('\n') + '\n';
}

/**
 * The window's latency histogram in plain units (ns): summary numbers, then one non-empty bucket
 * per line as `[lowest, highest, count]`, so a CDF can be drawn without knowing the bucket layout.
 */
export function latencyJson(result: RunResult): string {
  const h = result.latency;
  const head = { unit: 'ns', windowMs: result.summary.windowMs, count: h.count, min: sig(h.min), max: sig(h.max), mean: sig(h.mean) };
  const lines = Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  const buckets = h.valueBuckets().map((b) => '    ' + JSON.stringify(b));
  return `{\n${lines.join('\n')}\n  "buckets": [${buckets.length > 0 ? `\n${buckets.join(',\n')}\n  ` : ''}]\n}\n`;
}

/**
 * Write every file of a run. The summary, metrics and event log depend only on the scenario and
 * seed (byte-identical across repeats); everything about the host and the wall clock goes to
 * environment.json.
 */
export function writeResults(
  dir: string,
  resolvedYaml: string,
  environment: Record<string, unknown>,
  result: RunResult,
): ResultFiles {
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    ['scenario.resolved.yaml', resolvedYaml],
    ['environment.json', JSON.stringify(environment, null, 2) + '\n'],
    ['metrics.jsonl', result.samples.map((r) => JSON.stringify(r)).join('\n') + '\n'],
    ['summary.json', JSON.stringify(result.summary, null, 2) + '\n'],
    ['summary.csv', summaryCsv(result.summary)],
    ['events.jsonl', result.events.map((e) => JSON.stringify(e)).join('\n') + '\n'],
    ['latency.json', latencyJson(result)],
  ];
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return { dir, files: files.map(([n]) => n) };
}
