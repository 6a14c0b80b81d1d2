// The `topology` section: link, NIC queues and ring, VMs and their netfront queues, netback workers, vRSS mode, RSS key and RETA.
import { DEFAULT_RSS_KEY, RETA_MAX_SIZE } from '@splitnet/model';
import { readBitRate, readEnum, readInt, readMap, readPowerOfTwo, type Field } from './field.js';
import type { Path } from './issue.js';
import type { CompiledScenario, VmSpec, VrssMode } from './types.js';
import { formatRate } from './units.js';

export type CompiledTopology = CompiledScenario['topology'];

export const TOPOLOGY_KEYS = ['link', 'nicQueues', 'nicRingSize', 'vms', 'workers', 'vrss', 'backlog', 'rss'] as const;
const VMS_KEYS = ['count', 'queues', 'ringSize'] as const;
const RSS_KEYS = ['key', 'retaSize'] as const;
export const VRSS_MODES: readonly VrssMode[] = ['single', 'per-vif', 'per-flow'];

/** VM i receives on 10.255.i.1, so one octet of VM index. */
export const MAX_VMS = 256;
/** Netfront queues per VM (Linux caps at min(8, CPUs) by default; the module parameter allows more). */
const MAX_VM_QUEUES = 64;
const MAX_WORKERS = 64;
const MAX_NIC_QUEUES = 64;
const RSS_KEY_BYTES = 40;

export const DEFAULT_LINK_BPS = 10e9;

export interface TopologyResult {
  readonly compiled: CompiledTopology;
  readonly resolved: Record<string, unknown>;
  /** The link rate in bits/s (the default traffic rate). */
  readonly linkBitsPerSecond: number;
}

export function readTopology(field: Field): TopologyResult {
  const map = readMap(field, TOPOLOGY_KEYS);
  const linkField = map.get('link');
  const linkBps = linkField.absent ? DEFAULT_LINK_BPS : readBitRate(linkField);

  const rss = readMap(map.get('rss'), RSS_KEYS);
  const rssKey = readRssKey(rss.get('key'));
  const retaSize = readPowerOfTwo(rss.get('retaSize'), RETA_MAX_SIZE, { min: 1, max: RETA_MAX_SIZE });
  const retaPath: Path = [...rss.path, 'retaSize'];

  const nicQueuesField = map.get('nicQueues');
  const nicQueues = readInt(nicQueuesField, 1, { min: 1, max: MAX_NIC_QUEUES });
  if (nicQueues > retaSize) {
    nicQueuesField.expected(`at most ${retaSize} queues (the RETA has ${retaSize} entries)`, '', [retaPath]);
  }
  const nicRingSize = readInt(map.get('nicRingSize'), 512, { min: 1, max: 65536 }, 'descriptors');

  const vms = readMap(map.get('vms'), VMS_KEYS);
  const count = readInt(vms.get('count'), 1, { min: 1, max: MAX_VMS });
  const queuesField = vms.get('queues');
  const perVm = readVmQueues(queuesField, count, vms.get('count').path);
  const ringSize = readPowerOfTwo(vms.get('ringSize'), 256, { min: 4, max: 32768 });

  const vrssField = map.get('vrss');
  const vrss = readEnum(vrssField, 'per-flow', VRSS_MODES);
  const vrssPath = vrssField.path;
  const workersField = map.get('workers');
  // per-vif spreads whole VIFs over threads (the 2010 multi-thread netback), so one thread per VM is its natural size.
  // per-flow: one thread per queue of the largest VM, as netback's default (one per dom0 CPU) would give a guest that many vCPUs.
  const defaultWorkers = vrss === 'single' ? 1 : vrss === 'per-vif' ? Math.min(count, MAX_WORKERS) : Math.max(...perVm.map((q) => q.queues));
  const workers = readInt(workersField, defaultWorkers, { min: 1, max: MAX_WORKERS });

  if (vrss === 'single' && workers !== 1) {
    workersField.expected('1 when topology.vrss is "single" (one netback thread serves every queue)', '', [vrssPath]);
  }
  for (const { queues, field } of perVm) {
    if (vrss !== 'per-flow' && queues !== 1) {
      const why = vrss === 'single' ? 'a single-threaded netback serves one queue per VIF' : 'per-VIF threads predate multi-queue netfront';
      field.expected(`1 when topology.vrss is "${vrss}" (${why}; use "per-flow" for multi-queue VMs)`, '', [vrssPath]);
    }
    if (queues > retaSize) {
      field.expected(`at most ${retaSize} queues (the RETA has ${retaSize} entries)`, '', [retaPath]);
    }
  }

  const backlogPackets = readInt(map.get('backlog'), 512, { min: 1, max: 1 << 20 }, 'packets');

  const vmList: VmSpec[] = perVm.map(({ queues }, id) => ({ id, queues, ringSize }));

  const compiled: CompiledTopology = {
    linkGbps: linkBps / 1e9,
    nicQueues,
    nicRingSize,
    vms: vmList,
    workers,
    vrss,
    backlogPackets,
    rssKey,
    retaSize,
  };
  const resolved = {
    link: formatRate({ kind: 'bits', bitsPerSecond: linkBps }),
    nicQueues,
    nicRingSize,
    // As written: one integer for every VM, or the list.
    vms: { count, queues: Array.isArray(queuesField.value) ? perVm.map((q) => q.queues) : (perVm[0] as { queues: number }).queues, ringSize },
    workers,
    vrss,
    backlog: backlogPackets,
    rss: { key: formatRssKey(rssKey), retaSize },
  };
  return { compiled, resolved, linkBitsPerSecond: linkBps };
}

/**
 * `vms.queues`: one integer for every VM, or a list with one entry per VM. Each entry comes with the
 * field its cross-field rules report against (the list entry, or the single integer).
 */
function readVmQueues(field: Field, count: number, countPath: Path): { queues: number; field: Field }[] {
  const range = { min: 1, max: MAX_VM_QUEUES };
  const isQueues = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= range.min && v <= range.max;
  if (!Array.isArray(field.value)) {
    if (field.absent) return Array.from({ length: count }, () => ({ queues: 1, field }));
    if (!isQueues(field.value)) field.expected(`an integer from 1 to ${MAX_VM_QUEUES}, or a list of them (one per VM)`);
    const queues = field.value;
    return Array.from({ length: count }, () => ({ queues, field }));
  }
  if (field.value.length !== count) {
    const n = field.value.length;
    field.fail(`expected one entry per VM, found ${n} ${n === 1 ? 'entry' : 'entries'} for vms.count ${count}`, [countPath]);
  }
  return field.value.map((v, i) => {
    const entry = field.at(i, v);
    if (!isQueues(v)) entry.expected(`an integer from 1 to ${MAX_VM_QUEUES} (the queues of VM ${i})`);
    return { queues: v, field: entry };
  });
}

/** 40 bytes of hex; colons, dashes and white space between digits are ignored (`ethtool -x` prints colons). */
function readRssKey(field: Field): number[] {
  if (field.absent) return Array.from(DEFAULT_RSS_KEY);
  const what = `a ${RSS_KEY_BYTES}-byte key as ${RSS_KEY_BYTES * 2} hex digits (colons and spaces allowed)`;
  if (typeof field.value !== 'string') field.expected(what);
  const digits = field.value.replace(/[\s:-]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(digits)) field.expected(what, ' (not hex)');
  if (digits.length !== RSS_KEY_BYTES * 2) field.expected(what, ` (${digits.length} hex digits)`);
  const key: number[] = [];
  for (let i = 0; i < digits.length; i += 2) key.push(Number.parseInt(digits.slice(i, i + 2), 16));
  return key;
}

/** Lower-case hex in 4-byte groups, the way the RSS spec prints its sample key. */
export function formatRssKey(key: readonly number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < key.length; i += 4) {
    groups.push(key.slice(i, i + 4).map((b) => b.toString(16).padStart(2, '0')).join(''));
  }
  return groups.join(' ');
}
