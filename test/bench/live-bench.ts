// `npm run bench`, live part: emulated packets/s the live datapath sustains in real time, beside a raw NATS pipeline measured in the same run.
//
// Run: npx tsc -b && node test/dist/bench/live-bench.js
// Environment: BENCH_LIVE_MS (emulated ms per live run, default 300), BENCH_TDFS (TDFs to try in
// order while runs are invalid, default 1,5,20), BENCH_RT_MS (emulated ms per real-time run,
// default 8000, the last 40 % measured), BENCH_RT_GBPS (offered rates tried at TDF 1 with one process per actor, default 1,4,8,12,15),
// BENCH_RT_DOMAIN_GBPS (the same with one process per Xen domain, live.processes per-domain, default 8,15,22,30),
// BENCH_RT_DOMAIN_64B_MPPS (one process per Xen domain with 64-byte frames, offered M packets/s, default 1.5,2,2.5,3),
// BENCH_RT_REFINE (runs halving the step between the last sustained rate and the first that was not, default 2, 0 for none), BENCH_RAW_ROUNDS
// (default 3), BENCH_KEEP=1 keeps the live runs' result directories.
//
// The live runs go through the CLI exactly as a user would run them (`splitnet run … --runtime live
// --tdf N --json`): one OS process per actor over a private nats-server. A live figure only means
// something if the run was valid (its actors kept up with emulated time), so every run prints its
// lag and validity; when TDF 1 is invalid the bench tries larger TDFs and reports what they carried
// per emulated second and per wall second, never a rate scaled up by the TDF.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LiveProcesses } from '@splitnet/scenario';
import { findNatsServerBinary } from '@splitnet/transport/nats-server';
import { RAW_PIPELINE_DEFAULTS, formatRawRound, measureRawPipeline } from './raw-pipeline.js';

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
/** A suggested TDF is tried only if its run would take at most this long (the bench must stay short). */
const MAX_SUGGESTED_RUN_SECONDS = 30;

const cliMain = fileURLToPath(new URL('../../../packages/cli/dist/src/main.js', import.meta.url));

/** The issue's benchmark scenario: 1 VM, 4 queues, 4 workers, 1518-byte frames, offered above 1 M packets/s. */
const scenarioYaml = (durationMs: number, warmupMs: number): string => `name: bench-1vm-4q-4w
duration: ${durationMs}ms
warmup: ${warmupMs}ms
topology: { link: 40Gbps, vms: { count: 1, queues: 4 }, workers: 4, vrss: per-flow }
traffic: [ { flows: 64, rate: ${OFFERED_GBPS}Gbps, size: 1518 } ]
`;

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
topology: { link: 40Gbps, vms: { count: 1, queues: 4, ringSize: 32768 }, workers: 4, vrss: per-flow }
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

/** The parts of the CLI's `--json` summary this bench reads. */
interface LiveSummary {
  readonly throughput: { readonly pps: number; readonly gbps: number; readonly offeredGbps: number };
  readonly accounting: { readonly emitted: number; readonly delivered: number; readonly balanced: boolean; readonly dropped: Readonly<Record<string, number>> };
  readonly live: {
    readonly processes: number;
    readonly maxLagUs: number;
    readonly processingLagUs: { readonly p50: number; readonly p99: number; readonly max: number };
    readonly lagTrend: { readonly firstHalfP99Us: number; readonly secondHalfP99Us: number; readonly growing: boolean };
    readonly effectiveResolutionUs: number;
    readonly inputLatenessUs: { readonly p50: number; readonly p99: number; readonly max: number };
    readonly valid: boolean;
    readonly suggestedTdf?: number;
  };
}

/** What the actor processes' final log lines say about the run: CPU used, and the bus batching. */
interface ProcessTotals {
  readonly processes: number;
  readonly cpuMs: number;
  readonly frames: number;
  readonly envelopes: number;
  /** Envelopes the driver domain's process (NIC + back end) sent: its rx messages to the workers. */
  readonly backendEnvelopes: number;
}

function processTotals(outDir: string): ProcessTotals {
  let processes = 0;
  let cpuMs = 0;
  let frames = 0;
  let envelopes = 0;
  let backendEnvelopes = 0;
  let logs: string[] = [];
  try {
    logs = readdirSync(join(outDir, 'logs')).filter((f) => f.endsWith('.log') && f !== 'controller.log' && f !== 'nats-server.log');
  } catch {
    return { processes, cpuMs, frames, envelopes, backendEnvelopes };
  }
  for (const f of logs) {
    for (const line of readFileSync(join(outDir, 'logs', f), 'utf8').split('\n')) {
      if (!line.includes('"final report sent"')) continue;
      const j = JSON.parse(line) as { actor?: string; cpuMs?: number | null; framesSent?: number; envelopesSent?: number };
      processes++;
      cpuMs += j.cpuMs ?? 0;
      frames += j.framesSent ?? 0;
      envelopes += j.envelopesSent ?? 0;
      if ((j.actor ?? '').split('+').includes('backend')) backendEnvelopes += j.envelopesSent ?? 0;
    }
  }
  return { processes, cpuMs, frames, envelopes, backendEnvelopes };
}

interface LiveRun {
  readonly tdf: number;
  readonly summary: LiveSummary;
  readonly totals: ProcessTotals;
  /** The run proper, as the CLI measured it (environment.json: NATS server start to results). */
  readonly runWallSeconds: number;
  /** The CLI had not exited EXIT_GRACE_MS after printing its summary and was sent SIGTERM. */
  readonly lingerKilled: boolean;
}

/** A live run that failed (the CLI printed no summary) is reported and counts as not sustained; the bench goes on. */
async function failedAsUndefined(what: string, p: Promise<LiveRun>): Promise<LiveRun | undefined> {
  try {
    return await p;
  } catch (err) {
    console.log(`${what}: FAILED — ${(err instanceof Error ? err.message : String(err)).split('\n').slice(0, 3).join(' | ')}`);
    return undefined;
  }
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return v;
}

/** How long the CLI may take to exit by itself once its summary is out. */
const EXIT_GRACE_MS = 1000;

/**
 * One `splitnet run … --runtime live --tdf N --json`. Resolves once the summary is printed and the
 * process is gone: if it has not exited EXIT_GRACE_MS after its summary (nothing is left for it to
 * do by then: results are written before the summary), it is sent SIGTERM and that is reported.
 */
function runLive(scenarioFile: string, tdf: number, outDir: string, timeoutSeconds: number): Promise<LiveRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliMain, 'run', scenarioFile, '--runtime', 'live', '--tdf', String(tdf), '--out', outDir, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let summary: LiveSummary | undefined;
    let killedAfterSummary = false;
    let grace: ReturnType<typeof setTimeout> | undefined;
    const timeout = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutSeconds * 1e3);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (summary !== undefined || !stdout.trimEnd().endsWith('}')) return;
      try {
        summary = (JSON.parse(stdout) as { summary: LiveSummary }).summary;
      } catch {
        return; // not complete yet
      }
      grace = setTimeout(() => {
        killedAfterSummary = child.kill('SIGTERM');
      }, EXIT_GRACE_MS);
    });
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    child.once('error', (err) => {
      clearTimeout(timeout);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timeout);
      clearTimeout(grace);
      if (summary === undefined) {
        reject(new Error(`live run at TDF ${tdf} printed no summary (${signal ?? `exit code ${String(code)}`}); its stderr ends:\n${stderr}`));
        return;
      }
      let runWallSeconds = Number.NaN;
      try {
        runWallSeconds = (JSON.parse(readFileSync(join(outDir, 'environment.json'), 'utf8')) as { wallSeconds: number }).wallSeconds;
      } catch {
        // reported as NaN: the summary is still worth printing
      }
      resolve({
        tdf,
        summary,
        totals: processTotals(outDir),
        runWallSeconds,
        lingerKilled: killedAfterSummary,
      });
    });
  });
}

const M = (x: number): string => `${(x / 1e6).toFixed(2)} M`;
const ms = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us.toFixed(0)} µs`);
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** Packets delivered per second of wall time over the whole run (start-up, warm-up and drain included). */
function wallRate(r: LiveRun): number {
  return r.summary.accounting.delivered / r.runWallSeconds;
}

/** Mean packets per rx message of a live run: what the driver domain forwarded over the messages it sent. */
function liveRxBatch(r: LiveRun): number {
  const a = r.summary.accounting;
  const forwarded = a.emitted - (a.dropped['nic-ring-full'] ?? 0);
  return r.totals.backendEnvelopes > 0 ? Math.max(1, Math.round(forwarded / r.totals.backendEnvelopes)) : 0;
}

function describeRun(r: LiveRun): string[] {
  const s = r.summary;
  const l = s.live;
  const verdict = l.valid ? 'valid' : `INVALID (p99 lag > max ${ms(l.maxLagUs)}; suggested TDF ${String(l.suggestedTdf ?? '?')})`;
  const lines = [
    `  TDF ${String(r.tdf).padStart(3)}: ${verdict}; processing lag p50 ${ms(l.processingLagUs.p50)}, p99 ${ms(l.processingLagUs.p99)} ` +
      `(first half ${ms(l.lagTrend.firstHalfP99Us)}, second ${ms(l.lagTrend.secondHalfP99Us)}${l.lagTrend.growing ? ': GROWING' : ''}), max ${ms(l.processingLagUs.max)}; input lateness p99 ${ms(l.inputLatenessUs.p99)}`,
    `           ${M(s.throughput.pps)} emulated packets/s${l.valid ? '' : ' (not sustained: run invalid)'}; ` +
      `${s.accounting.delivered.toLocaleString('en-US')} of ${s.accounting.emitted.toLocaleString('en-US')} emitted delivered in ${r.runWallSeconds.toFixed(1)} s wall ` +
      `= ${(wallRate(r) / 1e3).toFixed(1)} k packets per wall second${s.accounting.balanced ? '' : '; ACCOUNTING UNBALANCED'}`,
  ];
  const p = r.totals;
  if (p.processes > 0) {
    lines.push(
      `           actor processes used ${(p.cpuMs / 1e3).toFixed(1)} s of CPU (${((p.cpuMs * 1e3) / Math.max(1, s.accounting.emitted)).toFixed(1)} µs per emitted packet, all ${p.processes} processes); ` +
        `${p.envelopes.toLocaleString('en-US')} envelopes in ${p.frames.toLocaleString('en-US')} NATS messages (${(p.envelopes / Math.max(1, p.frames)).toFixed(1)} per message)`,
    );
  }
  return lines;
}

// Long on purpose: the benchmark's one sequence of measurements, each printed as it is taken; nothing else calls it.
// eslint-disable-next-line max-lines-per-function -- the benchmark's one sequence (see above)
async function main(): Promise<number> {
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  let natsBinary: string;
  try {
    natsBinary = findNatsServerBinary(process.env['SPLITNET_NATS_SERVER'] ? { binary: process.env['SPLITNET_NATS_SERVER'] } : {});
  } catch (err) {
    console.log('');
    console.log(`splitnet live benchmark — SKIPPED: ${err instanceof Error ? err.message : String(err)} (or set SPLITNET_NATS_SERVER to its path)`);
    return 0;
  }
  let natsVersion = 'unknown version';
  try {
    natsVersion = execFileSync(natsBinary, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // the version is decoration; the server may still run
  }

  const durationMs = envNumber('BENCH_LIVE_MS', 300);
  const warmupMs = Math.round(durationMs / 3);
  const tdfs = (process.env['BENCH_TDFS'] ?? '1,5,20').split(',').map((x) => Number(x));
  if (tdfs.some((x) => !Number.isFinite(x) || x < 1)) throw new Error(`BENCH_TDFS must be a list of numbers ≥ 1, got '${process.env['BENCH_TDFS'] ?? ''}'`);
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

  // 2. The live datapath through the CLI, TDF 1 first; larger TDFs while runs are invalid.
  const work = mkdtempSync(join(tmpdir(), 'splitnet-live-bench-'));
  const runs: LiveRun[] = [];
  const rtRuns: LiveRun[] = [];
  const rtDomainRuns: LiveRun[] = [];
  const rtDomainSmallRuns: LiveRun[] = [];
  /** Real-time runs that were sustained (judged against the model's delivered rate at their offered rate). */
  const sustainedRuns = new Set<LiveRun>();
  try {
    const scenarioFile = join(work, 'bench-1vm-4q-4w.yaml');
    writeFileSync(scenarioFile, scenarioYaml(durationMs, warmupMs));
    console.log(
      `live: 1 VM × 4 queues, 4 vRSS workers, 40 GbE, 1518-byte frames at ${OFFERED_GBPS} Gbit/s (offered ${M(OFFERED_PPS)} packets/s), ${durationMs} ms emulated, warm-up ${warmupMs} ms, one process per actor:`,
    );
    const attempt = async (tdf: number): Promise<LiveRun | undefined> => {
      const r = await failedAsUndefined(`TDF ${String(tdf).padStart(3)}`, runLive(scenarioFile, tdf, join(work, `tdf-${tdf}`), (durationMs / 1e3) * tdf + 120));
      if (r === undefined) return undefined;
      runs.push(r);
      for (const line of describeRun(r)) console.log(line);
      return r;
    };
    let last: LiveRun | undefined;
    for (const tdf of tdfs) {
      last = await attempt(tdf);
      if (last?.summary.live.valid === true) break;
    }
    const suggested = last?.summary.live.suggestedTdf;
    if (last !== undefined && !last.summary.live.valid && suggested !== undefined && !tdfs.includes(suggested)) {
      const seconds = (durationMs / 1e3) * suggested;
      if (seconds <= MAX_SUGGESTED_RUN_SECONDS) await attempt(suggested);
      else
        console.log(`  (suggested TDF ${suggested} not run: ${seconds.toFixed(0)} s of wall time for ${durationMs} ms emulated is beyond this bench's budget)`);
    }

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
    await ladder({ processes: 'per-actor', frameBytes: 1518, unit: 'Gbit/s', rungs: rtRates, minStep: 0.5 }, rtRuns);
    await ladder({ processes: 'per-domain', frameBytes: 1518, unit: 'Gbit/s', rungs: rtDomainRates, minStep: 0.5 }, rtDomainRuns);
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
  const realTime = runs.find((r) => r.tdf === 1);
  const bestValid = runs.filter((r) => r.summary.live.valid).sort((a, b) => a.tdf - b.tdf)[0];
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
  if (realTime === undefined) {
    console.log('  no TDF 1 run in BENCH_TDFS at the default lag bound');
  } else {
    const pps = realTime.summary.throughput.pps;
    const ok = realTime.summary.live.valid && pps >= TARGET_PPS;
    const why = realTime.summary.live.valid ? '' : ' — the run was invalid, so the datapath did not sustain it in real time';
    console.log(
      `  live at TDF 1 with the default lag bound (live.maxLag auto: ${ms(realTime.summary.live.maxLagUs)}): ${M(pps)} emulated packets/s${why}; target ≥ ${M(TARGET_PPS)}/s: ${ok ? 'met' : 'below target'}`,
    );
    if (realTime.summary.live.valid) {
      const ratio = pps / rawRate;
      console.log(
        `  live / raw pipeline (same run): ${M(pps)} / ${M(rawRate)} = ${pct(ratio)}; target ≥ ${pct(TARGET_RAW_FRACTION)}: ${ratio >= TARGET_RAW_FRACTION ? 'met' : 'below target'}`,
      );
    } else {
      console.log(`  live / raw pipeline (same run): not measurable at TDF 1 (invalid); target ≥ ${pct(TARGET_RAW_FRACTION)} of ${M(rawRate)}/s: below target`);
    }
  }
  if (bestValid !== undefined && bestValid.tdf !== 1) {
    const window = bestValid.summary.throughput.pps / bestValid.tdf;
    console.log(
      `  smallest valid TDF tried: ${bestValid.tdf} — in real time that is ${(window / 1e3).toFixed(1)} k packets/s during the measured window ` +
        `(${pct(window / rawRate)} of raw), ${(wallRate(bestValid) / 1e3).toFixed(1)} k/s over the whole run (${pct(wallRate(bestValid) / rawRate)} of raw)`,
    );
  } else if (bestValid === undefined) {
    console.log('  no run was valid at the TDFs tried');
  }
  const all = [...runs, ...rtRuns, ...rtDomainRuns, ...rtDomainSmallRuns];
  const lingered = all.filter((r) => r.lingerKilled);
  if (lingered.length > 0) {
    console.log(
      `  note: the CLI had not exited ${EXIT_GRACE_MS / 1e3} s after printing its summary in ${lingered.length} of ${all.length} runs; ended with SIGTERM (not counted in any figure)`,
    );
  }
  return 0;
}

process.exitCode = await main();
