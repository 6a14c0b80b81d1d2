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
  /** Held packets in the order they were first held: flow, seq, payload, gso size, ack, window, flags, ended. */
  private readonly flows: number[] = [];
  private readonly seq: number[] = [];
  private readonly payload: number[] = [];
  private readonly gsoSize: number[] = [];
  private readonly ack: number[] = [];
  private readonly window: number[] = [];
  private readonly flags: number[] = [];
  private readonly ended: boolean[] = [];
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
    const h = this.flows.indexOf(flow);
    if (len === 0 || (flags & (TCP_SYN | TCP_RST)) !== 0) {
      if (h >= 0) this.complete(h);
      this.handOn(flow, seq, len, ack, window, flags);
      return;
    }
    if (h >= 0) {
      const end = (this.seq[h] as number) + (this.payload[h] as number);
      const ackDiffers = (flags & TCP_HAS_ACK) !== 0 && (ack !== this.ack[h] || window !== this.window[h]);
      const fits = TCP_IP_HEADER_BYTES + (this.payload[h] as number) + len < GRO_MAX_SIZE;
      if (!this.ended[h] && seq === end && !ackDiffers && flags === this.flags[h] && len <= (this.gsoSize[h] as number) && fits) {
        this.payload[h] = (this.payload[h] as number) + len;
        if (len < (this.gsoSize[h] as number)) this.ended[h] = true;
        this.merged++;
        return;
      }
      this.complete(h);
    }
    this.flows.push(flow);
    this.seq.push(seq);
    this.payload.push(len);
    this.gsoSize.push(len);
    this.ack.push(ack);
    this.window.push(window);
    this.flags.push(flags);
    this.ended.push(false);
  }

  /** napi_gro_flush at the end of the poll: every packet still held goes to TCP, oldest first. */
  flush(): void {
    const n = this.flows.length;
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
    this.flows.length = 0;
    this.seq.length = 0;
    this.payload.length = 0;
    this.gsoSize.length = 0;
    this.ack.length = 0;
    this.window.length = 0;
    this.flags.length = 0;
    this.ended.length = 0;
  }

  get held(): number {
    return this.flows.length;
  }

  private complete(h: number): void {
    const flow = this.flows[h] as number;
    const seq = this.seq[h] as number;
    const payload = this.payload[h] as number;
    const ack = this.ack[h] as number;
    const window = this.window[h] as number;
    const flags = this.flags[h] as number;
    this.flows.splice(h, 1);
    this.seq.splice(h, 1);
    this.payload.splice(h, 1);
    this.gsoSize.splice(h, 1);
    this.ack.splice(h, 1);
    this.window.splice(h, 1);
    this.flags.splice(h, 1);
    this.ended.splice(h, 1);
    this.handOn(flow, seq, payload, ack, window, flags);
  }

  private handOn(flow: number, seq: number, payload: number, ack: number, window: number, flags: number): void {
    this.delivered++;
    this.deliver(flow, seq, payload, ack, window, flags);
  }
}
