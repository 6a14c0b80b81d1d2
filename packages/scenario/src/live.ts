// The `live` section: how a live run maps emulated time onto the wall clock, where its actors run and which NATS it uses.
import { MS } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';
import { readDuration, readEnum, readMap, readNumber, type Field } from './field.js';
import { duration, map, number, oneOf, string, words } from './spec.js';
import type { LivePlacement, LiveProcesses, LiveSpec } from './types.js';
import { formatDuration, parseDuration } from './units.js';

export const LIVE_PLACEMENTS: readonly LivePlacement[] = ['processes', 'inprocess', 'external', 'docker'];
export const LIVE_PROCESSES: readonly LiveProcesses[] = ['per-actor', 'per-domain'];

/** Documented defaults (docs/scenario-reference.md, `live`). */
export const LIVE_DEFAULTS: LiveSpec = {
  tdf: 1,
  maxLag: 'auto',
  placement: 'processes',
  processes: 'per-actor',
  nats: '',
  startDelay: 500 * MS,
  drainTime: 300 * MS,
  batchWindow: 0,
  codeWarmup: 20 * MS,
  readyTimeout: 'auto',
  busOutageLimit: 30_000 * MS,
};

/**
 * `live.readyTimeout: auto`: the controller scales the wait to the actor processes per core of its machine;
 * `live.maxLag: auto`: the run is judged against a fraction of the scenario's shortest modelled time constant
 * (packages/controller/src/lag-bound.ts, docs/live.md#time-and-when-to-trust-a-live-run).
 */
export const AUTO = 'auto';

export const LIVE_SPEC = map(
  {
    tdf: number({
      min: 1,
      max: Infinity,
      default: LIVE_DEFAULTS.tdf,
      description: 'Time dilation factor ≥ 1: emulated time runs tdf times slower than the wall clock, so that actors keep up.',
    }),
    maxLag: oneOf({
      variants: [words({ values: [AUTO] }), duration({ min: 1 })],
      default: AUTO,
      description:
        "A run whose p99 processing lag exceeds this (emulated) is reported invalid; auto: a tenth of the shortest modelled time constant (coalescing timers, the guest RX ring's fill time at the offered rate), at least 1us.",
    }),
    placement: words({
      values: LIVE_PLACEMENTS,
      default: LIVE_DEFAULTS.placement,
      description: 'Where the actors run: one OS process each, all in this process, started elsewhere (they join), or as Docker containers.',
    }),
    processes: words({
      values: LIVE_PROCESSES,
      default: LIVE_DEFAULTS.processes,
      description: 'How actors share processes: one per actor, or one per Xen domain (driver domain with its workers; each guest).',
    }),
    nats: string({
      default: LIVE_DEFAULTS.nats,
      description: 'NATS server(s): nats://host:port, tls://host:port or host:port, comma-separated; "" starts a private nats-server.',
    }),
    startDelay: duration({ min: 0, default: LIVE_DEFAULTS.startDelay, description: 'Wall-clock time between "every actor is ready" and emulated time 0.' }),
    drainTime: duration({ min: 0, default: LIVE_DEFAULTS.drainTime, description: 'Wall-clock time to wait after the run for messages still on the bus.' }),
    batchWindow: duration({
      min: 0,
      default: LIVE_DEFAULTS.batchWindow,
      description: 'Least wall-clock time between two passes of an actor process: fewer, larger NATS messages, each up to this much later.',
    }),
    codeWarmup: duration({
      min: 0,
      default: LIVE_DEFAULTS.codeWarmup,
      description: 'Emulated time each actor process rehearses in sim before it reports ready, so its code is compiled; 0ms turns it off.',
    }),
    readyTimeout: oneOf({
      variants: [words({ values: [AUTO] }), duration({ min: 1 })],
      default: AUTO,
      description: 'Wall-clock time the controller waits for every actor process to say it is ready; auto: 30s plus 3s per actor process per core.',
    }),
    busOutageLimit: duration({
      min: 1,
      default: LIVE_DEFAULTS.busOutageLimit,
      description: 'Wall-clock time a lost NATS connection may stay lost before the run (controller and actors) gives up.',
    }),
  },
  { description: 'Settings of the live runtime (actors over NATS against a dilated wall clock); checked under sim too.' },
);
const K = LIVE_SPEC.keys;

const NATS_HINT = 'a NATS URL such as nats://127.0.0.1:4222, tls://host:4222 or host:4222 (or a comma-separated list of them)';

export interface LiveResult {
  readonly compiled: LiveSpec;
  readonly resolved: Record<string, unknown>;
}

/** Read the section; it is checked and resolved whatever the runtime, so `--set runtime=live` works on any scenario. */
export function readLive(field: Field): LiveResult {
  const m = readMap(field, LIVE_SPEC);
  const tdf = readTdf(m.get('tdf'));
  const maxLag = readAutoOrDuration(m.get('maxLag'), '(ns, us, ms, s) such as 50us');
  const placement = readEnum(m.get('placement'), K.placement.default, K.placement.values);
  const processes = readEnum(m.get('processes'), K.processes.default, K.processes.values);
  const nats = readNatsServers(m.get('nats'));
  const startDelay = readDuration(m.get('startDelay'), K.startDelay.default, K.startDelay.min);
  const drainTime = readDuration(m.get('drainTime'), K.drainTime.default, K.drainTime.min);
  const batchWindow = readDuration(m.get('batchWindow'), K.batchWindow.default, K.batchWindow.min);
  const codeWarmup = readDuration(m.get('codeWarmup'), K.codeWarmup.default, K.codeWarmup.min);
  const readyTimeout = readAutoOrDuration(m.get('readyTimeout'), '(ms, s) such as 90s');
  const busOutageLimit = readDuration(m.get('busOutageLimit'), K.busOutageLimit.default, K.busOutageLimit.min);
  return {
    compiled: { tdf, maxLag, placement, processes, nats, startDelay, drainTime, batchWindow, codeWarmup, readyTimeout, busOutageLimit },
    resolved: {
      tdf,
      maxLag: maxLag === AUTO ? AUTO : formatDuration(maxLag),
      placement,
      processes,
      nats,
      startDelay: formatDuration(startDelay),
      drainTime: formatDuration(drainTime),
      batchWindow: formatDuration(batchWindow),
      codeWarmup: formatDuration(codeWarmup),
      readyTimeout: readyTimeout === AUTO ? AUTO : formatDuration(readyTimeout),
      busOutageLimit: formatDuration(busOutageLimit),
    },
  };
}

/**
 * `auto` (the default) or a positive duration: `maxLag` (emulated; auto follows from the scenario's time
 * constants) and `readyTimeout` (wall clock; auto scales with the machine's cores) read alike.
 */
function readAutoOrDuration(field: Field, hint: string): Nanos | typeof AUTO {
  if (field.absent || field.value === AUTO) return AUTO;
  const ns = typeof field.value === 'string' ? parseDuration(field.value) : undefined;
  if (ns === undefined || ns <= 0) {
    field.expected(`"${AUTO}" or a positive duration with a unit ${hint}`, typeof field.value === 'number' ? ' (a bare number has no unit)' : '');
  }
  return ns;
}

function readTdf(field: Field): number {
  // Below 1 emulated time would have to outrun the wall clock, which is exactly what dilation exists to avoid.
  if (typeof field.value === 'number' && Number.isFinite(field.value) && field.value < K.tdf.min) {
    field.expected('a number ≥ 1', ' (a time dilation factor below 1 would run emulated time faster than the wall clock)');
  }
  return readNumber(field, K.tdf.default, K.tdf);
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
/** A DNS name or IPv4 address, or an IPv6 address in brackets, then a port. */
const HOST_PORT = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]):(\d+)$/;

/**
 * `""` (start a private nats-server), or one or more servers separated by commas, each
 * `nats://host:port`, `tls://host:port` or `host:port`. Kept as written: the live runtime hands it
 * to the NATS client, which does its own parsing; this only catches what could never connect.
 */
function readNatsServers(field: Field): string {
  if (field.absent) return K.nats.default;
  const v = field.value;
  if (typeof v !== 'string') field.expected(NATS_HINT);
  if (v.trim() === '') return '';
  const items = v.split(',');
  items.forEach((raw, i) => {
    const problem = serverProblem(raw.trim());
    if (problem === undefined) return;
    const which = items.length > 1 ? `server ${i + 1}: ` : '';
    field.expected(NATS_HINT, ` (${which}${problem})`);
  });
  return v;
}

/** Why one server entry is not usable, or undefined when it is. */
function serverProblem(server: string): string | undefined {
  if (server === '') return 'an empty entry in the list';
  let rest = server;
  const scheme = SCHEME.exec(server);
  if (scheme !== null) {
    const name = (scheme[1] as string).toLowerCase();
    if (name !== 'nats' && name !== 'tls') return `scheme "${scheme[1] as string}://" is neither nats:// nor tls://`;
    rest = server.slice(scheme[0].length);
  }
  // The scenario is saved with the results (scenario.resolved.yaml), so a password in it would travel with them.
  if (rest.includes('@')) return 'user names and passwords do not belong in a scenario, which is saved with the results';
  const m = HOST_PORT.exec(rest);
  if (m === null) {
    if (!rest.includes(':')) return 'no port';
    return /:\d+$/.test(rest) ? 'not a host name or address' : 'the port is not a number';
  }
  const port = Number(m[1]);
  if (port < 1 || port > 65535) return `port ${m[1] as string} is not 1 … 65535`;
  return undefined;
}
