// The `topology` section: link, NIC queues and ring, VMs and their netfront queues, netback workers, vRSS mode and steering, RSS keys and tables.
import { DEFAULT_RSS_KEY, deriveSeed, Prng, RETA_MAX_SIZE } from '@splitnet/model';
import { readDom0, DOM0_SPEC } from './dom0.js';
import { readBitRate, readEnum, readInt, readMap, readPowerOfTwo, type Field } from './field.js';
import { boolean, duration, int, list, map, oneOf, rate, SEEDED, string, words } from './spec.js';
import type { Path } from './issue.js';
import type { CompiledScenario, Steering, VmSpec, VrssMode } from './types.js';
import { formatDuration, formatRate, parseDuration } from './units.js';

export type CompiledTopology = CompiledScenario['topology'];

export const VRSS_MODES: readonly VrssMode[] = ['single', 'per-vif', 'per-flow'];
export const STEERINGS: readonly Steering[] = ['rx-queue', 'flow-hash', 'toeplitz'];

/** VM i receives on 10.255.i.1, so one octet of VM index. */
export const MAX_VMS = 256;
/** Netfront queues per VM (Linux caps at min(8, CPUs) by default; the module parameter allows more). */
const MAX_VM_QUEUES = 64;
const MAX_WORKERS = 64;
const MAX_NIC_QUEUES = 64;
const RSS_KEY_BYTES = 40;
/** Colons, dashes and white space between the digits are ignored (`ethtool -x` prints colons). */
const RSS_KEY_SEPARATORS = String.raw`[\s:-]`;

const RSS_KEY_WHAT = `a ${RSS_KEY_BYTES}-byte key as ${RSS_KEY_BYTES * 2} hex digits (colons and spaces allowed)`;
const RSS_KEY_PATTERN = String.raw`^${RSS_KEY_SEPARATORS}*(?:[0-9a-fA-F]${RSS_KEY_SEPARATORS}*){${RSS_KEY_BYTES * 2}}$`;

export const DEFAULT_LINK_BPS = 10e9;

const VM_QUEUES = int({ min: 1, max: MAX_VM_QUEUES });
/** A guest vCPU that never blocks (`vms.blockAfter`). */
export const NEVER = 'never';

export const TOPOLOGY_SPEC = map(
  {
    link: rate({ bitsOnly: true, default: DEFAULT_LINK_BPS, description: 'Wire speed of the physical NIC (a bit rate up to 1Tbps).' }),
    nicQueues: int({ min: 1, max: MAX_NIC_QUEUES, default: 1, description: 'Hardware RX queues; RSS spreads flows over them (at most rss.retaSize).' }),
    nicRingSize: int({
      min: 1,
      max: 65536,
      unit: 'descriptors',
      default: 512,
      description: 'RX descriptors per NIC queue; packets beyond them are dropped (nic-ring-full).',
    }),
    vms: map(
      {
        count: int({ min: 1, max: MAX_VMS, default: 1, description: 'Guest VMs; VM i receives on 10.255.i.1.' }),
        queues: oneOf({
          variants: [VM_QUEUES, list({ items: VM_QUEUES, minItems: 1, maxItems: MAX_VMS })],
          default: 1,
          description: 'Netfront queues per VM (one per guest vCPU): one integer for every VM, or a list with one entry per VM.',
        }),
        ringSize: int({
          min: 4,
          max: 32768,
          powerOfTwo: true,
          default: 256,
          description: 'Guest RX ring slots per queue (a power of two; a 4 KiB ring page holds 256).',
        }),
        blockAfter: oneOf({
          variants: [words({ values: [NEVER] }), duration({ min: 0 })],
          default: NEVER,
          description:
            "A guest vCPU idle for longer than this blocks (its idle loop's SCHEDOP_block) and pays Xen's wake-up (costs.frontend.wakeup) before its next upcall or timer tick runs; 0: as soon as it is idle, as Linux's idle loop does; never (default): vCPUs never block.",
        }),
      },
      { description: 'The guest VMs.' },
    ),
    workers: int({
      min: 1,
      max: MAX_WORKERS,
      description: 'Netback threads in the driver domain (default: 1 for single, vms.count for per-vif, the most queues of a VM for per-flow).',
    }),
    vrss: words({
      values: VRSS_MODES,
      default: 'per-flow',
      description: 'How netback spreads work over threads: one thread, whole VIFs round-robin, or per flow (virtual RSS).',
    }),
    steering: words({
      values: STEERINGS,
      default: 'rx-queue',
      description:
        "How netback picks a multi-queue VM's queue for a packet: the NIC RX queue the driver recorded (Linux netfront), the stack's flow hash, or the Toeplitz mapping the front end set over the control ring.",
    }),
    toeplitz: map(
      {
        key: oneOf({
          variants: [words({ values: [SEEDED] }), string({ pattern: RSS_KEY_PATTERN, patternMessage: RSS_KEY_WHAT })],
          default: SEEDED,
          description: `The front end's Toeplitz key: ${RSS_KEY_BYTES} bytes as ${RSS_KEY_BYTES * 2} hex digits, or "seeded" (drawn from the run seed, as a guest picks its key at boot).`,
        }),
        mappingSize: int({
          min: 1,
          max: RETA_MAX_SIZE,
          default: RETA_MAX_SIZE,
          description: "Entries of the front end's queue mapping (netback accepts at most 128); hash % size picks one.",
        }),
        hashSlot: boolean({
          default: true,
          description:
            "Pass each packet's hash to the guest in an extra ring slot (XEN_NETIF_EXTRA_TYPE_HASH), as netback does; false: the paper's vRSS, which steered without telling the guest.",
        }),
      },
      { description: 'Toeplitz steering as the front end configures it over the control ring (with steering: toeplitz).' },
    ),
    rss: map(
      {
        key: string({
          pattern: RSS_KEY_PATTERN,
          patternMessage: RSS_KEY_WHAT,
          default: formatRssKey(Array.from(DEFAULT_RSS_KEY)),
          description: `Toeplitz key of the NIC's hardware RSS: ${RSS_KEY_BYTES} bytes as ${RSS_KEY_BYTES * 2} hex digits (colons, dashes and spaces allowed).`,
        }),
        retaSize: int({
          min: 1,
          max: RETA_MAX_SIZE,
          powerOfTwo: true,
          default: RETA_MAX_SIZE,
          description: "Entries of the NIC's indirection table (a power of two, at most 128).",
        }),
      },
      { description: "The NIC's receive-side scaling: hash key and indirection table." },
    ),
    dom0: DOM0_SPEC,
  },
  { description: 'The machine: link, NIC queues, guest VMs and their queues, netback threads and vRSS mode.' },
);
const K = TOPOLOGY_SPEC.keys;

export interface TopologyResult {
  readonly compiled: CompiledTopology;
  /** Where topology.dom0.vcpus is, for rules of other sections that depend on it. */
  readonly dom0VcpusPath: readonly (string | number)[];
  readonly resolved: Record<string, unknown>;
  /** The link rate in bits/s (the default traffic rate). */
  readonly linkBitsPerSecond: number;
}

// eslint-disable-next-line max-lines-per-function -- every topology key read in schema order, so errors come in the order a reader finds them
export function readTopology(field: Field, seed: number): TopologyResult {
  const map = readMap(field, TOPOLOGY_SPEC);
  const linkField = map.get('link');
  const linkBps = linkField.absent ? K.link.default : readBitRate(linkField);

  const rss = readMap(map.get('rss'), K.rss);
  const rssKey = readRssKey(rss.get('key'));
  const reta = K.rss.keys.retaSize;
  const retaSize = readPowerOfTwo(rss.get('retaSize'), reta.default, reta);
  const retaPath: Path = [...rss.path, 'retaSize'];

  const nicQueuesField = map.get('nicQueues');
  const nicQueues = readInt(nicQueuesField, K.nicQueues.default, K.nicQueues);
  if (nicQueues > retaSize) {
    nicQueuesField.expected(`at most ${retaSize} queues (the RETA has ${retaSize} entries)`, '', [retaPath]);
  }
  const nicRingSize = readInt(map.get('nicRingSize'), K.nicRingSize.default, K.nicRingSize);

  const V = K.vms.keys;
  const vms = readMap(map.get('vms'), K.vms);
  const count = readInt(vms.get('count'), V.count.default, V.count);
  const queuesField = vms.get('queues');
  const perVm = readVmQueues(queuesField, count, vms.get('count').path);
  const ringSize = readPowerOfTwo(vms.get('ringSize'), V.ringSize.default, V.ringSize);
  const blockField = vms.get('blockAfter');
  let blockAfter: number | null = null;
  if (!blockField.absent && blockField.value !== NEVER) {
    const v = blockField.value;
    const ns = typeof v === 'string' || v === 0 ? parseDuration(String(v)) : undefined;
    if (ns === undefined) blockField.expected(`"${NEVER}" or a duration such as 0 or 20us`);
    blockAfter = ns as number;
  }

  const vrssField = map.get('vrss');
  const vrss = readEnum(vrssField, K.vrss.default, K.vrss.values);
  const vrssPath = vrssField.path;
  const workersField = map.get('workers');
  // per-vif spreads whole VIFs over threads (the 2010 multi-thread netback), so one thread per VM is its natural size.
  // per-flow: one thread per queue of the largest VM, as netback's default (one per dom0 CPU) would give a guest that many vCPUs.
  const defaultWorkers = vrss === 'single' ? 1 : vrss === 'per-vif' ? Math.min(count, MAX_WORKERS) : Math.max(...perVm.map((q) => q.queues));
  const workers = readInt(workersField, defaultWorkers, K.workers);

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

  const steeringField = map.get('steering');
  const steering = readEnum(steeringField, K.steering.default, K.steering.values);
  const toeplitz = readToeplitz(map.get('toeplitz'), steering, steeringField.path, seed);

  const dom0 = readDom0(map.get('dom0'), nicQueues, workers);
  const vmList: VmSpec[] = perVm.map(({ queues }, id) => ({ id, queues, ringSize, blockAfter }));

  const compiled: CompiledTopology = {
    linkGbps: linkBps / 1e9,
    nicQueues,
    nicRingSize,
    vms: vmList,
    workers,
    dom0: dom0.compiled,
    vrss,
    steering,
    toeplitz: toeplitz.compiled,
    rssKey,
    retaSize,
  };
  const resolved = {
    link: formatRate({ kind: 'bits', bitsPerSecond: linkBps }),
    nicQueues,
    nicRingSize,
    // As written: one integer for every VM, or the list.
    vms: {
      count,
      queues: Array.isArray(queuesField.value) ? perVm.map((q) => q.queues) : (perVm[0] as { queues: number }).queues,
      ringSize,
      blockAfter: blockAfter === null ? NEVER : formatDuration(blockAfter),
    },
    workers,
    dom0: dom0.resolved,
    vrss,
    steering,
    ...(toeplitz.resolved === undefined ? {} : { toeplitz: toeplitz.resolved }),
    rss: { key: formatRssKey(rssKey), retaSize },
  };
  return { compiled, resolved, linkBitsPerSecond: linkBps, dom0VcpusPath: dom0.vcpusPath };
}

/**
 * `vms.queues`: one integer for every VM, or a list with one entry per VM. Each entry comes with the
 * field its cross-field rules report against (the list entry, or the single integer).
 */
function readVmQueues(field: Field, count: number, countPath: Path): { queues: number; field: Field }[] {
  const range = VM_QUEUES;
  const isQueues = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= range.min && v <= range.max;
  if (!Array.isArray(field.value)) {
    if (field.absent) return Array.from({ length: count }, () => ({ queues: K.vms.keys.queues.default, field }));
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

/**
 * `toeplitz`: only with `steering: toeplitz` (elsewhere netback has no Toeplitz state to configure). A
 * seeded key comes from the stream `deriveSeed(seed, "steering:toeplitzKey")`, so another seed is another boot.
 */
function readToeplitz(
  field: Field,
  steering: Steering,
  steeringPath: Path,
  seed: number,
): { compiled: CompiledTopology['toeplitz']; resolved: Record<string, unknown> | undefined } {
  const T = K.toeplitz.keys;
  const map = readMap(field, K.toeplitz);
  if (steering !== 'toeplitz') {
    if (!field.absent) {
      field.fail(
        `expected no toeplitz settings unless topology.steering is "toeplitz", found steering "${steering}" (drop them, or --set topology.toeplitz=null)`,
        [steeringPath],
      );
    }
    return { compiled: null, resolved: undefined };
  }
  const keyField = map.get('key');
  const seeded = keyField.absent || keyField.value === SEEDED;
  const key = seeded ? seededKey(seed) : readRssKey(keyField);
  const mappingSize = readInt(map.get('mappingSize'), T.mappingSize.default, T.mappingSize);
  const slotField = map.get('hashSlot');
  if (!slotField.absent && typeof slotField.value !== 'boolean') slotField.expected('true or false');
  const hashSlot = slotField.absent ? T.hashSlot.default : (slotField.value as boolean);
  return {
    compiled: { key, mappingSize, hashSlot },
    resolved: { key: seeded ? SEEDED : formatRssKey(key), mappingSize, hashSlot },
  };
}

/** A 40-byte key drawn from the run seed (a guest's RSS key is chosen at boot, not fixed). */
function seededKey(seed: number): number[] {
  const prng = new Prng(deriveSeed(seed, 'steering:toeplitzKey'));
  return Array.from({ length: RSS_KEY_BYTES }, () => prng.below(256));
}

/** 40 bytes of hex; colons, dashes and white space between digits are ignored (`ethtool -x` prints colons). */
function readRssKey(field: Field): number[] {
  if (field.absent) return Array.from(DEFAULT_RSS_KEY);
  const what = RSS_KEY_WHAT;
  if (typeof field.value !== 'string') field.expected(what);
  const digits = field.value.replace(new RegExp(RSS_KEY_SEPARATORS, 'g'), '');
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
    groups.push(
      key
        .slice(i, i + 4)
        .map((b) => b.toString(16).padStart(2, '0'))
        .join(''),
    );
  }
  return groups.join(' ');
}
