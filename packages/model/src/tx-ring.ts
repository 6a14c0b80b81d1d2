// The guest TX ring (io/netif.h): netback's view of its indices, and how a guest's frame lies on TX slots.
import { SplitnetError } from './errors.js';
import { checkCount, checkRingSize, pushNeedsNotify, RxRingFront } from './ring.js';
import { ETH_FCS_LEN, XEN_PAGE_SIZE } from './rx-slots.js';
import { u32, u32Add, u32Sub } from './u32.js';

/*
 * TX direction: the guest produces requests (each names a granted page, an offset and a size; a frame that
 * spans several slots sets XEN_NETTXF_more_data on every slot but its last) and netback produces one response
 * per request it consumed — not at once, as RX does, but when the slot's grant is done with: at once for a
 * slot netback only copied, after the frame has been transmitted for a slot it grant-mapped. Responses are
 * matched to requests by id, so they take the next response slot whatever the order (make_tx_response).
 */

/**
 * XEN_NETBACK_TX_COPY_LEN (netback.c): netback grant-copies this much of a frame's first slot into the skb's
 * linear area and grant-maps the rest of the slot, and every further slot, as frags.
 */
export const XEN_NETBACK_TX_COPY_LEN = 128;

/**
 * TX slots one frame takes (xennet_count_skb_slots): its data cut at 4 KiB page ends. The guest hands netfront
 * a frame without its FCS (the NIC appends it), laid from the start of a page [assumption: the skb's linear
 * area starts page-aligned, so a frame up to 4096 bytes is one slot, a 9014-byte jumbo three].
 */
export function txSlots(frameBytes: number): number {
  const len = frameBytes - ETH_FCS_LEN;
  return len <= XEN_PAGE_SIZE ? 1 : Math.ceil(len / XEN_PAGE_SIZE);
}

/**
 * Whether netback answers every slot of the frame as soon as its header is copied: only a frame that fits in
 * the copied header (txreq.size ≤ XEN_NETBACK_TX_COPY_LEN, so nothing is mapped) is answered before it is sent.
 */
export function txCopyOnly(frameBytes: number): boolean {
  return frameBytes - ETH_FCS_LEN <= XEN_NETBACK_TX_COPY_LEN;
}

/**
 * netfront's view of a TX ring: the same private and shared indices as the RX ring's front (req_prod_pvt,
 * rsp_cons; req_prod, rsp_event written by us; rsp_prod, req_event seen), and the same RING_* macros — only the
 * back end's side differs (responses later than requests).
 */
export const TxRingFront = RxRingFront;
export type TxRingFront = RxRingFront;

/**
 * netback's view of one guest TX ring. Private: req_cons, rsp_prod_pvt. Shared, written by us: rsp_prod
 * (pushResponses), req_event (finalCheckRequests). Shared, written by netfront and last seen through
 * onRequests: req_prod, rsp_event, and the rsp_prod netfront had seen (the barrier stand-in, as on RX).
 */
export class TxRingBack {
  readonly size: number;
  private _reqProd: number;
  private _reqCons: number;
  private _rspProdPvt: number;
  private _rspProd: number;
  private _rspEvent: number;
  private _reqEvent: number;

  constructor(size: number, initialIndex = 0) {
    checkRingSize('TxRingBack', size);
    this.size = size;
    const start = u32(initialIndex);
    this._reqProd = start;
    this._reqCons = start;
    this._rspProdPvt = start;
    this._rspProd = start;
    this._rspEvent = u32Add(start, 1);
    this._reqEvent = u32Add(start, 1);
  }

  get reqProd(): number {
    return this._reqProd;
  }
  get reqCons(): number {
    return this._reqCons;
  }
  get rspProd(): number {
    return this._rspProd;
  }
  get reqEvent(): number {
    return this._reqEvent;
  }

  /**
   * How xenvif_tx_build_gops judges a req_prod netfront wrote: more than a ring's worth of requests past
   * req_cons is "Impossible number of requests" (fatal for the vif); one behind what was seen is a stale write.
   */
  judgeRequests(reqProd: number): 'ok' | 'stale' | 'overflow' {
    const prod = u32(reqProd);
    const back = u32Sub(this._reqProd, prod);
    if (back !== 0 && back <= this.size) return 'stale';
    if (u32Sub(prod, this._reqCons) > this.size) return 'overflow';
    return 'ok';
  }

  /**
   * netfront's writes arrived. Returns true iff a notification is owed now because netfront's new rsp_event
   * lies in (the rsp_prod it had seen, our rsp_prod] — the same late-event rule as RxRingBack.onRequests.
   */
  onRequests(reqProd: number, rspEvent: number, rspProdSeen: number): boolean {
    if (this.judgeRequests(reqProd) === 'overflow') {
      throw new SplitnetError('E_INVARIANT', `TxRingBack.onRequests: req_prod ${u32(reqProd)} is more than ${this.size} past req_cons ${this._reqCons}`);
    }
    this._reqProd = u32(reqProd);
    this._rspEvent = u32(rspEvent);
    return pushNeedsNotify(u32(rspProdSeen), this._rspProd, this._rspEvent);
  }

  /** Requests published and not consumed (XEN_RING_NR_UNCONSUMED_REQUESTS). */
  unconsumed(): number {
    return u32Sub(this._reqProd, this._reqCons);
  }

  /** Take n requests (req_cons += n): their slots stay owned by netback until their responses. */
  consume(n: number): void {
    checkCount('TxRingBack.consume', n, this.unconsumed(), 'unconsumed requests');
    this._reqCons = u32Add(this._reqCons, n);
  }

  /** Requests consumed and not yet answered. */
  unanswered(): number {
    return u32Sub(this._reqCons, this._rspProdPvt);
  }

  /** make_tx_response for n consumed requests (not yet published). */
  respond(n: number): void {
    checkCount('TxRingBack.respond', n, this.unanswered(), 'unanswered requests');
    this._rspProdPvt = u32Add(this._rspProdPvt, n);
  }

  /** RING_PUSH_RESPONSES_AND_CHECK_NOTIFY against rsp_event as last seen; true iff we must notify. */
  pushResponses(): boolean {
    const old = this._rspProd;
    this._rspProd = this._rspProdPvt;
    return pushNeedsNotify(old, this._rspProd, this._rspEvent);
  }

  /** RING_FINAL_CHECK_FOR_REQUESTS: requests waiting → true; otherwise re-arm req_event at req_cons + 1. */
  finalCheckRequests(): boolean {
    if (this.unconsumed() > 0) return true;
    this._reqEvent = u32Add(this._reqCons, 1);
    return false;
  }
}
