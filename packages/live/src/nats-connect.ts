// Connecting to a run's NATS and letting go of it: the controller and actor processes dial with the run's login, retrying while the server is not up yet, and never wait long on a bus that is gone.
import { SplitnetError } from '@splitnet/model';
import type { Logger } from '@splitnet/model';
import type { Transport } from '@splitnet/transport';
import { connectNats } from '@splitnet/transport/nats';

/**
 * A NATS login and TLS trust anchor. The CLI reads them from the environment (SPLITNET_NATS_USER and
 * SPLITNET_NATS_PASSWORD, SPLITNET_NATS_CA), never from flags or the scenario, which end up in process
 * lists and results files; a placement whose servers require a login of their own (docker) gives it instead.
 */
export interface NatsCredentials {
  readonly user?: string;
  readonly pass?: string;
  /** The PEM file of a private CA that signed the servers' certificates (implies TLS). */
  readonly caFile?: string;
  /** Where request replies arrive, when the user's permissions allow only its own prefix (`_INBOX.<user>`). */
  readonly inboxPrefix?: string;
}

/** Wrong credentials or an untrusted certificate do not get better by waiting. */
const HOPELESS = /authori[sz]ation|permission|^TLS with/i;

/**
 * Connect to `url` as client `name`, retrying every half second for up to `waitMs` while the server does
 * not answer (containers start in any order); `log` hears once that it waits. A TLS failure without a CA
 * file says how to give one.
 */
export async function connectPatiently(
  url: string,
  name: string,
  o: { readonly waitMs: number; readonly credentials?: NatsCredentials; readonly log?: (line: string) => void; readonly signal?: AbortSignal },
): Promise<Transport> {
  const until = Date.now() + o.waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectNats({ servers: url, name, ...o.credentials });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/^TLS with NATS.*certificate/.test(message) && o.credentials?.caFile === undefined) {
        throw new SplitnetError(
          'E_USAGE',
          `${message.replace(/ \(for a private CA[^)]*\)$/, '')}: set SPLITNET_NATS_CA to the CA certificate file (PEM) that signed the server's certificate`,
          { cause: err },
        );
      }
      if (Date.now() > until || HOPELESS.test(message) || o.signal?.aborted === true) throw err;
      if (attempt === 1) o.log?.(`waiting for NATS at ${url}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** How long an ending process waits for its connection to drain, or to close (wall ms): a bus that is down must not hold it up. */
const LET_GO_MS = 5_000;

/** Drain the connection, or close it when that fails or takes too long (the bus is gone: its client must stop reconnecting). */
export async function drainOrClose(transport: Transport, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      transport.drain(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not drained within ${LET_GO_MS / 1000} s`)), LET_GO_MS);
      }),
    ]);
  } catch (err) {
    logger.warn('could not drain the NATS connection; closed it', { error: err instanceof Error ? err.message : String(err) });
    await Promise.race([transport.close().catch(() => {}), new Promise((r) => setTimeout(r, LET_GO_MS).unref())]);
  } finally {
    clearTimeout(timer);
  }
}
