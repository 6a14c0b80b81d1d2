// Message-path faults (drop / delay / duplicate / reorder on chosen links): one module every runtime's send path consults.
import { deriveSeed, packetsIn, Prng, SplitnetError, zerocopyRelease } from '@splitnet/model';
import type { ActorRef, DeallocMessage, Message, MessageFaultAction, Nanos, TxOrigin } from '@splitnet/model';

/** One occurrence of a message-path fault, resolved to actor refs. */
export interface LinkFaultWindow {
  /** Occurrence id (`f1`, `f1#2`). */
  readonly id: string;
  readonly action: MessageFaultAction;
  /** Senders and receivers whose links it affects (every from → to pair). */
  readonly from: readonly ActorRef[];
  readonly to: readonly ActorRef[];
  /** Messages sent in [start, end) are affected. */
  readonly start: Nanos;
  readonly end: Nanos;
  /** Chance that one message of an affected kind is hit (1: every one). */
  readonly probability: number;
  /** delay-messages: added delay; reorder-messages: the window a hit message is pushed back by (uniform in [0, delay)). */
  readonly delay: Nanos;
  /** Message kinds affected. */
  readonly kinds: readonly Message['kind'][];
  /** Seed of this occurrence (each link draws from its own stream derived from it). */
  readonly seed: number;
  /** A partition's: at `end` the actors resync (Actor.resync), as after a NATS outage, so that no slot waits for good. */
  readonly resyncAtEnd?: boolean;
}

export const ROUTE_DELIVER = 0;
export const ROUTE_DROP = 1;
/** Deliver, and deliver the same message a second time (at `due` too). */
export const ROUTE_DUPLICATE = 2;

/** What one occurrence did. */
export interface LinkFaultCounts {
  messages: number;
  packets: number;
}

/** Kinds carrying packets are never duplicated (dropped, their packets are counted `link-drop`). */
const PACKET_KINDS: ReadonlySet<string> = new Set(['dma', 'rx', 'rsp']);

/**
 * Decides, per message sent, whether a message-path fault drops, delays, duplicates or reorders it.
 * Decisions depend only on the windows, the message, its send time and per-link seeded PRNG streams,
 * so a sim run is reproducible and a live run draws the same way in whichever process sends.
 *
 * delay-messages keeps each link FIFO, like a slow connection: a message never overtakes one
 * delayed before it on the same link (so ring writes stay in order). reorder-messages is the one
 * action that lets messages overtake each other.
 */
export class LinkFaults {
  /** Due time chosen by the last `route` call (for the message and its duplicate). */
  due: Nanos = 0;
  /** Per occurrence id: messages hit, and the packets in dropped ones. */
  readonly counts = new Map<string, LinkFaultCounts>();
  private readonly n: number;
  private readonly member: Uint8Array[];
  private readonly kinds: ReadonlySet<string>[];
  private readonly prngs = new Map<number, Prng>();
  /** Per link (from · n + to): the latest due time a delay fault gave a message, which later ones may not beat. */
  private readonly floor: Float64Array;
  /** Per group (one host of a multi-host run; else one): whether a delay fault has pushed a message back there yet. */
  private readonly floorUsed: boolean[] = [];

  constructor(
    private readonly windows: readonly LinkFaultWindow[],
    actorCount: number,
    /** Where frames a guest sent come from (absent: no guest sends to another guest on the host). */
    private readonly origin?: TxOrigin,
    /**
     * A multi-host run: each host is a group of its own (`of`: a ref's host), with its own frames' origins and its own
     * FIFO floors — a delay on one host's links does not make another host's links FIFO, so a host's faults act
     * the same whichever partition runs the others.
     */
    private readonly groups?: { readonly of: (ref: ActorRef) => number; readonly origins: readonly (TxOrigin | undefined)[] },
  ) {
    this.n = actorCount;
    this.floor = new Float64Array(actorCount * actorCount);
    this.member = windows.map((w) => {
      if (!(w.probability > 0 && w.probability <= 1)) throw new SplitnetError('E_INTERNAL', `link fault ${w.id}: probability ${w.probability}`);
      const m = new Uint8Array(actorCount * actorCount);
      for (const a of w.from) for (const b of w.to) if (a !== b && a < actorCount && b < actorCount) m[a * actorCount + b] = 1;
      return m;
    });
    this.kinds = windows.map((w) => new Set(w.kinds));
    for (const w of windows) this.counts.set(w.id, { messages: 0, packets: 0 });
  }

  /** The instants at which a partition ends, ascending: a live host has its actors resync then (Actor.resync). */
  get resyncTimes(): Nanos[] {
    const ends = new Set<Nanos>();
    for (const w of this.windows) if (w.resyncAtEnd === true) ends.add(w.end);
    return [...ends].sort((a, b) => a - b);
  }

  /** True when some window ever applies (a runtime may skip the call otherwise). */
  get active(): boolean {
    return this.windows.length > 0;
  }

  /**
   * Route one message sent at `sentAt` (emulated) and due at `due` without faults. Returns
   * ROUTE_DELIVER / ROUTE_DUPLICATE with the due time in `this.due`, or ROUTE_DROP.
   */
  route(from: ActorRef, to: ActorRef, msg: Message, sentAt: Nanos, due: Nanos): number {
    const link = from * this.n + to;
    const group = this.groups === undefined ? 0 : this.groups.of(from);
    let t = due;
    let verdict = ROUTE_DELIVER;
    const ws = this.windows;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i] as LinkFaultWindow;
      if (sentAt < w.start || sentAt >= w.end || (this.member[i] as Uint8Array)[link] !== 1) continue;
      if (!(this.kinds[i] as ReadonlySet<string>).has(msg.kind)) continue;
      const prng = this.prngFor(i, w, from, to);
      if (w.probability < 1 && prng.next() >= w.probability) continue;
      const c = this.counts.get(w.id) as LinkFaultCounts;
      switch (w.action) {
        case 'drop-messages':
          c.messages++;
          c.packets += packetsIn(msg);
          return ROUTE_DROP;
        case 'delay-messages':
          c.messages++;
          t += w.delay;
          this.floorUsed[group] = true;
          break;
        case 'reorder-messages':
          c.messages++;
          t += Math.floor(prng.next() * w.delay);
          break;
        case 'duplicate-messages':
          if (!PACKET_KINDS.has(msg.kind)) {
            c.messages++;
            verdict = ROUTE_DUPLICATE;
          }
          break;
      }
    }
    if (this.floorUsed[group] === true) {
      // FIFO behind anything a delay pushed back on this link; a message that ends up later than its
      // own due time becomes the new floor.
      const f = this.floor[link] as number;
      if (t < f) t = f;
      if (t > due && t > f) this.floor[link] = t;
    }
    this.due = t;
    return verdict;
  }

  /**
   * A dropped message's skbs are freed where it was lost: frames another guest sent still hold that guest's
   * grant-mapped pages, and their zero-copy callback gives the slots back to its netback dealloc
   * (kfree_skb → skb_zcopy_clear → xenvif_zerocopy_callback), as when they are delivered. Only an `rx` batch
   * (the bridge to a vif) carries such frames on a link a message fault may drop. The runtime sends the dealloc past
   * the link faults: it stands for a callback inside the driver domain's kernel, which a partition does not cut.
   */
  zerocopy(msg: Message, send: (worker: ActorRef, dealloc: DeallocMessage) => void, from?: ActorRef): void {
    const origin = this.groups === undefined || from === undefined ? this.origin : this.groups.origins[this.groups.of(from)];
    if (origin !== undefined && msg.kind === 'rx') zerocopyRelease(msg.batch, origin, send);
  }

  private prngFor(i: number, w: LinkFaultWindow, from: ActorRef, to: ActorRef): Prng {
    const key = (i * this.n + from) * this.n + to;
    let p = this.prngs.get(key);
    if (p === undefined) {
      p = new Prng(deriveSeed(w.seed, `${from}>${to}`));
      this.prngs.set(key, p);
    }
    return p;
  }
}
