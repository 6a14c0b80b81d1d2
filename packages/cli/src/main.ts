#!/usr/bin/env node
// splitnet command-line entry point: parses flags, reads files and the environment, prints; the work happens in the packages.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Help, Option } from 'commander';
import { SplitnetError } from '@splitnet/model';
import { runSim } from '@splitnet/controller';
import { JOIN_ROLES } from '@splitnet/live';
import type { JoinRole } from '@splitnet/live';
import { formatSummary, offeredCapOf, writeResults } from '@splitnet/results';
import type { RunResult } from '@splitnet/results';
import { loadScenarioFile, formatResolvedYaml, MAX_SEED, parseDuration } from '@splitnet/scenario';
import type { CompiledScenario, ScenarioValue } from '@splitnet/scenario';
import { isValidRunId, newRunId } from '@splitnet/transport';
import { formatRssLookup, rssLookup } from './rss-command.js';
import { faultCommand } from './fault-command.js';
import type { FaultFlags } from './fault-command.js';
import { actorCommand, runLiveCommand } from './live-commands.js';
import { sweepCommand, type SweepFlags } from './sweep-command.js';
import { schemaCommand, type SchemaFlags } from './schema-command.js';
import { hostFacts, version } from './host.js';
import { classifyFailure, EXIT } from './failure.js';
import { ensureDirectory, resultsDirContents } from './out-path.js';

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

function parseSeed(v: string): number {
  // The scenario's rule for seed: (MAX_SEED), so that --seed and --set seed= accept the same numbers.
  if (!/^\d+$/.test(v) || Number(v) > MAX_SEED) {
    throw new SplitnetError('E_USAGE', `--seed: expected a whole number from 0 to ${MAX_SEED}, found "${v}"`);
  }
  return Number(v);
}

/** --join-window: a duration such as 2s or 500ms. */
function parseWindow(v: string | undefined): number {
  if (v === undefined) return 2000;
  const ns = parseDuration(v);
  if (ns === undefined || ns < 0) throw new SplitnetError('E_USAGE', `--join-window: expected a duration such as 2s or 500ms, found "${v}"`);
  return ns / 1e6;
}

/** --expect role=n (repeatable): the least number of actors of a role to wait for (placement external). */
function parseExpect(values: readonly string[]): Partial<Record<JoinRole, number>> | undefined {
  if (values.length === 0) return undefined;
  const out: Partial<Record<JoinRole, number>> = {};
  for (const v of values) {
    const m = /^([a-z]+)=(\d+)$/.exec(v);
    if (!m || !JOIN_ROLES.includes(m[1] as JoinRole) || Number(m[2]) < 1) {
      throw new SplitnetError('E_USAGE', `--expect: expected <role>=<n> with role ${JOIN_ROLES.join(', ')} and n ≥ 1, found "${v}"`);
    }
    out[m[1] as JoinRole] = Number(m[2]);
  }
  return out;
}

/** A repeatable option whose values may also be comma-separated (--docker-host a,b --docker-host c). */
function collectList(v: string, acc: string[]): string[] {
  return [...acc, ...v.split(',').map((x) => x.trim()).filter((x) => x !== '')];
}

function collect(v: string, acc: string[]): string[] {
  return [...acc, v];
}

interface RunFlags {
  seed?: number;
  duration?: string;
  out?: string;
  set: string[];
  json?: boolean;
  quiet?: boolean;
  runtime?: string;
  tdf?: string;
  nats?: string;
  placement?: string;
  processes?: string;
  runId?: string;
  joinWindow?: string;
  expect: string[];
  image: string;
  natsImage: string;
  dockerHost: string[];
  dockerAdvertise: string[];
  dockerBindAll?: boolean;
  dockerNodes: string;
  pack?: boolean;
  force?: boolean;
}

/**
 * The run flags that only some runs use, and which: refused when the run (its runtime and placement,
 * known once the scenario is loaded: `runtime: live` may come from the file) would silently ignore them.
 */
const SCOPED_RUN_FLAGS: readonly { readonly key: keyof RunFlags; readonly flag: string; readonly scope: 'live' | 'external' | 'docker' }[] = [
  { key: 'tdf', flag: '--tdf', scope: 'live' },
  { key: 'nats', flag: '--nats', scope: 'live' },
  { key: 'placement', flag: '--placement', scope: 'live' },
  { key: 'processes', flag: '--processes', scope: 'live' },
  { key: 'joinWindow', flag: '--join-window', scope: 'external' },
  { key: 'expect', flag: '--expect', scope: 'external' },
  { key: 'image', flag: '--image', scope: 'docker' },
  { key: 'natsImage', flag: '--nats-image', scope: 'docker' },
  { key: 'dockerHost', flag: '--docker-host', scope: 'docker' },
  { key: 'dockerAdvertise', flag: '--docker-advertise', scope: 'docker' },
  { key: 'dockerBindAll', flag: '--docker-bind-all', scope: 'docker' },
  { key: 'dockerNodes', flag: '--docker-nodes', scope: 'docker' },
  { key: 'pack', flag: '--pack', scope: 'docker' },
];

/** Refuse a flag given on the command line (`given`) that this run would ignore, naming what it needs. */
function checkScopedFlags(s: CompiledScenario, flags: RunFlags, given: (key: keyof RunFlags) => boolean): void {
  const thisRun = s.runtime === 'live' ? `this live run's placement is ${s.live.placement}` : 'this run is sim';
  for (const { key, flag: name, scope } of SCOPED_RUN_FLAGS) {
    if (!given(key)) continue;
    // As the user typed it: `--placement docker`, `--pack`.
    const value = flags[key];
    const flag = typeof value === 'string' ? `${name} ${value}` : Array.isArray(value) ? `${name} ${value.join(',')}` : name;
    if (scope === 'live' && s.runtime !== 'live') {
      throw new SplitnetError('E_USAGE', `${flag}: only for a live run (add --runtime live, or runtime: live in the scenario); ${thisRun}, which would ignore it`);
    }
    if (scope === 'external' && (s.runtime !== 'live' || s.live.placement !== 'external')) {
      throw new SplitnetError('E_USAGE', `${flag}: only for a live run with placement external (actors that join: --runtime live --placement external); ${thisRun}, which would ignore it`);
    }
    if (scope === 'docker' && (s.runtime !== 'live' || s.live.placement !== 'docker')) {
      throw new SplitnetError('E_USAGE', `${flag}: only for a live run with placement docker (--runtime live --placement docker); ${thisRun}, which would ignore it`);
    }
    if (key === 'nats' && s.live.placement === 'docker') {
      throw new SplitnetError('E_USAGE', `${flag}: the docker placement starts its own NATS servers and would ignore it; drop --nats`);
    }
  }
}

/** The live flags as scenario values, applied after --set; a problem with one names the flag as typed (`--tdf abc`). */
function liveFlagValues(flags: RunFlags): ScenarioValue[] {
  const out: ScenarioValue[] = [];
  const add = (flag: string, v: string | undefined, path: readonly string[], value: (v: string) => unknown = (x) => x): void => {
    if (v !== undefined) out.push({ label: `${flag} ${v}`, path, value: value(v) });
  };
  add('--runtime', flags.runtime, ['runtime']);
  // A number where the text is one, so that the scenario's rule (a number ≥ 1) says what is wrong with the rest.
  add('--tdf', flags.tdf, ['live', 'tdf'], (v) => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v));
  add('--nats', flags.nats, ['live', 'nats']);
  add('--placement', flags.placement, ['live', 'placement']);
  add('--processes', flags.processes, ['live', 'processes']);
  return out;
}

function progressPrinter(enabled: boolean): ((done: number, total: number) => void) | undefined {
  if (!enabled) return undefined;
  const t0 = Date.now();
  return (done, total) => {
    const frac = total > 0 ? done / total : 1;
    const width = 30;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, ' ');
    const secs = (Date.now() - t0) / 1000;
    process.stderr.write(`\r  [${bar}] ${(frac * 100).toFixed(0).padStart(3)}%  ${(done / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} ms emulated  ${secs.toFixed(1)} s`);
    if (done >= total) process.stderr.write('\n');
  };
}

async function runCommand(file: string, flags: RunFlags, given: (key: keyof RunFlags) => boolean): Promise<number> {
  let scenario = loadScenarioFile(file, {
    overrides: flags.set,
    values: liveFlagValues(flags),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(flags.duration !== undefined ? { duration: flags.duration } : {}),
  });
  const expect = parseExpect(flags.expect);
  checkScopedFlags(scenario, flags, given);
  if (expect?.worker !== undefined && scenario.live.processes === 'per-domain') {
    throw new SplitnetError('E_USAGE', `--expect worker=${expect.worker}: this run has one process per Xen domain (live.processes: per-domain), whose driver hosts the vRSS workers (topology.workers: ${scenario.topology.workers}); no worker joins, so drop --expect worker`);
  }
  const started = new Date();
  const runId = flags.runId ?? newRunId(`${scenario.name}-s${scenario.seed}-${stamp(started)}`, Math.floor(Math.random() * 0x10000));
  if (!isValidRunId(runId)) throw new SplitnetError('E_USAGE', `--run-id: expected letters, digits, '-' or '_' (at most 64), found "${runId}"`);
  let dir = flags.out ?? join('results', runId);
  if (flags.out === undefined) {
    for (let i = 2; existsSync(dir); i++) dir = join('results', `${runId}-${i}`);
  }
  // Checked and created before the run, which may take long: a bad --out is bad input, not a lost run.
  const outFlag = flags.out !== undefined ? '--out' : 'results directory';
  const there = resultsDirContents(dir, { resolvedYaml: formatResolvedYaml(scenario), runId });
  if (there.kind === 'other' && flags.force !== true) {
    throw new SplitnetError('E_USAGE', `${outFlag} ${dir}: ${there.description}; give a new or empty directory, or add --force to write into it anyway`);
  }
  ensureDirectory(outFlag, dir);
  const showProgress = !flags.quiet && !flags.json && process.stderr.isTTY === true;
  if (!flags.quiet && !flags.json) {
    process.stderr.write(`splitnet: running ${scenario.name} (${scenario.source}) for ${scenario.duration / 1e6} ms emulated, seed ${scenario.seed}\n`);
  }
  const cap = offeredCapOf(scenario);
  if (cap !== undefined && !flags.quiet) process.stderr.write(`splitnet: warning: ${capNote(cap)}\n`);
  const t0 = process.hrtime.bigint();
  const onProgress = progressPrinter(showProgress);
  let result: RunResult;
  if (scenario.runtime === 'live') {
    const resolvedFile = join(dir, 'scenario.resolved.yaml');
    writeFileSync(resolvedFile, formatResolvedYaml(scenario));
    const live = await runLiveCommand(scenario, {
      runId,
      dir,
      resolvedFile,
      quiet: flags.quiet === true || flags.json === true,
      joinWindowMs: parseWindow(flags.joinWindow),
      ...(expect ? { expect } : {}),
      docker: {
        image: flags.image,
        natsImage: flags.natsImage,
        nodes: Number(flags.dockerNodes),
        strategy: flags.pack ? 'pack' : 'spread',
        endpoints: flags.dockerHost,
        advertise: flags.dockerAdvertise,
        bindAll: flags.dockerBindAll === true,
      },
      ...(onProgress ? { onProgress } : {}),
    });
    result = live.result;
    scenario = live.scenario; // external placement sizes the scenario to the actors that joined
  } else {
    result = runSim(scenario, onProgress ? { onProgress } : {});
  }
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const environment = {
    ...hostFacts(),
    runtime: scenario.runtime,
    ...(scenario.runtime === 'live' ? { runId, tdf: scenario.live.tdf, placement: scenario.live.placement } : {}),
    seed: scenario.seed,
    scenarioFile: scenario.source,
    command: ['splitnet', ...process.argv.slice(2)],
    startedAt: started.toISOString(),
    wallSeconds: Number(wallSeconds.toFixed(3)),
    eventsProcessed: result.eventsProcessed,
    emulatedPacketsPerHostSecond: Math.round(result.accounting.emitted / wallSeconds),
  };
  const written = writeResults(dir, formatResolvedYaml(scenario), environment, result);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ dir: written.dir, summary: result.summary }, null, 2) + '\n');
  } else {
    process.stdout.write(formatSummary(result.summary) + '\n');
    process.stdout.write(`\nresults: ${written.dir}/ (${written.files.join(', ')})\n`);
    if (!flags.quiet) {
      process.stderr.write(`splitnet: ${wallSeconds.toFixed(2)} s wall, ${Math.round(result.accounting.emitted / wallSeconds).toLocaleString('en-US')} emulated packets per host second\n`);
    }
  }
  const a = result.accounting;
  const live = result.summary.live;
  if (live && !live.valid) {
    process.stderr.write(`splitnet: warning: run invalid: ${live.invalidReason ?? 'lag above maxLag'}; try --tdf ${live.suggestedTdf ?? 'higher'} (results kept in ${written.dir})\n`);
  }
  if (!a.balanced) {
    process.stderr.write(
      `splitnet: error: accounting invariant broken: emitted ${a.emitted} ≠ delivered ${a.delivered} + dropped ${JSON.stringify(a.dropped)} + in flight ${JSON.stringify(a.inFlight)} (unaccounted ${a.unaccounted})\n`,
    );
    return EXIT.failed;
  }
  return live && !live.valid ? EXIT.invalidLiveRun : EXIT.ok;
}

/** The traffic asks for more than the link carries: said before the run and in the summary (throughput.offeredCapped). */
function capNote(cap: { readonly requestedGbps: number; readonly linkGbps: number }): string {
  return `the traffic asks for ${cap.requestedGbps} Gbit/s on the wire but topology.link is ${cap.linkGbps} Gbit/s: it is offered at line rate, the rest is never sent (summary.throughput.offeredCapped)`;
}

function buildProgram(): Command {
  const program = new Command();
  program
    .name('splitnet')
    .description('Emulate the Xen split-driver network datapath (NIC → netback → vRSS workers → netfront) to study virtual interrupt coalescing and virtual RSS.')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes (docs/cli.md):\n  0    success\n  1    the command failed: a run broke the accounting invariant, or something outside splitnet failed (NATS\n       unreachable, an actor process died, a disk full; the message says what to check), or a bug in splitnet\n       (the only case that prints a stack trace)\n  2    bad input: a scenario, flag or path, named in a one-line message\n  3    a live run completed but is invalid (lag above live.maxLag; results are written)\n  130  interrupted (Ctrl-C); a sweep resumes when run again',
    )
    // Repeatable options start from an empty list; "(default: [])" in --help would say nothing useful.
    .configureHelp({
      optionDescription(this: Help, option: Option): string {
        const empty = Array.isArray(option.defaultValue) && (option.defaultValue as unknown[]).length === 0;
        const shown = empty ? Object.assign(Object.create(Object.getPrototypeOf(option) as object) as Option, option, { defaultValue: undefined }) : option;
        return Help.prototype.optionDescription.call(this, shown);
      },
    })
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`splitnet: error: ${str.replace(/^error: /, '')}`) });

  program
    .command('run')
    .description('Run a scenario in the deterministic sim runtime and write results/<run-id>/')
    .argument('<scenario>', 'scenario YAML file (see examples/ and docs/scenario-reference.md)')
    .addOption(new Option('--seed <n>', 'override the scenario seed').argParser(parseSeed))
    .option('--duration <time>', 'override the emulated duration, e.g. 20ms, 1s')
    .option('--out <dir>', 'write results to this directory (default: results/<run-id>); it must be new, empty, or hold a run of the same resolved scenario')
    .option('--force', 'write into an --out directory that holds other files (files of the same names are overwritten, the others are left as they are)')
    .option('--set <path=value>', 'override a scenario value, e.g. --set topology.workers=2 (repeatable)', collect, [] as string[])
    .option('--json', 'print the summary as JSON on stdout (no table, no progress)')
    .option('-q, --quiet', 'print only the summary table')
    .option('--runtime <sim|live>', 'sim (deterministic, one process) or live (every actor its own process over NATS)')
    .option('--tdf <n>', 'live: time dilation factor (emulated time runs n times slower than wall time)')
    .option('--nats <url>', 'live: use this NATS server instead of starting a private nats-server')
    .option('--placement <processes|inprocess|external|docker>', 'live: one OS process per actor (default), all in this process, actors started elsewhere that join, or containers')
    .option('--processes <per-actor|per-domain>', 'live: one process per actor (default), or one per Xen domain (the driver domain: NIC, back end and vRSS workers; each guest), so that only guest traffic crosses the bus; with placement external or docker the driver process then hosts the workers and none joins as --role worker')
    .option('--run-id <id>', 'the run id: names results/<run-id>/ and, live, namespaces the run\'s NATS subjects (default: derived from the scenario, seed and time)')
    .option('--join-window <time>', 'live, placement external: close registration after this much quiet once every role joined (default 2s)')
    .option('--expect <role=n>', 'live, placement external: wait for at least n actors of a role (driver, worker, frontend) before the join window counts, e.g. --expect frontend=4 (repeatable)', collect, [] as string[])
    .option('--image <ref>', 'live, placement docker: the splitnet image (never pulled)', 'splitnet:latest')
    .option('--nats-image <ref>', 'live, placement docker: the nats-server image (never pulled)', 'nats:2-alpine')
    .option('--docker-host <url>', 'live, placement docker: a Docker engine (unix:///path or tcp://host:port; default the local one); repeatable or comma-separated: each engine is one node', collectList, [] as string[])
    .option('--docker-advertise <addr>', 'live, placement docker: per --docker-host in order, an address of its host that the other engines and this controller reach; its NATS ports are published there (default: the tcp:// host; an engine on this machine: 127.0.0.1 when alone, else its bridge gateway)', collectList, [] as string[])
    .option('--docker-bind-all', 'live, placement docker: publish the NATS ports on every interface (0.0.0.0) instead of the advertised address (e.g. behind NAT)')
    .option('--docker-nodes <n>', 'live, placement docker: emulated nodes on one engine, each its own network and NATS server, clustered', '1')
    .option('--pack', 'live, placement docker: fill node 0 first instead of spreading VMs and workers over the nodes')
    .addHelpText(
      'after',
      '\nExamples:\n  splitnet run examples/quickstart.yaml\n  splitnet run examples/vrss-per-flow.yaml --set topology.workers=2 --duration 20ms\n  splitnet run examples/coalescing-frontend.yaml --seed 7 --json\n\nLive mode (actors as processes over NATS; see the README):\n  splitnet run examples/quickstart.yaml --runtime live --tdf 100\n  splitnet run examples/quickstart.yaml --runtime live --tdf 100 --placement docker --image splitnet\n  splitnet run examples/quickstart.yaml --runtime live --tdf 200 --placement docker --image splitnet \\\n      --docker-host tcp://10.0.0.2:2376 --docker-host tcp://10.0.0.3:2376      # one node per engine\n\nEnvironment (live): SPLITNET_NATS_USER, SPLITNET_NATS_PASSWORD, SPLITNET_NATS_CA (see splitnet actor --help);\nDOCKER_TLS_VERIFY=1 / DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) for tcp:// engines, as the docker CLI reads them.\n\nLive-only flags (--tdf, --nats, --placement, --processes; --join-window and --expect for placement external; --image,\n--nats-image and --docker-* and --pack for placement docker) are refused on a run that would ignore them.\n\nExit codes: 0 success, 1 the run failed (accounting invariant broken, an actor process died, NATS unreachable, a bug),\n2 bad input (scenario, flag or path), 3 a live run was invalid (lag above maxLag), 130 interrupted (see docs/cli.md).',
    )
    .action(async (file: string, flags: RunFlags, cmd: Command) => {
      process.exitCode = await runCommand(file, flags, (key) => cmd.getOptionValueSource(key) === 'cli');
    });

  program
    .command('sweep')
    .description('Run a scenario over parameter axes and repetitions in sim on every core; resumable; writes a table of every run')
    .argument('<sweep>', 'sweep YAML file (see docs/sweeps.md and experiments/paper/)')
    .option('--out <dir>', 'output directory; running again with the same one resumes (default: results/sweeps/<name>)')
    .option('--jobs <n>', 'runs at once (default: the number of cores)')
    .option('--dry-run', 'check the sweep (every point compiled) and list its points; run nothing')
    .option('--json', 'print the outcome as JSON on stdout (no progress)')
    .option('-q, --quiet', 'no progress, only the results line')
    .addHelpText('after', '\nExample:\n  splitnet sweep experiments/paper/coalescing-placement.yaml --out results/paper/coalescing-placement\n\nExit codes: 0 complete, 1 a run broke the accounting invariant, 2 bad input, 130 interrupted (run the same command again to resume).')
    .action(async (file: string, flags: SweepFlags) => {
      process.exitCode = await sweepCommand(file, flags);
    });

  program
    .command('rss')
    .description('Show the Toeplitz RSS hash of a flow and the queue the indirection table picks (like ethtool -x)')
    .argument('<src>', 'source IPv4 or IPv6 address')
    .argument('<dst>', 'destination IPv4 or IPv6 address')
    .option('--sport <port>', 'source port (with --dport: hash the 4-tuple, IPv4/6+TCP)')
    .option('--dport <port>', 'destination port')
    .option('--key <hex>', 'RSS key, 40 bytes hex (plain or colon-separated); default: the Microsoft default key')
    .option('--queues <n>', 'queues the indirection table spreads over', '4')
    .option('--reta-size <n>', 'indirection table entries (power of two ≤ 128)', '128')
    .option('--json', 'print JSON for scripts')
    .addHelpText('after', '\nExample:\n  splitnet rss 66.9.149.187 161.142.100.80 --sport 2794 --dport 1766 --queues 4')
    .action((src: string, dst: string, o: { sport?: string; dport?: string; key?: string; queues: string; retaSize: string; json?: boolean }) => {
      const r = rssLookup({
        src,
        dst,
        queues: o.queues,
        retaSize: o.retaSize,
        ...(o.sport !== undefined ? { sport: o.sport } : {}),
        ...(o.dport !== undefined ? { dport: o.dport } : {}),
        ...(o.key !== undefined ? { key: o.key } : {}),
      });
      process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : formatRssLookup(r) + '\n');
    });

  program
    .command('actor')
    .description('Host actors of a live run (started by `splitnet run --runtime live`; not usually typed by hand)')
    .requiredOption('--run <id>', 'run id (namespaces the NATS subjects)')
    .requiredOption('--nats <url>', 'NATS server URL')
    .option('--scenario <file>', 'the resolved scenario of the run (with --id; a restart without it asks the controller for it)')
    .option('--id <actor>', 'actor id to host, e.g. nic, backend, worker.0, vm.1 (repeatable; with --scenario, or with --incarnation ≥ 1 as a restart the controller expects)', collect, [] as string[])
    .option('--role <role>', 'join a run started elsewhere as driver (NIC + back-end; with live.processes per-domain also the vRSS workers), worker or frontend: the controller assigns the ids and sends the scenario')
    .option('--queues <n>', 'with --role frontend: the queues this VM asks for, one per vCPU (1–64); it gets min(n, the back-end\'s maximum: the workers with per-flow vRSS, else 1), as netfront negotiates multi-queue-num-queues; default: the scenario\'s topology.vms.queues for its VM')
    .option('--log <file>', 'JSON log file')
    .option('--incarnation <n>', 'how many times these actors were restarted (a restarted process rejoins the running run)', '0')
    .addHelpText('after', '\nEnvironment: SPLITNET_NATS_USER and SPLITNET_NATS_PASSWORD (the role\'s NATS credentials), SPLITNET_NATS_CA (the PEM\nfile of a private CA that signed the NATS servers\' certificates; implies TLS, as a tls:// URL does).\n\nExamples (a VM joining a run started elsewhere; one with 4 vCPUs):\n  splitnet actor --run demo --nats tls://nats-1:4222 --role frontend\n  splitnet actor --run demo --nats tls://nats-1:4222 --role frontend --queues 4')
    .action(async (o: { run: string; nats: string; scenario?: string; id: string[]; log?: string; incarnation: string; role?: string; queues?: string }) => {
      process.exitCode = await actorCommand((f) => loadScenarioFile(f), o);
    });

  program
    .command('fault')
    .description('Inject a fault into a running live emulation over its control plane and print what happened (actions and targets: docs/faults.md)')
    .argument('<action>', 'e.g. kill, pause, lose-notifications, stop-polling, slow-worker, link-flap, corrupt-ring-index, nats-restart')
    .argument('<target>', 'e.g. worker:1, vm:0:queue:1, nic, nats')
    .requiredOption('--run <id>', 'run id of the live emulation (splitnet run --run-id)')
    .requiredOption('--nats <url>', 'its NATS server URL')
    .option('--duration <d>', 'how long the fault lasts (e.g. 5ms emulated)')
    .option('--probability <p>', 'chance per notification / message (0 < p ≤ 1)')
    .option('--delay <d>', 'added delay (e.g. 100us)')
    .option('--factor <k>', 'CPU cost multiplier of slow-worker')
    .option('--packets <n>', 'frames of a ring-full storm')
    .option('--size <bytes>', 'frame size of a ring-full storm')
    .option('--offset <n>', 'how far past a ring a corrupted index points')
    .option('--id <id>', 'name of the fault in the run\'s events (default adhoc-<n>)')
    .option('--timeout <s>', 'seconds to wait for the controller', '5')
    .option('--json', 'print the controller\'s reply as JSON')
    .action(async (action: string, target: string, o: FaultFlags) => {
      process.exitCode = await faultCommand(action, target, o);
    });

  program
    .command('cleanup')
    .description('Remove every container and network a splitnet docker placement left on a Docker engine (found by label)')
    .option('--docker-host <url>', 'a Docker engine (default the local one); repeatable or comma-separated: clean each', collectList, [] as string[])
    .option('--run <id>', 'only what the run with this id left (label splitnet.run), not every run\'s')
    .action(async (o: { dockerHost: string[]; run?: string }) => {
      // Loaded on demand: dockerode is heavy, and most commands (and every actor process) never need it.
      const { cleanupAll } = await import('@splitnet/docker');
      const n = await cleanupAll(o.dockerHost, o.run);
      process.stdout.write(`splitnet: removed ${n} container(s)/network(s) labelled ${o.run !== undefined ? `splitnet.run=${o.run}` : 'splitnet.managed'}\n`);
    });

  program
    .command('report')
    .description('Write a self-contained HTML report (SVG plots, scenario, environment) of a run or a sweep results directory')
    .argument('<results-dir>', 'a directory written by `splitnet run` (summary.json) or `splitnet sweep` (sweep.json)')
    .option('--out <file>', 'the HTML file to write (default: <results-dir>/report.html)')
    .option('--figures <dir>', 'also write every plot as a standalone .svg file into this directory')
    .option('--error-bars <sd|ci95>', 'sweeps: error bars show the standard deviation across repetitions (sd, default) or the 95% confidence interval of the mean (ci95)')
    .addHelpText('after', '\nExamples:\n  splitnet run examples/quickstart.yaml --out /tmp/q && splitnet report /tmp/q\n  splitnet report results/my-sweep --figures docs/figures')
    .action(async (dir: string, o: { out?: string; figures?: string; errorBars?: string }) => {
      // Loaded on demand: every actor process of a live run starts this CLI and has no use for the plotting code.
      const { reportCommand } = await import('./report-command.js');
      const r = reportCommand(dir, o);
      for (const note of r.omitted) process.stderr.write(`splitnet: report: not drawn (no data): ${note}\n`);
      process.stdout.write(`splitnet: ${r.kind} report with ${r.figures} figure(s): ${r.html}${r.svgFiles.length > 0 ? ` (+ ${r.svgFiles.length} .svg in ${o.figures ?? ''})` : ''}\n`);
    });

  program
    .command('schema')
    .description('Print the JSON Schema of scenario files, for editors that complete and check YAML (yaml-language-server, the VS Code YAML extension)')
    .option('--out <file>', 'write it to this file instead of stdout')
    .addHelpText('after', '\nExamples:\n  splitnet schema --out docs/scenario.schema.json\n  # then, as the first line of a scenario file: # yaml-language-server: $schema=<path to that file>')
    .action((o: SchemaFlags) => {
      const to = schemaCommand(o, (text) => process.stdout.write(text));
      if (to !== 'stdout') process.stderr.write(`splitnet: wrote the scenario schema to ${to}\n`);
    });

  program
    .command('validate')
    .description('Check a scenario file and print it with every default filled in')
    .argument('<scenario>', 'scenario YAML file')
    .option('--set <path=value>', 'override a scenario value (repeatable)', collect, [] as string[])
    .action((file: string, o: { set: string[] }) => {
      const s = loadScenarioFile(file, { overrides: o.set });
      process.stdout.write(formatResolvedYaml(s));
      const cap = offeredCapOf(s);
      if (cap !== undefined) process.stderr.write(`splitnet: warning: ${capNote(cap)}\n`);
      const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
      process.stderr.write(`splitnet: ${file}: ok (${n(s.traffic.flows.length, 'flow')}, ${n(s.topology.vms.length, 'VM')}, ${n(s.topology.workers, 'worker')})\n`);
    });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" to commander; everything else is bad usage (commander printed it)
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.badInput;
    }
    // Bad input and operational failures are one line; only a bug shows its stack (failure.ts).
    const failure = classifyFailure(err);
    process.stderr.write(`${failure.text}\n`);
    return failure.exitCode;
  }
}

// A reader that goes away (`splitnet run … | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await main(process.argv.slice(2));
