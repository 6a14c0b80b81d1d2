// Writes a run's results directory: resolved scenario, environment, metrics time series (JSON lines and tidy CSV), summary (JSON + one-row CSV), event log, latency histogram, final metrics for Prometheus.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvLine } from './csv.js';
import { METRICS_FILE } from './prometheus.js';
import { sig } from './metrics.js';
import { summaryRow } from './summary-row.js';
import { timeseriesCsv } from './timeseries.js';
import { cwndCsv } from './tcp-summary.js';
import type { RunResult, Summary } from './summary.js';

export interface ResultFiles {
  readonly dir: string;
  readonly files: readonly string[];
}

/** The summary as one header line and one row (summary-row.ts): what `pd.read_csv('summary.csv')` loads as a one-row frame. */
export function summaryCsv(summary: Summary): string {
  const row = summaryRow(summary);
  return `${csvLine(row.map(([c]) => c))}\n${csvLine(row.map(([, v]) => v))}\n`;
}

/** The columns of latency.json's `buckets`. */
export const LATENCY_BUCKET_COLUMNS = ['lowest_us', 'highest_us', 'packets'] as const;

/**
 * The window's latency histogram in µs, the summary's unit: summary numbers, then one non-empty bucket
 * per line as `[lowest, highest, count]` (named by `columns`), so a CDF can be drawn without knowing
 * the bucket layout. Bucket bounds are whole ns, so in µs they have at most three decimals, exactly.
 */
export function latencyJson(result: RunResult): string {
  const h = result.latency;
  const us = (ns: number) => sig(ns / 1000);
  const lat = result.summary.latencyUs;
  const head = {
    unit: 'us',
    windowMs: result.summary.windowMs,
    count: h.count,
    min: us(h.min),
    mean: lat.mean,
    p50: lat.p50,
    p99: lat.p99,
    p999: lat.p999,
    max: lat.max,
    columns: LATENCY_BUCKET_COLUMNS,
  };
  const lines = Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  const buckets = h.valueBuckets().map(([lo, hi, n]) => '    ' + JSON.stringify([lo / 1000, hi / 1000, n]));
  return `{\n${lines.join('\n')}\n  "buckets": [${buckets.length > 0 ? `\n${buckets.join(',\n')}\n  ` : ''}]\n}\n`;
}

/**
 * Write every file of a run. The summary, metrics, time series and event log depend only on the
 * scenario and seed (byte-identical across repeats); everything about the host and the wall clock goes
 * to environment.json. `metricsProm`, the final metrics in Prometheus' text format (prometheus.ts: metricsText,
 * which is asynchronous), goes to metrics.prom when given.
 */
export function writeResults(
  dir: string,
  resolvedYaml: string,
  environment: Record<string, unknown>,
  result: RunResult,
  metricsProm?: string,
): ResultFiles {
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    ['scenario.resolved.yaml', resolvedYaml],
    ['environment.json', JSON.stringify(environment, null, 2) + '\n'],
    ['metrics.jsonl', result.samples.map((r) => JSON.stringify(r)).join('\n') + '\n'],
    ['timeseries.csv', timeseriesCsv(result.series)],
    ['summary.json', JSON.stringify(result.summary, null, 2) + '\n'],
    ['summary.csv', summaryCsv(result.summary)],
    ['events.jsonl', result.events.map((e) => JSON.stringify(e)).join('\n') + '\n'],
    ['latency.json', latencyJson(result)],
    ...(result.end.closedLoop !== null ? [['cwnd.csv', cwndCsv(result.end.closedLoop, sig)] as [string, string]] : []),
    ...(metricsProm !== undefined ? [[METRICS_FILE, metricsProm] as [string, string]] : []),
  ];
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return { dir, files: files.map(([n]) => n) };
}
