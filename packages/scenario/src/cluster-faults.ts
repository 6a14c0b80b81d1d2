// Faults of a multi-host scenario: a host paused (all its actors, and its switch port down) or killed, a switch port down, lossy or delayed.
import { isPlainMap, readDuration, readList, readMap, readNumber, readString, type Field, type MapField } from './field.js';
import { formatDuration } from './units.js';
import type { ClusterFault } from './types.js';
import type { Nanos } from '@splitnet/model';

const HOST = /^(?:h|host:)(0|[1-9][0-9]*)$/;
/** A fault on actors inside one host (`h1.worker:0`, `h1.vm.3`): a one-host fault of that host's, read by its view. */
export const HOST_ACTOR = /^h(0|[1-9][0-9]*)\.(.+)$/;
const PORT = /^switch:port:(0|[1-9][0-9]*)$/;
const HOST_ACTIONS = ['pause', 'kill'] as const;
const PORT_ACTIONS = { 'link-flap': 'port-down', 'drop-messages': 'port-loss', 'delay-messages': 'port-delay' } as const;
const KEYS = ['id', 'at', 'target', 'action', 'duration', 'probability', 'delay', 'restartAfter'];

/**
 * The `faults` list of a multi-host scenario: what reaches the hosts and the switch in sim today. A host (`h1` or
 * `host:1`) can be paused, or killed (until its restartAfter, or to the end); a switch port (`switch:port:1`, toward host 1) can go down (link-flap), lose frames
 * (drop-messages, probability) or delay them (delay-messages, delay), an external source's port (after the hosts':
 * `sources` of them) too, on the frames from the source. Each at a time, for a duration.
 */
export function readClusterFaults(
  field: Field,
  hosts: number,
  duration: number,
  sources = 0,
): { faults: ClusterFault[]; resolved: Record<string, unknown>[]; at: number[] } {
  const items = readList(field, 'a list of faults') ?? [];
  const faults: ClusterFault[] = [];
  const resolved: Record<string, unknown>[] = [];
  const places: number[] = [];
  for (const [i, entry] of items.entries()) {
    const item: Field = entry;
    if (!isPlainMap(item.value)) item.expected('a fault map (at, target, action, duration)');
    // A fault on one host's actors is that host's (hosts.ts gives it to the host's view).
    if (typeof item.value['target'] === 'string' && HOST_ACTOR.test(item.value['target'])) continue;
    places.push(i);
    const map = readMap(item, KEYS);
    const id = readString(map.get('id'), `f${i}`);
    const atField = map.get('at');
    if (atField.absent) atField.expected('a duration: when the fault starts (in a multi-host scenario a fault has at:, target:, action: and duration:)');
    const at = readDuration(atField, 0);
    if (at >= duration) atField.expected(`a time before the end of the run (${formatDuration(duration)})`);
    const targetField: Field = map.get('target');
    const target = readString(targetField, '');
    const host = HOST.exec(target);
    const port = PORT.exec(target);
    if (host === null && port === null)
      targetField.expected(
        "h<host> (or host:<host>), switch:port:<port>, or h<host>.<a one-host target> such as h1.worker:0 or h1.vm:3 (a multi-host scenario takes host, switch-port and one host's actor faults)",
      );
    const index = Number((host ?? port)?.[1]);
    checkIndex(targetField, host !== null, index, hosts, sources);
    const actionField: Field = map.get('action');
    const action = readString(actionField, '');
    let kind: ClusterFault['kind'];
    if (host !== null) {
      if (!(HOST_ACTIONS as readonly string[]).includes(action))
        actionField.expected('pause (a host fault pauses all its actors and takes its switch port down) or kill (the host crashes)');
      kind = action === 'kill' ? 'host-kill' : 'host-pause';
    } else {
      const k = (PORT_ACTIONS as Record<string, ClusterFault['kind']>)[action];
      if (k === undefined) actionField.expected('link-flap (the port goes down), drop-messages (it loses frames) or delay-messages (it delays them)');
      kind = k;
    }
    const { length, restartAfter } = readLength(map, kind, `${action} of ${target}`, at, duration);
    const probField = map.get('probability');
    const delayField = map.get('delay');
    if (kind !== 'port-loss' && !probField.absent) probField.expected(`no probability (${action} takes none)`);
    if (kind !== 'port-delay' && !delayField.absent) delayField.expected(`no delay (${action} takes none)`);
    const probability = kind === 'port-loss' ? readNumber(probField, 1, { min: 0, max: 1 }) : undefined;
    if (probability !== undefined && !(probability > 0)) probField.expected('a probability above 0 and at most 1');
    if (kind === 'port-delay' && delayField.absent) delayField.expected('a duration: how much longer each frame takes on the port');
    const delay = kind === 'port-delay' ? readDuration(delayField, 0, 1) : undefined;
    faults.push({
      id,
      at,
      until: Math.min(at + length, duration),
      kind,
      index,
      ...(probability === undefined ? {} : { probability }),
      ...(delay === undefined ? {} : { delay }),
      ...(restartAfter === undefined ? {} : { restartAfter }),
    });
    resolved.push({
      id,
      at: formatDuration(at),
      target,
      action,
      ...(kind === 'host-kill' ? {} : { duration: formatDuration(length) }),
      ...(probability === undefined ? {} : { probability }),
      ...(delay === undefined ? {} : { delay: formatDuration(delay) }),
      ...(restartAfter === undefined ? {} : { restartAfter: formatDuration(restartAfter) }),
    });
  }
  return { faults, resolved, at: places };
}

/** A host from 0 to hosts − 1; a switch port one of the hosts' or of the external sources' after them. */
function checkIndex(target: Field, isHost: boolean, index: number, hosts: number, sources: number): void {
  if (isHost && index >= hosts) target.expected(`a host from 0 to ${hosts - 1} (hosts: ${hosts})`, '', [['hosts']]);
  if (isHost || index < hosts + sources) return;
  if (sources === 0)
    target.expected(`a port from 0 to ${hosts - 1} (hosts: ${hosts}; an external source, from: external, would have a port after them)`, '', [['hosts']]);
  const which = sources === 1 ? `the external source on port ${hosts}` : `${sources} external sources on ports ${hosts}–${hosts + sources - 1}`;
  target.expected(`a port from 0 to ${hosts + sources - 1} (hosts: ${hosts}, then ${which})`, '', [['hosts']]);
}

/**
 * How long a fault lasts: its `duration`, or for a host kill (an instant: no duration) until its `restartAfter`,
 * else to the end of the run.
 */
function readLength(map: MapField, kind: ClusterFault['kind'], what: string, at: Nanos, duration: Nanos): { length: Nanos; restartAfter: Nanos | undefined } {
  const durField: Field = map.get('duration');
  if (kind === 'host-kill' && !durField.absent)
    durField.expected('no duration (a killed host stays down until restartAfter, or to the end of the run without it)');
  if (kind !== 'host-kill' && durField.absent) durField.expected('a duration: how long the fault lasts');
  const restartField = map.get('restartAfter');
  if (kind !== 'host-kill' && !restartField.absent) restartField.expected(`no restartAfter (${what} takes none: a host kill does)`);
  const restartAfter = kind === 'host-kill' && !restartField.absent ? readDuration(restartField, 0, 1) : undefined;
  const length = kind === 'host-kill' ? Math.min(restartAfter ?? duration, duration - at) : readDuration(durField, 0, 1);
  return { length, restartAfter };
}
