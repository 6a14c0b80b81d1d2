// The NATS of a live run on this machine: the server the scenario names (live.nats, --nats), or a private nats-server started for the run with a user per process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@splitnet/model';
import { renderAuthorization } from '@splitnet/transport';
import { startNatsServer } from '@splitnet/transport/nats-server';
import type { NatsServerHandle } from '@splitnet/transport/nats-server';
import { busUsers, randomPassword } from './bus-permissions.js';
import type { BusUsers } from './bus-permissions.js';
import type { NatsServerControl } from './fault-injector.js';
import type { ExitGuard, NatsAccess, NatsLogin } from './placement.js';

export interface RunNatsOptions {
  /** The run id: the private server's users may use this run's subjects only. */
  readonly runId: string;
  /** The scenario's `live.nats`: a server to use; '' starts a private one on a random loopback port. */
  readonly given: string;
  /** The private server's log (the run's logs/nats-server.log). */
  readonly logFile: string;
  /** The nats-server binary when it is not `nats-server` on PATH (SPLITNET_NATS_SERVER). */
  readonly binary?: string;
  readonly logger: Logger;
  /** Kills the private server if the owning process exits without stopping it. */
  readonly atExit?: ExitGuard;
}

/**
 * The configuration of a run's private server: the controller (a random password) and one user per process
 * of `processes` (a password derived from the controller's), each allowed only its own subjects of this run,
 * and the roles' join logins when actors join (random passwords). See bus-permissions.ts.
 */
export function privateServerAuthorization(runId: string, processes: readonly (readonly string[])[], joins: boolean): { text: string; users: BusUsers } {
  const users = busUsers(runId, randomPassword(), processes, joins ? () => randomPassword() : undefined);
  const text = `# The private nats-server of splitnet run ${runId}, written by its controller for this run only: every client\n# logs in as the controller, a role joining, or one actor process, and may use only its own subjects (docs/security.md).\n${renderAuthorization(users.users)}`;
  return { text, users };
}

/**
 * The run's NATS for the placements that use this machine's (inprocess, processes, external). A private
 * server is the run's own: a user per process with a random password (its configuration file lives in a
 * directory only this user can read, removed at the end), the nats-restart fault kills it and starts it
 * again on the same port with the same users, and `stop` ends it.
 */
export class RunNats {
  private server: NatsServerHandle | null = null;
  private unguard: () => void = () => {};
  /** The private server's configuration directory. */
  private confDir: string | undefined;
  private confArgs: readonly string[] = [];

  constructor(private readonly o: RunNatsOptions) {}

  /**
   * The given server, or a private one whose users are the controller and the processes `processes` (their
   * actor ids), and the roles' join logins with `joins` (actors that join: their logins are in `joinLogins`).
   */
  async start(processes: readonly (readonly string[])[] = [], joins = false): Promise<NatsAccess> {
    if (this.o.given !== '') return { url: this.o.given };
    const auth = privateServerAuthorization(this.o.runId, processes, joins);
    this.joinLogins = auth.users.joins;
    this.confDir = mkdtempSync(join(tmpdir(), 'splitnet-nats-'));
    const file = join(this.confDir, 'nats.conf');
    writeFileSync(file, auth.text, { mode: 0o600 });
    this.confArgs = ['-c', file];
    const server = await this.launch();
    this.o.logger.info('started a private nats-server', { url: server.url, pid: server.pid, users: auth.users.users.length });
    const c = auth.users.controller;
    return { url: server.url, login: { user: c.user, pass: c.pass, inboxPrefix: c.inboxPrefix }, processLogin: auth.users.loginOf };
  }

  /** The roles' join logins of the private server (empty unless started with joins). */
  joinLogins: ReadonlyMap<string, NatsLogin> = new Map();

  /** The nats-restart fault's hand on the private server (none for a server the run was given). */
  get control(): NatsServerControl | undefined {
    if (this.o.given !== '') return undefined;
    return {
      kill: () => void this.server?.kill('SIGKILL'),
      restart: async () => {
        const port = this.server?.port;
        await this.launch(port);
      },
    };
  }

  private async launch(port?: number): Promise<NatsServerHandle> {
    this.unguard();
    // In a process group of its own: a Ctrl-C is the controller's to handle (it halts the run over this server).
    const server = await startNatsServer({
      ownProcessGroup: true,
      logFile: this.o.logFile,
      args: this.confArgs,
      ...(this.o.binary !== undefined ? { binary: this.o.binary } : {}),
      ...(port !== undefined ? { port } : {}),
    });
    this.server = server;
    this.unguard = this.o.atExit?.(() => server.kill('SIGKILL'), { pid: server.pid, what: 'nats-server' }) ?? (() => {});
    return server;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.unguard();
    if (this.confDir !== undefined) rmSync(this.confDir, { recursive: true, force: true });
  }
}
