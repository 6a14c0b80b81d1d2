// The `traffic` section: generators (rate, pattern and its phase, frame sizes, protocol, source ports, timing, target VMs), compiled to GeneratorSpecs.
import {
  Prng,
  SEC,
  WIRE_OVERHEAD_BYTES,
  deriveSeed,
  tcpFrameBytes,
  type GeneratorSpec,
  type Nanos,
  type PacketSize,
  type TrafficPattern,
} from '@splitnet/model';
import { readDuration, readEnum, readInt, readList, readMap, readRate, readString, type Field, type MapField } from './field.js';
import type { Path } from './issue.js';
import {
  CHOICE_SPEC,
  GENERATOR_SPEC,
  MAX_FLOWS,
  MAX_FRAME,
  MAX_GENERATORS,
  MIN_FRAME,
  ONOFF_SPEC,
  PATTERN_MAP,
  PATTERN_WORDS,
  SEEDED,
  SIZE_FORMS,
} from './traffic-spec.js';
import { formatDuration, formatRate, parseDuration, type Rate } from './units.js';
import { readClosedLoop } from './closed-loop.js';

const MAX_PORT = 65535;

/** A generator as read, before the flow table is laid out. */
export interface GeneratorInput {
  readonly spec: GeneratorSpec;
  /** Destination VM indexes, flows assigned round-robin over them (for a guest's generator: the sender alone). */
  readonly vms: readonly number[];
  /** The guest that sends (from: vm.<index>), or null: the frames come from the wire. */
  readonly sender: number | null;
  /** The guest a guest's frames go to through the bridge (to: vm.<index>), or null: out to the wire. */
  readonly receiver: number | null;
  readonly protocol: 'tcp' | 'udp';
  readonly ipVersion: 4 | 6;
  /** Flow i's source port is srcPort + i, or `seeded`: drawn from the run seed (see flow-table.ts). */
  readonly srcPort: number | typeof SEEDED;
  readonly resolved: Record<string, unknown>;
}

export interface TrafficContext {
  readonly vmCount: number;
  readonly vmCountPath: Path;
  readonly duration: Nanos;
  readonly durationPath: Path;
  readonly linkBitsPerSecond: number;
  /** The run seed, which draws the phases the scenario leaves `seeded`. */
  readonly seed: number;
}

export function readTraffic(field: Field, ctx: TrafficContext): GeneratorInput[] {
  const items = readList(field, 'a list of generators');
  // No traffic section: one generator at line rate to every VM, so an empty scenario still runs something meaningful.
  const fields = items ?? [field.at(0, undefined)];
  if (fields.length === 0) field.expected('at least one generator');
  if (fields.length > MAX_GENERATORS) field.expected(`at most ${MAX_GENERATORS} generators`);
  const out: GeneratorInput[] = [];
  const names = new Map<string, number>();
  let firstFlow = 0;
  // Flows in the table: a guest-to-guest TCP connection has a second one, its passive end's direction (flow-table.ts).
  let counted = 0;
  for (const [g, item] of fields.entries()) {
    const gen = readGenerator(item, g, firstFlow, ctx);
    const earlier = names.get(gen.spec.name);
    if (earlier !== undefined) {
      item.at('name', gen.spec.name).expected('a name no other generator uses', ` (traffic[${earlier}] has it)`);
    }
    names.set(gen.spec.name, g);
    firstFlow += gen.spec.flows;
    const twoWay = isGuestToGuestTcp(gen);
    counted += gen.spec.flows * (twoWay ? 2 : 1);
    if (counted > MAX_FLOWS) {
      const why = twoWay ? '; a guest-to-guest TCP flow counts twice, once per direction' : '';
      item.at('flows', gen.spec.flows).expected(`at most ${MAX_FLOWS} flows over all generators`, ` (${counted} counting this one${why})`);
    }
    out.push(gen);
  }
  return out;
}

/** Where a generator's frames come from and go, as scenario.resolved.yaml writes it: a guest's generator says who sends and where to; a wire generator keeps its shape (no from/to keys). */
function resolvedEnds(vms: { all: boolean; list: number[] }, sender: number | null, receiver: number | null): Record<string, unknown> {
  return sender === null ? { vms: vms.all ? 'all' : vms.list } : { from: `vm.${sender}`, to: receiver === null ? 'wire' : `vm.${receiver}` };
}

/** A closed-loop generator between two guests: each of its connections is two flows, one per direction. */
export function isGuestToGuestTcp(gen: GeneratorInput): boolean {
  return gen.spec.closedLoop !== undefined && gen.receiver !== null;
}

function readGenerator(field: Field, g: number, firstFlow: number, ctx: TrafficContext): GeneratorInput {
  const map = readMap(field, GENERATOR_SPEC, 'a generator map');
  const G = GENERATOR_SPEC.keys;
  const name = readString(map.get('name'), `gen${g}`);
  if (name === '') map.get('name').expected('a non-empty name');
  const { sender, receiver } = readEnds(map, ctx);
  const closedLoop = readClosedLoop(map);
  const vms = sender === null ? readVms(map.get('vms'), ctx) : { all: false, list: [receiver ?? sender] };
  const flows = readInt(map.get('flows'), G.flows.default, G.flows);
  const rateField = map.get('rate');
  const rate: Rate = rateField.absent ? { kind: 'bits', bitsPerSecond: ctx.linkBitsPerSecond } : readRate(rateField);
  const { pattern, resolved: patternResolved } = readPattern(map.get('pattern'));
  const { size, resolved: sizeResolved, mean } = readSize(map.get('size'));
  const protocol = readEnum(map.get('protocol'), G.protocol.default, G.protocol.values);
  const ipVersion = readIpVersion(map.get('ipVersion'));
  const srcPort = readSrcPort(map.get('srcPort'), flows, map.get('flows'));
  const startField = map.get('start');
  const start = readDuration(startField, 0);
  if (start >= ctx.duration) {
    startField.expected(`a start before the end of the run (duration ${formatDuration(ctx.duration)})`, '', [ctx.durationPath]);
  }
  const stopField = map.get('stop');
  const stop = readDuration(stopField, ctx.duration);
  if (stop <= start) {
    stopField.expected(`a stop after start (${formatDuration(start)})`, '', stopField.absent ? [ctx.durationPath] : []);
  }
  // A bit rate is what the wire carries, so each frame also pays its preamble and inter-frame gap.
  const pps = rate.kind === 'packets' ? rate.packetsPerSecond : rate.bitsPerSecond / ((mean + WIRE_OVERHEAD_BYTES) * 8);
  const fixedPhase = readPhase(map.get('phase'), pattern, map.get('pattern'));
  const phase = fixedPhase === SEEDED ? seededPhase(ctx.seed, g, pattern, pps) : fixedPhase;
  if (closedLoop !== null) {
    return closedLoopGenerator(name, firstFlow, flows, start, stop, vms, { sender, receiver }, protocol, ipVersion, srcPort, closedLoop);
  }
  const spec: GeneratorSpec = {
    name,
    pps,
    pattern,
    size,
    firstFlow,
    flows,
    start,
    stop,
    phase,
    ...(sender === null ? {} : { sender }),
    ...(receiver === null ? {} : { receiver }),
  };
  const resolved = {
    name,
    ...resolvedEnds(vms, sender, receiver),
    flows,
    rate: formatRate(rate),
    pattern: patternResolved,
    phase: fixedPhase === SEEDED ? SEEDED : formatDuration(fixedPhase),
    size: sizeResolved,
    protocol,
    ipVersion,
    srcPort,
    start: formatDuration(start),
    stop: formatDuration(stop),
  };
  return { spec, vms: vms.list, sender, receiver, protocol, ipVersion, srcPort, resolved };
}

/**
 * A closed-loop generator: its frames come from each flow's TCP connection, so it has no rate, pattern, phase or
 * size (readClosedLoop refused them); pps 0 keeps it out of the open-loop source, and its size is a full segment's frame.
 */
function closedLoopGenerator(
  name: string,
  firstFlow: number,
  flows: number,
  start: Nanos,
  stop: Nanos,
  vms: { all: boolean; list: number[] },
  ends: { readonly sender: number | null; readonly receiver: number | null },
  protocol: 'tcp' | 'udp',
  ipVersion: 4 | 6,
  srcPort: number | typeof SEEDED,
  c: NonNullable<ReturnType<typeof readClosedLoop>>,
): GeneratorInput {
  const { resolved: closedResolved, ...closed } = c;
  const { sender, receiver } = ends;
  const spec: GeneratorSpec = {
    name,
    pps: 0,
    pattern: { kind: 'constant' },
    size: { kind: 'fixed', bytes: tcpFrameBytes(c.mss) }, // a full segment's frame: what the line rate is shown for
    firstFlow,
    flows,
    start,
    stop,
    // From a guest: that guest is the active end (bulk sender, rr client), the far host (or the guest in `to`) the
    // passive one.
    closedLoop: sender === null ? closed : { ...closed, active: 'guest' },
    ...(sender === null ? {} : { sender }),
    ...(receiver === null ? {} : { receiver }),
  };
  const resolved = {
    name,
    ...resolvedEnds(vms, sender, receiver),
    flows,
    protocol,
    ipVersion,
    srcPort,
    ...closedResolved,
    start: formatDuration(start),
    stop: formatDuration(stop),
  };
  return { spec, vms: vms.list, sender, receiver, protocol, ipVersion, srcPort, resolved };
}

/**
 * `from` and `to`: who sends and where the frames go. From the wire (the default) the destinations are `vms`
 * and `to` has no place; from a guest (vm.<index>) the frames go to `to` — wire (the default) or another guest
 * on the host, through the bridge — and `vms` has no place. Returns the sending and the receiving guest (null:
 * the wire).
 */
function readEnds(map: MapField, ctx: TrafficContext): { sender: number | null; receiver: number | null } {
  const fromField = map.get('from');
  const toField = map.get('to');
  const from = readString(fromField, 'wire');
  const sender = guestIndex(fromField, from, ctx);
  if (sender === null) {
    if (!toField.absent) toField.expected('no to: (frames from the wire go to the guests in vms)', '', [fromField.path]);
    return { sender: null, receiver: null };
  }
  const vmsField = map.get('vms');
  if (!vmsField.absent) vmsField.expected("no vms: (a guest's frames go to `to`, not to guests)", '', [fromField.path]);
  const receiver = guestIndex(toField, readString(toField, 'wire'), ctx);
  if (receiver === sender)
    toField.expected(`wire or another guest than vm.${sender}`, ' (a guest does not send to itself through the bridge)', [fromField.path]);
  return { sender, receiver };
}

const GUEST = /^vm\.(0|[1-9][0-9]*)$/;

/** `wire` (null) or `vm.<index>` of an existing guest. */
function guestIndex(field: Field, text: string, ctx: TrafficContext): number | null {
  if (text === 'wire') return null;
  const m = GUEST.exec(text);
  const hosted = /^h(0|[1-9][0-9]*)\.(vm\.(0|[1-9][0-9]*))$/.exec(text);
  if (hosted !== null) field.expected(`wire or ${hosted[2]}`, ` (${text} names a host, and this scenario has no hosts: section)`);
  if (m === null) field.expected('wire or vm.<index>');
  const vm = Number(m[1]);
  if (vm >= ctx.vmCount) {
    field.expected(`wire or ${ctx.vmCount === 1 ? 'vm.0' : `vm.0 to vm.${ctx.vmCount - 1}`} (topology.vms.count is ${ctx.vmCount})`, '', [ctx.vmCountPath]);
  }
  return vm;
}

/** `seeded` (the default), or the first flow's source port, flow i using srcPort + i. */
function readSrcPort(field: Field, flows: number, flowsField: Field): number | typeof SEEDED {
  if (field.absent || field.value === SEEDED) return SEEDED;
  const last = MAX_PORT - (flows - 1);
  const what = `"${SEEDED}" or a port from 1 to ${last}`;
  const v = field.value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) field.expected(what);
  if (v > last) {
    // Flow i sends from srcPort + i: the last flow's port must still be a port.
    field.expected(what, ` (flow ${flows - 1} would send from port ${v + flows - 1}; flows is ${flows})`, flowsField.absent ? [] : [flowsField.path]);
  }
  return v;
}

/** `seeded` (the default) or a duration ≥ 0; only a constant or on/off pattern has a grid to shift. */
function readPhase(field: Field, pattern: TrafficPattern, patternField: Field): Nanos | typeof SEEDED {
  if (field.absent || field.value === SEEDED) return SEEDED;
  if (pattern.kind === 'poisson') {
    field.expected(`"${SEEDED}"`, ' (poisson arrivals are memoryless, so there is no phase to fix; the seed draws them)', [patternField.path]);
  }
  const ns = typeof field.value === 'string' || field.value === 0 ? parseDuration(String(field.value)) : undefined;
  if (ns === undefined) {
    field.expected(
      `"${SEEDED}" or a duration ≥ 0 with a unit (ns, us, ms, s) such as 0ms or 250ns`,
      typeof field.value === 'number' ? ' (a bare number has no unit)' : '',
    );
  }
  return ns;
}

/**
 * A generator's seeded phase, uniform over its cycle: one gap (1/pps) for constant, on + off for
 * on/off, 0 for Poisson (its first gap is already drawn from the seed). Drawn from its own stream,
 * deriveSeed(seed, `traffic:phase:<g>`), so it does not shift the generator's other draws.
 */
function seededPhase(seed: number, g: number, pattern: TrafficPattern, pps: number): Nanos {
  const cycle = pattern.kind === 'constant' ? SEC / pps : pattern.kind === 'onoff' ? pattern.on + pattern.off : 0;
  return new Prng(deriveSeed(seed, `traffic:phase:${g}`)).next() * cycle;
}

function readVms(field: Field, ctx: TrafficContext): { all: boolean; list: number[] } {
  const every = Array.from({ length: ctx.vmCount }, (_, i) => i);
  if (field.absent || field.value === 'all') return { all: true, list: every };
  const what = `"all", a VM index or a list of VM indexes`;
  const indexes: readonly Field[] = typeof field.value === 'number' ? [field] : (readList(field, what) ?? []);
  if (indexes.length === 0) field.expected(`"all" or a non-empty list of VM indexes`);
  const list: number[] = [];
  for (const entry of indexes) {
    const item: Field = entry; // annotated so that item.expected() (never) narrows item.value
    const v = item.value;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= ctx.vmCount) {
      item.expected(`a VM index from 0 to ${ctx.vmCount - 1} (topology.vms.count is ${ctx.vmCount})`, '', [ctx.vmCountPath]);
    }
    if (list.includes(v)) item.expected('each VM once', ` (VM ${v} is listed twice)`);
    list.push(v);
  }
  return { all: false, list };
}

function readPattern(field: Field): { pattern: TrafficPattern; resolved: unknown } {
  const what = 'constant, poisson or { onoff: { on: <duration>, off: <duration> } }';
  if (field.absent) return { pattern: { kind: 'constant' }, resolved: 'constant' };
  if (typeof field.value === 'string') {
    if (field.value === 'onoff') field.expected(what, ' (onoff needs its on and off durations)');
    const kind = readEnum(field, 'constant', PATTERN_WORDS.values);
    return { pattern: { kind }, resolved: kind };
  }
  if (typeof field.value !== 'object' || Array.isArray(field.value)) field.expected(what);
  const outer = readMap(field, PATTERN_MAP, what);
  const onoffField = outer.get('onoff');
  if (onoffField.absent) field.expected(what);
  const onoff = readMap(onoffField, ONOFF_SPEC);
  const on = readRequiredDuration(onoff, 'on');
  const off = readRequiredDuration(onoff, 'off');
  return {
    pattern: { kind: 'onoff', on, off },
    resolved: { onoff: { on: formatDuration(on), off: formatDuration(off) } },
  };
}

function readRequiredDuration(map: MapField, key: string): Nanos {
  const f = map.get(key);
  if (f.absent) f.expected('a positive duration such as 1ms');
  return readDuration(f, 0, 1);
}

function readIpVersion(field: Field): 4 | 6 {
  if (field.absent) return 4;
  if (field.value !== 4 && field.value !== 6) field.expected('4 or 6');
  return field.value;
}

const FRAME_WHAT = `a frame size from ${MIN_FRAME} to ${MAX_FRAME} bytes`;

function readFrame(field: Field): number {
  const v = field.value;
  if (typeof v !== 'number' || !Number.isInteger(v)) field.expected(FRAME_WHAT);
  if (v < MIN_FRAME) field.expected(FRAME_WHAT, ' (Ethernet frames are at least 64 bytes, FCS included)');
  if (v > MAX_FRAME) field.expected(FRAME_WHAT, ' (9018 is a 9000-byte jumbo MTU plus header and FCS)');
  return v;
}

function readSize(field: Field): { size: PacketSize; resolved: unknown; mean: number } {
  if (field.absent) return { size: { kind: 'fixed', bytes: 1518 }, resolved: 1518, mean: 1518 };
  if (typeof field.value === 'number') {
    const bytes = readFrame(field);
    return { size: { kind: 'fixed', bytes }, resolved: bytes, mean: bytes };
  }
  const what = `${FRAME_WHAT}, { uniform: [min, max] } or { choice: { values: [...], weights: [...] } }`;
  const map = readMap(field, SIZE_FORMS, what);
  const kinds = map.keys().filter((k) => map.has(k));
  if (kinds.length !== 1) field.expected(what);
  if (map.has('uniform')) {
    const f = map.get('uniform');
    const items = readList(f, 'a list [min, max] of frame sizes') ?? [];
    if (items.length !== 2) f.expected('a list [min, max] of two frame sizes');
    const [minField, maxField] = items as [Field, Field];
    const min = readFrame(minField);
    const max = readFrame(maxField);
    if (max < min) maxField.expected(`a maximum ≥ the minimum (${min})`);
    // Sizes are whole bytes drawn uniformly from [min, max], so the mean is the midpoint.
    return { size: { kind: 'uniform', min, max }, resolved: { uniform: [min, max] }, mean: (min + max) / 2 };
  }
  const choice = readMap(map.get('choice'), CHOICE_SPEC);
  const valuesField = choice.get('values');
  const valueItems = readList(valuesField, 'a list of frame sizes') ?? [];
  if (valueItems.length === 0) valuesField.expected('a non-empty list of frame sizes');
  const most = CHOICE_SPEC.keys.values.maxItems;
  if (valueItems.length > most) valuesField.expected(`at most ${most} frame sizes`);
  const values = valueItems.map(readFrame);
  const weightsField = choice.get('weights');
  let weights: number[];
  if (weightsField.absent) {
    weights = values.map(() => 1);
  } else {
    const weightItems = readList(weightsField, 'a list of weights') ?? [];
    if (weightItems.length !== values.length) {
      weightsField.expected(`${values.length} weights (one per value)`, '', [valuesField.path]);
    }
    weights = weightItems.map((w: Field) => {
      if (typeof w.value !== 'number' || !Number.isFinite(w.value) || !(w.value > 0)) w.expected('a positive weight');
      return w.value;
    });
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const mean = values.reduce((acc, v, i) => acc + v * (weights[i] as number), 0) / total;
  return { size: { kind: 'choice', values, weights }, resolved: { choice: { values, weights } }, mean };
}
