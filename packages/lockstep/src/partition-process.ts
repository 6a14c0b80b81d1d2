// One lockstep partition as an OS process: says hello to the run's controller, runs its windows when told to start, reports its samples, event log and account, and exits when told to stop.
import { availableParallelism, loadavg } from 'node:os';
import { SplitnetError } from '@splitnet/model';
import type { Logger } from '@splitnet/model';
import { ActorControl, drainOrClose } from '@splitnet/live';
import type { ControlMessage, ControlSecret } from '@splitnet/live';
import type { CompiledScenario } from '@splitnet/scenario';
import { Subjects } from '@splitnet/transport';
import type { Transport } from '@splitnet/transport';
import { planOf } from './partition-plan.js';
import { PartitionWire } from './partition-wire.js';
import { containerPlace, LOOPBACK } from './direct-setup.js';
import type { DirectPlace } from './direct-setup.js';
import { rehearsePartition } from './partition-rehearsal.js';

export interface PartitionProcessOptions {
  readonly scenario: CompiledScenario;
  readonly runId: string;
  /** The actor ids of the partition (its name joined by '+': one of the run's partitions). */
  readonly ids: readonly string[];
  readonly transport: Transport;
  readonly logger: Logger;
  /** The key of its control messages, which the controller that started it issued. */
  readonly secret: ControlSecret;
  /** Aborts when the process is asked to stop from outside (a signal). */
  readonly signal?: AbortSignal;
  /**
   * Runs before the connection is drained, once the controller told it to stop: a partition that joined (compose)
   * waits there until the controller has gone, so that `up --exit-code-from controller` ends with the controller.
   */
  readonly beforeDrain?: () => Promise<void>;
  /** Direct links to its neighbours (direct-links.ts), where, or why none; default: as the environment's SPLITNET_LOCKSTEP_DIRECT says (directPlace). */
  readonly direct?: DirectPlace | string;
}

/**
 * The environment variable that asks a partition for direct links to its neighbours: `1` on loopback (the processes
 * of one machine), `network` on the networks of its container (the docker placement); anything else: none.
 */
export const DIRECT_ENV = 'SPLITNET_LOCKSTEP_DIRECT';

/** Where a partition's direct links listen and what they offer, as DIRECT_ENV says; or why it has none. */
export function directPlace(value: string | undefined): DirectPlace | string {
  if (value === '1') return LOOPBACK;
  if (value === 'network') return containerPlace();
  return value === undefined ? `${DIRECT_ENV} is not set` : `${DIRECT_ENV}=${value}`;
}

/** The environment variable setting how long (µs) a waiting partition polls before it sleeps (PartitionWire's spinUs). */
export const SPIN_ENV = 'SPLITNET_LOCKSTEP_SPIN_US';

/** A waiting partition polls this long (µs) by default, where the run's partitions and the machine's load leave each a core. */
const SPIN_US = 500;

/**
 * How long a waiting partition polls: SPLITNET_LOCKSTEP_SPIN_US, else SPIN_US where every partition of the run can
 * have a core of this machine — no more partitions than cores, and a load average (1 min) below the cores at its
 * start — else 0: polling takes a core, which on a busy machine another process (a neighbour with work) needs more.
 */
export function spinUs(partitions: number): number {
  const env = process.env[SPIN_ENV];
  if (env !== undefined && env !== '') {
    const us = Number(env);
    if (!Number.isFinite(us) || us < 0) throw new SplitnetError('E_USAGE', `${SPIN_ENV}: expected a number of µs ≥ 0, found ${JSON.stringify(env)}`);
    return us;
  }
  const cores = availableParallelism();
  return partitions <= cores && (loadavg()[0] ?? 0) < cores ? SPIN_US : 0;
}

/** The code warm-up before the hello: emulated time rehearsed (as live's default `live.codeWarmup`), at most this wall time. */
const REHEARSAL_NS = 20_000_000;
const REHEARSAL_WALL_MS = 1000;

/** Event log entries per control message (a message stays well below NATS's 1 MiB payload limit). */
const EVENTS_PER_MESSAGE = 1000;

/** Wall time between two progress beats to the controller (ms). */
const BEAT_MS = 250;

/** Wall time between hellos until the start (ms): the controller may be listening only after the first. */
const HELLO_MS = 500;

/** Wall time after which a partition whose direct links are not all made logs which (and again at each change; ms). */
const WAITING_LOG_MS = 5000;

/**
 * Wall time between heartbeats however the windows go (ms): a partition waiting for a neighbour still beats, so
 * a controller that cannot see its partitions' exits (partitions that joined) tells the dead one by its silence.
 */
const ALIVE_MS = 1000;

/** What a partition's `started` log line says: its neighbours, which are on direct links and which on the bus and why (docs/lockstep.md#direct-links), and how long it polls when it waits. */
function startedFields(name: string, wire: PartitionWire): Record<string, unknown> {
  return {
    partition: name,
    hearsFrom: wire.engine.hearsFrom.length,
    sendsTo: wire.engine.sendsTo.length,
    directLinks: wire.directLinks,
    links: wire.linkPaths(),
    spinUs: wire.spinUs,
  };
}

/** Runs the partition; returns the exit code (0: ran to the end and was told to stop; 1: failed; 130: interrupted). */
export async function runPartitionProcess(o: PartitionProcessOptions): Promise<number> {
  const name = o.ids.join('+');
  const s = o.scenario;
  const { plan } = planOf(s);
  const index = plan.partitions.findIndex((p) => p.name === name);
  if (index < 0) {
    throw new SplitnetError('E_USAGE', `partition: no partition "${name}" in this run (its partitions: ${plan.partitions.map((p) => p.name).join(', ')})`);
  }
  // Before anything is said: the timed run then starts with compiled code (partition-rehearsal.ts).
  o.logger.info('code warm-up', { ...rehearsePartition(s, index, REHEARSAL_NS, REHEARSAL_WALL_MS) });
  const subjects = new Subjects(o.runId);
  const address = o.ids[0] as string;
  const control = new ActorControl(o.runId, name, 0, o.secret);
  const toController = (m: ControlMessage): void => o.transport.publish(subjects.stats(address), control.seal(m));
  const beat = beater(name, toController);
  const wire = new PartitionWire(
    s,
    o.runId,
    index,
    o.transport,
    (t, shot) => toController({ kind: 'lockstep-sample', id: name, t, shot: { ...shot } }),
    beat,
    o.direct ?? directPlace(process.env[DIRECT_ENV]),
    spinUs(plan.partitions.length),
  );
  let started = false;
  let refusedControl = 0;
  let resolveStop: (why: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (resolveStop = resolve));
  const sub = o.transport.subscribe(subjects.control(address), (data) => {
    const opened = control.open(data);
    if (!opened.ok) {
      if (refusedControl++ === 0) o.logger.warn('control message refused', { why: opened.why });
      return;
    }
    const m = opened.value;
    if (m.kind === 'start' && !started) {
      started = true;
      o.logger.info('started', startedFields(name, wire));
      wire.start();
    } else if (m.kind === 'stop') resolveStop('stop from controller');
  });
  // With direct links, only once every receiver has connected: nothing it sends in the run then goes by the bus.
  const waiting = waitingReporter(name, wire, toController, o.logger);
  const hello = (): void => {
    waiting();
    if (wire.ready) toController({ kind: 'hello', id: name, pid: process.pid });
  };
  hello();
  void wire.whenReady.then(() => (started ? undefined : hello()));
  const helloTimer = setInterval(() => (started ? clearInterval(helloTimer) : hello()), HELLO_MS);
  const aliveTimer = setInterval(() => {
    if (started) beat(wire.engine.reached, wire.waitShare());
  }, ALIVE_MS);
  const aborted = new Promise<string>((resolve) => {
    if (o.signal?.aborted === true) resolve(String(o.signal.reason));
    o.signal?.addEventListener('abort', () => resolve(String(o.signal?.reason)), { once: true });
  });
  let code = 130;
  try {
    const first = await Promise.race([wire.done.then(() => 'done'), stopped, aborted]);
    if (first !== 'done') {
      o.logger.warn('stopped before the end of the run', { why: first, reachedMs: wire.engine.reached / 1e6 });
      return (code = first === 'stop from controller' ? 0 : 130);
    }
    report(wire, name, refusedControl, toController, o.logger);
    const why = await Promise.race([stopped, aborted]);
    return (code = why === 'stop from controller' ? 0 : 130);
  } finally {
    clearInterval(helloTimer);
    clearInterval(aliveTimer);
    sub.unsubscribe();
    wire.close();
    if (code === 0) await o.beforeDrain?.();
    await drainOrClose(o.transport, o.logger);
  }
}

/**
 * Until the start, at each hello: where its direct links stand, to the controller (which names them if the hello
 * deadline passes) and, once it has waited WAITING_LOG_MS, in its log at each change.
 */
function waitingReporter(name: string, wire: PartitionWire, toController: (m: ControlMessage) => void, logger: Logger): () => void {
  const since = Date.now();
  let logged = '';
  return () => {
    const lines = wire.waitingOn();
    const text = lines.join('; ');
    toController({ kind: 'lockstep-waiting', id: name, waiting: lines });
    if (text === logged || Date.now() - since < WAITING_LOG_MS) return;
    // Info (its log file only): a warning would be a line on the run's stderr, and a wait of seconds is no fault on a loaded machine.
    if (lines.length > 0) logger.info('direct links not all made', { waitedMs: Date.now() - since, ready: wire.ready, waiting: text });
    else logger.info('direct links made', { waitedMs: Date.now() - since });
    logged = text;
  };
}

/** Its progress beats to the controller: at most one every BEAT_MS. */
function beater(name: string, toController: (m: ControlMessage) => void): (reached: number, waitShare: number) => void {
  let lastBeat = 0;
  return (reached, waitShare) => {
    const now = Date.now();
    if (now - lastBeat < BEAT_MS) return;
    lastBeat = now;
    toController({ kind: 'hb', id: name, emulatedNow: reached, waitShare });
  };
}

/** The partition's log and account to the controller, once it has run to the end. */
function report(wire: PartitionWire, name: string, refusedControl: number, toController: (m: ControlMessage) => void, logger: Logger): void {
  const f = wire.engine.final();
  for (let i = 0; i < f.events.length; i += EVENTS_PER_MESSAGE) {
    toController({ kind: 'lockstep-events', id: name, events: f.events.slice(i, i + EVENTS_PER_MESSAGE) });
  }
  const refusals = wire.refusals();
  toController({
    kind: 'lockstep-final',
    id: name,
    final: {
      startReports: f.startReports,
      warmReports: f.warmReports,
      finalReports: f.finalReports,
      onLinks: f.onLinks,
      txOnLinks: f.txOnLinks,
      eventsProcessed: f.eventsProcessed,
      ...(f.hostsOnLinks ? { hostsOnLinks: f.hostsOnLinks } : {}),
      refused: f.refused,
      windows: f.windows,
      waitShare: wire.waitShare(),
      ...(f.linkFaultCounts ? { linkFaultCounts: f.linkFaultCounts } : {}),
      events: f.events.length,
      envelopesRefused: refusals.envelopes,
      promisesRefused: refusals.promises,
      controlRefused: refusedControl,
      firstRefusal: refusals.first,
    },
  });
  const cpu = process.cpuUsage();
  // Where the wall time went, window by window (docs/lockstep.md#how-fast; the bench prints it).
  logger.info('ran to the end', {
    windows: f.windows,
    events: f.eventsProcessed,
    cpuS: (cpu.user + cpu.system) / 1e6,
    waitShare: wire.waitShare(),
    times: wire.windowTimes(),
  });
}
