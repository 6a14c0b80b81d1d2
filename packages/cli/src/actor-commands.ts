// The `actor` and `partition` commands: the processes a live or lockstep run starts (main.ts and actor-main.ts both define them).
import type { Command } from 'commander';
import { loadScenarioFile } from '@splitnet/scenario';
import { actorCommand } from './actor-command.js';
import { collect } from './list-flags.js';
import type { ProcessLifetime } from './lifetime.js';

export function defineActorCommand(program: Command, lifetime: ProcessLifetime): void {
  program
    .command('actor')
    .description('Host actors of a live run (started by `splitnet run --runtime live`; not usually typed by hand)')
    .requiredOption('--run <id>', 'run id (namespaces the NATS subjects)')
    .requiredOption('--nats <url>', 'NATS server URL')
    .option('--scenario <file>', 'the resolved scenario of the run (with --id; a restart without it asks the controller for it)')
    .option(
      '--id <actor>',
      'actor id to host, e.g. nic, backend, worker.0, vm.1 (repeatable; with --scenario, or with --incarnation ≥ 1 as a restart the controller expects)',
      collect,
      [] as string[],
    )
    .option(
      '--role <role>',
      'join a run started elsewhere as driver (NIC + back-end; with live.processes per-domain also the vRSS workers), worker or frontend: the controller assigns the ids and sends the scenario',
    )
    .option(
      '--queues <n>',
      "with --role frontend: the queues this VM asks for, one per vCPU (1–64); it gets min(n, the back-end's maximum: the workers with per-flow vRSS, else 1), as netfront negotiates multi-queue-num-queues; default: the scenario's topology.vms.queues for its VM",
    )
    .option('--log <file>', 'JSON log file')
    .option('--incarnation <n>', 'how many times these actors were restarted (a restarted process rejoins the running run)', '0')
    .addHelpText(
      'after',
      "\nEnvironment: SPLITNET_NATS_USER and SPLITNET_NATS_PASSWORD (the role's NATS credentials: with --role, a join login; the\ncontroller then hands the process its own), SPLITNET_NATS_CA (the PEM file of a private CA that signed the NATS servers'\ncertificates; implies TLS, as a tls:// URL does), SPLITNET_CONTROL_SECRET (with --id: the key of the process's control\nmessages, which the controller that starts it sets; docs/security.md).\n\nExamples (a VM joining a run started elsewhere; one with 4 vCPUs):\n  splitnet actor --run demo --nats tls://nats-1:4222 --role frontend\n  splitnet actor --run demo --nats tls://nats-1:4222 --role frontend --queues 4",
    )
    .action(async (o: { run: string; nats: string; scenario?: string; id: string[]; log?: string; incarnation: string; role?: string; queues?: string }) => {
      process.exitCode = await actorCommand((f) => loadScenarioFile(f), o, lifetime.interruptSignal());
    });
}

export function definePartitionCommand(program: Command, lifetime: ProcessLifetime): void {
  program
    .command('partition')
    .description('Run one partition of a lockstep run (started by `splitnet run --runtime lockstep`, or joining one with --join: compose)')
    .requiredOption('--run <id>', 'run id (namespaces the NATS subjects)')
    .requiredOption('--nats <url>', 'NATS server URL')
    .option('--scenario <file>', 'the resolved scenario of the run (not with --join)')
    .option('--join', 'join a run started with --placement external: the controller assigns the partition and sends the scenario')
    .option('--id <actor>', 'an actor of the partition (repeatable: all of them, in the order the run names them)', collect, [] as string[])
    .option('--log <file>', 'JSON log file')
    .option('--incarnation <n>', 'always 0: a partition is not restarted', '0')
    .addHelpText(
      'after',
      '\nEnvironment: SPLITNET_CONTROL_SECRET (the key of its control messages, set by the controller that starts it; docs/lockstep.md);\nwith --join, SPLITNET_NATS_USER and SPLITNET_NATS_PASSWORD (the partition join login: deploy/nats.conf).',
    )
    .action(async (o: { run: string; nats: string; scenario?: string; id: string[]; log?: string; join?: boolean }) => {
      // Loaded when used: an actor process of a live run needs nothing of the lockstep runtime.
      const { partitionCommand } = await import('./lockstep-run.js');
      process.exitCode = await partitionCommand((f) => loadScenarioFile(f), o, lifetime.interruptSignal());
    });
}
