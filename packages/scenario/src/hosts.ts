// A multi-host scenario (`hosts:`, `fabric:`): each host's single-host view compiled by the one compiler, and the switch's ports and routes.
import { Field, isPlainMap, readBitRate, readDuration, readInt, readList, readMap } from './field.js';
import { FABRIC_SPEC, HOST_SPEC, MAX_HOSTS } from './hosts-spec.js';
import { ScenarioIssue, type Path } from './issue.js';
import { deriveSeed } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';
import type { CompiledScenario, FabricPortSpec, FabricSourceSpec, FabricSpec } from './types.js';
import { HOST_ACTOR, readClusterFaults } from './cluster-faults.js';
import { DATAPATH_FAULT_ACTIONS, MESSAGE_FAULT_ACTIONS } from '@splitnet/model';
import { formatDuration, formatRate } from './units.js';

const GUEST = /^vm\.(0|[1-9][0-9]*)$/;
const HOST_GUEST = /^h(0|[1-9][0-9]*)\.vm\.(0|[1-9][0-9]*)$/;

/** Where a generator's frames start and end in a cluster: a host's guest, or (null) outside the fabric. */
interface End {
  readonly host: number;
  readonly vm: number;
}

/** Generator k of the scenario as the hosts see it: on which host each side is, at which local index. */
interface Placed {
  readonly from: End | null;
  readonly to: End | null;
  /** The host whose view holds the generator's sending side (its guest, or the NIC for traffic from outside), and its index there. */
  readonly sender: { host: number; local: number };
  /** Across hosts: the receiving host's view of it (its frames come from the switch), and its index there. */
  readonly receiver?: { host: number; local: number };
  /** From an external source on a switch port of its own (`from: external`): the receiving host's view holds it, its NIC does not make its frames. */
  readonly external?: true;
}

/** Per host: its traffic items, which scenario generator each came from, and which are the receiving side of a crossing. */
interface HostTraffic {
  readonly items: unknown[];
  readonly origin: number[];
  readonly remote: number[];
}

function hostsCount(field: Field): { count: number; overrides: readonly (Record<string, unknown> | undefined)[] } {
  if (typeof field.value === 'number') return { count: readInt(field, 1, { min: 1, max: MAX_HOSTS }), overrides: [] };
  const items = Array.isArray(field.value)
    ? (readList(field, 'a host count or a list of hosts') ?? [])
    : field.expected('a host count (1 to 64) or a list of hosts');
  if (items.length === 0 || items.length > MAX_HOSTS) field.expected(`1 to ${MAX_HOSTS} hosts`);
  const overrides = items.map((item) => {
    if (item.absent) return undefined;
    readMap(item, HOST_SPEC, 'a map of host settings (topology, coalescing, napi, costs, netback, tx)');
    return item.value as Record<string, unknown>;
  });
  return { count: items.length, overrides };
}

/** `h<i>.vm.<j>` of an existing host (the guest index is checked by the host's own view). */
function readEnd(field: Field, hosts: number, side: 'from' | 'to'): End | null {
  if (field.absent || field.value === 'wire') return null;
  const text = field.value;
  if (typeof text !== 'string') field.expected(`h<host>.vm.<index>${side === 'to' ? '' : ' or wire'}`);
  const bare = GUEST.exec(text);
  if (bare !== null)
    field.expected(`h<host>.vm.${bare[1]} (this scenario has hosts: write h0.vm.${bare[1]} for host 0's guest, h1.vm.${bare[1]} for host 1's, …)`);
  const m = HOST_GUEST.exec(text);
  if (m === null)
    field.expected(
      `h<host>.vm.<index> (a guest of one of the hosts, such as h1.vm.3; h*.vm.<index> for every host's${side === 'to' ? ', h+<k>.vm.<index> for the host k after the sender' : ''})${side === 'from' ? ', wire or external (a source on a switch port)' : ''}`,
    );
  const host = Number(m[1]);
  if (host >= hosts) field.expected(`a host from h0 to h${hosts - 1} (hosts: ${hosts})`, '', [['hosts']]);
  return { host, vm: Number(m[2]) };
}

/** `h*.vm.<j>` (every host) and `h+<k>.vm.<j>` (k hosts after the sender's, round the ring): the forms that follow the host count. */
const EVERY_HOST_GUEST = /^h\*\.vm\.(0|[1-9][0-9]*)$/;
const NEXT_HOST_GUEST = /^h\+(0|[1-9][0-9]*)\.vm\.(0|[1-9][0-9]*)$/;

/** One generator of the scenario after `h*` is expanded: the item it was written as (for paths), its index there, and its value with concrete ends. */
interface Written {
  readonly item: Field;
  readonly index: number;
  readonly value: Record<string, unknown>;
}

/**
 * The traffic list with each generator that names `h*` written out once per host, in host order at its place:
 * `from: h*.vm.<j>` sends from every host's guest j, its `to` either fixed, `wire`, or `h+<k>.vm.<m>` (guest m of the
 * host k after the sender's, modulo the host count); `to: h*.vm.<m>` beside `from: wire` or `external` sends to every
 * host's guest m. Each copy is named `<name>-h<i>` (i the host of its `h*` side).
 */
function expandEveryHost(items: readonly Field[], hosts: number): Written[] {
  const out: Written[] = [];
  for (const [k, entry] of items.entries()) {
    const item: Field = entry; // annotated so that item.expected() (never) narrows item.value
    if (!isPlainMap(item.value)) item.expected('a generator map');
    const g = item.value;
    const from = typeof g['from'] === 'string' ? g['from'] : undefined;
    const to = typeof g['to'] === 'string' ? g['to'] : undefined;
    const everyFrom = from === undefined ? null : EVERY_HOST_GUEST.exec(from);
    const everyTo = to === undefined ? null : EVERY_HOST_GUEST.exec(to);
    const next = to === undefined ? null : NEXT_HOST_GUEST.exec(to);
    if (everyFrom === null && next !== null)
      item.at('to', to).expected(`h<host>.vm.<index> (h+${next[1]}.vm.${next[2]}, the host after the sender's, needs from: h*.vm.<index>)`);
    if (everyFrom !== null && everyTo !== null)
      item
        .at('to', to)
        .expected(
          `h+0.vm.${everyTo[1]} (the sender's own host), h+<k>.vm.${everyTo[1]} (the host k after it) or a fixed h<host>.vm.<index>, beside from: h*.vm.<index>`,
        );
    if (everyFrom === null && everyTo === null) {
      out.push({ item, index: k, value: g });
      continue;
    }
    const base = typeof g['name'] === 'string' ? g['name'] : `gen${k}`;
    for (let i = 0; i < hosts; i++) {
      const ends: Record<string, unknown> =
        everyFrom !== null
          ? { from: `h${i}.vm.${everyFrom[1]}`, ...(next !== null ? { to: `h${(i + Number(next[1])) % hosts}.vm.${next[2]}` } : {}) }
          : { to: `h${i}.vm.${(everyTo as RegExpExecArray)[1]}` };
      out.push({ item, index: k, value: { ...g, name: `${base}-h${i}`, ...ends } });
    }
  }
  return out;
}

/** Each host's traffic: a generator goes to the host of its sending guest (or of its receiving one, from outside); across hosts the receiving host gets its far side. */
function splitTraffic(field: Field, hosts: number): { perHost: HostTraffic[]; placed: Placed[]; written: number[] } {
  const perHost: HostTraffic[] = Array.from({ length: hosts }, () => ({ items: [], origin: [], remote: [] }));
  const placed: Placed[] = [];
  const items = readList(field, 'a list of generators');
  if (items === undefined || items.length === 0)
    field.expected('a list of generators naming their guests h<host>.vm.<index> (a multi-host scenario has no default traffic)');
  const generators = expandEveryHost(items, hosts);
  const names = new Map<unknown, number>();
  for (const [k, { item: written, index, value: g }] of generators.entries()) {
    // Its own value (an expanded copy has concrete ends) at its place in the list as written.
    const item = new Field(g, written.path);
    const vmsField = item.at('vms', g['vms']);
    if (!vmsField.absent) vmsField.expected('no vms: (with hosts, a generator names its guests: to: h<host>.vm.<index>)');
    const external = g['from'] === 'external';
    const from = external ? null : readEnd(item.at('from', g['from']), hosts, 'from');
    const toField: Field = item.at('to', g['to']);
    const to = readEnd(toField, hosts, 'to');
    const { from: _f, to: _t, ...given } = g;
    // Named once for the whole scenario: its two sides sit in two hosts' views, whose own defaults (gen<index>) differ.
    const rest = { name: `gen${index}`, ...given };
    const earlier = names.get(rest.name);
    if (earlier !== undefined) item.at('name', rest.name).expected('a name no other generator uses', ` (traffic[${earlier}] has it)`);
    names.set(rest.name, index);
    const add = (host: number, entry: Record<string, unknown>, remote: boolean): { host: number; local: number } => {
      const h = perHost[host] as HostTraffic;
      h.items.push(entry);
      h.origin.push(k);
      if (remote) h.remote.push(h.items.length - 1);
      return { host, local: h.items.length - 1 };
    };
    if (external) {
      if (to === null) toField.expected('h<host>.vm.<index>: the guest that the external source on the switch sends to');
      for (const key of ['tcp', 'rr'] as const) {
        const f = item.at(key, g[key]);
        if (!f.absent)
          f.expected(`no ${key} (an external source on the switch sends open-loop traffic; for a connection, put its far end on a host or take from: wire)`);
      }
      // The receiving host's view holds it as a generator whose frames come from the switch (the source makes them).
      placed.push({ from, to, sender: add(to.host, { ...rest, vms: [to.vm] }, true), external: true });
    } else if (from === null) {
      if (to === null) toField.expected('h<host>.vm.<index>: the guest that traffic from outside the hosts goes to');
      placed.push({ from, to, sender: add(to.host, { ...rest, vms: [to.vm] }, false) });
    } else if (to === null || to.host === from.host) {
      placed.push({ from, to, sender: add(from.host, { ...rest, from: `vm.${from.vm}`, to: to === null ? 'wire' : `vm.${to.vm}` }, false) });
    } else {
      // Across hosts: the sender's view sends to the wire, the receiver's view receives from it; the switch joins the two.
      const sender = add(from.host, { ...rest, from: `vm.${from.vm}`, to: 'wire' }, false);
      const receiver = add(to.host, { ...rest, vms: [to.vm] }, true);
      placed.push({ from, to, sender, receiver });
    }
  }
  for (const h of perHost) {
    if (h.items.length > 0) continue;
    // A host no traffic involves still runs (its NIC idle): one generator of the view's, whose frames never come.
    h.items.push({ name: 'idle', vms: [0], flows: 1 });
    h.origin.push(-1);
    h.remote.push(0);
  }
  return { perHost, placed, written: generators.map((w) => w.index) };
}

/** The top level's map with host i's settings merged in key by key (maps merge, anything else replaces). */
function merge(base: unknown, over: unknown): unknown {
  if (!isPlainMap(base) || !isPlainMap(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

function has(value: unknown, path: Path): boolean {
  let v: unknown = value;
  for (const seg of path) {
    if (!(isPlainMap(v) || Array.isArray(v))) return false;
    v = (v as Record<string | number, unknown>)[seg];
    if (v === undefined) return false;
  }
  return true;
}

/** The faults on one host's actors (`h<i>.<target>`): per host, each as the host's view reads it and its index in the scenario's list. */
function hostFaultsOf(value: unknown, hosts: number): { entries: Record<string, unknown>[]; index: number[] }[] {
  const out = Array.from({ length: hosts }, () => ({ entries: [] as Record<string, unknown>[], index: [] as number[] }));
  if (!Array.isArray(value)) return out;
  value.forEach((item: unknown, j) => {
    if (!isPlainMap(item) || typeof item['target'] !== 'string') return;
    const m = HOST_ACTOR.exec(item['target']);
    if (m === null) return;
    const host = Number(m[1]);
    const list = out[host];
    if (list === undefined)
      return new Field(item['target'], ['faults', j, 'target']).expected(`a host from h0 to h${hosts - 1} (hosts: ${hosts})`, '', [['hosts']]);
    // An actor id (worker.0, vm.3) names the same actor as its selector (worker:0, vm:3); the id keeps its place in the whole list.
    const local = (m[2] as string).replace(/^(worker|vm)\.(0|[1-9][0-9]*)$/, '$1:$2');
    list.entries.push({ id: `f${j}`, ...item, target: local });
    list.index.push(j);
  });
  return out;
}

/**
 * What a host's actors may suffer in a multi-host run today: the datapath's faults, the message faults on links
 * between them, one of them cut off from its host's others (partition, with a resync at its end), and their
 * processes paused, killed or restarted (the one-host rules then say which, beside a guest
 * that sends too; here not beside a connection to another host: checkViewFaults).
 */
const HOST_ACTOR_ACTIONS: ReadonlySet<string> = new Set([
  ...DATAPATH_FAULT_ACTIONS,
  ...MESSAGE_FAULT_ACTIONS,
  'partition',
  'pause',
  'kill',
  'restart',
  'crash-loop',
]);
const PROCESS_DEATH: ReadonlySet<string> = new Set(['kill', 'restart', 'crash-loop']);

/** A problem found in host i's view, pointed back at the scenario: its traffic entry, its own setting, or the shared one. */
function relocate(
  err: unknown,
  host: number,
  traffic: HostTraffic,
  override: unknown,
  top: unknown,
  crossing: ReadonlySet<number>,
  faultIndex: readonly number[],
  written: readonly number[],
): unknown {
  if (!(err instanceof ScenarioIssue)) return err;
  const p = err.path;
  let path: Path;
  let note = '';
  if (p[0] === 'faults' && typeof p[1] === 'number') {
    path = ['faults', faultIndex[p[1]] ?? p[1], ...p.slice(2)];
    note = ` (on host h${host})`;
  } else if (p[0] === 'traffic' && typeof p[1] === 'number') {
    const k = traffic.origin[p[1]] ?? -1;
    const rest = p.slice(2);
    // The view's vms, from and to stand for the generator's own from and to.
    const end = rest[0] === 'vms' ? ['to'] : rest[0] === 'from' || rest[0] === 'to' ? [rest[0]] : rest;
    path = ['traffic', written[k] ?? k, ...end];
    if (crossing.has(k) && end === rest) note = ` (in h${host}'s side of the generator)`;
  } else if (has(override, p) || (!has(top, p) && isPlainMap(override) && p[0] !== undefined && has(override, [p[0]]))) {
    path = ['hosts', host, ...p];
  } else {
    path = p;
    note = host === 0 ? '' : ` (on host h${host})`;
  }
  return new ScenarioIssue(path, `${err.detail}${note}`, err.atKey, err.related);
}

/** A per-port setting: the port's own, else the fabric's, else `fallback`. */
function portSetting<T>(ports: readonly Field[], i: number, key: string, read: (f: Field) => T, fabric: Field, fallback: T): T {
  const own = ports[i];
  const mine = own === undefined || own.absent ? undefined : own.at(key, (own.value as Record<string, unknown>)[key]);
  if (mine !== undefined && !mine.absent) return read(mine);
  const shared = fabric.at(key, isPlainMap(fabric.value) ? fabric.value[key] : undefined);
  return shared.absent ? fallback : read(shared);
}

/** An external source's port: its cable's line rate and delay (nothing is queued toward the source). */
interface SourcePort {
  readonly linkGbps: number;
  readonly delay: Nanos;
}

/**
 * The switch's ports: one per host, then one per external source (`sourceHosts`: each source's receiving host, in
 * order), each entry of `ports` overriding the fabric-wide settings of its port.
 */
function readFabric(
  field: Field,
  hosts: readonly CompiledScenario[],
  sourceHosts: readonly number[],
): { ports: FabricPortSpec[]; sourcePorts: SourcePort[]; resolved: Record<string, unknown> } {
  const map = readMap(field, FABRIC_SPEC, 'a map of fabric settings (link, queueBytes, delay, ports)');
  const K = FABRIC_SPEC.keys;
  const portsField = map.get('ports');
  const ports = readList(portsField, 'a list of per-port settings') ?? [];
  const most = hosts.length + sourceHosts.length;
  if (ports.length > most)
    (ports[most] as Field).expected(`at most ${most} ports (one per host${sourceHosts.length > 0 ? ', then one per external source' : ''})`, '', [['hosts']]);
  for (const p of ports) readMap(p, K.ports.items, 'a map of port settings (link, queueBytes, delay)');
  const out: FabricPortSpec[] = hosts.map((h, i) => ({
    linkGbps: portSetting(ports, i, 'link', readBitRate, field, h.topology.linkGbps * 1e9) / 1e9,
    queueBytes: portSetting(ports, i, 'queueBytes', (f) => readInt(f, 0, K.queueBytes), field, K.queueBytes.default),
    delay: portSetting(ports, i, 'delay', (f) => readDuration(f, 0, 1), field, K.delay.default),
  }));
  // An external source's port: by default its cable runs at its host's port's rate with the fabric-wide delay.
  const sourcePorts = sourceHosts.map((h, k): SourcePort => {
    const own = ports[hosts.length + k];
    const queue = own === undefined ? undefined : own.at('queueBytes', (own.value as Record<string, unknown>)['queueBytes']);
    if (queue !== undefined && !queue.absent)
      queue.expected(
        `no queueBytes on port ${hosts.length + k}, an external source's (nothing goes toward the source; its frames queue at the port toward h${h})`,
      );
    const link = own === undefined ? undefined : own.at('link', (own.value as Record<string, unknown>)['link']);
    return {
      linkGbps: link === undefined || link.absent ? (out[h] as FabricPortSpec).linkGbps : readBitRate(link) / 1e9,
      delay: portSetting(ports, hosts.length + k, 'delay', (f) => readDuration(f, 0, 1), field, K.delay.default),
    };
  });
  const portsResolved: Record<string, unknown>[] = out.map((p) => ({
    link: formatRate({ kind: 'bits', bitsPerSecond: p.linkGbps * 1e9 }),
    queueBytes: p.queueBytes,
    delay: formatDuration(p.delay),
  }));
  for (const p of sourcePorts) portsResolved.push({ link: formatRate({ kind: 'bits', bitsPerSecond: p.linkGbps * 1e9 }), delay: formatDuration(p.delay) });
  // The fabric-wide settings (every port then names its own, so they only document the defaults the ports started from).
  const queueBytes = readInt(map.get('queueBytes'), K.queueBytes.default, K.queueBytes);
  const delay = readDuration(map.get('delay'), K.delay.default, 1);
  return { ports: out, sourcePorts, resolved: { queueBytes, delay: formatDuration(delay), ports: portsResolved } };
}

/** Does this scenario map hold several hosts (or a fabric, which needs them)? */
export function isCluster(value: unknown): boolean {
  return isPlainMap(value) && (value['hosts'] !== undefined || value['fabric'] !== undefined);
}

/**
 * Compile a multi-host scenario: each host's single-host view (the top level with the host's own settings and the
 * traffic with an end on it) through `compileOne`, then the switch's ports and the routes that join the two views
 * of every generator that crosses hosts (each view numbers its flows its own way).
 */
export function compileCluster(value: Record<string, unknown>, compileOne: (v: unknown) => CompiledScenario): CompiledScenario {
  const root = new Field(value, []);
  const hostsField = root.at('hosts', value['hosts']);
  if (hostsField.absent) hostsField.expected('hosts: (a count or a list of hosts) beside fabric:', '', [['fabric']]);
  const { count, overrides } = hostsCount(hostsField);
  const { perHost, placed, written } = splitTraffic(root.at('traffic', value['traffic']), count);
  const crossing = new Set(placed.flatMap((p, k) => (p.receiver === undefined && p.external !== true ? [] : [k])));
  const { hosts: _h, fabric: _f, traffic: _t, faults: _x, ...top } = value;
  const hostFaults = hostFaultsOf(value['faults'], count);
  const views: CompiledScenario[] = [];
  for (let i = 0; i < count; i++) {
    const traffic = perHost[i] as HostTraffic;
    const own = merge(top, overrides[i]) as Record<string, unknown>;
    const sends = traffic.items.some((g) => isPlainMap(g) && (g['from'] !== undefined || g['tcp'] !== undefined || g['rr'] !== undefined));
    // A host none of whose guests sends has no transmit path: the shared tx section is not its.
    const { tx, ...rest } = own;
    const faults = hostFaults[i] as { entries: Record<string, unknown>[]; index: number[] };
    for (const [k, e] of faults.entries.entries()) {
      const j = faults.index[k] as number;
      const item = new Field(e, ['faults', j]);
      if (e['after'] !== undefined) item.at('after', e['after']).expected("at: (a fault on one host's actors starts at a time of its own)");
      if (typeof e['action'] === 'string' && !HOST_ACTOR_ACTIONS.has(e['action']))
        item
          .at('action', e['action'])
          .expected(`a datapath, message or process fault (on one host's actors a multi-host run takes ${[...HOST_ACTOR_ACTIONS].join(', ')} today)`);
    }
    const hostValue = {
      ...rest,
      ...(sends && tx !== undefined ? { tx } : {}),
      traffic: traffic.items,
      ...(faults.entries.length > 0 ? { faults: faults.entries } : {}),
    };
    let view: CompiledScenario;
    try {
      view = compileOne(hostValue);
    } catch (err) {
      throw relocate(err, i, traffic, overrides[i], top, crossing, faults.index, written);
    }
    checkViewFaults(view, faults.index, value['faults']);
    // Its faults' targets say which host they are on (the log's fault-start and fault-end lines show them).
    views.push(view.faults.length === 0 ? view : { ...view, faults: view.faults.map((f) => ({ ...f, targetText: `h${i}.${f.targetText}` })) });
  }
  const externals = placed.filter((p) => p.external === true).map((p) => p.sender.host);
  const { ports, sourcePorts, resolved: fabricResolved } = readFabric(root.at('fabric', value['fabric']), views, externals);
  const withPlace = views.map((v, i) => ({
    ...v,
    host: { index: i, remoteGenerators: (perHost[i] as HostTraffic).remote, fabricFlows: fabricFlowsOf(v, crossing, perHost[i] as HostTraffic) },
  }));
  const sources = sourcesOf(withPlace, placed, sourcePorts, seedOf(withPlace));
  const fabric: FabricSpec = { ports, routes: routesOf(withPlace, placed), ...(sources.length > 0 ? { sources } : {}) };
  const first = withPlace[0] as CompiledScenario;
  const faults = readClusterFaults(root.at('faults', value['faults']), count, first.duration, sources.length);
  // The whole list as written: the host and switch faults, and each host's own, each at its place.
  const allResolved: Record<string, unknown>[] = [];
  faults.resolved.forEach((r, k) => (allResolved[faults.at[k] as number] = r));
  withPlace.forEach((v, i) => {
    const own = (v.resolved['faults'] ?? []) as Record<string, unknown>[];
    own.forEach((r, k) => (allResolved[hostFaults[i]?.index[k] as number] = { ...r, target: `h${i}.${String(r['target'])}` }));
  });
  const resolvedFaults = allResolved.filter((r) => r !== undefined);
  const resolved = resolveCluster(first, withPlace, placed, fabricResolved);
  return {
    ...first,
    // The run-wide list is empty: a host's own faults are in its view (cluster.hosts[i].faults).
    faults: [],
    resolved: { ...resolved, ...(resolvedFaults.length > 0 ? { faults: resolvedFaults } : {}) },
    cluster: { hosts: withPlace, fabric, faults: faults.faults },
  };
}

/**
 * A host's own faults as its view compiled them: an actor or a link of that host, no process death of all its actors at
 * once (that is a host kill). A process death of one actor is the one-host rules' (the view's), beside a guest that
 * sends or a TCP or request/response end whose far end is on another host too: a guest's RST crosses the fabric like
 * any segment, and a restarted driver domain loses what it held while the two ends, guests of two hosts, retransmit.
 */
function checkViewFaults(view: CompiledScenario, index: readonly number[], list: unknown): void {
  for (const [k, f] of view.faults.entries()) {
    const j = index[k] as number;
    const target = new Field((list as Record<string, unknown>[])[j]?.['target'], ['faults', j, 'target']);
    if (f.target.kind !== 'actor' && f.target.kind !== 'link')
      target.expected('an actor selector or a link after h<host>. (worker:<k>, vm:<v>, vm:<v>:queue:<q>, nic, backend, link:<from>><to> …)');
    // Every actor of a host at once is the host's crash (h<i>, action kill), whose NIC stays with its link down.
    if (PROCESS_DEATH.has(f.action) && f.target.kind === 'actor' && f.target.actor.role === '*')
      target.expected(`one actor of the host (worker:<k>, vm:<v>, nic, backend; for ${f.action} of the whole host, target h<host> with action kill)`);
  }
}

function seedOf(views: readonly CompiledScenario[]): number {
  return (views[0] as CompiledScenario).seed;
}

/**
 * The external sources, one switch port each after the hosts' (in the order the traffic lists them): the generator
 * as its receiving host's view compiled it, on a cable of its port's settings (`sourcePorts`, in the same order).
 */
function sourcesOf(views: readonly CompiledScenario[], placed: readonly Placed[], sourcePorts: readonly SourcePort[], seed: number): FabricSourceSpec[] {
  const out: FabricSourceSpec[] = [];
  let k = 0;
  for (const p of placed) {
    if (p.external !== true) continue;
    const own = sourcePorts[k++] as SourcePort;
    const view = views[p.sender.host] as CompiledScenario;
    const generator = view.traffic.generators[p.sender.local];
    if (generator === undefined) continue;
    out.push({
      name: generator.name,
      port: views.length + out.length,
      host: p.sender.host,
      generator,
      flowCount: view.traffic.flows.length,
      linkGbps: own.linkGbps,
      delay: own.delay,
      seed: deriveSeed(seed, `fabric-source:${generator.name}`),
    });
  }
  return out;
}

/** Per flow of host view v: 1 when its generator crosses hosts (its frames, either way, go through the switch). */
function fabricFlowsOf(v: CompiledScenario, crossing: ReadonlySet<number>, traffic: HostTraffic): Uint8Array {
  const out = new Uint8Array(v.traffic.flows.length);
  for (const f of v.traffic.flows) if (crossing.has(traffic.origin[f.generator] ?? -1)) out[f.id] = 1;
  return out;
}

/** The switch's table: a crossing generator's flow i on its sending host is its flow i on the receiving host, and back. */
function routesOf(views: readonly CompiledScenario[], placed: readonly Placed[]): FabricSpec['routes'] {
  const routes = views.map((v) => ({ port: new Int32Array(v.traffic.flows.length).fill(-1), flow: new Uint32Array(v.traffic.flows.length) }));
  for (const p of placed) {
    if (p.receiver === undefined) continue;
    const a = views[p.sender.host] as CompiledScenario;
    const b = views[p.receiver.host] as CompiledScenario;
    const ga = a.traffic.generators[p.sender.local];
    const gb = b.traffic.generators[p.receiver.local];
    if (ga === undefined || gb === undefined) continue;
    for (let i = 0; i < ga.flows; i++) {
      const fa = ga.firstFlow + i;
      const fb = gb.firstFlow + i;
      const ra = routes[p.sender.host] as (typeof routes)[number];
      const rb = routes[p.receiver.host] as (typeof routes)[number];
      ra.port[fa] = p.receiver.host;
      ra.flow[fa] = fb;
      rb.port[fb] = p.sender.host;
      rb.flow[fb] = fa;
    }
  }
  return routes;
}

/** The section keys of a host that its resolved entry lists. */
const HOST_KEYS = Object.keys(HOST_SPEC.keys);

/** The whole scenario with every default filled in: the run-wide settings, each host's, the fabric, and the traffic with its h<i>.vm.<j> ends. */
function resolveCluster(
  first: CompiledScenario,
  views: readonly CompiledScenario[],
  placed: readonly Placed[],
  fabric: Record<string, unknown>,
): Record<string, unknown> {
  const shared: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(first.resolved)) if (!HOST_KEYS.includes(k) && k !== 'traffic' && k !== 'faults') shared[k] = v;
  const hosts = views.map((v) => {
    const h: Record<string, unknown> = {};
    for (const k of HOST_KEYS) if (v.resolved[k] !== undefined) h[k] = v.resolved[k];
    return h;
  });
  const traffic = placed.map((p) => {
    const view = views[p.sender.host] as CompiledScenario;
    const entry = (view.resolved['traffic'] as Record<string, unknown>[])[p.sender.local] as Record<string, unknown>;
    const { name, vms: _v, from: _f, to: _t, ...rest } = entry;
    const guest = (e: End) => `h${e.host}.vm.${e.vm}`;
    const from = p.external === true ? { from: 'external' } : p.from === null ? {} : { from: guest(p.from) };
    return { name, ...from, to: p.to === null ? 'wire' : guest(p.to), ...rest };
  });
  return { ...shared, hosts, fabric, traffic };
}
