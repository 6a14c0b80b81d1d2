// The live host's hook into message-path faults: kept out of live-host.ts so that its send path only makes one call.
import { packetsIn, txPacketsIn } from '@splitnet/model';
import type { ActorRef, Message, Nanos } from '@splitnet/model';
import { ROUTE_DROP, ROUTE_DUPLICATE } from '@splitnet/runtime';
import type { LinkFaults } from '@splitnet/runtime';

/** What faultSend needs of the host: its counters and its own re-entry flag (state of the host, not of this module). */
export interface FaultSendHost {
  linkDropped: number;
  /** Frames a guest sent in the dropped messages (a partition's `txreq` or `xmit`): the transmit path's `link-drop`. */
  txLinkDropped: number;
  /** True while a duplicate is being sent, so that it is not routed (and duplicated) again. */
  resending: boolean;
  /** Send `msg` again, due at `due` (it comes back through faultSend, which lets it pass). */
  resend(from: ActorRef, to: ActorRef, msg: Message, due: Nanos): void;
  /** Send `msg` as actor `from` at `at` (the zero-copy callback's dealloc for a dropped batch's frames). */
  sendAs(from: ActorRef, to: ActorRef, msg: Message, at: Nanos): void;
}

/**
 * Route one message through the message-path faults. Returns the due time to use, or −1 when the
 * message is dropped (its packets are counted in `host.linkDropped`, the `link-drop` reason).
 * A duplicate is sent here, before the original.
 */
export function faultSend(host: FaultSendHost, lf: LinkFaults, from: ActorRef, to: ActorRef, msg: Message, at: Nanos, due: Nanos): Nanos {
  if (host.resending) return due;
  const verdict = lf.route(from, to, msg, at, due);
  if (verdict === ROUTE_DROP) {
    host.linkDropped += packetsIn(msg);
    host.txLinkDropped += txPacketsIn(msg);
    // The zero-copy release of the dropped batch's frames is not routed again (as in sim: see LinkFaults.zerocopy).
    host.resending = true;
    try {
      lf.zerocopy(msg, (worker, dealloc) => host.sendAs(from, worker, dealloc, at));
    } finally {
      host.resending = false;
    }
    return -1;
  }
  const d = lf.due;
  if (verdict === ROUTE_DUPLICATE) {
    host.resending = true;
    try {
      host.resend(from, to, msg, d);
    } finally {
      host.resending = false;
    }
  }
  return d;
}
