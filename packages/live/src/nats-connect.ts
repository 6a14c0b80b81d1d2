// Connecting to a run's NATS: the controller and actor processes dial with the run's login, retrying while the server is not up yet.
import { SplitnetError } from '@splitnet/model';
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
        throw new SplitnetError('E_USAGE', `${message.replace(/ \(for a private CA[^)]*\)$/, '')}: set SPLITNET_NATS_CA to the CA certificate file (PEM) that signed the server's certificate`, { cause: err });
      }
      if (Date.now() > until || HOPELESS.test(message) || o.signal?.aborted === true) throw err;
      if (attempt === 1) o.log?.(`waiting for NATS at ${url}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
