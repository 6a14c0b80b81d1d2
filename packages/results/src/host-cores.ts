// A multi-host run's core names: each host's cores under its name (h1.dom0.worker0), so that the whole run names every core once.
import type { ActorReport } from '@splitnet/model';

/**
 * Host h's report with its cores named `h<h>.<core>`. Every host has a `dom0.nic0` and a `vm0.vcpu0` of its own: the
 * whole run's busy time (summary.json's top-level `cpu`, metrics.jsonl's, timeseries.csv's) would add them up under
 * one name, and a "core" busy 200 % of the time means nothing.
 */
export function coresOnHost(r: ActorReport, h: number): ActorReport {
  if (!('busy' in r) || r.busy === undefined) return r;
  const busy: Record<string, number> = {};
  for (const [core, ns] of Object.entries(r.busy)) busy[`h${h}.${core}`] = ns;
  return { ...r, busy };
}
