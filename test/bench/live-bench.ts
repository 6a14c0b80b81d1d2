// `npm run bench`, live part: emulated packets/s the live datapath sustains in real time, beside a raw NATS pipeline measured in the same run.
//
// Run: npx tsc -b && node test/dist/bench/live-bench.js (alone), or `npm run bench` (sim and live, and bench.json).
// Environment: BENCH_LIVE_MS (emulated ms of a strict run at its target TDF, default 300), BENCH_STRICT_RUN_S (wall
// seconds a strict run may take: larger TDFs run shorter, default 20), BENCH_STRICT_TRIES (runs per smallest-TDF
// search, default 4), BENCH_REMEDIES=0 (skip the remedies' searches), BENCH_RT_MS (emulated ms per real-time run,
// default 8000, the last 40 % measured), BENCH_RT_GBPS (offered rates tried at TDF 1 with one process per actor, default 1,4,8,12,15),
// BENCH_RT_DOMAIN_GBPS (the same with one process per Xen domain, live.processes per-domain, default 8,15,22,30),
// BENCH_RT_DOMAIN_64B_MPPS (one process per Xen domain with 64-byte frames, offered M packets/s, default 1.5,2,2.5,3),
// BENCH_RT_REFINE (runs halving the step between the last sustained rate and the first that was not, default 2, 0 for none), BENCH_RAW_ROUNDS
// (default 3), BENCH_KEEP=1 keeps the live runs' result directories, BENCH_STRICT=0 skips the wake-up floor and the strict
// searches, BENCH_RT_LADDERS names the real-time ladders to run (default per-actor,per-actor-64,per-domain,per-domain-64;
// BENCH_RT_ACTOR_64B_MPPS the per-actor 64-byte rungs, default 1,1.25,1.5,1.75): e.g.
// `BENCH_SIM=0 BENCH_LOCKSTEP=0 BENCH_STRICT=0 BENCH_RT_LADDERS=per-actor npm run bench` measures the eased per-actor figure and the raw pipeline alone.
//
// The live runs go through the CLI exactly as a user would run them (`splitnet run … --runtime live
// --tdf N --json`): one OS process per actor (or per Xen domain) over a private nats-server. A live figure only
// means something if the run was valid (its actors kept up with emulated time), so every run prints its lag and
// validity. Strict first: the smallest TDF at which the bench scenario is valid under the default lag rule, with
// where the lag comes from and what each remedy changes; then eased: real time with a 50 ms bound. Rates are per
// emulated second and per wall second, never scaled up by the TDF.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LiveProcesses } from '@splitnet/scenario';
import { findNatsServerBinary } from '@splitnet/transport/nats-server';
import { goalLines } from './bench-goals.js';
import type { LiveBenchRecord } from './bench-goals.js';
import { formatLagCauses, lagCauses } from './lag-causes.js';
import type { LagCauses } from './lag-causes.js';
import { cliMain, describeRun, envNumber, EXIT_GRACE_MS, failedAsUndefined, liveRxBatch, M, ms, pct, runLive } from './live-cli-run.js';
import type { LiveRun, LiveSummary } from './live-cli-run.js';
import { RAW_PIPELINE_DEFAULTS, formatRawRound, measureRawPipeline } from './raw-pipeline.js';
import { searchSmallestValidTdf, strictConfigs, strictText } from './strict-tdf.js';
import type { StrictOptions, StrictResult } from './strict-tdf.js';
import { measureWakeFloor } from './wake-floor.js';
import type { WakeFloor } from './wake-floor.js';

/** PERF.md targets for live: in real time (TDF 1, valid), and against the raw pipeline of the same batch size. */
const TARGET_PPS = 1_000_000;
const TARGET_RAW_FRACTION = 0.5;
/** PERF.md's raw pipeline baseline (another run, columnar, N = 64): for orientation only. */
const PERF_RAW_N64 = 3_280_000;
/**
 * The offered load: 1518-byte frames at 15 Gbit/s on a 40 GbE link, i.e. this many packets per
 * emulated second — above the 1 M target (10 GbE line rate at this size is only 0.81 M).
 */
const OFFERED_GBPS = 15;
const OFFERED_PPS = (OFFERED_GBPS * 1e9) / ((1518 + 20) * 8);
/**
 * The real-time (TDF 1) variant of the scenario, run at a ladder of offered rates. Two settings
 * differ from the scenario above, both because at TDF 1 every message crossing processes arrives
 * milliseconds late in emulated time (a wake-up and a NATS hop cost ~1 ms of wall time on this
 * machine, and wall time is emulated time at TDF 1):
 * - `maxLag: 50ms`: the bound the run is judged by. A run is *sustained* only if its p99 lag stays
 *   under it, its lag does not grow from the first half of the window to the second, and it
 *   delivers what sim delivers; the effective time resolution (printed) is then tens of ms.
 * - `ringSize: 32768` (the largest the scenario accepts): the guest rings must cover the ring-credit
 *   round trip (worker → front end → worker), which at TDF 1 is as late as the guest process lags —
 *   up to the 50 ms the bound allows. Xen's 256 slots cover 0.8 ms at 1.22 M packets/s over 4
 *   queues; 32768 cover 50 ms at 0.65 M packets/s per queue. With fewer, a guest process that lags
 *   within the bound overruns its ring (counted ring-full drops), and the ring, not the lag bound,
 *   would judge the run. (The ring size changes nothing in `sim` at these rates: its rings never fill.)
 */
const realTimeYaml = (durationMs: number, gbps: number, processes: LiveProcesses, frameBytes: number): string => `name: bench-rt-1vm-4q-4w
duration: ${durationMs}ms
warmup: ${Math.round(durationMs * 0.6)}ms
topology: { link: 40Gbps, vms: { count: 1, queues: 4, ringSize: 32768 }, workers: 4, vrss: per-flow, steering: flow-hash }
traffic: [ { flows: 64, rate: ${gbps}Gbps, size: ${frameBytes} } ]
live: { maxLag: 50ms, processes: ${processes} }
`;

/** Frames per second of `frameBytes`-byte frames at `gbps` on the wire (preamble and inter-frame gap, 20 bytes, included). */
const wirePps = (gbps: number, frameBytes: number): number => (gbps * 1e9) / ((frameBytes + 20) * 8);

/**
 * A real-time ladder: one grouping of processes, one frame size, its rungs in Gbit/s (full-size frames)
 * or in M packets/s (minimum-size frames, where Gbit/s figures are small and unhandy).
 */
interface Ladder {
  readonly processes: LiveProcesses;
  readonly frameBytes: number;
  readonly unit: 'Gbit/s' | 'M packets/s';
  readonly rungs: readonly number[];
  /** The refinement stops when the step would be smaller than this (in the ladder's unit). */
  readonly minStep: number;
}

/** A ladder rung's offered rate in Gbit/s (what the scenario's `rate` says). */
function rungGbps(l: Ladder, rung: number): number {
  return l.unit === 'Gbit/s' ? rung : (rung * 1e6 * (l.frameBytes + 20) * 8) / 1e9;
}

/**
 * Kept up in real time: valid, lag not growing, accounting exact, and delivering what the model delivers
 * (within 2 %): `modelGbps` is what `sim` delivers for the same scenario — the offered rate while the
 * emulated datapath has room, its capacity beyond (then sim drops the rest too, `backlog-full`).
 */
function sustained(s: LiveSummary, modelGbps: number): boolean {
  return s.live.valid && !s.live.lagTrend.growing && s.throughput.gbps >= 0.98 * modelGbps && s.accounting.balanced;
}

/**
 * What `sim` delivers (Gbit/s, measured window) for a scenario file: the model's answer, which live must match.
 * If sim cannot say (it failed), the offered rate stands in, which is the stricter rule, and the bench says so.
 */
function simGbps(file: string, offeredGbps: number): number {
  try {
    const out = execFileSync(process.execPath, [cliMain, 'run', file, '--runtime', 'sim', '--out', `${file}.sim`, '--json'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    return (JSON.parse(out) as { summary: LiveSummary }).summary.throughput.gbps;
  } catch (err) {
    console.log(`  (sim of ${file} failed, so the offered rate is the bar: ${(err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''})`);
    return offeredGbps;
  }
}

// Long on purpose: the benchmark's one sequence of measurements, each printed as it is taken; nothing else calls it.
// eslint-disable-next-line max-lines-per-function -- the benchmark's one sequence (see above)
export async function runLiveBench(): Promise<LiveBenchRecord | undefined> {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  let natsBinary: string;
  try {
    natsBinary = findNatsServerBinary(process.env['SPLITNET_NATS_SERVER'] ? { binary: process.env['SPLITNET_NATS_SERVER'] } : {});
  } catch (err) {
    console.log('');
    console.log(`splitnet live benchmark — SKIPPED: ${err instanceof Error ? err.message : String(err)} (or set SPLITNET_NATS_SERVER to its path)`);
    return undefined;
  }
  let natsVersion = 'unknown version';
  try {
    natsVersion = execFileSync(natsBinary, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // the version is decoration; the server may still run
  }

  const strictOpts: StrictOptions = {
    durationMs: envNumber('BENCH_LIVE_MS', 300),
    maxRunSeconds: envNumber('BENCH_STRICT_RUN_S', 20),
    minDurationMs: 10,
    maxTries: Math.round(envNumber('BENCH_STRICT_TRIES', 4)),
  };
  const remedies = process.env['BENCH_REMEDIES'] !== '0';
  const rawRounds = Math.round(envNumber('BENCH_RAW_ROUNDS', 3));
  const rtMs = envNumber('BENCH_RT_MS', 8000);
  const rtRefine = process.env['BENCH_RT_REFINE'] === '0' ? 0 : envNumber('BENCH_RT_REFINE', 2);
  const rates = (name: string, fallback: string): number[] => {
    const list = (process.env[name] ?? fallback).split(',').map((x) => Number(x));
    if (list.some((x) => !Number.isFinite(x) || x <= 0)) throw new Error(`${name} must be a list of positive numbers, got '${process.env[name] ?? ''}'`);
    return list;
  };
  const rtRates = rates('BENCH_RT_GBPS', '1,4,8,12,15');
  const rtDomainRates = rates('BENCH_RT_DOMAIN_GBPS', '8,15,22,30');
  const rtDomainSmallRates = rates('BENCH_RT_DOMAIN_64B_MPPS', '1.5,2,2.5,3');
  const rtActorSmallRates = rates('BENCH_RT_ACTOR_64B_MPPS', '1,1.25,1.5,1.75');
  const strictOn = process.env['BENCH_STRICT'] !== '0';
  const known = ['per-actor', 'per-actor-64', 'per-domain', 'per-domain-64'];
  const ladders = new Set((process.env['BENCH_RT_LADDERS'] ?? known.join(',')).split(',').map((x) => x.trim()));
  for (const l of ladders) {
    if (!known.includes(l)) throw new Error(`BENCH_RT_LADDERS: unknown ladder '${l}' (${known.join(', ')})`);
  }

  console.log('');
  console.log(`splitnet live benchmark — ${cpus().length} × ${cpu}, node ${process.version}, ${natsVersion} (GOMAXPROCS=1), loopback`);

  // 1. The raw pipeline: what NATS + our codec carry through three processes on this machine right now.
  const o = { ...RAW_PIPELINE_DEFAULTS, rounds: rawRounds };
  console.log(
    `raw 3-hop columnar pipeline A → B → C (3 processes, our codec, ${o.batch} descriptors/message, window ${o.window} messages), ` +
      `${o.rounds} × ${o.seconds} s after ${o.warmupSeconds} s warm-up each:`,
  );
  const raw = await measureRawPipeline(o, (r, i) => console.log(formatRawRound(r, i)), natsBinary);
  const rawRate = raw.descriptorsPerSec;
  console.log(`  raw pipeline, median                 ${M(rawRate)} descriptors/s   (reference, another run on a 2-core VM: ${M(PERF_RAW_N64)}/s)`);

  // 2. The strict verdict (issue 21, goal 2): the smallest TDF at which the bench scenario is valid under the
  // default lag rule, per actor and per domain, with the lag's causes and each remedy's effect, beside the
  // machine's wake-up floor measured now.
  const work = mkdtempSync(join(tmpdir(), 'splitnet-live-bench-'));
  const rtRuns: LiveRun[] = [];
  const rtDomainRuns: LiveRun[] = [];
  const rtDomainSmallRuns: LiveRun[] = [];
  const rtActorSmallRuns: LiveRun[] = [];
  /** Real-time runs that were sustained (judged against the model's delivered rate at their offered rate). */
  const sustainedRuns = new Set<LiveRun>();
  const strict: StrictResult[] = [];
  let causes: LagCauses | undefined;
  let floor: WakeFloor | undefined;
  try {
    if (strictOn) {
      console.log('wake-up floor of this machine now (test/bench/wake-floor.ts):');
      floor = await measureWakeFloor(500, natsBinary);
      console.log(
        `  a timer armed 50 µs ahead fires late by p50 ${ms(floor.timerLateUs.p50)}, p99 ${ms(floor.timerLateUs.p99)}; ` +
          `one NATS hop between idle processes (half a round trip) p50 ${ms(floor.natsHopUs.p50)}, p99 ${ms(floor.natsHopUs.p99)}`,
      );
      console.log(
        `strict: the bench scenario (1 VM × 4 queues, 4 vRSS workers, 40 GbE, 1518-byte frames at ${OFFERED_GBPS} Gbit/s, offered ${M(OFFERED_PPS)} packets/s) ` +
          `under the default lag rule (live.maxLag auto), from the issue's target TDF up the TDFs the runs suggest (${strictOpts.durationMs} ms emulated, less where a run would take over ${strictOpts.maxRunSeconds} s):`,
      );
      for (const c of strictConfigs(remedies)) {
        const r = await searchSmallestValidTdf(c, work, strictOpts, c.key === 'per-actor' || c.key === 'per-domain');
        strict.push(r);
        console.log(`  ${c.key} (${c.what}): ${strictText(r)}`);
        if (c.key === 'per-actor') {
          causes = lagCauses(r, floor);
          if (causes !== undefined) for (const line of formatLagCauses(causes, r)) console.log(line);
        }
      }
      const base = strict.find((r) => r.key === 'per-actor');
      if (base !== undefined && strict.length > 2) {
        console.log('  remedies, each against the default in this run (smallest valid TDF found; lower is better):');
        for (const r of strict) {
          if (r.key === 'per-actor') continue;
          console.log(`    ${r.key} (${r.what}): ${strictText(r)} vs per-actor ${strictText(base)}`);
        }
      }
    } else console.log('strict: skipped (BENCH_STRICT=0)');

    // 2b. Real time: the same datapath at TDF 1, rising offered rates until one is not sustained: with
    // one process per actor (the default) and with one process per Xen domain at 1518-byte frames, and
    // with one process per Xen domain at 64-byte frames (why: below).
    const modelAt = new Map<string, number>();
    const ladder = async (l: Ladder, into: LiveRun[]): Promise<void> => {
      const label = (rung: number): string =>
        l.unit === 'Gbit/s'
          ? `${rung} Gbit/s (${M(wirePps(rung, l.frameBytes))} packets/s)`
          : `${M(rung * 1e6)} packets/s (${rungGbps(l, rung).toFixed(2)} Gbit/s)`;
      console.log(
        `real time (TDF 1), live.processes ${l.processes}, ${l.frameBytes}-byte frames: the same scenario with ringSize 32768 and maxLag 50ms (see realTimeYaml), ${rtMs} ms emulated, the last 40 % measured (a fresh process needs seconds to settle); ` +
          `offered ${l.rungs.join(', ')} ${l.unit} until a rate is not sustained (valid, lag not growing, delivering what sim delivers for the same scenario):`,
      );
      const tryRate = async (rung: number): Promise<boolean> => {
        const gbps = rungGbps(l, rung);
        const key = `${l.frameBytes}-${rung}`;
        const file = join(work, `rt-${l.processes}-${key}.yaml`);
        writeFileSync(file, realTimeYaml(rtMs, gbps, l.processes, l.frameBytes));
        let model = modelAt.get(key);
        if (model === undefined) {
          // The offered L2 rate: `rate` counts preamble and inter-frame gap, throughput figures do not.
          model = simGbps(file, (gbps * l.frameBytes) / (l.frameBytes + 20));
          modelAt.set(key, model);
        }
        const r = await failedAsUndefined(`  offered ${label(rung)}`, runLive(file, 1, join(work, `rt-${l.processes}-${key}`), rtMs / 1e3 + 120));
        if (r === undefined) return false;
        into.push(r);
        const ok = sustained(r.summary, model);
        if (ok) sustainedRuns.add(r);
        const capped =
          model < 0.98 * r.summary.throughput.offeredGbps
            ? `; the model delivers ${M((model * 1e9) / (l.frameBytes * 8))} packets/s (sim: its capacity, the rest dropped there too)`
            : '';
        console.log(`  offered ${label(rung)}${capped}: ${ok ? 'sustained' : 'NOT sustained'}`);
        for (const line of describeRun(r)) console.log(line);
        return ok;
      };
      let below = 0;
      let above = Infinity;
      for (const rung of l.rungs) {
        if (await tryRate(rung)) below = rung;
        else {
          above = rung;
          break;
        }
      }
      // Narrow the step between the last sustained rate and the first that was not (halving it,
      // BENCH_RT_REFINE times, down to the ladder's smallest step), so the figure reported is not just the ladder's rung.
      for (let k = 0; k < rtRefine && above !== Infinity; k++) {
        const mid = Math.round((below + above) / 2 / l.minStep) * l.minStep;
        if (mid - below < l.minStep || above - mid < l.minStep) break;
        if (await tryRate(mid)) below = mid;
        else above = mid;
      }
    };
    // A third ladder uses 64-byte frames. The emulator carries packet descriptors (flow, sequence, length,
    // emission time), never payloads, so its host work per packet does not depend on the frame size; the
    // model's costs do (the grant copy's per-byte cost). At 1518 bytes the emulated datapath — four
    // netback workers near 0.4 M packets/s each — delivers at most ~1.57 M packets/s (sim), which one process
    // per domain reaches; at 64 bytes its capacity is ~3.6 M, so there the host, not the model, sets the limit.
    if (ladders.has('per-actor')) await ladder({ processes: 'per-actor', frameBytes: 1518, unit: 'Gbit/s', rungs: rtRates, minStep: 0.5 }, rtRuns);
    // Per actor too at 64 bytes: at 1518 the model's capacity (~1.19 M packets/s on this scenario) is below goal 3's 1.2 M.
    if (ladders.has('per-actor-64'))
      await ladder({ processes: 'per-actor', frameBytes: 64, unit: 'M packets/s', rungs: rtActorSmallRates, minStep: 0.125 }, rtActorSmallRuns);
    if (ladders.has('per-domain'))
      await ladder({ processes: 'per-domain', frameBytes: 1518, unit: 'Gbit/s', rungs: rtDomainRates, minStep: 0.5 }, rtDomainRuns);
    if (ladders.has('per-domain-64'))
      await ladder({ processes: 'per-domain', frameBytes: 64, unit: 'M packets/s', rungs: rtDomainSmallRates, minStep: 0.125 }, rtDomainSmallRuns);
  } finally {
    if (process.env['BENCH_KEEP'] === '1') console.log(`  (live results kept in ${work})`);
    else rmSync(work, { recursive: true, force: true });
  }

  // 3. The verdict against PERF.md's targets.
  const best = (list: readonly LiveRun[]) => list.filter((r) => sustainedRuns.has(r)).sort((a, b) => b.summary.throughput.pps - a.summary.throughput.pps)[0];
  const rtBest = best(rtRuns);
  const rtDomainBest = best(rtDomainRuns);
  // The raw pipeline's 64 descriptors per message is the NAPI budget; the back end splits each NIC batch
  // over the guest queues, so the live datapath's rx messages are smaller. The raw pipeline at that size
  // is printed beside (for the planner's reading of "the same batch size"; the verdict keeps N = 64).
  let rawAtLive: { batch: number; rate: number } | undefined;
  const liveBatch = rtBest === undefined ? 0 : liveRxBatch(rtBest);
  if (liveBatch >= 1 && liveBatch < o.batch) {
    console.log(`raw pipeline again at the sustained live run's mean rx message size, ${liveBatch} descriptors/message (reference):`);
    const r = await measureRawPipeline({ ...o, batch: liveBatch }, (x, i) => console.log(formatRawRound(x, i)), natsBinary);
    rawAtLive = { batch: liveBatch, rate: r.descriptorsPerSec };
  }
  console.log('verdict (targets for live: see docs/benchmark.md):');
  const verdictOf = (what: string, r: LiveRun): void => {
    const pps = r.summary.throughput.pps;
    const ratio = pps / rawRate;
    console.log(
      `  sustained in real time, ${what} (TDF 1, maxLag 50ms, lag p99 ${ms(r.summary.live.processingLagUs.p99)}, effective resolution ${ms(r.summary.live.effectiveResolutionUs)}): ${M(pps)} emulated packets/s; ` +
        `target ≥ ${M(TARGET_PPS)}/s: ${pps >= TARGET_PPS ? 'met' : 'below target'}`,
    );
    console.log(
      `  that / raw pipeline (same run): ${M(pps)} / ${M(rawRate)} = ${pct(ratio)}; target ≥ ${pct(TARGET_RAW_FRACTION)}: ${ratio >= TARGET_RAW_FRACTION ? 'met' : 'below target'}`,
    );
  };
  if (rtDomainBest !== undefined) {
    verdictOf(`one process per Xen domain, 1518-byte frames (live.processes per-domain: ${rtDomainBest.summary.live.processes} processes)`, rtDomainBest);
    // Beyond the emulated datapath's capacity the delivered figure is the model's, not the host's: say what the
    // host kept up with at the NIC (every frame emitted and accounted for, delivered as sim delivers).
    const handled = rtDomainRuns.filter((r) => sustainedRuns.has(r)).sort((a, b) => b.summary.throughput.offeredGbps - a.summary.throughput.offeredGbps)[0];
    if (handled !== undefined && handled.summary.throughput.gbps < 0.98 * handled.summary.throughput.offeredGbps) {
      const t = handled.summary.throughput;
      const arriving = (t.pps * t.offeredGbps) / t.gbps;
      console.log(
        `  for reference: at 1518-byte frames delivered is capped by the emulated datapath (four netback workers at ~0.4 M each; sim delivers the same), not by the host, ` +
          `which kept up with ${M(arriving)} frames/s arriving at the emulated NIC (${t.offeredGbps.toFixed(1)} Gbit/s offered, every frame emitted and accounted, as sim); the 64-byte runs measure the host`,
      );
    }
  } else if (rtDomainRuns.length > 0)
    console.log('  one process per Xen domain, 1518-byte frames: no offered rate was sustained in real time (TDF 1) at the rates tried');
  const rtDomainSmallBest = best(rtDomainSmallRuns);
  if (rtDomainSmallBest !== undefined) {
    verdictOf(`one process per Xen domain, 64-byte frames (the model's capacity is higher there, so the host sets the limit)`, rtDomainSmallBest);
  } else if (rtDomainSmallRuns.length > 0)
    console.log('  one process per Xen domain, 64-byte frames: no offered rate was sustained in real time (TDF 1) at the rates tried');
  if (rtBest !== undefined) {
    const pps = rtBest.summary.throughput.pps;
    verdictOf(`one process per actor, 1518-byte frames (the default: ${rtBest.summary.live.processes} processes)`, rtBest);
    if (rawAtLive !== undefined) {
      console.log(
        `  for reference, not the target's basis: raw pipeline at the live run's own rx messages (${rawAtLive.batch} descriptors each): ${M(rawAtLive.rate)}; ` +
          `live / that = ${pct(pps / rawAtLive.rate)}`,
      );
    }
  } else if (rtRuns.length > 0) {
    console.log('  one process per actor: no offered rate was sustained in real time (TDF 1) at the rates tried');
  }
  const rtActorSmallBest = best(rtActorSmallRuns);
  if (rtActorSmallBest !== undefined)
    verdictOf(`one process per actor, 64-byte frames (the model's capacity is higher there, so the host sets the limit)`, rtActorSmallBest);
  else if (rtActorSmallRuns.length > 0)
    console.log('  one process per actor, 64-byte frames: no offered rate was sustained in real time (TDF 1) at the rates tried');
  // 4. Issue 21's goals, strict beside eased: met / below, the value measured against the target.
  // Goal 3 on the per-actor run that carried the most: at 1518 bytes the model's capacity caps it, at 64 bytes the host.
  const rtGoal = [rtBest, rtActorSmallBest].filter((r) => r !== undefined).sort((a, b) => b.summary.throughput.pps - a.summary.throughput.pps)[0];
  const goals = goalLines({ strict, rtBest: rtGoal, rtFrameBytes: rtGoal === rtActorSmallBest ? 64 : 1518, rawRate });
  console.log('issue 21 goals (strict = the default lag rule, live.maxLag auto; eased = maxLag 50ms and rings of 32768):');
  for (const g of goals) console.log(`  ${g.text}`);
  const all = [...rtRuns, ...rtActorSmallRuns, ...rtDomainRuns, ...rtDomainSmallRuns];
  const lingered = all.filter((r) => r.lingerKilled);
  if (lingered.length > 0) {
    console.log(
      `  note: the CLI had not exited ${EXIT_GRACE_MS / 1e3} s after printing its summary in ${lingered.length} of ${all.length} runs; ended with SIGTERM (not counted in any figure)`,
    );
  }
  const strictRuns = strict.reduce((n, r) => n + r.tries.length, 0);
  const ladderRecord = (processes: LiveProcesses, frameBytes: number, list: readonly LiveRun[]) => ({
    processes,
    frameBytes,
    runs: list.map((r) => runRecord(r, sustainedRuns.has(r))),
    bestSustainedPps: best(list)?.summary.throughput.pps ?? null,
  });
  return {
    machine: { cpus: cpus().length, cpu, node: process.version, nats: natsVersion },
    raw: { batch: o.batch, rounds: raw.rounds, descriptorsPerSec: rawRate, ...(rawAtLive !== undefined ? { atLiveBatch: rawAtLive } : {}) },
    floor: floor ?? null,
    strict: { options: strictOpts, runs: strictRuns, configs: strict, causes: causes ?? null },
    realTime: {
      durationMs: rtMs,
      ladders: [
        ladderRecord('per-actor', 1518, rtRuns),
        ladderRecord('per-domain', 1518, rtDomainRuns),
        ladderRecord('per-domain', 64, rtDomainSmallRuns),
        ladderRecord('per-actor', 64, rtActorSmallRuns),
      ],
    },
    goals,
  };
}

/** A live run as bench.json keeps it. */
function runRecord(r: LiveRun, sustained: boolean): Record<string, unknown> {
  const s = r.summary;
  return {
    tdf: r.tdf,
    offeredGbps: s.throughput.offeredGbps,
    pps: s.throughput.pps,
    gbps: s.throughput.gbps,
    valid: s.live.valid,
    sustained,
    lagP99Us: s.live.processingLagUs.p99,
    lagGrowing: s.live.lagTrend.growing,
    maxLagUs: s.live.maxLagUs,
    effectiveResolutionUs: s.live.effectiveResolutionUs,
    emitted: s.accounting.emitted,
    delivered: s.accounting.delivered,
    balanced: s.accounting.balanced,
    wallSeconds: r.runWallSeconds,
    processes: r.totals.processes,
    cpuMs: r.totals.cpuMs,
    natsMessages: r.totals.frames,
    envelopes: r.totals.envelopes,
  };
}

/** Run as `node test/dist/bench/live-bench.js`: the live part alone (bench.js runs both parts and writes bench.json). */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runLiveBench();
}
