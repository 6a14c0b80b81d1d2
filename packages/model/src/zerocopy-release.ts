// The zero-copy callback of frames a guest sent: which sending vif queues get their grant-mapped slots back when such frames' skbs are freed.
import type { ActorRef } from './actor.js';
import type { DeallocMessage, PacketBatch } from './messages.js';
import { txSlots } from './tx-ring.js';

/** Per flow, the guest that sent it (−1: the wire) and its TX queue; per VM and queue, the worker running that vif queue. */
export interface TxOrigin {
  readonly flowVm: Int32Array;
  readonly flowGuestQueue: Uint16Array;
  readonly vifWorker: readonly (readonly ActorRef[])[];
}

/**
 * The skbs of a batch's frames are freed (delivered into another vif, or lost on the way): each frame a guest
 * sent carries that guest's grant-mapped pages as frags, and kfree_skb → skb_zcopy_clear runs their zero-copy
 * callback (xenvif_zerocopy_callback), which hands the slots to the sending vif queue's dealloc thread. One
 * `dealloc` per sending vif queue, in the order they first appear; frames from the wire have none.
 */
export function zerocopyRelease(b: PacketBatch, o: TxOrigin, send: (worker: ActorRef, msg: DeallocMessage) => void): void {
  let slots: Map<number, [number, number]> | null = null;
  for (let k = 0; k < b.count; k++) {
    const f = b.flow[k] as number;
    const vm = o.flowVm[f] as number;
    if (vm < 0) continue;
    slots ??= new Map();
    const key = vm * 65536 + (o.flowGuestQueue[f] as number);
    const acc = slots.get(key) ?? [0, 0];
    acc[0]++;
    acc[1] += txSlots(b.len[k] as number);
    slots.set(key, acc);
  }
  if (slots === null) return;
  for (const [key, [frames, n]] of slots) {
    const vm = Math.floor(key / 65536);
    const queue = key % 65536;
    const worker = o.vifWorker[vm]?.[queue];
    if (worker !== undefined) send(worker, { kind: 'dealloc', vm, queue, frames, slots: n });
  }
}
