// Runs a compiled scenario in the deterministic sim runtime and produces the summary, time series and event log.
import { LatencyHistogram } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';
import { SimRuntime } from '@splitnet/runtime';
import type { CompiledScenario } from '@splitnet/scenario';
import { buildActors } from './build.js';
import { linkDelayFor } from './links.js';
import type { ActorGraph } from './build.js';
import { balance, combine, faultsSummary, sampleRow, seriesPoints, shownDrops, summarize } from '@splitnet/results';
import type { Accounting, FlowPlacement, PacketCapture, RunResult, SeriesPoint, Snapshot } from '@splitnet/results';
import { planSimFaults } from './fault-plan.js';
import type { SimFaultPlan } from './fault-plan.js';
import type { ActorReport } from '@splitnet/model';

export interface RunOptions {
  /** Called now and then with the emulated time reached (for progress displays). */
  readonly onProgress?: (done: Nanos, total: Nanos) => void;
  /** A packet capture (--pcap) the NIC and the front ends tell of their packets; its summary goes into the run's. */
  readonly capture?: PacketCapture;
}

/** Per flow, the NIC queue and the guest queue the graph steers it to: what a capture selects by and shows. */
function flowPlacement(g: ActorGraph): FlowPlacement {
  const st = g.steering;
  return { nicQueue: st.flowNicQueue, guestQueue: Array.from(st.flowGq, (gq) => st.gqQueue[gq] as number) };
}

/** Every actor's report at time t, combined. */
function snapshot(g: ActorGraph, t: Nanos, final = false): Snapshot {
  return combine(g.all.map((a) => a.report(t, final)), t);
}

/**
 * The snapshot of a run with faults: the runtime's current actors (restarted ones replace the
 * graph's), the frozen reports of killed incarnations (what they held is counted as lost-in-crash,
 * not held), and the packets the runtime itself dropped.
 */
function faultSnapshot(rt: SimRuntime, n: number, plan: SimFaultPlan, t: Nanos, final = false): Snapshot {
  const reports: ActorReport[] = [];
  // A killed actor not yet restarted is represented by its ghost alone (its frozen report at death).
  for (let i = 0; i < n; i++) if (!rt.isDown(i)) reports.push(rt.actor(i).report(t, final));
  for (const gh of plan.ghosts) {
    const r = gh.actor.report(gh.t, final); // final: a dead guest's latency samples count too
    // What a dead incarnation held is lost-in-crash, not held or in its ring any more; a dead NIC's
    // source frames are counted by its successor, which replays the wire.
    if (r.role === 'worker') reports.push({ ...r, held: 0, backlog: 0, queueBacklogs: [] });
    else if (r.role === 'frontend') reports.push({ ...r, held: 0, ringOccupancy: 0, queueRingOccupancy: [] });
    else if (r.role === 'nic') {
      const again = gh.emittedAgain ?? { frames: 0, bytes: 0 };
      reports.push({ ...r, held: 0, emitted: r.emitted - again.frames, emittedBytes: r.emittedBytes - again.bytes });
    } else reports.push({ ...r, held: 0 });
  }
  const snap = combine(reports, t);
  return { ...snap, drops: { ...snap.drops, 'link-drop': rt.linkDropped, 'lost-in-crash': snap.drops['lost-in-crash'] + rt.lostInCrash + plan.wire.lostWhileDown } };
}

function accounting(s: Snapshot, onLinks: number, withFaults = false): Accounting {
  return balance(s.emitted, s.delivered, shownDrops(s.drops, withFaults), { ...s.heldIn, links: onLinks });
}

export function runSim(s: CompiledScenario, opts: RunOptions = {}): RunResult {
  const capture = opts.capture;
  const g = buildActors(s, capture !== undefined ? { tap: capture } : {});
  capture?.begin(flowPlacement(g));
  const plan = s.faults.length > 0 ? planSimFaults(s, g) : null;
  const rt = new SimRuntime({ linkDelay: linkDelayFor(g, s), pool: g.pool, ...(plan?.linkFaults ? { linkFaults: plan.linkFaults } : {}) });
  g.all.forEach((actor, i) => {
    const ref = rt.add(actor);
    if (ref !== i) throw new Error('actor registration order broken');
  });
  const snap = plan === null ? (t: Nanos, final = false) => snapshot(g, t, final) : (t: Nanos, final = false) => faultSnapshot(rt, g.all.length, plan, t, final);

  const samples: Record<string, unknown>[] = [];
  const series: SeriesPoint[] = [];
  const inWindow: Snapshot[] = [];
  let prev = snap(0);
  // After every actor reported at t, every packet before t has passed the capture's points: write them.
  const flushCapture = (t: Nanos) => {
    if (capture?.flush(t) === true) rt.record('controller', 'pcap-stopped', { at: capture.stoppedAtNs, maxBytes: capture.maxBytes });
  };
  const hooks = {
    sampleInterval: s.sampleInterval,
    onSample: (t: Nanos) => {
      const cur = snap(t);
      flushCapture(t);
      samples.push(sampleRow(prev, cur));
      for (const p of seriesPoints(prev, cur)) series.push(p);
      if (t > s.warmup) inWindow.push(cur);
      prev = cur;
    },
  };
  rt.record('controller', 'run-start', { scenario: s.name, seed: s.seed, duration: s.duration });

  // Fault steps happen between events: run up to each one's instant, then apply it.
  const steps = plan?.steps ?? [];
  let next = 0;
  const runTo = (until: Nanos) => {
    while (next < steps.length && (steps[next] as { t: Nanos }).t < until) {
      const step = steps[next++] as (typeof steps)[number];
      rt.run(step.t, hooks);
      step.apply(rt);
    }
    rt.run(until, hooks);
  };

  // Run in slices so that progress can be shown; slices do not change the result.
  const slices = 50;
  let warmSnap: Snapshot | null = s.warmup === 0 ? snap(0) : null;
  for (let i = 1; i <= slices; i++) {
    const until = Math.round((s.duration * i) / slices);
    if (warmSnap === null && until >= s.warmup) {
      runTo(s.warmup);
      warmSnap = snap(s.warmup);
      rt.record('controller', 'warmup-end', {});
    }
    runTo(until);
    opts.onProgress?.(until, s.duration);
  }
  const end = snap(s.duration, true);
  flushCapture(Infinity);
  const acc = accounting(end, rt.inFlightOnLinks(), plan !== null);
  rt.record('controller', 'run-end', { balanced: acc.balanced, unaccounted: acc.unaccounted });
  let summary = summarize(s, warmSnap ?? snap(s.warmup), end, inWindow, acc);
  if (plan !== null) {
    const faults = faultsSummary({
      occurrences: plan.occurrences,
      events: rt.events,
      samples,
      end,
      messages: plan.linkFaults?.counts,
      interval: s.sampleInterval,
      warmup: s.warmup,
      runEnd: s.duration,
    });
    summary = { ...summary, faults };
  }
  if (capture !== undefined) summary = { ...summary, pcap: capture.finish() };
  return { summary, samples, series, events: rt.events, accounting: acc, latency: end.latency ?? new LatencyHistogram(), eventsProcessed: rt.eventsProcessed };
}
