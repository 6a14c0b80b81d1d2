// The `netback` section: the guest-RX queue bound and the vif's qdisc in front of each guest ring, and the rx stall timer.
import { XEN_PAGE_SIZE } from '@splitnet/model';
import { readDuration, readEnum, readInt, readMap, type Field } from './field.js';
import { boolean, duration, int, map, words } from './spec.js';
import type { Path } from './issue.js';
import type { NetbackSpec, NetbackThreading, QdiscKind } from './types.js';

export const QDISCS: readonly QdiscKind[] = ['fq-codel', 'pfifo-fast'];
export const THREADINGS: readonly NetbackThreading[] = ['kthread', 'kthread-rt', 'tasklet'];

/** Largest guest-RX queue bound accepted: 1 GiB (the kernel's is 512 KiB). */
const MAX_RX_QUEUE_BYTES = 1 << 30;

export const NETBACK_SPEC = map(
  {
    rxQueueBytes: int({
      min: 1,
      max: MAX_RX_QUEUE_BYTES,
      unit: 'bytes',
      description:
        "rx_queue_max: bytes a guest queue's netback queue holds before netback stops the vif's transmit queue (default: half the ring's pages, XENVIF_RX_QUEUE_BYTES = 512 KiB for 256 slots).",
    }),
    qdisc: words({
      values: QDISCS,
      default: 'fq-codel',
      description:
        "The vif's qdisc, which holds packets while netback has the queue stopped: fq-codel (10240 packets, CoDel; systemd's net.core.default_qdisc) or pfifo-fast (tx_queue_len = 32 packets, the kernel's default).",
    }),
    // Xen's default rx_stall_timeout is 60 s; runs here last milliseconds [assumption: long against a healthy queue's refill gaps (µs), short against a run].
    rxStallTimeout: duration({
      min: 0,
      default: 2_000_000,
      description: 'A guest queue with packets waiting and no posted RX buffer for this long is declared stalled; 0 turns the timer off.',
    }),
    stallKick: boolean({ default: true, description: "On a declared stall, re-send the notification (false: Xen's own behaviour, carrier off only)." }),
    threading: words({
      values: THREADINGS,
      default: 'kthread',
      description:
        "How netback's work runs on scheduled dom0 vCPUs (topology.dom0.vcpus): kernel threads (CFS: woken, time-sliced, preempted by softirqs), SCHED_FIFO kernel threads (preempt normal threads), or tasklets (softirq context: no wake-up, no context switch).",
    }),
  },
  { description: "netback's queueing in front of each guest RX ring, and its rx stall timer." },
);
const N = NETBACK_SPEC.keys;

/** XENVIF_RX_QUEUE_BYTES = XEN_NETIF_RX_RING_SIZE / 2 × PAGE_SIZE (interface.c), for a ring of `ringSize` slots. */
export function defaultRxQueueBytes(ringSize: number): number {
  return Math.max(1, Math.floor(ringSize / 2)) * XEN_PAGE_SIZE;
}

/**
 * The section, its defaults applied; `ringSize` (the guest RX ring's slots) sets rxQueueBytes' default.
 * `scheduled`: dom0 has scheduled vCPUs (a threading other than the default needs them; `dom0Path` says where).
 */
export function readNetback(field: Field, ringSize: number, scheduled: boolean, dom0Path: Path): NetbackSpec {
  const map = readMap(field, NETBACK_SPEC);
  const rxQueueBytes = readInt(map.get('rxQueueBytes'), defaultRxQueueBytes(ringSize), N.rxQueueBytes);
  const qdisc = readEnum(map.get('qdisc'), N.qdisc.default, N.qdisc.values);
  const rxStallTimeout = readDuration(map.get('rxStallTimeout'), N.rxStallTimeout.default, N.rxStallTimeout.min);
  const kick = map.get('stallKick');
  if (!kick.absent && typeof kick.value !== 'boolean') kick.expected('true or false');
  const threadingField = map.get('threading');
  const threading = readEnum(threadingField, N.threading.default, N.threading.values);
  if (threading !== N.threading.default && !scheduled) {
    threadingField.fail(
      `expected ${N.threading.default} with dedicated dom0 cores (nothing is scheduled on them), found ${threading}; set topology.dom0.vcpus to a number of vCPUs`,
      [dom0Path],
    );
  }
  return { rxQueueBytes, qdisc, rxStallTimeout, stallKick: kick.absent ? N.stallKick.default : (kick.value as boolean), threading };
}
