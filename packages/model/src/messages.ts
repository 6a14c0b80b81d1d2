// The messages actors exchange: the same shapes travel in-process (sim) and over the wire (live).
import type { TcpColumns } from './tcp-columns.js';
import type { Nanos } from './time.js';

/**
 * A batch of packet descriptors, columnar: one typed array per field; entries [0, count) are the
 * packets (the arrays may be longer: their length is the batch's capacity).
 * Ownership passes to the receiver with the message; a sender never touches a batch after sending.
 */
export interface PacketBatch {
  readonly count: number;
  /** Index into the scenario's flow table. */
  readonly flow: Uint32Array;
  /** Per-flow sequence number assigned by the NIC when the frame arrived (detects reordering). */
  readonly seq: Uint32Array;
  /** Frame length in bytes (Ethernet frame without preamble and inter-frame gap). */
  readonly len: Uint16Array;
  /** Emulated time the frame's last bit arrived at the NIC. */
  readonly emittedAt: Float64Array;
  /**
   * The TCP header fields of frames that carry a segment of a closed-loop flow (absent: none in the batch
   * does). They travel with the frame through every actor, so that both ends of a connection see them.
   */
  readonly tcp?: TcpColumns | undefined;
}

/**
 * NIC → backend: one read of a hardware RX queue by the driver's NAPI poll, at most the budget of
 * frames. `irq` says a physical interrupt started this poll (the queue's interrupt is now masked);
 * otherwise it continues a poll whose previous batch used the whole budget. The frames' descriptors
 * stay taken until the driver answers with a `poll` naming this batch.
 */
export interface DmaMessage {
  readonly kind: 'dma';
  readonly nicQueue: number;
  readonly irq: boolean;
  /** When the NIC handed the batch to the driver: the batch's identity, which the driver's `poll` echoes. */
  readonly issuedAt: Nanos;
  readonly batch: PacketBatch;
}

/**
 * backend → NIC: the driver has processed the batch issued at `issuedAt` and gives its descriptors
 * back (a tail write, in hardware terms). If that batch used the whole budget, NAPI stays scheduled
 * and the NIC hands over the next batch; otherwise the poll completes (`napi_complete_done`) and the
 * queue's interrupt is unmasked. A `poll` for a batch the NIC is not waiting on is ignored.
 */
export interface PollMessage {
  readonly kind: 'poll';
  readonly nicQueue: number;
  readonly issuedAt: Nanos;
}

/** backend → worker: packets steered to a guest queue that this worker serves. */
export interface RxMessage {
  readonly kind: 'rx';
  readonly vm: number;
  readonly queue: number;
  readonly batch: PacketBatch;
}

/**
 * worker → frontend: RX responses pushed on the guest's ring (the shared page's rsp_prod moved to
 * `rspProd`), carrying the packets copied into the posted buffers. `reqEvent` is the back-end's
 * current req_event (where it wants a notification for new requests).
 */
export interface RspMessage {
  readonly kind: 'rsp';
  readonly vm: number;
  readonly queue: number;
  readonly rspProd: number;
  readonly reqEvent: number;
  readonly batch: PacketBatch;
}

/** worker → frontend: an event-channel notification (the back-end's notify hypercall) on `port`. */
export interface EvtMessage {
  readonly kind: 'evt';
  readonly vm: number;
  readonly port: number;
}

/**
 * frontend → worker: the front-end's writes to the shared page for one queue: new RX requests
 * (req_prod), its event index (rsp_event), the rsp_prod it had seen when it last checked, and
 * whether its push-and-check said to notify the back-end.
 */
export interface ReqMessage {
  readonly kind: 'req';
  readonly vm: number;
  readonly queue: number;
  readonly reqProd: number;
  readonly rspEvent: number;
  readonly rspProdSeen: number;
  readonly notify: boolean;
}

/**
 * worker → frontend: a (re)started back end asks for the ring's state, as netback does when it
 * reconnects through xenstore. The front end answers with a `ring` message.
 */
export interface ReconnectMessage {
  readonly kind: 'reconnect';
  readonly vm: number;
  readonly queue: number;
}

/** frontend → worker: the whole ring state of one queue, for a back end that (re)connects. The worker answers `connected`. */
export interface RingStateMessage {
  readonly kind: 'ring';
  readonly vm: number;
  readonly queue: number;
  readonly reqProd: number;
  readonly rspEvent: number;
  /** rsp_prod as the front end has it: the back end continues producing from here. */
  readonly rspProdSeen: number;
  /**
   * The front end set up a new shared ring (a restarted netfront reconnecting its VIF): what the back
   * end held for the old ring — its queued packets and the copy in progress — is discarded, as netback
   * purges a VIF's queue when the front end disconnects.
   */
  readonly newRing: boolean;
  /**
   * Which ring this is: the emulated time the front end set it up (0 for the ring of the run's start).
   * A back end already serving that ring ignores a second state for it: its own responses may be
   * ahead of the state, and taking it again would move rsp_prod back (both ends restarting at once
   * send two states for one new ring, and each end may see them in either order).
   */
  readonly ringAt: Nanos;
  /**
   * The front end answers the back end's `reconnect` (xennet_disconnect_backend, talk_to_netback): with this state
   * it set up a new TX ring from index 0. The back end re-creates its side of the TX ring too, even when it
   * ignores the state as a second one for the RX ring it serves (both ends restarted at once: the front end's
   * own state connected it, and a TCP end may already have written a SYN on the TX ring the answer replaced).
   */
  readonly txRenewed?: boolean;
}

/**
 * worker → frontend: the back end has taken the ring state of a `ring` message and serves the queue
 * (xenbus: the back end is Connected). A front end with a new ring ignores responses and
 * notifications on that queue until then: they belong to the old ring.
 */
export interface ConnectedMessage {
  readonly kind: 'connected';
  readonly vm: number;
  readonly queue: number;
  /** The ring the back end connected to (`ring.ringAt`): a front end ignores an answer for an older ring. */
  readonly ringAt: Nanos;
}

/**
 * frontend → worker: netfront's writes to one queue's TX ring (xennet_start_xmit): the frames of the new
 * TX requests (each takes `txSlots(len)` slots, the first with XEN_NETTXF_more_data when it spans several),
 * req_prod, its rsp_event for TX responses, the TX rsp_prod it had seen, and whether its
 * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY said to notify netback (on the queue's TX event channel).
 */
export interface TxReqMessage {
  readonly kind: 'txreq';
  readonly vm: number;
  readonly queue: number;
  readonly reqProd: number;
  readonly rspEvent: number;
  readonly rspProdSeen: number;
  readonly notify: boolean;
  readonly batch: PacketBatch;
}

/**
 * worker → frontend: TX responses pushed on the guest's TX ring (make_tx_response + push_tx_responses):
 * the shared page's TX rsp_prod moved to `rspProd`; `reqEvent` is netback's TX req_event. The slots they
 * free are netfront's to reclaim in xennet_tx_buf_gc.
 */
export interface TxRspMessage {
  readonly kind: 'txrsp';
  readonly vm: number;
  readonly queue: number;
  readonly rspProd: number;
  readonly reqEvent: number;
}

/**
 * worker → backend: a guest's frames on their way out (xenvif_tx_submit hands the skbs to the vif's stack,
 * and so to the bridge in the driver domain). `vm`/`queue` name the vif queue they came from.
 */
export interface XmitMessage {
  readonly kind: 'xmit';
  readonly vm: number;
  readonly queue: number;
  readonly batch: PacketBatch;
  /**
   * Frames and TX slots this vif queue's netback has handed to the bridge so far, this batch's included (free-running
   * counts, not Xen fields). The bridge tells from them that earlier batches were lost on a live run's bus.
   */
  readonly sentFrames?: number;
  readonly sentSlots?: number;
}

/**
 * backend → NIC: the driver posts the frames the bridge forwarded to the physical port as TX descriptors of
 * hardware TX queue `nicQueue` (ixgbe_xmit_frame: descriptors, then the tail write that starts the DMA).
 */
export interface TxPostMessage {
  readonly kind: 'txpost';
  readonly nicQueue: number;
  readonly batch: PacketBatch;
}

/**
 * NIC → backend: frames of TX queue `nicQueue` that have left on the wire, handed to the driver's TX clean-up
 * by a TX-completion interrupt (ixgbe_clean_tx_irq frees their skbs).
 */
export interface TxDoneMessage {
  readonly kind: 'txdone';
  readonly nicQueue: number;
  readonly batch: PacketBatch;
}

/**
 * backend → worker: the skbs of `frames` frames (`slots` TX ring slots) of a vif queue were freed, so their
 * zero-copy callbacks (xenvif_zerocopy_callback) hand the grant-mapped slots to the dealloc thread, which
 * unmaps them and sends their TX responses (xenvif_tx_dealloc_action → xenvif_idx_release).
 */
export interface DeallocMessage {
  readonly kind: 'dealloc';
  readonly vm: number;
  readonly queue: number;
  readonly frames: number;
  readonly slots: number;
  /**
   * From the driver domain's bridge: the slots it has handed to this vif queue's dealloc so far, these included (a
   * free-running count, not a Xen field). netback tells from it that earlier deallocs were lost on a live run's bus.
   */
  readonly freed?: number;
  /**
   * With `freed`, from another vif's worker (its index) rather than the bridge: the zero-copy releases of frames this
   * vif queue's guest sent to that worker's guest (its count of them so far, `freed`).
   */
  readonly from?: number;
}

/**
 * NIC → switch: frames whose last bit has left a host's NIC onto its fabric link (the cable to its switch port),
 * sent at that instant; the link's propagation delay brings them to the switch. Flow ids are the sending host's.
 */
export interface UplinkMessage {
  readonly kind: 'uplink';
  /** The switch port the link ends at (the sending host's index). */
  readonly port: number;
  readonly batch: PacketBatch;
  /**
   * The frames of `batch` never left: the NIC flushed them before their last bit did (its link went down), but it
   * sends each frame's uplink as it posts the frame, ahead of time. Sent at the flush, this one reaches the switch
   * before theirs, which the switch then ignores (flow, seq and leave time of each in `batch`).
   */
  readonly voided?: true;
}

/**
 * switch → NIC: frames whose last bit has left a switch output port toward a host, sent at that instant; the port's
 * propagation delay brings them to the NIC, where they arrive as frames from the wire. Flow ids are the receiving
 * host's (the switch translates them).
 */
export interface DownlinkMessage {
  readonly kind: 'downlink';
  readonly batch: PacketBatch;
}

export type Message =
  | UplinkMessage
  | DownlinkMessage
  | DmaMessage
  | PollMessage
  | RxMessage
  | RspMessage
  | EvtMessage
  | ReqMessage
  | ReconnectMessage
  | RingStateMessage
  | ConnectedMessage
  | TxReqMessage
  | TxRspMessage
  | XmitMessage
  | TxPostMessage
  | TxDoneMessage
  | DeallocMessage;

/** Every message kind, in the order the scenario's fault rules list them (a missing kind fails to compile). */
const KIND_SET: Readonly<Record<Message['kind'], true>> = {
  dma: true,
  poll: true,
  rx: true,
  rsp: true,
  evt: true,
  req: true,
  reconnect: true,
  ring: true,
  connected: true,
  txreq: true,
  txrsp: true,
  xmit: true,
  txpost: true,
  txdone: true,
  dealloc: true,
  uplink: true,
  downlink: true,
};
export const MESSAGE_KINDS = Object.keys(KIND_SET) as readonly Message['kind'][];

/** Packets a message carries (for accounting of packets in flight between actors): received frames only, never a guest's. */
export function packetsIn(msg: Message): number {
  switch (msg.kind) {
    case 'dma':
    case 'rx':
    case 'rsp':
      return msg.batch.count;
    default:
      return 0;
  }
}

/**
 * Frames a guest sent that a message carries on their way out (the TX accounting's frames in flight between
 * actors). Frames in a `txdone` have already left on the wire: they are counted there, not here.
 */
export function txPacketsIn(msg: Message): number {
  return msg.kind === 'txreq' || msg.kind === 'xmit' || msg.kind === 'txpost' ? msg.batch.count : 0;
}
