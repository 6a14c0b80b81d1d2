// Who sends which message kind to whom in the datapath: the one role × kind matrix that receivers and bus permissions follow.
import type { Message } from './messages.js';

/** The actors' roles, as their ids name them: `nic`, `backend`, `worker.<k>`, `vm.<v>` (a guest's netfront). */
export type DatapathRole = 'nic' | 'backend' | 'worker' | 'frontend' | 'switch';

/** A multi-host scenario's actor ids carry their host: `h<i>.` before the host's own id (`h1.vm.3`). */
const HOST_PREFIX = /^h(0|[1-9][0-9]*)\./;

/** The role of an actor id (host-prefixed or not), or undefined for an id that is none of the datapath's (`controller`, garbage). */
export function roleOf(id: string): DatapathRole | undefined {
  if (id === 'switch') return 'switch';
  const actorId = id.replace(HOST_PREFIX, '');
  if (actorId === 'nic' || actorId === 'backend') return actorId;
  if (actorId.startsWith('worker.')) return 'worker';
  if (actorId.startsWith('vm.')) return 'frontend';
  return undefined;
}

/** How a message kind travels: from which role to which, and whether it may cross the bus at all. */
export interface MessageRoute {
  readonly from: DatapathRole;
  readonly to: DatapathRole;
  /**
   * False for what never leaves a host's memory: the NIC and its driver always share a process (DMA and the
   * driver's register writes), so a `dma` or `poll` that arrives over the bus was forged.
   */
  readonly bus: boolean;
  /** A second role that sends this kind, where the datapath has one (see `dealloc`). */
  readonly alsoFrom?: DatapathRole;
}

/**
 * Every message kind's one route (Xen's split driver: the NIC DMAs to netback, netback hands packets to the
 * vRSS worker serving the guest queue, the worker produces responses and notifies the guest, the guest posts
 * requests and its ring state back to that worker). A receiver accepts a kind only from its route's sender
 * role; the per-queue part (which worker serves which guest queue) is the actor graph's to check.
 */
export const MESSAGE_ROUTES: Readonly<Record<Message['kind'], MessageRoute>> = {
  dma: { from: 'nic', to: 'backend', bus: false },
  poll: { from: 'backend', to: 'nic', bus: false },
  rx: { from: 'backend', to: 'worker', bus: true },
  rsp: { from: 'worker', to: 'frontend', bus: true },
  evt: { from: 'worker', to: 'frontend', bus: true },
  reconnect: { from: 'worker', to: 'frontend', bus: true },
  connected: { from: 'worker', to: 'frontend', bus: true },
  req: { from: 'frontend', to: 'worker', bus: true },
  ring: { from: 'frontend', to: 'worker', bus: true },
  // The transmit path (guest → wire). The NIC and its driver share a process, as on RX.
  txreq: { from: 'frontend', to: 'worker', bus: true },
  txrsp: { from: 'worker', to: 'frontend', bus: true },
  xmit: { from: 'worker', to: 'backend', bus: true },
  txpost: { from: 'backend', to: 'nic', bus: false },
  txdone: { from: 'nic', to: 'backend', bus: false },
  // The zero-copy callback of a frame's skb runs where the skb is freed: after the NIC sent it (the driver), or,
  // guest to guest, as the receiving vif's netback thread takes it (another worker than the sender's).
  dealloc: { from: 'backend', to: 'worker', bus: true, alsoFrom: 'worker' },
  // The fabric between hosts: a NIC's link to its switch port, and the port's link back. Not bus routes of one host's
  // datapath (no process of a one-host run may publish to a switch): a multi-host run's bus carries them under the
  // fabric's own rules (controller's cluster-links.ts; bus-permissions.ts gives a host's NIC and the switch their subjects).
  uplink: { from: 'nic', to: 'switch', bus: false },
  downlink: { from: 'switch', to: 'nic', bus: false },
};

/** The roles a role sends to over the bus (from the routes): where its processes may publish. */
export function busPeersOf(role: DatapathRole): readonly DatapathRole[] {
  const peers = new Set<DatapathRole>();
  for (const r of Object.values(MESSAGE_ROUTES)) if (r.bus && (r.from === role || r.alsoFrom === role)) peers.add(r.to);
  return [...peers];
}
