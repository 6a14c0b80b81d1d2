// Xen shared ring index arithmetic (io/ring.h) for the guest RX ring, as each side's private view.
import { SplitnetError } from './errors.js';
import { u32, u32Add, u32Sub } from './u32.js';

/*
 * In splitnet the shared page of a guest RX ring does not exist: the front end (netfront) and the
 * back end (netback worker) each keep a view of the four shared indices and send their own writes
 * to the peer as messages (ReqMessage, RspMessage). Every index is a free-running u32 that wraps at
 * 2^32, exactly as on the real page, so every comparison below is a u32 distance, never `<`.
 *
 * RX direction: requests are empty buffers the guest posts; each response fills the slot of the
 * request it answers, so the back end produces one response per request it consumes.
 */

/**
 * RING_PUSH_*_AND_CHECK_NOTIFY's test: after moving a producer index from `oldProd` to `newProd`,
 * the peer must be notified iff its event index lies in (oldProd, newProd] (u32, wrap-aware).
 */
export function pushNeedsNotify(oldProd: number, newProd: number, event: number): boolean {
  return (newProd - event) >>> 0 < (newProd - oldProd) >>> 0;
}

/**
 * Slots in a ring on one page: (page − header) / entry, rounded down to a power of two, as ring.h's
 * __RING_SIZE does. The header holds req_prod, req_event, rsp_prod, rsp_event plus private bytes,
 * padded to 64 bytes. Netif RX (8-byte entries) and TX (12-byte entries) on 4 KiB pages: 256.
 */
export function ringSlots(pageBytes = 4096, entryBytes = 8, headerBytes = 64): number {
  if (!Number.isInteger(pageBytes) || !Number.isInteger(entryBytes) || !Number.isInteger(headerBytes) || entryBytes <= 0 || headerBytes < 0) {
    throw new SplitnetError('E_SCENARIO', `ring geometry must be whole bytes: page ${pageBytes}, entry ${entryBytes}, header ${headerBytes}`);
  }
  const fit = Math.floor((pageBytes - headerBytes) / entryBytes);
  if (fit < 1) {
    throw new SplitnetError('E_SCENARIO', `a ${pageBytes}-byte page with a ${headerBytes}-byte header holds no ${entryBytes}-byte entry`);
  }
  let slots = 1;
  while (slots * 2 <= fit) slots *= 2;
  return slots;
}

/** Largest ring we accept: u32 distances up to the ring size must stay unambiguous. */
const MAX_RING_SIZE = 0x8000_0000;

/** A ring size is a power of two in [1, 2^31] (ring.h's __RING_SIZE rounds down to one). */
export function checkRingSize(who: string, size: number): void {
  if (!Number.isInteger(size) || size < 1 || size > MAX_RING_SIZE || (size & (size - 1)) !== 0) {
    throw new SplitnetError('E_SCENARIO', `${who}: ring size must be a power of two in [1, 2^31], got ${size}`);
  }
}

/** n is a whole number within `limit` (a count of ring items an operation takes). */
export function checkCount(who: string, n: number, limit: number, what: string): void {
  // Written so that NaN and fractions fail too.
  if (!(Number.isInteger(n) && n >= 0 && n <= limit)) {
    throw new SplitnetError('E_INVARIANT', `${who}: ${n} is not a whole number within the ${limit} ${what}`);
  }
}

/**
 * netfront's view of one RX ring. Private: req_prod_pvt, rsp_cons. Shared, written by us:
 * req_prod (published by pushRequests), rsp_event (set by finalCheck). Shared, written by the
 * back end and last seen through onResponses: rsp_prod, req_event.
 */
export class RxRingFront {
  readonly size: number;
  private _reqProdPvt: number;
  private _reqProd: number;
  private _reqEvent: number;
  private _rspCons: number;
  private _rspProd: number;
  private _rspEvent: number;

  /** `initialIndex` lets tests start near 2^32 to cross the wrap; Xen starts at 0. */
  constructor(size: number, initialIndex = 0) {
    checkRingSize('RxRingFront', size);
    this.size = size;
    const start = u32(initialIndex);
    // As SHARED_RING_INIT / FRONT_RING_INIT: producers and consumers at the start, both event
    // indices one past it so that the very first item is notified.
    this._reqProdPvt = start;
    this._reqProd = start;
    this._rspCons = start;
    this._rspProd = start;
    this._reqEvent = u32Add(start, 1);
    this._rspEvent = u32Add(start, 1);
  }

  get reqProdPvt(): number {
    return this._reqProdPvt;
  }
  /** Our last published req_prod (what the back end will see). */
  get reqProd(): number {
    return this._reqProd;
  }
  /** The back end's req_event as last seen. */
  get reqEvent(): number {
    return this._reqEvent;
  }
  get rspCons(): number {
    return this._rspCons;
  }
  /** The back end's rsp_prod as last seen. */
  get rspProd(): number {
    return this._rspProd;
  }
  /** Our rsp_event: the response index whose publication should notify us. */
  get rspEvent(): number {
    return this._rspEvent;
  }

  /**
   * Buffers we may still post. Slots between rsp_cons and req_prod_pvt are owned by requests
   * posted but not yet answered-and-consumed (RING_FREE_REQUESTS).
   */
  freeRequestSlots(): number {
    return this.size - u32Sub(this._reqProdPvt, this._rspCons);
  }

  /** Post n RX buffers privately; they become visible to the back end at pushRequests. */
  postRequests(n: number): void {
    checkCount('RxRingFront.postRequests', n, this.freeRequestSlots(), 'free request slots');
    this._reqProdPvt = u32Add(this._reqProdPvt, n);
  }

  /** RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: publish req_prod_pvt; true iff the back end must be notified. */
  pushRequests(): boolean {
    const old = this._reqProd;
    this._reqProd = this._reqProdPvt;
    return pushNeedsNotify(old, this._reqProd, this._reqEvent);
  }

  /**
   * The back end's writes arrived (an RspMessage). Messages on one ring arrive in order, so
   * rsp_prod only moves forward, and RX responses never outnumber the requests we published;
   * anything else means the model is broken.
   */
  /**
   * Whether a published rsp_prod is possible for this ring: at or after what was seen, and not past the
   * requests posted. An impossible one (Linux netfront: "Illegal number of responses") is refused.
   */
  responsesPlausible(rspProd: number): boolean {
    const prod = u32(rspProd);
    return u32Sub(prod, this._rspCons) <= u32Sub(this._reqProd, this._rspCons) && u32Sub(prod, this._rspProd) <= this.size;
  }

  onResponses(rspProd: number, reqEvent: number): void {
    const prod = u32(rspProd);
    if (!this.responsesPlausible(prod)) {
      throw new SplitnetError(
        'E_INVARIANT',
        `RxRingFront.onResponses: rsp_prod ${prod} is outside [${this._rspProd}, ${this._reqProd}] (rsp_cons ${this._rspCons})`,
      );
    }
    this._rspProd = prod;
    this._reqEvent = u32(reqEvent);
  }

  /** Responses seen but not yet consumed (RING_HAS_UNCONSUMED_RESPONSES). */
  unconsumed(): number {
    return u32Sub(this._rspProd, this._rspCons);
  }

  /** Consume n responses (NAPI took the packets); their slots become free for new buffers. */
  consume(n: number): void {
    checkCount('RxRingFront.consume', n, this.unconsumed(), 'unconsumed responses');
    this._rspCons = u32Add(this._rspCons, n);
  }

  /**
   * RING_FINAL_CHECK_FOR_RESPONSES, generalised for front-end coalescing. If responses are already
   * waiting, return true and leave rsp_event alone (as ring.h does: the caller keeps polling).
   * Otherwise re-arm: ask to be notified when the `ahead`-th next response is published
   * (ahead = 1 is Xen's own re-arm; more lets a coalescer batch) and return false. On a real page
   * the macro re-checks after a barrier; here a response pushed while our rsp_event is in flight
   * cannot be seen, so RxRingBack.onRequests re-evaluates on arrival instead.
   */
  finalCheck(ahead = 1): boolean {
    if (!(Number.isInteger(ahead) && ahead >= 1 && ahead < MAX_RING_SIZE)) {
      throw new SplitnetError('E_INVARIANT', `RxRingFront.finalCheck: ahead must be a whole number ≥ 1, got ${ahead}`);
    }
    if (this.unconsumed() > 0) return true;
    this._rspEvent = u32Add(this._rspCons, ahead);
    return false;
  }

  /**
   * Front-end coalescing's re-arm: ask to be notified when the `ahead`-th response past the consumer
   * index is published, even if fewer than that are already waiting (they wait for company or for
   * the guest's timer). Returns true iff `ahead` or more are already waiting (poll again now).
   * With ahead = 1 this is exactly finalCheck.
   */
  armResponseEvent(ahead: number): boolean {
    if (ahead <= 1) return this.finalCheck(1);
    if (!(Number.isInteger(ahead) && ahead < MAX_RING_SIZE)) {
      throw new SplitnetError('E_INVARIANT', `RxRingFront.armResponseEvent: ahead must be a whole number ≥ 1, got ${ahead}`);
    }
    if (this.unconsumed() >= ahead) return true;
    this._rspEvent = u32Add(this._rspCons, ahead);
    return false;
  }
}

/**
 * netback's view of one guest RX ring. Private: req_cons, rsp_prod_pvt. Shared, written by us:
 * rsp_prod (published by pushResponses), req_event (set by finalCheckRequests). Shared, written by
 * the front end and last seen through onRequests: req_prod, rsp_event, plus the rsp_prod the front
 * end had seen when it last wrote (the message-passing stand-in for the memory barrier).
 */
export class RxRingBack {
  readonly size: number;
  private _reqProd: number;
  private _reqCons: number;
  private _rspProdPvt: number;
  private _rspProd: number;
  private _rspEvent: number;
  private _reqEvent: number;
  private _rspProdSeenByFront: number;

  constructor(size: number, initialIndex = 0) {
    checkRingSize('RxRingBack', size);
    this.size = size;
    const start = u32(initialIndex);
    this._reqProd = start;
    this._reqCons = start;
    this._rspProdPvt = start;
    this._rspProd = start;
    this._rspProdSeenByFront = start;
    this._rspEvent = u32Add(start, 1);
    this._reqEvent = u32Add(start, 1);
  }

  /** The front end's req_prod as last seen. */
  get reqProd(): number {
    return this._reqProd;
  }
  get reqCons(): number {
    return this._reqCons;
  }
  get rspProdPvt(): number {
    return this._rspProdPvt;
  }
  /** Our last published rsp_prod. */
  get rspProd(): number {
    return this._rspProd;
  }
  /** The front end's rsp_event as last seen. */
  get rspEvent(): number {
    return this._rspEvent;
  }
  /** Our req_event: the request index whose publication should notify us. */
  get reqEvent(): number {
    return this._reqEvent;
  }
  /** The rsp_prod the front end had seen when it sent its last writes. */
  get rspProdSeenByFront(): number {
    return this._rspProdSeenByFront;
  }

  /**
   * The front end's writes arrived (a ReqMessage). Returns true iff a notification is owed now
   * because of a late-arriving event index.
   *
   * Why: on a real page, the front end writes rsp_event, issues a barrier, then re-reads rsp_prod;
   * the back end writes rsp_prod, issues a barrier, then reads rsp_event. One of the two always sees
   * the other's write, so no wake-up is lost. With messages, responses we pushed while the front
   * end's new rsp_event was in flight were checked against the old event index, and the front end's
   * final check could not see them either. So we re-evaluate here: if the new event index E lies in
   * (rspProdSeen, rsp_prod] — published past what the front end had seen, and far enough to reach E
   * — the front end is waiting for a notification that no push sent. The rule can also fire when an
   * earlier push already notified for those responses (the front end then takes one spurious
   * interrupt, as real rings sometimes do); it never misses one, even if notifications and
   * responses overtake each other in transit.
   */
  onRequests(reqProd: number, rspEvent: number, rspProdSeen: number): boolean {
    const prod = u32(reqProd);
    const seen = u32(rspProdSeen);
    if (u32Sub(prod, this._reqCons) > this.size || u32Sub(prod, this._reqProd) > this.size) {
      throw new SplitnetError('E_INVARIANT', `RxRingBack.onRequests: req_prod ${prod} is outside [${this._reqProd}, req_cons ${this._reqCons} + ${this.size}]`);
    }
    if (u32Sub(this._rspProd, seen) > this.size) {
      throw new SplitnetError('E_INVARIANT', `RxRingBack.onRequests: the front end saw rsp_prod ${seen}, beyond the published ${this._rspProd}`);
    }
    this._reqProd = prod;
    this._rspEvent = u32(rspEvent);
    this._rspProdSeenByFront = seen;
    return pushNeedsNotify(seen, this._rspProd, this._rspEvent);
  }

  /**
   * How netback would judge a req_prod the front end wrote, before taking it (onRequests throws on
   * anything but `ok`). `overflow`: more than a ring's worth of requests past req_cons — impossible for
   * a sane front end, and fatal for the vif in Xen's netback ("Impossible number of requests").
   * `stale`: behind the req_prod already seen, i.e. an older write that arrived late (a reordered
   * message: on a real page the newer value would simply have overwritten it).
   */
  judgeRequests(reqProd: number): 'ok' | 'stale' | 'overflow' {
    const prod = u32(reqProd);
    const back = u32Sub(this._reqProd, prod);
    if (back !== 0 && back <= this.size) return 'stale';
    if (u32Sub(prod, this._reqCons) > this.size || u32Sub(prod, this._reqProd) > this.size) return 'overflow';
    return 'ok';
  }

  /**
   * Requests we may consume now (RING_HAS_UNCONSUMED_REQUESTS): those published, capped so that a
   * consumed request never overruns a response slot not yet produced (RING_REQUEST_CONS_OVERFLOW:
   * req_cons − rsp_prod_pvt < size). RX answers each consumed request at once (produce), so the cap
   * never binds and this equals outstandingRequests().
   */
  requestsAvailable(): number {
    const unconsumed = u32Sub(this._reqProd, this._reqCons);
    const room = this.size - u32Sub(this._reqCons, this._rspProdPvt);
    return unconsumed < room ? unconsumed : room;
  }

  /** Fill n posted buffers: consume n requests and produce their n responses (not yet published). */
  produce(n: number): void {
    checkCount('RxRingBack.produce', n, this.requestsAvailable(), 'available requests');
    this._reqCons = u32Add(this._reqCons, n);
    this._rspProdPvt = u32Add(this._rspProdPvt, n);
  }

  /**
   * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY against rsp_event as last seen; true iff we must notify.
   * `n` publishes only the next n produced responses (a flush in the middle of a copy pass publishes the
   * packets completed so far); by default all of them.
   */
  pushResponses(n: number = this.pendingResponses()): boolean {
    checkCount('RxRingBack.pushResponses', n, this.pendingResponses(), 'pending responses');
    const old = this._rspProd;
    this._rspProd = u32Add(old, n);
    return pushNeedsNotify(old, this._rspProd, this._rspEvent);
  }

  /** Responses produced but not yet published by a push. */
  pendingResponses(): number {
    return u32Sub(this._rspProdPvt, this._rspProd);
  }

  /**
   * A (re)connecting back end adopts the front end's view of the ring: every posted buffer up to
   * `reqProd`, responses published up to `rspProd` (RX answers each consumed request at once, so
   * req_cons = rsp_prod), and the front end's event index.
   */
  resync(reqProd: number, rspProd: number, rspEvent: number): void {
    this._reqProd = u32(reqProd);
    this._reqCons = u32(rspProd);
    this._rspProdPvt = u32(rspProd);
    this._rspProd = u32(rspProd);
    this._rspProdSeenByFront = u32(rspProd);
    this._rspEvent = u32(rspEvent);
    this._reqEvent = u32Add(rspProd, 1);
  }

  /**
   * RING_FINAL_CHECK_FOR_REQUESTS, for a packet that needs `needed` slots: if that many requests are
   * waiting return true (req_event untouched, as in ring.h); otherwise re-arm req_event and return false.
   */
  finalCheckRequests(needed = 1): boolean {
    if (this.requestsAvailable() >= needed) return true;
    // xenvif_rx_ring_slots_available: notify me at the next request published (req_prod + 1). With
    // nothing posted that is req_cons + 1, RING_FINAL_CHECK_FOR_REQUESTS's own re-arm.
    this._reqEvent = u32Add(this._reqProd, 1);
    return false;
  }

  /**
   * RX buffers the guest has posted (as far as we have seen) that we have not filled yet. We cannot
   * see rsp_cons, so this is the back end's measure of how much room the guest has given us.
   */
  outstandingRequests(): number {
    return u32Sub(this._reqProd, this._reqCons);
  }
}
