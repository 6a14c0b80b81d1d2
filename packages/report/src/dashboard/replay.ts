// A finished run's metrics.jsonl as the dashboard's samples, to replay it as it went (`splitnet dashboard --replay`).
import type { RunData } from '../load.js';
import type { DashboardSample } from './dashboard-view.js';

/**
 * One sample per metrics.jsonl row: its rates as they are, the busy time of each core summed from the rows' busy
 * fractions, and the events up to its time (a fault shows as it starts). metrics.jsonl has the drops' total, not
 * their reasons: a replay shows one bar until the end, where the summary's reasons are drawn.
 */
export function replaySamples(run: RunData): DashboardSample[] {
  const busyNs: Record<string, number> = {};
  let prevMs = 0;
  return run.samples.map((row) => {
    const cpu = row['cpu'] !== null && typeof row['cpu'] === 'object' ? (row['cpu'] as Record<string, unknown>) : {};
    for (const [core, frac] of Object.entries(cpu)) if (typeof frac === 'number') busyNs[core] = (busyNs[core] ?? 0) + frac * (row.tMs - prevMs) * 1e6;
    prevMs = row.tMs;
    const dropped = row['dropsTotal'];
    return {
      row,
      drops: { 'all reasons': typeof dropped === 'number' ? dropped : 0 },
      busyNs: { ...busyNs },
      events: run.events.filter((e) => e.t <= row.tMs * 1e6),
    };
  });
}
