#!/usr/bin/env node
// splitnet command-line entry point: parses flags, reads files and the environment, prints; the work happens in the packages.
import type { Option } from 'commander';
import { Command, Help } from 'commander';
import { SplitnetError } from '@splitnet/model';
import { offeredCapOf } from '@splitnet/results';
import { loadScenarioFile, formatResolvedYaml } from '@splitnet/scenario';
import { formatRssLookup, rssLookup } from './rss-command.js';
import { faultCommand } from './fault-command.js';
import type { FaultFlags } from './fault-command.js';
import { defineActorCommand, definePartitionCommand } from './actor-commands.js';
import { cleanupCommand } from './cleanup-command.js';
import type { CleanupFlags } from './cleanup-command.js';
import { sweepCommand, type SweepFlags } from './sweep-command.js';
import { schemaCommand, type SchemaFlags } from './schema-command.js';
import { defineNatsConfigCommand } from './nats-config-command.js';
import { version } from './host.js';
import { ProcessLifetime } from './lifetime.js';
import { runAsEntry, runProgram } from './entry.js';
import { capNote, collect, collectList, defineRunCommand } from './run-command.js';

/** The program and its global help; the commands are added by the functions below it. */
function programBase(): Command {
  const program = new Command();
  program
    .name('splitnet')
    .description(
      'Emulate the Xen split-driver network datapath (NIC → netback → vRSS workers → netfront) to study virtual interrupt coalescing and virtual RSS.',
    )
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes (docs/cli.md):\n  0    success\n  1    the command failed: a run broke the accounting invariant, or something outside splitnet failed (NATS\n       unreachable, an actor process died, a disk full; the message says what to check), or a bug in splitnet\n       (the only case that prints a stack trace)\n  2    bad input: a scenario, flag or path, named in a one-line message\n  3    a live run completed but is invalid (lag above live.maxLag, or its NATS bus went down; results are written)\n  4    a live run completed but is tainted: its bus carried forged, refused or unexplained traffic (results are\n       written; summary.live.tainted says what was seen)\n  130  interrupted (Ctrl-C; 143: SIGTERM); a run keeps its results up to then, a sweep resumes when run again',
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
  return program;
}

function defineSweepCommand(program: Command, lifetime: ProcessLifetime): void {
  program
    .command('sweep')
    .description('Run a scenario over parameter axes and repetitions in sim on every core; resumable; writes a table of every run')
    .argument('<sweep>', 'sweep YAML file (see docs/sweeps.md and experiments/paper/)')
    .option('--out <dir>', 'output directory; running again with the same one resumes (default: results/sweeps/<name>)')
    .option('--jobs <n>', 'runs at once (default: the number of cores)')
    .option('--dry-run', 'check the sweep (every point compiled) and list its points; run nothing')
    .option('--json', 'print the outcome as JSON on stdout (no progress)')
    .option('-q, --quiet', 'no progress, only the results line')
    .addHelpText(
      'after',
      '\nExample:\n  splitnet sweep experiments/paper/coalescing-placement.yaml --out results/paper/coalescing-placement\n\nExit codes: 0 complete, 1 a run broke the accounting invariant, 2 bad input, 130 interrupted (143 by SIGTERM; run the same command again to resume).',
    )
    .action(async (file: string, flags: SweepFlags) => {
      process.exitCode = await sweepCommand(file, flags, lifetime.interruptSignal());
    });
}

function defineRssCommand(program: Command): void {
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
}

function defineFaultCommand(program: Command): void {
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
    .option('--id <id>', "name of the fault in the run's events (default adhoc-<n>)")
    .option('--timeout <s>', 'seconds to wait for the controller', '5')
    .option('--json', "print the controller's reply as JSON")
    .action(async (action: string, target: string, o: FaultFlags) => {
      process.exitCode = await faultCommand(action, target, o);
    });
}

function defineCleanupCommand(program: Command): void {
  program
    .command('cleanup')
    .description(
      "Kill what a live run left running on this machine (--run: from its results directory's processes.jsonl), and remove every container and network a docker placement left on a Docker engine (found by label)",
    )
    .option('--docker-host <url>', 'a Docker engine (default the local one); repeatable or comma-separated: clean each', collectList, [] as string[])
    .option(
      '--run <id>',
      'only what the run with this id left: its processes still running (pid and start time checked against results/<id>/processes.jsonl, so a reused pid is never killed) and its containers (label splitnet.run)',
    )
    .option('--results <dir>', "with --run: the run's results directory, when it was written elsewhere (run --out)")
    .addHelpText(
      'after',
      "\nExamples:\n  splitnet cleanup --run quickstart-s1-20261206-153703-rz2\n  splitnet cleanup --run demo --results /tmp/demo\n  splitnet cleanup                      # every docker-placed run's containers and networks",
    )
    .action(async (o: CleanupFlags) => {
      if (o.results !== undefined && o.run === undefined)
        throw new SplitnetError('E_USAGE', "--results: only with --run (it names where that run's results are)");
      for (const line of await cleanupCommand(o)) process.stdout.write(`${line}\n`);
    });
}

function defineReportCommand(program: Command): void {
  program
    .command('report')
    .description('Write a self-contained HTML report (SVG plots, scenario, environment) of a run or a sweep results directory')
    .argument('<results-dir>', 'a directory written by `splitnet run` (summary.json) or `splitnet sweep` (sweep.json)')
    .option('--out <file>', 'the HTML file to write (default: <results-dir>/report.html)')
    .option('--figures <dir>', 'also write every plot as a standalone .svg file into this directory')
    .option(
      '--error-bars <sd|ci95>',
      'sweeps: error bars show the standard deviation across repetitions (sd, default) or the 95% confidence interval of the mean (ci95)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  splitnet run examples/quickstart.yaml --out /tmp/q && splitnet report /tmp/q\n  splitnet report results/my-sweep --figures docs/figures',
    )
    .action(async (dir: string, o: { out?: string; figures?: string; errorBars?: string }) => {
      // Loaded on demand: every actor process of a live run starts this CLI and has no use for the plotting code.
      const { reportCommand } = await import('./report-command.js');
      const r = reportCommand(dir, o);
      for (const note of r.omitted) process.stderr.write(`splitnet: report: not drawn (no data): ${note}\n`);
      process.stdout.write(
        `splitnet: ${r.kind} report with ${r.figures} figure(s): ${r.html}${r.svgFiles.length > 0 ? ` (+ ${r.svgFiles.length} .svg in ${o.figures ?? ''})` : ''}\n`,
      );
    });
}

function defineDashboardCommand(program: Command, lifetime: ProcessLifetime): void {
  program
    .command('dashboard')
    .description("Serve the web dashboard of a finished run's results (the page `splitnet run --dashboard` ends on) until Ctrl-C")
    .argument('<results-dir>', 'a directory written by `splitnet run` (sim or live)')
    .option('--port <n>', 'the port to listen on (default 8470; 0: a free one, printed on stderr)')
    .option('--host <addr>', 'the address to listen on (default 127.0.0.1, this machine only; 0.0.0.0: every interface)')
    .option('--replay <seconds>', "first replay the run's samples as they came, over this many seconds, from when a page is opened; then its results")
    .addHelpText(
      'after',
      '\nExamples:\n  splitnet run examples/quickstart.yaml --out /tmp/q && splitnet dashboard /tmp/q --port 0\n  splitnet dashboard /tmp/q --replay 20',
    )
    .action(async (dir: string, o: { port?: string; host?: string; replay?: string }) => {
      // Loaded on demand, as the report is.
      const { dashboardCommand } = await import('./dashboard-command.js');
      await dashboardCommand(dir, o, lifetime.interruptSignal());
    });
}

function defineSchemaCommand(program: Command): void {
  program
    .command('schema')
    .description('Print the JSON Schema of scenario files, for editors that complete and check YAML (yaml-language-server, the VS Code YAML extension)')
    .option('--out <file>', 'write it to this file instead of stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  splitnet schema --out docs/scenario.schema.json\n  # then, as the first line of a scenario file: # yaml-language-server: $schema=<path to that file>',
    )
    .action((o: SchemaFlags) => {
      const to = schemaCommand(o, (text) => process.stdout.write(text));
      if (to !== 'stdout') process.stderr.write(`splitnet: wrote the scenario schema to ${to}\n`);
    });
}

function defineValidateCommand(program: Command): void {
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
      process.stderr.write(
        `splitnet: ${file}: ok (${n(s.traffic.flows.length, 'flow')}, ${n(s.topology.vms.length, 'VM')}, ${n(s.topology.workers, 'worker')})\n`,
      );
    });
}

function buildProgram(lifetime: ProcessLifetime): Command {
  const program = programBase();
  defineRunCommand(program, lifetime);
  defineSweepCommand(program, lifetime);
  defineRssCommand(program);
  defineActorCommand(program, lifetime);
  definePartitionCommand(program, lifetime);
  defineFaultCommand(program);
  defineCleanupCommand(program);
  defineReportCommand(program);
  defineDashboardCommand(program, lifetime);
  defineSchemaCommand(program);
  defineValidateCommand(program);
  defineNatsConfigCommand(program);
  return program;
}

export async function main(argv: readonly string[], lifetime = new ProcessLifetime()): Promise<number> {
  return runProgram(buildProgram(lifetime), argv, lifetime);
}

// Signals, exit and unhandled rejections are handled here and only here (lifetime.ts).
await runAsEntry(main);
