// The NATS of a live run on this machine: the server the scenario names (live.nats, --nats), or a private nats-server started for the run.
import type { Logger } from '@splitnet/model';
import { startNatsServer } from '@splitnet/transport/nats-server';
import type { NatsServerHandle } from '@splitnet/transport/nats-server';
import type { NatsServerControl } from './fault-injector.js';
import type { ExitGuard, NatsAccess } from './placement.js';

export interface RunNatsOptions {
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
 * The run's NATS for the placements that use this machine's (inprocess, processes, external). A private
 * server is the run's own: the nats-restart fault kills it and starts it again on the same port, and
 * `stop` ends it.
 */
export class RunNats {
  private server: NatsServerHandle | null = null;
  private unguard: () => void = () => {};

  constructor(private readonly o: RunNatsOptions) {}

  async start(): Promise<NatsAccess> {
    if (this.o.given !== '') return { url: this.o.given };
    const server = await this.launch();
    this.o.logger.info('started a private nats-server', { url: server.url, pid: server.pid });
    return { url: server.url };
  }

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
    const server = await startNatsServer({ ownProcessGroup: true, logFile: this.o.logFile, ...(this.o.binary !== undefined ? { binary: this.o.binary } : {}), ...(port !== undefined ? { port } : {}) });
    this.server = server;
    this.unguard = this.o.atExit?.(() => server.kill('SIGKILL'), { pid: server.pid, what: 'nats-server' }) ?? (() => {});
    return server;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.unguard();
  }
}
