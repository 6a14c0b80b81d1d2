// The packet observation hook: what the NIC and netfront tell a packet capture at their observation points, only when one is configured.
import type { TcpHeader } from './tcp-columns.js';
import type { Nanos } from './time.js';

/** Why a frame that reached the NIC went no further (the drop reasons the NIC itself counts). */
export type NicArrivalDrop = 'nic-ring-full' | 'link-down';

/**
 * An observer of the packets passing the datapath's observation points (a packet capture, `--pcap`).
 * An actor calls it only when its configuration holds one: without one there is no call at all.
 *
 * Calls come in the order the actors see the packets, which is not time order across queues: the NIC
 * counts arrivals lazily, queue by queue, and netfront announces a packet's delivery when the poll that
 * delivers it starts. What an observer may rely on to put them in time order: once every actor has
 * reported at `t` (`Actor.report(t)`), every packet that passed either point before `t` has been
 * observed — the NIC settles the arrivals up to `t` when it reports, and a delivery is announced no later
 * than its own time.
 */
export interface PacketTap {
  /**
   * A frame's last bit reached the NIC at `at`, before hardware RSS and the RX ring. `drop` says why the
   * NIC dropped it (a full hardware ring, a link held down), or null when it took an RX descriptor. `tcp`: the
   * segment's header when the frame carries one of a closed-loop flow (a copy is the observer's to keep).
   */
  nicArrival(at: Nanos, flow: number, seq: number, len: number, drop: NicArrivalDrop | null, tcp?: TcpHeader): void;
  /** netfront handed the packet to the application at `at`: the end of its work in the NAPI poll, where its latency is taken. */
  guestDelivery(at: Nanos, flow: number, seq: number, len: number, tcp?: TcpHeader): void;
}
