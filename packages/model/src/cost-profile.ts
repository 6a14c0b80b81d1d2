// The emulated CPU cost profile: what each unit of datapath work costs, in ns (numbers come from a profile YAML).
/** Emulated CPU costs in ns (fractional allowed for per-byte costs). See the cost profile YAML for sources. */
export interface CostProfile {
  readonly name: string;
  readonly nic: {
    /** Physical interrupt entry + handler on the driver domain core. */
    readonly irq: number;
  };
  readonly backend: {
    /** Driver NAPI poll overhead per DMA batch. */
    readonly perBatch: number;
    /** Driver receive, bridge demux and transmit onto the VIF (queue choice by recorded RX queue or flow hash) per packet. */
    readonly perPacket: number;
    /** netback's own Toeplitz hash per packet when the front end configured it (xenvif_set_skb_hash). */
    readonly toeplitz: number;
  };
  readonly worker: {
    /** Fixed overhead of one netback RX pass (thread wake-up, batch set-up). */
    readonly perPass: number;
    /** One flush: the gnttab_batch_copy hypercall for up to a batch of copy ops, then the push of the responses. */
    readonly perFlush: number;
    /** Per packet: dequeue, its first grant-copy op and its response. */
    readonly perPacket: number;
    /** Each further grant-copy op of a frame (a chunk across a 4 KiB page boundary). */
    readonly perCopyOp: number;
    /** Per-byte copy cost (ns/byte). */
    readonly perByte: number;
    /** Event-channel notify hypercall. */
    readonly notify: number;
    /** Driver-domain timer interrupt (back-end coalescing timer). */
    readonly timer: number;
  };
  readonly frontend: {
    /** Virtual interrupt delivery: VM exit/entry, event-channel upcall, handler scheduling NAPI. */
    readonly virq: number;
    /** Fixed overhead of one NAPI poll. */
    readonly pollOverhead: number;
    /** Guest network stack + application receive per packet. */
    readonly perPacket: number;
    /** Guest per-byte cost (ns/byte). */
    readonly perByte: number;
    /** Re-posting one RX buffer (grant + request). */
    readonly refillPerPacket: number;
    /** A guest timer tick that polls (front-end coalescing). */
    readonly timerTick: number;
    /** Notify hypercall when new requests must wake the back-end. */
    readonly notify: number;
    /** Latency before an upcall or timer tick runs on a guest vCPU that had blocked (Xen's wake-up of a blocked vCPU), with vms.blockAfter. */
    readonly wakeup: number;
  };
  /** The driver domain's scheduled vCPUs (topology.dom0.vcpus); unused with dedicated cores. */
  readonly dom0: {
    /** CPU time of switching a vCPU to a kernel thread (a netback worker or ksoftirqd) from another thread or from idle. */
    readonly contextSwitch: number;
    /** Latency before work runs on a dom0 vCPU that was idle, hence blocked in Xen. */
    readonly wakeup: number;
  };
  /** One-way delay of a message between actors on one host (shared-page visibility, event-channel signal). */
  readonly link: number;
  /** The transmit path (guest → wire); present in a resolved scenario only when a guest sends. */
  readonly tx?: TxCosts;
}

/** Emulated costs of the transmit path, ns (see the profile YAML's `tx` section for where each comes from). */
export interface TxCosts {
  /** Guest: the application's send and the stack down to xennet_start_xmit, per frame. */
  readonly guestPerPacket: number;
  /** Guest: per byte of the send (the copy from user space). */
  readonly guestPerByte: number;
  /** Guest: xennet_start_xmit's work per ring slot (a grant reference and a TX request). */
  readonly guestPerSlot: number;
  /** Guest: xennet_tx_buf_gc per TX response (end the grant, free the skb). */
  readonly guestGcPerSlot: number;
  /** netback: one TX NAPI poll (xenvif_tx_action: the grant-copy and grant-map hypercalls of a batch). */
  readonly netbackPerPoll: number;
  /** netback: per frame, xenvif_tx_build_gops + xenvif_tx_submit and the bridge forwarding it to the NIC's xmit. */
  readonly netbackPerPacket: number;
  /** netback: per grant-mapped slot (a map op, its check and the frag). */
  readonly netbackPerMappedSlot: number;
  /** netback dealloc: one pass of the dealloc thread (wake-up, the unmap hypercall). */
  readonly deallocPerBatch: number;
  /** netback dealloc: per slot unmapped and answered (xenvif_idx_release → make_tx_response). */
  readonly deallocPerSlot: number;
  /** NIC driver: per frame cleaned after a TX-completion interrupt (ixgbe_clean_tx_irq, freeing the skb). */
  readonly nicCleanPerPacket: number;
  /** NIC: latency from the descriptor tail write to the frame's first bit on the wire (descriptor and data DMA reads). */
  readonly nicDma: number;
}
