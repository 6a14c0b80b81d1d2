// The `faults` section: a schedule of faults (when, on what, which action with which parameters), validated with located errors.
import { FAULT_ACTIONS, MESSAGE_KINDS, SplitnetError } from '@splitnet/model';
import type { FaultAction, FaultParams, Nanos } from '@splitnet/model';
import { readDuration, readEnum, readInt, readList, readMap, readNumber, readString, Field } from './field.js';
import type { MapField } from './field.js';
import { formatPath, listWords, ScenarioIssue } from './issue.js';
import { duration, int, list, map, number, string, tagged, words, type MapSpec, type Spec } from './spec.js';
import { didYouMean } from './suggest.js';
import type { ActorSelector, CompiledScenario, FaultSpec, FaultTarget } from './types.js';
import { formatDuration } from './units.js';

const PARAM_KEYS = ['probability', 'delay', 'factor', 'packets', 'size', 'offset', 'restartAfter', 'kinds'] as const;
type ParamKey = (typeof PARAM_KEYS)[number];

/** What a target may be, per action. */
type TargetKind = 'vm' | 'worker' | 'nic' | 'backend' | 'link' | 'nats' | 'node';
type DurationRule = 'required' | 'optional' | 'none';

interface ActionRule {
  readonly targets: readonly TargetKind[];
  readonly params: readonly ParamKey[];
  readonly duration: DurationRule;
  /** Message kinds a message-path action may touch (default: all of them). */
  readonly kinds?: readonly string[];
}

const ANY_ACTOR: readonly TargetKind[] = ['vm', 'worker', 'nic', 'backend'];
/** The transmit path's message kinds: message faults on them are not offered yet (its own actions, *-tx-*, act on its notifications, completions and ring). */
const TX_KINDS: readonly string[] = ['txreq', 'txrsp', 'xmit', 'txpost', 'txdone', 'dealloc'];
/** The kinds a message fault may touch: the receive path's. */
/** The fabric's messages between hosts: switch ports have faults of their own (port targets), not message-path ones. */
const FABRIC_KINDS: readonly string[] = ['uplink', 'downlink'];
const ALL_KINDS: readonly string[] = MESSAGE_KINDS.filter((k) => !TX_KINDS.includes(k) && !FABRIC_KINDS.includes(k));

/**
 * The rules of every action. Why some message kinds are excluded: a response (`rsp`) is a write to
 * a shared ring page and its grant copy, which cannot vanish, repeat or overtake the next one
 * without breaking the ring itself (lose notifications or drop `rx` batches instead); and a batch of
 * packets is never duplicated (a DMA descriptor or ring slot is used once).
 */
export const FAULT_RULES: Readonly<Record<FaultAction, ActionRule>> = {
  'lose-notifications': { targets: ['vm'], params: ['probability'], duration: 'optional' },
  'delay-notifications': { targets: ['vm'], params: ['probability', 'delay'], duration: 'optional' },
  'stop-polling': { targets: ['vm'], params: [], duration: 'optional' },
  'slow-worker': { targets: ['worker'], params: ['factor'], duration: 'optional' },
  'ring-full-storm': { targets: ['vm'], params: ['packets', 'size'], duration: 'none' },
  'link-flap': { targets: ['nic'], params: [], duration: 'required' },
  'corrupt-ring-index': { targets: ['vm'], params: ['offset'], duration: 'optional' },
  'lose-tx-notifications': { targets: ['vm'], params: ['probability'], duration: 'optional' },
  'delay-tx-notifications': { targets: ['vm'], params: ['probability', 'delay'], duration: 'optional' },
  'stop-tx-completion': { targets: ['vm'], params: [], duration: 'optional' },
  // xenvif_fatal_tx_err disables the vif for good: only a new connection through xenbus, not modelled on TX, brings it back.
  'corrupt-tx-ring-index': { targets: ['vm'], params: ['offset'], duration: 'none' },
  kill: { targets: ANY_ACTOR, params: ['restartAfter'], duration: 'none' },
  restart: { targets: ANY_ACTOR, params: [], duration: 'none' },
  'crash-loop': { targets: ANY_ACTOR, params: ['restartAfter'], duration: 'none' },
  pause: { targets: [...ANY_ACTOR, 'node'], params: [], duration: 'required' },
  'drop-messages': { targets: ['link'], params: ['probability', 'kinds'], duration: 'optional', kinds: ['evt', 'req', 'poll', 'rx', 'dma'] },
  'delay-messages': { targets: ['link'], params: ['probability', 'delay', 'kinds'], duration: 'optional', kinds: ALL_KINDS },
  'duplicate-messages': { targets: ['link'], params: ['probability', 'kinds'], duration: 'optional', kinds: ['evt', 'req', 'poll'] },
  'reorder-messages': { targets: ['link'], params: ['probability', 'delay', 'kinds'], duration: 'optional', kinds: ['evt', 'req', 'poll', 'rx', 'dma'] },
  partition: { targets: ['vm', 'worker', 'nic', 'backend', 'node'], params: [], duration: 'required' },
  'nats-restart': { targets: ['nats'], params: [], duration: 'required' },
};

/** Defaults of the parameters, per action where they differ. */
function defaultParam(action: FaultAction, key: ParamKey): number | undefined {
  switch (key) {
    case 'probability':
      return action === 'reorder-messages' ? 0.5 : 1;
    case 'delay':
      return action === 'delay-notifications' || action === 'delay-tx-notifications' ? 100_000 : action === 'reorder-messages' ? 20_000 : 50_000;
    case 'factor':
      return 4;
    case 'packets':
      return 1024;
    case 'size':
      return 1518;
    case 'offset':
      return 1;
    case 'restartAfter':
      return 1_000_000;
    default:
      return undefined;
  }
}

/** crash-loop is a kill repeated: its own default schedule. */
const CRASH_LOOP_REPEAT = { every: 2_000_000, count: 3 };

/** The parameters' ranges, whatever the action (defaults and message kinds differ per action). */
const PARAM_SPECS = {
  probability: number({ min: 0, max: 1, minExclusive: true, description: 'Chance that one notification or message is affected (0 < p ≤ 1).' }),
  delay: duration({ min: 1, description: 'Added delay of a delayed notification or message; the reorder window of reorder-messages.' }),
  factor: number({ min: 1, max: 1000, description: 'CPU cost multiplier of a slow worker.' }),
  packets: int({ min: 1, max: 1_000_000, unit: 'frames', description: 'Frames in a ring-full storm.' }),
  size: int({ min: 64, max: 9018, unit: 'bytes', description: 'Frame size of a ring-full storm (bytes).' }),
  offset: int({ min: 1, max: 0x4000_0000, description: 'How far past the ring a corrupted request index points.' }),
  restartAfter: duration({ min: 0, description: 'How long a killed actor stays down before the supervisor restarts it.' }),
  kinds: list({ items: words({ values: ALL_KINDS }), minItems: 1, description: 'Message kinds the action touches (default: every kind it may touch).' }),
} as const satisfies Record<ParamKey, Spec>;

const REPEAT_SPEC = map(
  {
    every: duration({ min: 1, description: 'Interval between occurrences (at least the duration, so that they do not overlap).' }),
    count: int({ min: 1, max: 10_000, default: 2, description: 'Number of occurrences.' }),
  },
  { required: ['every'], description: 'Repeat the fault; the last occurrence must start before the end of the run (crash-loop: every 2ms, 3 times).' },
);

// The target grammar, shared by the reader (ACTOR_RE, NODE_RE) and the schema's per-action patterns.
const INDEX = String.raw`(\*|0|[1-9][0-9]{0,4})`;
const WORKER = `worker:${INDEX}`;
const VM = `vm:${INDEX}(?::queue:${INDEX})?`;
const ACTOR = String.raw`(nic|backend)|${WORKER}|${VM}|role:(nic|backend|worker|frontend|vm)|(\*)`;
const NODE = '(?:([0-9]|1[0-5])|([a-p]))';
const ACTOR_RE = new RegExp(`^(?:${ACTOR})$`);
const NODE_RE = new RegExp(`^node:${NODE}$`);

/** What a target of each kind may look like (white space around it, and around a link's ">", is ignored). */
const TARGET_FORMS: Readonly<Record<TargetKind, string>> = {
  vm: `${VM}|role:(?:frontend|vm)`,
  worker: `${WORKER}|role:worker`,
  nic: 'nic|role:nic',
  backend: 'backend|role:backend',
  link: String.raw`link:\s*(?:${ACTOR})\s*>\s*(?:${ACTOR})`,
  node: `node:${NODE}`,
  nats: 'nats',
};

function targetPattern(kinds: readonly TargetKind[]): string {
  return String.raw`^\s*(?:${kinds.map((k) => TARGET_FORMS[k]).join('|')})\s*$`;
}

/** The keys of every fault besides its action and parameters, in the order messages list them. */
const WHEN_AND_WHAT = {
  id: string({
    pattern: '^[A-Za-z0-9_-]{1,40}$',
    patternMessage: 'an id of 1-40 letters, digits, _ or -',
    description: 'Names the fault in events and the summary (default f<index>).',
  }),
  at: duration({ min: 0, description: 'Start, from the run start (give at or after).' }),
  after: duration({ min: 0, description: "Start, from the previous fault's (first) start (give at or after)." }),
  duration: duration({ min: 1, description: 'How long the fault lasts (instantaneous actions take none).' }),
  repeat: REPEAT_SPEC,
  target: string({
    pattern: targetPattern(['vm', 'worker', 'nic', 'backend', 'link', 'node', 'nats']),
    description: 'worker:<k>, vm:<v>[:queue:<q>], nic, backend, role:<role>, link:<from>><to>, node:<name> or nats; * for any index.',
  }),
} as const;
const FAULT_KEYS = [...Object.keys(WHEN_AND_WHAT), 'action', ...PARAM_KEYS];
const ID_RE = new RegExp(WHEN_AND_WHAT.id.pattern);

/** One action's map: the keys every fault has, a target of the kinds it takes, its duration rule, and its own parameters with their defaults. */
function actionSpec(action: FaultAction): MapSpec {
  const rule = FAULT_RULES[action];
  const params = Object.fromEntries(
    rule.params.map((key): [string, Spec] => {
      if (key === 'kinds') return [key, { ...PARAM_SPECS.kinds, items: words({ values: rule.kinds ?? ALL_KINDS }) }];
      const dflt = defaultParam(action, key);
      return [key, dflt === undefined ? PARAM_SPECS[key] : { ...PARAM_SPECS[key], default: dflt }];
    }),
  );
  const { duration: dur, ...rest } = WHEN_AND_WHAT;
  const lasts = rule.duration === 'required' ? 'How long it lasts (required).' : 'How long it lasts; left out, until the end of the run.';
  return map(
    {
      ...rest,
      ...(rule.duration === 'none' ? {} : { duration: { ...dur, description: lasts } }),
      target: string({
        pattern: targetPattern(rule.targets),
        patternMessage: targetWhat(action),
        description: `What ${action} applies to: ${rule.targets.map(targetHint).join(', ')}.`,
      }),
      ...params,
    },
    { required: rule.duration === 'required' ? ['target', 'duration'] : ['target'] },
  );
}

export const FAULTS_SPEC = list({
  items: tagged({
    tag: 'action',
    tagDescription: 'What happens (docs/faults.md describes every action and its parameters).',
    variants: Object.fromEntries(FAULT_ACTIONS.map((a) => [a, actionSpec(a)])),
    required: ['target'],
    exactlyOne: ['at', 'after'],
    description: 'One fault, possibly repeated: when (at or after), on what (target), which action with which parameters.',
  }),
  description: 'The fault schedule (docs/faults.md).',
});

export interface FaultContext {
  readonly duration: Nanos;
  readonly workers: number;
  readonly vmQueues: readonly number[];
  /** The guests that send (traffic from: vm.<index>); absent or empty: the scenario is receive-only. */
  readonly senders?: readonly number[];
  /** Some traffic is closed-loop (TCP, request-response): its ends hold connection state a restart would lose. */
  readonly closedLoop?: boolean;
  /** The runtime the scenario runs in (absent: sim). */
  readonly runtime?: string;
  /** A live run with one process per Xen domain: the workers are in the driver domain's process. */
  readonly perDomain?: boolean;
}

/** The transmit path's own actions: they need a target guest that sends. */
const TX_ACTIONS: ReadonlySet<FaultAction> = new Set<FaultAction>([
  'lose-tx-notifications',
  'delay-tx-notifications',
  'stop-tx-completion',
  'corrupt-tx-ring-index',
]);

export interface FaultsResult {
  readonly compiled: readonly FaultSpec[];
  readonly resolved: readonly Record<string, unknown>[];
}

export function readFaults(field: Field, ctx: FaultContext): FaultsResult {
  const items = readList(field, 'a list of faults (each with at or after, target and action)') ?? [];
  const compiled: FaultSpec[] = [];
  const resolved: Record<string, unknown>[] = [];
  const ids = new Set<string>();
  let prevStart = 0;
  items.forEach((item, i) => {
    const map = readMap(item, FAULT_KEYS, 'a map with at or after, target and action');
    const f = readFault(map, i, ctx, ids, prevStart);
    prevStart = f.compiled.start;
    compiled.push(f.compiled);
    resolved.push(f.resolved);
  });
  return { compiled, resolved };
}

/** One fault of the list: its id, action and target, when it starts, how long and how often, and the action's parameters. */
function readFault(
  map: MapField,
  i: number,
  ctx: FaultContext,
  ids: Set<string>,
  prevStart: Nanos,
): { compiled: FaultSpec; resolved: Record<string, unknown> } {
  const idField = map.get('id');
  const id = readString(idField, `f${i}`);
  if (!ID_RE.test(id)) idField.expected(WHEN_AND_WHAT.id.patternMessage);
  if (ids.has(id)) idField.expected('an id no other fault uses');
  ids.add(id);

  const actionField = map.get('action');
  if (actionField.absent) actionField.expected(`an action: one of ${listWords(FAULT_ACTIONS)}`);
  const action = readEnum(actionField, 'kill', FAULT_ACTIONS);
  const rule = FAULT_RULES[action];
  const targetField = map.get('target');
  const target = readTarget(targetField, ctx);
  if (!rule.targets.includes(targetKind(target))) targetField.expected(targetWhat(action));

  const start = readStart(map, ctx, prevStart);
  const duration = readFaultDuration(map.get('duration'), action, rule);
  const { every, count } = readRepeat(map.get('repeat'), action, start, duration, ctx);
  const { params, resolvedParams } = readParams(map, action, rule);
  checkTransmitPath(targetField, action, target, ctx.senders ?? []);
  checkRestartBesideSender(actionField, targetField, action, target, ctx);
  return {
    compiled: { id, action, target, targetText: formatTarget(target), start, duration, every, count, params: params as FaultParams },
    resolved: {
      id,
      at: formatDuration(start),
      ...(duration > 0 ? { duration: formatDuration(duration) } : {}),
      ...(count > 1 || action === 'crash-loop' ? { repeat: { every: formatDuration(every), count } } : {}),
      target: formatTarget(target),
      action,
      ...resolvedParams,
    },
  };
}

/**
 * A transmit-path action needs a guest that sends. (A partition of an actor or of a node, a docker network cut, runs
 * beside a guest that sends, closed-loop traffic included: at its end the actors resync the TX ring as after a NATS
 * outage, docs/faults.md#the-transmit-path-a-guest-that-sends, and the connections repair what it dropped by their
 * own timers, docs/model.md §12 "Partitions".)
 */
function checkTransmitPath(targetField: Field, action: FaultAction, target: FaultTarget, senders: readonly number[]): void {
  if (!TX_ACTIONS.has(action) || target.kind !== 'actor' || target.actor.role !== 'vm') return;
  const vm = target.actor.index;
  if (senders.length === 0) targetField.expected(`a guest that sends (${action} acts on the transmit path; no traffic has from: vm.<index>)`);
  if (vm !== '*' && !senders.includes(vm)) {
    targetField.expected(
      `a guest that sends (${action} acts on the transmit path): ${senders.map((v) => `vm:${v}`).join(', ')}`,
      ` (no traffic has from: vm.${vm})`,
    );
  }
}

/** The process faults: they restart their target, which rebuilds its rings with its peers. */
const RESTARTS: ReadonlySet<FaultAction> = new Set<FaultAction>(['kill', 'restart', 'crash-loop']);

/**
 * A restart beside a guest that sends rebuilds the TX rings (docs/faults.md#the-transmit-path-a-guest-that-sends).
 * (Live, a dead driver domain's guest-to-guest handoffs are counted by the receivers that survive it, those to netback
 * workers that died too inferred: live/src/tx-bus-accounting.ts withBridgeHandoffs.)
 */
function checkRestartBesideSender(actionField: Field, targetField: Field, action: FaultAction, target: FaultTarget, ctx: FaultContext): void {
  const senders = ctx.senders ?? [];
  if (!RESTARTS.has(action) || senders.length === 0 || quietGuest(action, target, senders)) return;
  if (ctx.closedLoop === true) checkRestartBesideClosedLoop(targetField, action, target, ctx);
}

/**
 * Beside closed-loop traffic (TCP, request-response) a restart runs in sim and lockstep: of a worker, the NIC or the
 * back end, the connections' ends are untouched (a restarted NIC takes the far hosts' ends over) and what the crash
 * lost is retransmitted; of a guest hosting an end, its connections are reset and opened again. Live runs each of
 * them, in either process layout: a worker's; the NIC's and the back end's (the far hosts' ends die with the NIC's
 * process: the new ones open their connections again, NicActor.rejoined); a guest's, whatever ends it hosts (the
 * controller continues its ends' counters and merges its active ends' RTT and transaction histograms across
 * incarnations, and a restarted guest numbers its frames past its predecessor's: live/src/incarnations.ts,
 * FrontendActor.rejoined). Every actor at once is not one of them.
 */
function checkRestartBesideClosedLoop(targetField: Field, action: FaultAction, target: FaultTarget, ctx: FaultContext): void {
  if (ctx.runtime !== 'live' || target.kind !== 'actor') return;
  const role = target.actor.role;
  if (role === 'worker' || role === 'nic' || role === 'backend' || role === 'vm') return;
  targetField.expected(
    `one actor (worker:<k>, vm:<v>, nic, backend) for ${action} beside TCP or request-response traffic in a live run`,
    ` (every actor restarted at once is not tried live beside connections; sim and lockstep run it; docs/faults.md#the-transmit-path-a-guest-that-sends)`,
  );
}

/**
 * A process fault on one guest that does not send holds no transmit-path state: its workers' TX side has nothing of
 * it, and the frames another guest sends it gave their slots back as they entered its vif (the zero-copy release).
 */
function quietGuest(action: FaultAction, target: FaultTarget, senders: readonly number[]): boolean {
  if (action !== 'kill' && action !== 'restart' && action !== 'crash-loop') return false;
  if (target.kind !== 'actor' || target.actor.role !== 'vm') return false;
  const vm = target.actor.index;
  return vm !== '*' && !senders.includes(vm);
}

/** When: `at` (from the run's start) or `after` (from the previous fault's start), before the end of the run. */
function readStart(map: MapField, ctx: FaultContext, prevStart: Nanos): Nanos {
  const atField = map.get('at');
  const afterField = map.get('after');
  if (!atField.absent && !afterField.absent) afterField.fail('expected either at or after, found both');
  if (atField.absent && afterField.absent) atField.expected("a start time: at (from the run start) or after (from the previous fault's start)");
  const start = atField.absent ? prevStart + readDuration(afterField, 0) : readDuration(atField, 0);
  const startField = atField.absent ? afterField : atField;
  if (start >= ctx.duration)
    startField.expected(`a start before the end of the run (${formatDuration(ctx.duration)})`, ` (the fault would start at ${formatDuration(start)})`);
  return start;
}

/** How long the fault lasts: none for an instantaneous action, required or optional for the others. */
function readFaultDuration(durField: Field, action: FaultAction, rule: ActionRule): Nanos {
  let duration = 0;
  if (rule.duration === 'none') {
    if (!durField.absent) durField.expected(`no duration (${action} is instantaneous)`);
  } else if (durField.absent) {
    if (rule.duration === 'required') durField.expected(`a duration (how long ${action} lasts), such as 5ms`);
  } else {
    duration = readDuration(durField, 0, 1);
  }
  if (action === 'corrupt-ring-index' && duration > 0 && duration < 100_000) {
    durField.expected('at least 100us (responses in flight must land before the guest reconnects the queue)');
  }
  return duration;
}

/** `repeat`: every and count (a crash-loop repeats by default); occurrences do not overlap, and the last starts before the end. */
function readRepeat(repeatField: Field, action: FaultAction, start: Nanos, duration: Nanos, ctx: FaultContext): { every: Nanos; count: number } {
  let every = 0;
  let count = 1;
  if (!repeatField.absent) {
    const R = REPEAT_SPEC.keys;
    const r = readMap(repeatField, REPEAT_SPEC, 'a map with every and count');
    every = readDuration(r.get('every'), 0, R.every.min);
    if (r.get('every').absent) r.get('every').expected('a repeat interval such as 10ms');
    count = readInt(r.get('count'), R.count.default, R.count);
    if (duration > 0 && every < duration) r.get('every').expected(`an interval ≥ the duration (${formatDuration(duration)}) so occurrences do not overlap`);
  } else if (action === 'crash-loop') {
    every = CRASH_LOOP_REPEAT.every;
    count = CRASH_LOOP_REPEAT.count;
  }
  const lastStart = start + every * (count - 1);
  if (lastStart >= ctx.duration) {
    repeatField.expected(
      `a schedule whose last occurrence starts before the end of the run (${formatDuration(ctx.duration)})`,
      ` (occurrence ${count} would start at ${formatDuration(lastStart)})`,
    );
  }
  return { every, count };
}

/** Parameters: only those of this action, with their defaults; resolved as the scenario writes them. */
function readParams(map: MapField, action: FaultAction, rule: ActionRule): { params: Record<string, unknown>; resolvedParams: Record<string, unknown> } {
  const params: Record<string, unknown> = {};
  const resolvedParams: Record<string, unknown> = {};
  for (const key of PARAM_KEYS) {
    const f = map.get(key);
    if (!rule.params.includes(key)) {
      if (!f.absent) f.fail(`${action} takes no ${key}${rule.params.length > 0 ? ` (its parameters: ${rule.params.join(', ')})` : ''}`);
      continue;
    }
    const value = readParam(f, action, key, rule);
    params[key] = value;
    resolvedParams[key] = key === 'delay' || key === 'restartAfter' ? formatDuration(value as number) : value;
  }
  return { params, resolvedParams };
}

function readParam(f: Field, action: FaultAction, key: ParamKey, rule: ActionRule): unknown {
  const dflt = defaultParam(action, key);
  const P = PARAM_SPECS;
  switch (key) {
    case 'probability':
      return readNumber(f, dflt ?? 1, P.probability);
    case 'delay':
      return readDuration(f, dflt ?? 0, P.delay.min);
    case 'restartAfter':
      return readDuration(f, dflt ?? 0, P.restartAfter.min);
    case 'factor':
      return readNumber(f, dflt ?? 4, P.factor);
    case 'packets':
      return readInt(f, dflt ?? 1024, P.packets);
    case 'size':
      return readInt(f, dflt ?? 1518, P.size);
    case 'offset':
      return readInt(f, dflt ?? 1, P.offset);
    case 'kinds': {
      const allowed = rule.kinds ?? ALL_KINDS;
      const list = readList(f, `a list of message kinds (${allowed.join(', ')})`);
      if (list === undefined) return [...allowed];
      if (list.length === 0) f.expected(`at least one message kind (${allowed.join(', ')})`);
      return list.map((k) => readEnum(k, allowed[0] as string, allowed));
    }
  }
}

const SELECTOR_HINT = 'a target such as worker:2, vm:0, vm:*:queue:1, role:frontend, nic, link:worker:1>vm:0, node:b or nats';

function parseIndex(s: string | undefined): number | '*' {
  return s === undefined || s === '*' ? '*' : Number(s);
}

function parseActor(text: string): ActorSelector | undefined {
  const m = ACTOR_RE.exec(text);
  if (m === null) return undefined;
  if (m[1] === 'nic' || m[1] === 'backend') return { role: m[1] };
  if (m[2] !== undefined) return { role: 'worker', index: parseIndex(m[2]) };
  if (m[3] !== undefined) return { role: 'vm', index: parseIndex(m[3]), queue: parseIndex(m[4]) };
  if (m[5] !== undefined) {
    const r = m[5];
    if (r === 'nic' || r === 'backend') return { role: r };
    return r === 'worker' ? { role: 'worker', index: '*' } : { role: 'vm', index: '*', queue: '*' };
  }
  return { role: '*' };
}

/** The target at `field`; with a context, its indexes are checked against the topology too. */
function readTarget(field: Field, ctx: FaultContext | undefined): FaultTarget {
  if (field.absent) field.expected(SELECTOR_HINT);
  const text = field.value;
  if (typeof text !== 'string') field.expected(SELECTOR_HINT);
  const t = text.trim();
  if (t === 'nats') return { kind: 'nats' };
  // Emulated Docker nodes by index (node:0) or letter (node:a is node 0 … node:p is node 15).
  const node = NODE_RE.exec(t);
  if (node !== null) return { kind: 'node', name: node[1] ?? String((node[2] as string).charCodeAt(0) - 97) };
  if (t.startsWith('node:')) field.expected('a node as node:<0-15> or node:<a-p>');
  if (t.startsWith('link:')) {
    const parts = t.slice(5).split('>');
    if (parts.length !== 2) field.expected('a link as link:<from>><to>, such as link:worker:1>vm:0');
    const [a, b] = parts as [string, string];
    const from = parseActor(a.trim());
    const to = parseActor(b.trim());
    if (from === undefined) field.expected(`a sender before ">" (${SELECTOR_HINT})`, ` ("${a}" is not one)`);
    if (to === undefined) field.expected(`a receiver after ">" (${SELECTOR_HINT})`, ` ("${b}" is not one)`);
    if (ctx !== undefined) checkActor(field, from, ctx);
    if (ctx !== undefined) checkActor(field, to, ctx);
    return { kind: 'link', from, to };
  }
  const actor = parseActor(t);
  if (actor === undefined || actor.role === '*') field.expected(SELECTOR_HINT);
  if (ctx !== undefined) checkActor(field, actor, ctx);
  return { kind: 'actor', actor };
}

/**
 * What `splitnet fault <action> <target>` can check before it connects to a run: the action, the
 * target's form and whether the action takes it, which parameters (`params`: the flags given, by
 * key) and whether a duration it takes. The run's controller checks the rest against its scenario
 * (indexes in range, values). Throws a one-line E_USAGE error naming the argument or flag.
 */
export function checkFaultRequest(action: string, target: string, given: { readonly params: readonly string[]; readonly duration: boolean }): void {
  const fail = (what: string): never => {
    throw new SplitnetError('E_USAGE', `fault ${what}`);
  };
  if (!(FAULT_ACTIONS as readonly string[]).includes(action)) {
    fail(`${action}: unknown action (expected one of: ${FAULT_ACTIONS.join(', ')}${didYouMean(action, FAULT_ACTIONS)})`);
  }
  const rule = FAULT_RULES[action as FaultAction];
  const field = new Field(target, ['target']);
  let parsed: FaultTarget;
  try {
    parsed = readTarget(field, undefined);
  } catch (err) {
    if (err instanceof ScenarioIssue) fail(`${action} ${target}: ${err.detail}`);
    throw err;
  }
  if (!rule.targets.includes(targetKind(parsed))) {
    fail(`${action} ${target}: expected a target for ${action}: ${rule.targets.map(targetHint).join(', ')}`);
  }
  for (const key of given.params) {
    if (!(rule.params as readonly string[]).includes(key)) {
      fail(`${action} ${target}: --${key}: ${action} takes no ${key}${rule.params.length > 0 ? ` (its parameters: ${rule.params.join(', ')})` : ''}`);
    }
  }
  if (rule.duration === 'none' && given.duration) fail(`${action} ${target}: --duration: ${action} is instantaneous and takes no duration`);
  if (rule.duration === 'required' && !given.duration) fail(`${action} ${target}: ${action} needs --duration (how long it lasts), such as 5ms`);
}

/**
 * One fault given as a scenario's faults item (a map with at or after, target, action and parameters),
 * checked against a compiled scenario as its own `faults` list would be: indexes against its topology,
 * times against its duration. `splitnet fault` sends such an item to a running live run. Throws a one-line
 * `SplitnetError('E_SCENARIO')` that names the item's key (`faults[0].target: expected …`); there is no file
 * to point into.
 */
export function compileFaultItem(item: Readonly<Record<string, unknown>>, scenario: CompiledScenario): FaultSpec {
  const ctx: FaultContext = {
    duration: scenario.duration,
    workers: scenario.topology.workers,
    vmQueues: scenario.topology.vms.map((v) => v.queues),
    senders: sendersOf(scenario.traffic.generators, scenario.traffic.flows),
    closedLoop: scenario.traffic.generators.some((g) => g.closedLoop !== undefined && g.closedLoop !== null),
    runtime: scenario.runtime,
    perDomain: scenario.live.processes === 'per-domain',
  };
  let compiled: readonly FaultSpec[];
  try {
    compiled = readFaults(new Field([item], ['faults']), ctx).compiled;
  } catch (err) {
    if (!(err instanceof ScenarioIssue)) throw err;
    const path = formatPath(err.shownPath);
    throw new SplitnetError('E_SCENARIO', `${path === '' ? '' : `${path}: `}${err.detail}`, { cause: err });
  }
  const f = compiled[0];
  if (f === undefined) throw new SplitnetError('E_INTERNAL', 'compileFaultItem: one item gave no fault');
  return f;
}

/** A generator as sendersOf reads it: as the scenario reader holds it (vms, spec) or compiled (closedLoop). */
interface SenderView {
  readonly sender?: number | null;
  readonly receiver?: number | null;
  readonly vms?: readonly number[];
  readonly closedLoop?: unknown;
  readonly spec?: { readonly closedLoop?: unknown };
}

/**
 * The guests that send, in index order: a generator's `from: vm.N`, and the guest end of every closed-loop flow
 * (its ACKs, requests or responses take the transmit path too). A compiled generator does not list its guests:
 * `flows` (the compiled flow table) says which guest each closed-loop flow is on.
 */
export function sendersOf(generators: readonly SenderView[], flows: readonly { readonly generator: number; readonly vm: number }[] = []): number[] {
  const out = new Set<number>();
  generators.forEach((g, i) => {
    if (g.sender !== undefined && g.sender !== null) out.add(g.sender);
    if (g.closedLoop === undefined && g.spec?.closedLoop === undefined) return;
    for (const v of g.vms ?? []) out.add(v);
    for (const f of flows) if (f.generator === i) out.add(f.vm);
  });
  return [...out].sort((a, b) => a - b);
}

function checkActor(field: Field, a: ActorSelector, ctx: FaultContext): void {
  if (a.role === 'worker' && a.index !== '*' && a.index >= ctx.workers) {
    field.expected(`a worker from 0 to ${ctx.workers - 1}`, ' (topology.workers)', [['topology', 'workers']]);
  }
  if (a.role === 'vm') {
    if (a.index !== '*' && a.index >= ctx.vmQueues.length) {
      field.expected(`a VM from 0 to ${ctx.vmQueues.length - 1}`, ' (topology.vms)', [['topology', 'vms']]);
    }
    if (a.queue !== '*') {
      const limit = a.index === '*' ? Math.min(...ctx.vmQueues) : (ctx.vmQueues[a.index] as number);
      if (a.queue >= limit) field.expected(`a queue from 0 to ${limit - 1}`, ' (topology.vms.queues)', [['topology', 'vms']]);
    }
  }
}

/** What a target of `action` must be, as messages (and the schema) say it. */
function targetWhat(action: FaultAction): string {
  return `a target for ${action}: ${FAULT_RULES[action].targets.map(targetHint).join(', ')}`;
}

function targetKind(t: FaultTarget): TargetKind {
  if (t.kind === 'link' || t.kind === 'nats' || t.kind === 'node') return t.kind;
  const r = t.actor.role;
  return r === '*' ? 'vm' : r;
}

function targetHint(k: TargetKind): string {
  switch (k) {
    case 'vm':
      return 'vm:<v>[:queue:<q>]';
    case 'worker':
      return 'worker:<k>';
    case 'link':
      return 'link:<from>><to>';
    case 'node':
      return 'node:<name>';
    default:
      return k;
  }
}

function formatActor(a: ActorSelector): string {
  switch (a.role) {
    case 'nic':
    case 'backend':
      return a.role;
    case 'worker':
      return `worker:${a.index}`;
    case 'vm':
      return a.queue === '*' ? `vm:${a.index}` : `vm:${a.index}:queue:${a.queue}`;
    default:
      return '*';
  }
}

/** The canonical text of a target (as `scenario.resolved.yaml` and the event log show it). */
export function formatTarget(t: FaultTarget): string {
  switch (t.kind) {
    case 'nats':
      return 'nats';
    case 'node':
      return `node:${t.name}`;
    case 'link':
      return `link:${formatActor(t.from)}>${formatActor(t.to)}`;
    case 'actor':
      return formatActor(t.actor);
  }
}

/** One occurrence of a scheduled fault. */
export interface FaultOccurrence {
  readonly spec: FaultSpec;
  /** `f0` for a single fault, `f0#2` for the second occurrence of a repeated one. */
  readonly id: string;
  readonly start: Nanos;
  /** End time (start for instantaneous faults; beyond the run for those that outlast it). */
  readonly end: Nanos;
  readonly instantaneous: boolean;
}

/**
 * Every occurrence of every fault, in start order (ties: list order). A fault with an optional
 * duration left out lasts until the end of the run.
 */
export function faultOccurrences(faults: readonly FaultSpec[], runDuration: Nanos): FaultOccurrence[] {
  const out: FaultOccurrence[] = [];
  for (const f of faults) {
    const rule = FAULT_RULES[f.action];
    for (let k = 0; k < f.count; k++) {
      const start = f.start + k * f.every;
      const instantaneous = rule.duration === 'none';
      const end = instantaneous ? start : f.duration > 0 ? start + f.duration : Infinity;
      out.push({ spec: f, id: f.count > 1 ? `${f.id}#${k + 1}` : f.id, start, end: end === Infinity ? runDuration + 1 : end, instantaneous });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}
