// What a live run will cost this machine, said before it starts: its wall time and its actor processes per core; refused above the documented limits unless --force.
import { SplitnetError } from '@splitnet/model';
import { lagBound } from '@splitnet/controller';
import { liveGraphOf, processIdsOf, readyTimeoutMs, scenarioProcessGroups } from '@splitnet/live';
import { lagBoundText } from '@splitnet/results';
import type { CompiledScenario } from '@splitnet/scenario';

/**
 * Most actor processes per core a live run starts without --force (docs/live.md, "Budgets said up
 * front"). Each is a Node.js process of ~80–110 MB that takes about a second of CPU to start and then
 * wakes for every message and timer of its actors. Measured on this project's 2-core machine: 16
 * processes (8 per core) were ready in 8.6 s and ran a light load within the lag bound at TDF 100; 67
 * (33 per core, 64 VMs) drove the load average to 44, took 7.5 GB and never all became ready in 30 s.
 */
export const MAX_PROCESSES_PER_CORE = 8;

/**
 * Longest wall time a live run takes without --force (docs/live.md). Every example and experiment
 * in this repository runs live in seconds to minutes; a run of hours is more likely a slip (seconds for
 * milliseconds, a TDF meant for a shorter run) than an experiment, and sim runs the same scenario
 * deterministically in a fraction of that.
 */
export const MAX_WALL_HOURS = 1;

/** CPU seconds one actor process takes to start here (Node.js, the modules, the code warm-up). */
const START_CPU_SECONDS_PER_PROCESS = 1;

/** Memory one actor process holds (resident, measured with a light load), in GB. */
const GB_PER_PROCESS = 0.1;

/** What a live run will take. */
export interface LiveBudget {
  /** Wall seconds of emulated time: duration × TDF. */
  readonly runSeconds: number;
  /** Wall seconds before emulated time starts: the processes' start-up here, and live.startDelay. */
  readonly startSeconds: number;
  /** Actor processes on this machine (0 when they run elsewhere: placement external, or Docker engines elsewhere). */
  readonly processes: number;
  readonly cores: number;
  /** How long the controller waits for them to be ready (ms). */
  readonly readyTimeoutMs: number;
}

/** Whether the run's actor processes run on this machine, and how many OS processes they are. */
function localProcesses(s: CompiledScenario, remoteDocker: boolean): number {
  switch (s.live.placement) {
    case 'inprocess':
      return 1;
    case 'external':
      return 0;
    case 'docker':
      return remoteDocker ? 0 : scenarioProcessGroups(s).length;
    case 'processes':
      return scenarioProcessGroups(s).length;
  }
}

/** The budget of live run `s` on a machine with `cores` cores; `remoteDocker`: a docker run's engines are elsewhere. */
export function liveBudget(s: CompiledScenario, cores: number, remoteDocker: boolean): LiveBudget {
  const processes = localProcesses(s, remoteDocker);
  const launched = s.live.placement === 'processes' || s.live.placement === 'docker' ? processes : 1;
  return {
    runSeconds: (s.duration / 1e9) * s.live.tdf,
    startSeconds: (launched * START_CPU_SECONDS_PER_PROCESS) / Math.max(1, cores) + s.live.startDelay / 1e9,
    processes,
    cores,
    readyTimeoutMs: readyTimeoutMs(s, Math.max(1, launched), cores),
  };
}

/** `90 ms`, `20 s`, `12 min`, `100 h`: a time for people. */
export function humanTime(seconds: number): string {
  if (seconds < 1) return `${Number((seconds * 1000).toPrecision(3))} ms`;
  if (seconds < 120) return `${Number(seconds.toPrecision(3))} s`;
  if (seconds < 7200) return `${Number((seconds / 60).toPrecision(3))} min`;
  return `${Number((seconds / 3600).toPrecision(3))} h`;
}

/** The line said before a live run. */
export function budgetLine(s: CompiledScenario, b: LiveBudget): string {
  const emulated = humanTime(s.duration / 1e9);
  const procs =
    b.processes === 0
      ? 'its actor processes run elsewhere'
      : `${b.processes} actor process${b.processes === 1 ? '' : 'es'} on ${b.cores} core${b.cores === 1 ? '' : 's'} (${perCore(b)} per core, about ${(b.processes * GB_PER_PROCESS).toFixed(1)} GB)`;
  return `live run: ${emulated} emulated × TDF ${s.live.tdf} = ${humanTime(b.runSeconds)} of wall time, after about ${humanTime(b.startSeconds)} to start; ${procs}`;
}

/**
 * The line said before a live run about its verdict: the lag it must stay within, in emulated and in wall time
 * (what the host must achieve), and why that bound (docs/live.md, "The lag bound").
 */
export function lagBoundLine(s: CompiledScenario): string {
  const b = lagBound(s);
  return `valid if the p99 lag stays within ${b.us} µs emulated, ${humanTime((b.us * s.live.tdf) / 1e6)} of wall time at TDF ${s.live.tdf} (${lagBoundText(b)})`;
}

function perCore(b: LiveBudget): string {
  return String(Number((b.processes / Math.max(1, b.cores)).toFixed(1)));
}

/**
 * The refusal of a run above a limit, with what to do instead; undefined when it is within the limits.
 * `--force` skips it (the caller's decision).
 */
export function overBudget(s: CompiledScenario, b: LiveBudget): SplitnetError | undefined {
  const hours = b.runSeconds / 3600;
  if (hours > MAX_WALL_HOURS) {
    return new SplitnetError(
      'E_USAGE',
      `live run over budget: ${humanTime(s.duration / 1e9)} emulated at TDF ${s.live.tdf} takes ${humanTime(b.runSeconds)} of wall time, above the limit of ${MAX_WALL_HOURS} h (docs/live.md#budgets-said-up-front); shorten --duration, lower --tdf (the lag check says whether the host keeps up), or run it in sim (--runtime sim); add --force to run it anyway`,
    );
  }
  if (b.processes / Math.max(1, b.cores) > MAX_PROCESSES_PER_CORE) {
    const perDomain = processIdsOf(liveGraphOf(s), 'per-domain').length;
    const fits = perDomain / Math.max(1, b.cores) <= MAX_PROCESSES_PER_CORE;
    const instead = [
      '--placement inprocess (every actor in one process)',
      ...(s.live.processes !== 'per-domain' && fits ? [`--processes per-domain (${perDomain} processes, one per Xen domain)`] : []),
      'Docker nodes on more machines (--placement docker with a --docker-host per engine)',
    ];
    const still = s.live.processes !== 'per-domain' && !fits ? ` (--processes per-domain would still start ${perDomain})` : '';
    return new SplitnetError(
      'E_USAGE',
      `live run over budget: ${b.processes} actor processes on ${b.cores} cores is ${perCore(b)} per core, above the limit of ${MAX_PROCESSES_PER_CORE} (docs/live.md#budgets-said-up-front); they would take about ${humanTime(b.startSeconds)} to start and ${(b.processes * GB_PER_PROCESS).toFixed(1)} GB of memory. Instead: ${instead.slice(0, -1).join(', ')} or ${instead.at(-1) as string}${still}; add --force to run it anyway`,
    );
  }
  return undefined;
}
