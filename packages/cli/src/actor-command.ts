// `splitnet actor`: host actors of a live run in this process — started by the controller (--id), restarted without the scenario file, or joining a run started elsewhere (--role).
import { existsSync } from 'node:fs';
import { SplitnetError } from '@splitnet/model';
import type { Logger } from '@splitnet/model';
import {
  awaitControllerGone,
  connectPatiently,
  JOIN_ROLES,
  joinRun,
  parseControlSecret,
  ProcessWarmup,
  rejoinRun,
  runActorProcess,
  systemWallClock,
} from '@splitnet/live';
import type { ControlSecret, JoinRole, NatsCredentials } from '@splitnet/live';
import { compileScenarioText } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';
import type { Transport } from '@splitnet/transport';
import { connectNats } from '@splitnet/transport/nats';
import { createLogger } from './logging.js';

export interface ActorFlags {
  run: string;
  nats: string;
  id: string[];
  log?: string;
  incarnation?: string;
  role?: string;
  scenario?: string;
  /** --role frontend: the queues this front end asks for (its vCPUs). */
  queues?: string;
}

/** The largest queue count a front end may ask for (splitnet's VMs have at most 64 queues). */
const MAX_ASKED_QUEUES = 64;

/** --queues: a whole number from 1 to 64, for a front end that joins a run. Checked before any I/O. */
function parseQueues(f: ActorFlags): number | undefined {
  if (f.queues === undefined) return undefined;
  if (f.role !== 'frontend') {
    throw new SplitnetError(
      'E_USAGE',
      `--queues: only a front end joining a run asks for queues (give it with --role frontend${f.role !== undefined ? `, not --role ${f.role}` : ''})`,
    );
  }
  const n = Number(f.queues);
  if (!/^\d+$/.test(f.queues) || n < 1 || n > MAX_ASKED_QUEUES) {
    throw new SplitnetError(
      'E_USAGE',
      `--queues: expected a whole number from 1 to ${MAX_ASKED_QUEUES} (the queues this front end asks for, one per vCPU), found "${f.queues}"`,
    );
  }
  return n;
}

/**
 * NATS credentials and the TLS trust anchor from the environment (SPLITNET_NATS_USER + SPLITNET_NATS_PASSWORD,
 * SPLITNET_NATS_CA): never from flags or the scenario, which end up in process lists and results files.
 */
export function natsCredentials(): NatsCredentials {
  const user = process.env['SPLITNET_NATS_USER'];
  const pass = process.env['SPLITNET_NATS_PASSWORD'];
  // SPLITNET_NATS_CA: the PEM file of a private CA that signed the NATS servers' certificates (implies TLS).
  const ca = process.env['SPLITNET_NATS_CA'];
  // Checked here: the client would report a missing file as an unreachable server, and be retried for a minute.
  if (ca && !existsSync(ca))
    throw new SplitnetError(
      'E_USAGE',
      `SPLITNET_NATS_CA: no such file "${ca}" (expected the PEM certificate of the CA that signed the NATS servers' certificates)`,
    );
  // A user's request replies arrive under its own prefix: a server that gives each user only its own lets no one else read them.
  const inbox = user && /^[A-Za-z0-9_-]+$/.test(user) ? { inboxPrefix: `_INBOX.${user}` } : {};
  return { ...(user ? { user, ...(pass !== undefined ? { pass } : {}), ...inbox } : {}), ...(ca ? { caFile: ca } : {}) };
}

/**
 * The control secret a process the controller started was handed (SPLITNET_CONTROL_SECRET: in the environment,
 * never on the command line). Required with --id: without it the controller would refuse every message.
 */
function controlSecret(): ControlSecret {
  const text = process.env['SPLITNET_CONTROL_SECRET'];
  const secret = text === undefined ? undefined : parseControlSecret(text);
  if (secret === undefined) {
    throw new SplitnetError(
      'E_USAGE',
      `actor: SPLITNET_CONTROL_SECRET ${text === undefined ? 'is not set' : 'is not a control secret'}: a process started with --id gets it from its controller (splitnet run); to join a run started elsewhere, use --role`,
    );
  }
  return secret;
}

/**
 * Opt-in measurement and tuning of an actor process, from its environment (the bench sets them; docs/live.md):
 * SPLITNET_LIVE_DIAGNOSTICS=1 logs where the lag comes from with the final report; SPLITNET_LIVE_POLL_US=n polls
 * waits shorter than n µs instead of arming a 1 ms-grained timer; SPLITNET_LIVE_WAKE_EARLY_US=n arms timers n µs
 * before they are due and polls the rest.
 */
function liveTuning(): { diagnostics?: boolean; pollBelowMs?: number; wakeEarlyMs?: number } {
  const poll = Number(process.env['SPLITNET_LIVE_POLL_US'] ?? '');
  const early = Number(process.env['SPLITNET_LIVE_WAKE_EARLY_US'] ?? '');
  return {
    ...(process.env['SPLITNET_LIVE_DIAGNOSTICS'] === '1' ? { diagnostics: true } : {}),
    ...(Number.isFinite(poll) && poll > 0 ? { pollBelowMs: poll / 1000 } : {}),
    ...(Number.isFinite(early) && early > 0 ? { wakeEarlyMs: early / 1000 } : {}),
  };
}

/** Which actors this process hosts and the run's scenario, once known; its control secret; and its connection to the run. */
interface Hosting {
  readonly ids: readonly string[];
  readonly scenario: CompiledScenario;
  readonly transport: Transport;
  readonly secret: ControlSecret;
}

/**
 * --role: join a run started elsewhere; the controller assigns the ids, sends the scenario and issues the
 * process its control secret, and — where the run's NATS has a user per process — its own login, which it
 * then uses instead of the role's (a role's join login may do nothing but join).
 */
async function joinAsRole(
  f: ActorFlags,
  role: string,
  queues: number | undefined,
  connect: (name: string, credentials?: NatsCredentials) => Promise<Transport>,
): Promise<Hosting> {
  if (!JOIN_ROLES.includes(role as JoinRole)) throw new SplitnetError('E_USAGE', `--role: expected one of ${JOIN_ROLES.join(', ')}, found "${role}"`);
  if (f.id.length > 0 || f.scenario !== undefined)
    throw new SplitnetError('E_USAGE', '--role joins a run and gets its identity and scenario from the controller: give it without --id and --scenario');
  const transport = await connect(`splitnet ${f.run} ${role}`);
  let joined: Awaited<ReturnType<typeof joinRun>>;
  try {
    // SPLITNET_CONTAINER: set by the docker placement, so that the controller knows which container to signal or restart.
    const container = process.env['SPLITNET_CONTAINER'];
    joined = await joinRun(transport, f.run, role as JoinRole, 180_000, { ...(queues !== undefined ? { queues } : {}), ...(container ? { container } : {}) });
  } catch (err) {
    await transport.close().catch(() => {});
    throw err;
  }
  const scenario = compileScenarioText(joined.scenarioYaml, `<scenario of run ${f.run}>`);
  const login = joined.access.login;
  if (login === undefined) return { ids: joined.ids, scenario, transport, secret: joined.access.secret };
  await transport.close().catch(() => {});
  const name = `splitnet ${f.run} ${joined.ids.join('+')}`;
  try {
    return {
      ids: joined.ids,
      scenario,
      transport: await connect(name, { user: login.user, pass: login.pass, inboxPrefix: login.inboxPrefix }),
      secret: joined.access.secret,
    };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SplitnetError(
      'E_OPERATIONAL',
      `the NATS server refused the login ${login.user} the controller of run ${f.run} issued this process (${why}): is the server's authorization written by \`splitnet nats-config\` with the controller's password, as deploy/nats.conf is?`,
      { cause: err },
    );
  }
}

/** --id with --incarnation ≥ 1 and no --scenario: a restart (a container the docker placement started again) asks the controller for the scenario. */
async function rejoinAsRestart(f: ActorFlags, incarnation: number, secret: ControlSecret, connect: (name: string) => Promise<Transport>): Promise<Hosting> {
  const transport = await connect(`splitnet ${f.run} ${f.id.join('+')}`);
  try {
    const scenario = compileScenarioText((await rejoinRun(transport, f.run, f.id, incarnation, 60_000)).scenarioYaml, `<scenario of run ${f.run}>`);
    return { ids: f.id, scenario, transport, secret };
  } catch (err) {
    await transport.close().catch(() => {});
    throw err;
  }
}

/** Where this process's actors and scenario come from, and its connection to the run's NATS. */
async function findHosting(
  f: ActorFlags,
  secret: ControlSecret | undefined,
  loadScenario: (file: string) => CompiledScenario,
  logger: () => Logger,
): Promise<Hosting> {
  const queues = parseQueues(f);
  const incarnation = Number(f.incarnation ?? '0');
  if (!Number.isInteger(incarnation) || incarnation < 0)
    throw new SplitnetError('E_USAGE', `--incarnation: expected a whole number ≥ 0, found "${f.incarnation}"`);
  const credentials = natsCredentials();
  // Another login (a joined process's own) keeps the environment's trust anchor.
  const patiently = (name: string, login?: NatsCredentials) =>
    connectPatiently(f.nats, name, {
      waitMs: 60_000,
      credentials: login ? { ...login, ...(credentials.caFile ? { caFile: credentials.caFile } : {}) } : credentials,
      log: (m) => logger().warn(m),
    });
  if (f.role !== undefined) return joinAsRole(f, f.role, queues, patiently);
  // Without --role, actorCommand required the secret.
  if (secret === undefined) throw new SplitnetError('E_INTERNAL', 'actor: no control secret without --role');
  if (f.scenario === undefined && f.id.length > 0 && incarnation >= 1) return rejoinAsRestart(f, incarnation, secret, patiently);
  if (f.id.length === 0 || f.scenario === undefined) {
    throw new SplitnetError(
      'E_USAGE',
      'actor: give --id and --scenario (started by the controller), --id and --incarnation ≥ 1 (restarted by the controller, which sends the scenario), or --role (joining a run started elsewhere)',
    );
  }
  const scenario = loadScenario(f.scenario);
  return { ids: f.id, scenario, transport: await connectNats({ servers: f.nats, name: `splitnet ${f.run} ${f.id.join('+')}`, ...credentials }), secret };
}

/**
 * `splitnet actor`: host actors of a live run in this process. Either started by the controller
 * (`--id`, `--scenario`), or started elsewhere (`--role`): then it joins the run, and the controller
 * assigns its identity and sends the scenario. `signal`: the process's interrupt.
 */
export async function actorCommand(loadScenario: (file: string) => CompiledScenario, f: ActorFlags, signal: AbortSignal): Promise<number> {
  // A process the controller started (no --role) was handed its control secret: checked before anything else.
  const secret = f.role === undefined ? controlSecret() : undefined;
  const loggerFor = (name: string) => createLogger({ name, ...(f.log ? { file: f.log } : {}), consoleLevel: 'warn' });
  let logger = loggerFor(f.id.length > 0 ? f.id.join('+') : (f.role ?? 'actor'));
  /** Open until runActorProcess drains it; closed here if anything fails first, or the process would stay up. */
  let connected: Transport | undefined;
  try {
    const h = await findHosting(f, secret, loadScenario, () => logger);
    connected = h.transport;
    if (f.role !== undefined) {
      // The process is named after the actors it was given.
      await logger.close();
      logger = loggerFor(h.ids.join('+'));
      logger.info('joined', { role: f.role, ids: h.ids });
    } else if (f.scenario === undefined) {
      logger.info('rejoined', { ids: h.ids, incarnation: Number(f.incarnation ?? '0') });
    }
    const log = logger;
    h.transport.onStatus((st) => (st.kind === 'closed' ? log.info : log.warn)(`nats ${st.kind}`, { detail: st.detail }));
    // A joined actor (compose, other hosts) outlives the controller, so that `up --exit-code-from controller`
    // stops the deployment when the controller has printed its summary, not when the first actor is done.
    const linger = f.role !== undefined ? { beforeDrain: () => awaitControllerGone(h.transport, f.run, { timeoutMs: 120_000, graceMs: 3000, signal }) } : {};
    const incarnation = Number(f.incarnation ?? '0');
    const code = await runActorProcess({
      scenario: h.scenario,
      runId: f.run,
      ids: h.ids,
      transport: h.transport,
      clock: systemWallClock,
      logger,
      signal,
      incarnation,
      secret: h.secret,
      warmup: new ProcessWarmup(),
      ...linger,
      ...liveTuning(),
    });
    connected = undefined;
    return code;
  } catch (err) {
    // Into the actor's own log too: the supervisor's message points there.
    logger.error('actor process failed', { error: err instanceof Error ? err.message : String(err) });
    await connected?.close().catch(() => {});
    throw err;
  } finally {
    await logger.close();
  }
}
