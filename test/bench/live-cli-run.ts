// A live run through the CLI as a user runs it (`splitnet run … --runtime live --tdf N --json`), and what the bench reads from it: summary, CPU, batching, diagnostics.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiagnosticsReport } from '@splitnet/live';

export const cliMain = fileURLToPath(new URL('../../../packages/cli/dist/src/main.js', import.meta.url));

/** The parts of the CLI's `--json` summary this bench reads. */
export interface LiveSummary {
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
    readonly lagBound?: { readonly us: number; readonly rule: string; readonly constant?: { readonly what: string; readonly us: number } };
  };
}

/** What the actor processes' final log lines say about the run: CPU used, and the bus batching. */
export interface ProcessTotals {
  readonly processes: number;
  readonly cpuMs: number;
  readonly frames: number;
  readonly envelopes: number;
  /** Envelopes the driver domain's process (NIC + back end) sent: its rx messages to the workers. */
  readonly backendEnvelopes: number;
  /** Per process, what SPLITNET_LIVE_DIAGNOSTICS measured (packages/live/src/live-diagnostics.ts), when the run asked. */
  readonly diagnostics: readonly { readonly process: string; readonly report: DiagnosticsReport }[];
}

export function processTotals(outDir: string): ProcessTotals {
  let processes = 0;
  let cpuMs = 0;
  let frames = 0;
  let envelopes = 0;
  let backendEnvelopes = 0;
  const diagnostics: { process: string; report: DiagnosticsReport }[] = [];
  let logs: string[] = [];
  try {
    logs = readdirSync(join(outDir, 'logs')).filter((f) => f.endsWith('.log') && f !== 'controller.log' && f !== 'nats-server.log');
  } catch {
    return { processes, cpuMs, frames, envelopes, backendEnvelopes, diagnostics };
  }
  for (const f of logs) {
    for (const line of readFileSync(join(outDir, 'logs', f), 'utf8').split('\n')) {
      if (!line.includes('"final report sent"')) continue;
      const j = JSON.parse(line) as { actor?: string; cpuMs?: number | null; framesSent?: number; envelopesSent?: number; diagnostics?: DiagnosticsReport };
      if (j.diagnostics !== undefined) diagnostics.push({ process: j.actor ?? f, report: j.diagnostics });
      processes++;
      cpuMs += j.cpuMs ?? 0;
      frames += j.framesSent ?? 0;
      envelopes += j.envelopesSent ?? 0;
      if ((j.actor ?? '').split('+').includes('backend')) backendEnvelopes += j.envelopesSent ?? 0;
    }
  }
  return { processes, cpuMs, frames, envelopes, backendEnvelopes, diagnostics };
}

export interface LiveRun {
  readonly tdf: number;
  readonly summary: LiveSummary;
  readonly totals: ProcessTotals;
  /** The run proper, as the CLI measured it (environment.json: NATS server start to results). */
  readonly runWallSeconds: number;
  /** The CLI had not exited EXIT_GRACE_MS after printing its summary and was sent SIGTERM. */
  readonly lingerKilled: boolean;
}

/** A live run that failed (the CLI printed no summary) is reported and counts as not sustained; the bench goes on. */
export async function failedAsUndefined(what: string, p: Promise<LiveRun>): Promise<LiveRun | undefined> {
  try {
    return await p;
  } catch (err) {
    console.log(`${what}: FAILED — ${(err instanceof Error ? err.message : String(err)).split('\n').slice(0, 3).join(' | ')}`);
    return undefined;
  }
}

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return v;
}

/** How long the CLI may take to exit by itself once its summary is out. */
export const EXIT_GRACE_MS = 1000;

/** What a run adds to the user's command: more flags (`--set live.codeWarmup=0ms`), more environment (actor processes inherit it). */
export interface LiveRunExtra {
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * One `splitnet run … --runtime live --tdf N --json`. Resolves once the summary is printed and the
 * process is gone: if it has not exited EXIT_GRACE_MS after its summary (nothing is left for it to
 * do by then: results are written before the summary), it is sent SIGTERM and that is reported.
 */
export function runLive(scenarioFile: string, tdf: number, outDir: string, timeoutSeconds: number, extra: LiveRunExtra = {}): Promise<LiveRun> {
  return new Promise((resolve, reject) => {
    const args = [cliMain, 'run', scenarioFile, '--runtime', 'live', '--tdf', String(tdf), '--out', outDir, '--json', ...(extra.args ?? [])];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...extra.env },
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

export const M = (x: number): string => `${(x / 1e6).toFixed(2)} M`;
export const ms = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : us >= 100 ? `${us.toFixed(0)} µs` : `${us.toFixed(1)} µs`);
export const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** Packets delivered per second of wall time over the whole run (start-up, warm-up and drain included). */
export function wallRate(r: LiveRun): number {
  return r.summary.accounting.delivered / r.runWallSeconds;
}

/** Mean packets per rx message of a live run: what the driver domain forwarded over the messages it sent. */
export function liveRxBatch(r: LiveRun): number {
  const a = r.summary.accounting;
  const forwarded = a.emitted - (a.dropped['nic-ring-full'] ?? 0);
  return r.totals.backendEnvelopes > 0 ? Math.max(1, Math.round(forwarded / r.totals.backendEnvelopes)) : 0;
}

export function describeRun(r: LiveRun): string[] {
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
