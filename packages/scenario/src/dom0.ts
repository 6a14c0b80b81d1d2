// The `topology.dom0` section: the driver domain's vCPUs (dedicated cores, or a number of scheduled vCPUs), where the NIC queues' softirq and the netback workers run, and Linux's scheduling limits.
import { readDuration, readInt, readList, readMap, type Field } from './field.js';
import { boolean, duration, int, list, map, oneOf, words } from './spec.js';
import type { Dom0Spec } from './types.js';
import { formatDuration } from './units.js';

export const DEDICATED = 'dedicated';
const MAX_VCPUS = 256;
const VCPU_INDEX = int({ min: 0, max: MAX_VCPUS - 1 });

/** EEVDF's base slice (kernel/sched/fair.c, Linux ≥ 6.15; 0.75 ms in 6.6–6.14), scaled by 1 + ilog2(CPUs) for up to 8 CPUs (update_sysctl). */
const BASE_SLICE = 700_000;

/** sysctl_sched_base_slice as the kernel sets it for `vcpus` CPUs (SCHED_TUNABLESCALING_LOG). */
export function defaultTimeslice(vcpus: number): number {
  return BASE_SLICE * (1 + Math.floor(Math.log2(Math.min(vcpus, 8))));
}

export const DOM0_SPEC = map(
  {
    vcpus: oneOf({
      variants: [words({ values: [DEDICATED] }), int({ min: 1, max: MAX_VCPUS })],
      default: DEDICATED,
      description:
        "The driver domain's vCPUs: \"dedicated\" (one core per NIC queue and per netback worker, nothing scheduled) or how many vCPUs the NIC queues' softirq and netback's threads share, scheduled as Linux does.",
    }),
    nic: list({
      items: VCPU_INDEX,
      minItems: 1,
      description: "The vCPU of each NIC queue's interrupt and NAPI softirq (default: queue q on vCPU q mod vcpus).",
    }),
    workers: list({
      items: VCPU_INDEX,
      minItems: 1,
      description: 'The vCPU each netback worker is bound to (default: worker k on vCPU (nicQueues + k) mod vcpus).',
    }),
    timeslice: duration({
      min: 1,
      description: "A normal thread's time slice when others are runnable (default: EEVDF's base slice, 0.7 ms × (1 + log2 vCPUs), vCPUs counted up to 8).",
    }),
    softirq: map(
      {
        netdevBudget: int({
          min: 1,
          max: 1_000_000,
          unit: 'packets',
          default: 300,
          description: 'net.core.netdev_budget: packets one net_rx_action round polls.',
        }),
        netdevBudgetTime: duration({ min: 1, default: 2_000_000, description: 'net.core.netdev_budget_usecs: how long one net_rx_action round may run.' }),
        maxTime: duration({ min: 1, default: 2_000_000, description: 'MAX_SOFTIRQ_TIME: how long one __do_softirq restarts rounds.' }),
        maxRestart: int({ min: 1, max: 1000, default: 10, description: 'MAX_SOFTIRQ_RESTART: rounds one __do_softirq runs at most.' }),
        ksoftirqd: boolean({
          default: true,
          description:
            'Defer softirq work left at those limits to ksoftirqd, a normal thread (false: run softirqs until none is pending, the receive-livelock case).',
        }),
      },
      { description: "Linux's bounds on softirq work (net/core/dev.c net_rx_action, kernel/softirq.c __do_softirq)." },
    ),
  },
  { description: "The driver domain's vCPUs and how the NIC's softirq and netback's work are scheduled on them." },
);
const D = DOM0_SPEC.keys;
const S = D.softirq.keys;

export interface Dom0Result {
  readonly compiled: Dom0Spec;
  readonly resolved: Record<string, unknown>;
  /** Where `vcpus` was (or would be) written, for rules that depend on it. */
  readonly vcpusPath: readonly (string | number)[];
}

/**
 * `dom0`: `dedicated` keeps every NIC queue and worker on a core of its own with nothing scheduled, and takes no
 * other setting; a number of vCPUs places NIC queue q on vCPU q mod n and worker k on (nicQueues + k) mod n, so
 * n = nicQueues + workers is today's layout, scheduled.
 */
export function readDom0(field: Field, nicQueues: number, workers: number): Dom0Result {
  const map = readMap(field, DOM0_SPEC);
  const vcpusField = map.get('vcpus');
  const vcpusPath = vcpusField.path;
  const v = vcpusField.value;
  if (vcpusField.absent || v === DEDICATED) {
    for (const key of ['nic', 'workers', 'timeslice', 'softirq']) {
      const f = map.get(key);
      if (!f.absent)
        f.fail(`expected no ${key} setting with dedicated dom0 cores (nothing is scheduled on them), found one; set topology.dom0.vcpus to a number of vCPUs`, [
          vcpusPath,
        ]);
    }
    return { compiled: { vcpus: null, nicVcpu: [], workerVcpu: [], timeslice: 0, softirq: null }, resolved: { vcpus: DEDICATED }, vcpusPath };
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_VCPUS) vcpusField.expected(`"${DEDICATED}" or an integer from 1 to ${MAX_VCPUS}`);
  const n = v as number;
  const nicVcpu = readPlacement(map.get('nic'), nicQueues, n, 'NIC queue', 'topology.nicQueues', (q) => q % n);
  const workerVcpu = readPlacement(map.get('workers'), workers, n, 'worker', 'topology.workers', (k) => (nicQueues + k) % n);
  const timeslice = readDuration(map.get('timeslice'), defaultTimeslice(n), D.timeslice.min);
  const sm = readMap(map.get('softirq'), D.softirq);
  const softirq = {
    netdevBudget: readInt(sm.get('netdevBudget'), S.netdevBudget.default, S.netdevBudget),
    netdevBudgetTime: readDuration(sm.get('netdevBudgetTime'), S.netdevBudgetTime.default, S.netdevBudgetTime.min),
    maxTime: readDuration(sm.get('maxTime'), S.maxTime.default, S.maxTime.min),
    maxRestart: readInt(sm.get('maxRestart'), S.maxRestart.default, S.maxRestart),
    ksoftirqd: readBoolean(sm.get('ksoftirqd'), S.ksoftirqd.default),
  };
  return {
    compiled: { vcpus: n, nicVcpu, workerVcpu, timeslice, softirq },
    resolved: {
      vcpus: n,
      nic: nicVcpu,
      workers: workerVcpu,
      timeslice: formatDuration(timeslice),
      softirq: { ...softirq, netdevBudgetTime: formatDuration(softirq.netdevBudgetTime), maxTime: formatDuration(softirq.maxTime) },
    },
    vcpusPath,
  };
}

/** One vCPU index per NIC queue or per worker, each below the vCPU count. */
function readPlacement(field: Field, count: number, vcpus: number, what: string, countKey: string, byDefault: (i: number) => number): number[] {
  const items = readList(field, `a list of vCPU indexes, one per ${what}`);
  if (items === undefined) return Array.from({ length: count }, (_, i) => byDefault(i));
  if (items.length !== count) field.fail(`expected one vCPU per ${what} (${countKey}: ${count}), found ${items.length}`);
  return items.map((f: Field): number => {
    const i = f.value;
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= vcpus) f.expected(`a vCPU index from 0 to ${vcpus - 1} (topology.dom0.vcpus: ${vcpus})`);
    return i as number;
  });
}

function readBoolean(field: Field, fallback: boolean): boolean {
  if (field.absent) return fallback;
  if (typeof field.value !== 'boolean') field.expected('true or false');
  return field.value;
}
