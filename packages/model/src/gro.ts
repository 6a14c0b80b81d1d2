// The guest's GRO over one NAPI poll's TCP segments: in-order segments of one flow merged into one packet for TCP (net/core/gro.c, net/ipv4/tcp_offload.c).
import { TCP_HAS_ACK, TCP_RST, TCP_SYN, type TcpColumns } from './tcp-columns.js';
import { TCP_IP_HEADER_BYTES } from './tcp-segment.js';

/**
 * skb_gro_receive refuses a segment once the merged packet's length from the IP header on would reach 64 KiB
 * (GRO_LEGACY_MAX_SIZE, the default gro_max_size): `headers + payload + next payload >= 65536`.
 */
export const GRO_MAX_SIZE = 65536;

/** Where merged packets go: TCP takes `payload` bytes at `seq` of `flow` with the first segment's ACK fields and flags. */
export type GroDeliver = (flow: number, seq: number, payload: number, ack: number, window: number, flags: number) => void;

/**
 * The GRO list of one NAPI context, for the closed-loop flows' TCP segments of one poll. A segment joins the
 * packet held for its flow when tcp_gro_receive would merge it: the next sequence number, the same ACK number
 * and window (its flush on `ack_seq` and on the flags-and-window word), the same model flags, payload no larger
 * than the first segment's (gso_size; `len - 1 >= mss` flushes), the held packet not ended by a short segment
 * (`len < mss` merges it and then flushes), and within GRO_MAX_SIZE. Otherwise the held packet goes to TCP at
 * once (dev_gro_receive completes it, napi_gro_complete) and the segment is held in its place. A segment with no
 * payload, a SYN or an RST is not held: the held packet of its flow goes first, then the segment itself
 * (tcp_gro_receive flushes on SYN/RST/FIN and on a zero-length segment). `flush` — napi_complete_done's
 * napi_gro_flush at the end of the poll — delivers what is still held, oldest first.
 *
 * Differs from Linux: the packets still held at the end of the poll are delivered in the order they were first
 * held (Linux walks its hash buckets in order, each oldest first); the limit of MAX_GRO_SKBS (8) packets held per
 * bucket is not modelled (it matters with more than 8 flows hashing to one of a queue's 8 buckets in one poll); a
 * poll that used its whole budget flushes too (napi_poll keeps packets held for less than a jiffy,
 * napi_gro_flush(n, HZ >= 1000)), so under sustained load the model hands TCP smaller packets than Linux would.
 */
export class GroList {
  /**
   * Held packets, entries [0, n) in the order they were first held: flow, seq, payload, gso size, ack, window,
   * flags, ended. Columns kept from poll to poll (a poll holds at most a few packets: no allocation per poll).
   */
  private flows = new Uint32Array(8);
  private seq = new Float64Array(8);
  private payload = new Float64Array(8);
  private gsoSize = new Float64Array(8);
  private ack = new Float64Array(8);
  private window = new Float64Array(8);
  private flags = new Uint8Array(8);
  private ended = new Uint8Array(8);
  private n = 0;
  /** Segments merged into a packet already held (what GRO saved TCP), and packets handed to TCP. */
  merged = 0;
  delivered = 0;

  constructor(private readonly deliver: GroDeliver) {}

  /** Entry `i` of `cols`, a segment of `flow`, reaches GRO (napi_gro_receive). */
  receive(flow: number, cols: TcpColumns, i: number): void {
    const seq = cols.seq[i] as number;
    const len = cols.payload[i] as number;
    const ack = cols.ack[i] as number;
    const window = cols.window[i] as number;
    const flags = cols.flags[i] as number;
    const h = this.indexOf(flow);
    if (len === 0 || (flags & (TCP_SYN | TCP_RST)) !== 0) {
      if (h >= 0) this.complete(h);
      this.handOn(flow, seq, len, ack, window, flags);
      return;
    }
    if (h >= 0) {
      const held = this.payload[h] as number;
      const gso = this.gsoSize[h] as number;
      const end = (this.seq[h] as number) + held;
      const ackDiffers = (flags & TCP_HAS_ACK) !== 0 && (ack !== this.ack[h] || window !== this.window[h]);
      const fits = TCP_IP_HEADER_BYTES + held + len < GRO_MAX_SIZE;
      if (this.ended[h] === 0 && seq === end && !ackDiffers && flags === this.flags[h] && len <= gso && fits) {
        this.payload[h] = held + len;
        if (len < gso) this.ended[h] = 1;
        this.merged++;
        return;
      }
      this.complete(h);
    }
    this.hold(flow, seq, len, ack, window, flags);
  }

  /** napi_gro_flush at the end of the poll: every packet still held goes to TCP, oldest first. */
  flush(): void {
    const n = this.n;
    for (let h = 0; h < n; h++) {
      this.handOn(
        this.flows[h] as number,
        this.seq[h] as number,
        this.payload[h] as number,
        this.ack[h] as number,
        this.window[h] as number,
        this.flags[h] as number,
      );
    }
    this.n = 0;
  }

  get held(): number {
    return this.n;
  }

  private indexOf(flow: number): number {
    const flows = this.flows;
    for (let h = 0; h < this.n; h++) if (flows[h] === flow) return h;
    return -1;
  }

  /** A new packet held last. */
  private hold(flow: number, seq: number, len: number, ack: number, window: number, flags: number): void {
    if (this.n === this.flows.length) this.grow();
    const h = this.n++;
    this.flows[h] = flow;
    this.seq[h] = seq;
    this.payload[h] = len;
    this.gsoSize[h] = len;
    this.ack[h] = ack;
    this.window[h] = window;
    this.flags[h] = flags;
    this.ended[h] = 0;
  }

  private grow(): void {
    const cap = this.flows.length * 2;
    const more = <T extends Uint32Array | Float64Array | Uint8Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.flows = more(this.flows, new Uint32Array(cap));
    this.seq = more(this.seq, new Float64Array(cap));
    this.payload = more(this.payload, new Float64Array(cap));
    this.gsoSize = more(this.gsoSize, new Float64Array(cap));
    this.ack = more(this.ack, new Float64Array(cap));
    this.window = more(this.window, new Float64Array(cap));
    this.flags = more(this.flags, new Uint8Array(cap));
    this.ended = more(this.ended, new Uint8Array(cap));
  }

  /** Packet h goes to TCP now; the packets held after it move up one place (their order kept). */
  private complete(h: number): void {
    const flow = this.flows[h] as number;
    const seq = this.seq[h] as number;
    const payload = this.payload[h] as number;
    const ack = this.ack[h] as number;
    const window = this.window[h] as number;
    const flags = this.flags[h] as number;
    const last = this.n - 1;
    if (h < last) {
      this.flows.copyWithin(h, h + 1, this.n);
      this.seq.copyWithin(h, h + 1, this.n);
      this.payload.copyWithin(h, h + 1, this.n);
      this.gsoSize.copyWithin(h, h + 1, this.n);
      this.ack.copyWithin(h, h + 1, this.n);
      this.window.copyWithin(h, h + 1, this.n);
      this.flags.copyWithin(h, h + 1, this.n);
      this.ended.copyWithin(h, h + 1, this.n);
    }
    this.n = last;
    this.handOn(flow, seq, payload, ack, window, flags);
  }

  private handOn(flow: number, seq: number, payload: number, ack: number, window: number, flags: number): void {
    this.delivered++;
    this.deliver(flow, seq, payload, ack, window, flags);
  }
}
