// The placements on this machine: inprocess (every actor host in the controller's process), processes (one child process each) and external (actors that join).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from '@splitnet/model';
import type { CompiledScenario } from '@splitnet/scenario';
import { connectNats } from '@splitnet/transport/nats';
import type { ActorHandle } from './actor-handle.js';
import { runActorProcess } from './actor-process.js';
import { processSlots } from './bus-permissions.js';
import { ProcessWarmup } from './code-warmup.js';
import { formatControlSecret } from './control-seal.js';
import { systemWallClock } from './dilated-clock.js';
import type { JoinRole } from './join.js';
import type { NatsCredentials } from './nats-connect.js';
import type { ExitGuard, NatsAccess, Placement, ProcessAccess, ProcessGroup, RegistrationPolicy } from './placement.js';
import { RunNats } from './run-nats.js';
import type { RunNatsOptions } from './run-nats.js';

/** What every placement on this machine is given. */
interface LocalOptions {
  readonly runId: string;
  /** The run's NATS: the scenario's live.nats, or a private server. */
  readonly nats: RunNatsOptions;
  readonly logger: Logger;
}

/** A placement on this machine's NATS: starting it starts the private server, if any; stopping it stops that. */
abstract class LocalPlacement {
  protected readonly runNats: RunNats;
  protected access: NatsAccess | undefined;

  constructor(protected readonly base: LocalOptions) {
    this.runNats = new RunNats(base.nats);
  }

  get nats(): Placement['nats'] {
    return this.runNats.control;
  }

  /** The run's NATS: a private server's users are the controller and the processes `groups` (launched placements). */
  async start(groups: readonly ProcessGroup[]): Promise<NatsAccess> {
    this.access = await this.runNats.start(groups.map((g) => g.ids));
    return this.access;
  }

  protected get url(): string {
    return this.access?.url ?? this.base.nats.given;
  }
}

export interface InProcessOptions extends LocalOptions {
  readonly scenario: CompiledScenario;
  /** The environment's NATS login, for each host's own connection. */
  readonly credentials?: NatsCredentials;
  /** A logger per actor process (its own log file); closed when the host ends. */
  readonly loggerFor: (name: string) => Logger & { close(): Promise<void> };
}

/**
 * `inprocess`: every actor process's host runs in the controller's process, each with a NATS connection of
 * its own (messages still cross the bus). Its processes cannot be signalled: process faults are skipped.
 */
export class InProcessPlacement extends LocalPlacement implements Placement {
  readonly kind = 'inprocess' as const;
  readonly watchHeartbeats = false;
  /** One process, one code warm-up for all its hosts. */
  private readonly warmup = new ProcessWarmup();

  constructor(private readonly o: InProcessOptions) {
    super(o);
  }

  readonly launch = (group: ProcessGroup, incarnation: number, access: ProcessAccess): ActorHandle => {
    const exited = this.host(group, incarnation, access).catch((err: unknown) => {
      this.o.logger.error('actor host failed', { actor: group.name, error: err instanceof Error ? err.message : String(err) });
      return null;
    });
    return { name: group.name, pid: process.pid, exited, kill: () => {} };
  };

  private async host(group: ProcessGroup, incarnation: number, access: ProcessAccess): Promise<number> {
    // The process's own login on a private server; else the environment's.
    const login = access.login ?? this.o.credentials;
    const transport = await connectNats({
      servers: this.url,
      name: `splitnet ${this.o.runId} ${group.name}`,
      ...login,
      ...(this.o.credentials?.caFile ? { caFile: this.o.credentials.caFile } : {}),
    });
    const logger = this.o.loggerFor(group.name);
    try {
      // In the controller's own process: it cannot outlive the controller, and must not leave on its own.
      return await runActorProcess({
        scenario: this.o.scenario,
        runId: this.o.runId,
        ids: group.ids,
        transport,
        clock: systemWallClock,
        logger,
        incarnation,
        secret: access.secret,
        warmup: this.warmup,
        orphanGuard: false,
      });
    } finally {
      await logger.close();
    }
  }

  async stop(): Promise<void> {
    await this.runNats.stop();
  }
}

export interface ProcessesOptions extends LocalOptions {
  /** The resolved scenario file the actor processes read (`--scenario`). */
  readonly scenarioFile: string;
  /** Where each process writes its log (`<logs>/<name>.log`). */
  readonly logsDir: string;
  /** The command that runs `splitnet actor`: the program and its leading arguments (node, its flags, the CLI's main script). */
  readonly actorCommand: { readonly program: string; readonly args: readonly string[] };
  /** The subcommand each process runs (default `actor`; a lockstep run's partitions run `partition`). */
  readonly subcommand?: string;
  /** Kills the children if the owning process exits without stopping them. */
  readonly atExit?: ExitGuard;
  /** Variables added to each process's environment (over the controller's own). */
  readonly env?: Readonly<Record<string, string>>;
}

/** `processes`: one child process per actor process (`splitnet actor --id …`), signalled and restarted by the supervisor. */
export class ProcessesPlacement extends LocalPlacement implements Placement {
  readonly kind = 'processes' as const;
  readonly watchHeartbeats = false;
  private readonly children = new Set<ActorHandle>();

  constructor(private readonly o: ProcessesOptions) {
    super(o);
  }

  readonly launch = (group: ProcessGroup, incarnation: number, access: ProcessAccess): ActorHandle => {
    const args = [
      ...this.o.actorCommand.args,
      this.o.subcommand ?? 'actor',
      '--run',
      this.o.runId,
      '--nats',
      this.url,
      '--scenario',
      this.o.scenarioFile,
      '--log',
      join(this.o.logsDir, `${group.name}.log`),
      '--incarnation',
      String(incarnation),
    ];
    for (const id of group.ids) args.push('--id', id);
    // Secrets in the environment, never on the command line (which every user of the machine can read).
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.o.env, SPLITNET_CONTROL_SECRET: formatControlSecret(access.secret) };
    if (access.login) Object.assign(env, { SPLITNET_NATS_USER: access.login.user, SPLITNET_NATS_PASSWORD: access.login.pass });
    // A Ctrl-C at the terminal reaches the whole foreground process group, these processes too: it is the
    // controller's to handle (it halts the run and collects what each process has), so they ignore SIGINT.
    // Not `detached` (a session of their own): with scheduler autogroups on, each session is an autogroup and the
    // run's processes then wait behind one another at every wake-up (docs/live.md, "How close to real time").
    env['SPLITNET_IGNORE_SIGINT'] = '1';
    // Their stdout goes to our stderr: `--json` keeps stdout clean.
    const child = spawn(this.o.actorCommand.program, args, { stdio: ['ignore', 2, 'inherit'], env });
    const unguard =
      this.o.atExit?.(() => child.kill('SIGKILL'), child.pid !== undefined ? { pid: child.pid, what: `actor ${group.name}` } : undefined) ?? (() => {});
    const handle: ActorHandle = {
      name: group.name,
      pid: child.pid ?? -1,
      exited: new Promise((resolve) => {
        child.once('exit', (code) => {
          this.children.delete(handle);
          unguard();
          resolve(code);
        });
        child.once('error', (err) => {
          this.o.logger.error('cannot start actor process', { actor: group.name, err: String(err) });
          resolve(null);
        });
      }),
      kill: (sig) => child.kill(sig ?? 'SIGTERM'),
    };
    this.children.add(handle);
    return handle;
  };

  async stop(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    await this.runNats.stop();
  }
}

/** The most workers and VMs that may join a run on a private server (it has a user for each). */
const MAX_JOINED = 64;

export interface ExternalOptions extends LocalOptions {
  /** Registration closes after this much quiet (ms). */
  readonly windowMs: number;
  /** The least number of each role to wait for before the quiet window counts (`--expect`). */
  readonly atLeast?: Partial<Record<JoinRole, number>>;
  /** Where to tell a person how actors join (the CLI prints it unless quiet). */
  readonly notice?: (line: string) => void;
}

/** `external`: actor processes started elsewhere (other hosts, compose) join the run; the supervisor watches their heartbeats. */
export class ExternalPlacement extends LocalPlacement implements Placement {
  readonly kind = 'external' as const;
  readonly watchHeartbeats = true;
  readonly registration: RegistrationPolicy;

  constructor(private readonly o: ExternalOptions) {
    super(o);
    this.registration = { windowMs: o.windowMs, timeoutMs: 300_000, ...(o.atLeast ? { atLeast: o.atLeast } : {}) };
  }

  /**
   * The given server, or a private one whose users are the controller, the roles' join logins, and a user for
   * every process that may join (up to MAX_JOINED workers and VMs).
   */
  override async start(groups: readonly ProcessGroup[]): Promise<NatsAccess> {
    const perDomain = groups[0]?.ids.some((id) => id.startsWith('worker.')) === true;
    this.access = await this.runNats.start(processSlots(MAX_JOINED, MAX_JOINED, perDomain), true);
    return this.access;
  }

  invite(s: CompiledScenario, nats: NatsAccess): Promise<void> {
    const roles = s.live.processes === 'per-domain' ? 'driver|frontend; per-domain: the driver hosts the workers' : 'driver|worker|frontend';
    this.o.notice?.(`run ${this.o.runId}: waiting for actors to join at ${nats.url} (splitnet actor --run ${this.o.runId} --nats <url> --role ${roles})`);
    // A private server's join logins: one per role, for this run only.
    const joins = [...this.runNats.joinLogins.values()];
    if (joins.length > 0)
      this.o.notice?.(
        `run ${this.o.runId}: join with SPLITNET_NATS_USER=<role> SPLITNET_NATS_PASSWORD=<its password>: ${joins.map((l) => `${l.user} ${l.pass}`).join(', ')}`,
      );
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    await this.runNats.stop();
  }
}
