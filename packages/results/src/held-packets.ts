// The packets a capture holds until their time is complete: columns (no object per packet), put in time order on demand.
import type { Nanos, TcpHeader } from '@splitnet/model';

const INITIAL_ROWS = 4096;

type Column = Float64Array | Uint32Array | Uint16Array | Uint8Array;

/**
 * Rows of (time, interface, flow, sequence number, length, drop code, and a closed-loop frame's TCP header) in
 * the order they were seen.
 * `sort()` puts them in time order, equal times in the order seen, in place; `keepFrom(k)` then drops the
 * first k (written, or cut).
 */
export class HeldPackets {
  at = new Float64Array(INITIAL_ROWS);
  iface = new Uint16Array(INITIAL_ROWS);
  flow = new Uint32Array(INITIAL_ROWS);
  seq = new Uint32Array(INITIAL_ROWS);
  len = new Uint32Array(INITIAL_ROWS);
  /** 0: not dropped; otherwise 1 + the index of the reason in the capture's list. */
  drop = new Uint8Array(INITIAL_ROWS);
  /** The TCP header of a closed-loop flow's frame; `tcpFlags` 0: the frame carries none (tcp-columns.ts). */
  tcpSeq = new Float64Array(INITIAL_ROWS);
  tcpAck = new Float64Array(INITIAL_ROWS);
  tcpWindow = new Float64Array(INITIAL_ROWS);
  tcpPayload = new Uint32Array(INITIAL_ROWS);
  tcpFlags = new Uint8Array(INITIAL_ROWS);
  length = 0;

  push(at: Nanos, iface: number, flow: number, seq: number, len: number, drop: number, tcp?: TcpHeader): void {
    if (this.length === this.at.length) this.resize(this.length * 2);
    const k = this.length++;
    this.at[k] = at;
    this.iface[k] = iface;
    this.flow[k] = flow;
    this.seq[k] = seq;
    this.len[k] = len;
    this.drop[k] = drop;
    this.tcpFlags[k] = tcp?.flags ?? 0;
    if (tcp !== undefined) {
      this.tcpSeq[k] = tcp.seq;
      this.tcpAck[k] = tcp.ack;
      this.tcpWindow[k] = tcp.window;
      this.tcpPayload[k] = tcp.payload;
    }
  }

  /** The TCP header of row k, or undefined when its frame carries none. */
  tcpAt(k: number): TcpHeader | undefined {
    const flags = this.tcpFlags[k] as number;
    if (flags === 0) return undefined;
    return { seq: this.tcpSeq[k] as number, ack: this.tcpAck[k] as number, window: this.tcpWindow[k] as number, payload: this.tcpPayload[k] as number, flags };
  }

  /** Time order, ties in the order seen (the row index breaks them, which makes the sort stable). */
  sort(): void {
    const n = this.length;
    const at = this.at;
    let sorted = true;
    for (let k = 1; k < n && sorted; k++) sorted = (at[k - 1] as number) <= (at[k] as number);
    if (sorted) return;
    const order = new Uint32Array(n);
    for (let k = 0; k < n; k++) order[k] = k;
    order.sort((a, b) => (at[a] as number) - (at[b] as number) || a - b);
    this.permute(order);
  }

  /** Drop the first k rows. */
  keepFrom(k: number): void {
    if (k <= 0) return;
    const n = this.length;
    this.at.copyWithin(0, k, n);
    this.iface.copyWithin(0, k, n);
    this.flow.copyWithin(0, k, n);
    this.seq.copyWithin(0, k, n);
    this.len.copyWithin(0, k, n);
    this.drop.copyWithin(0, k, n);
    this.tcpSeq.copyWithin(0, k, n);
    this.tcpAck.copyWithin(0, k, n);
    this.tcpWindow.copyWithin(0, k, n);
    this.tcpPayload.copyWithin(0, k, n);
    this.tcpFlags.copyWithin(0, k, n);
    this.length = Math.max(0, n - k);
  }

  clear(): void {
    this.length = 0;
  }

  /** Rows in the order `order` gives (a permutation of the rows). */
  private permute(order: Uint32Array): void {
    const n = this.length;
    this.rebuild(this.at.length, (from, to) => {
      for (let k = 0; k < n; k++) to[k] = from[order[k] as number] as number;
    });
  }

  private resize(size: number): void {
    const n = this.length;
    this.rebuild(size, (from, to) => to.set(from.subarray(0, n)));
  }

  /** Every column replaced by a fresh one of `size` rows that `fill` fills from the old one. */
  private rebuild(size: number, fill: (from: Column, to: Column) => void): void {
    const next = <T extends Column>(from: T, to: T): T => {
      fill(from, to);
      return to;
    };
    this.at = next(this.at, new Float64Array(size));
    this.iface = next(this.iface, new Uint16Array(size));
    this.flow = next(this.flow, new Uint32Array(size));
    this.seq = next(this.seq, new Uint32Array(size));
    this.len = next(this.len, new Uint32Array(size));
    this.drop = next(this.drop, new Uint8Array(size));
    this.tcpSeq = next(this.tcpSeq, new Float64Array(size));
    this.tcpAck = next(this.tcpAck, new Float64Array(size));
    this.tcpWindow = next(this.tcpWindow, new Float64Array(size));
    this.tcpPayload = next(this.tcpPayload, new Uint32Array(size));
    this.tcpFlags = next(this.tcpFlags, new Uint8Array(size));
  }
}
