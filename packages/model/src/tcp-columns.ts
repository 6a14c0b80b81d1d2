// The TCP header fields a frame of a closed-loop flow carries, column by column beside a batch's or a FIFO's descriptors.

/** Flag bits of a frame's `flags` column. */
export const TCP_HAS_SEGMENT = 1;
/** The segment carries an ACK (always on a pure ACK; on data once its sender has received anything). */
export const TCP_HAS_ACK = 2;
/** The segment is a retransmission (informational: a receiver treats it like any other). */
export const TCP_RETRANSMIT = 4;
/**
 * A connection opens (a SYN; with TCP_HAS_ACK, the SYN-ACK): only after a reset, since a run's connections are
 * established at its start with no handshake (docs/model.md §12 "Restarts").
 */
export const TCP_SYN = 8;
/** The segment resets the connection (an RST: a restarted guest with no socket for it answers so). */
export const TCP_RST = 16;

/**
 * One column per header field; entry k belongs to packet k. A frame with `flags[k] & TCP_HAS_SEGMENT` unset
 * carries no TCP segment of a modelled connection (open-loop traffic in the same batch).
 * Sequence and ACK numbers are byte offsets from 0 (see tcp-segment.ts), exact in a Float64Array.
 */
export interface TcpColumns {
  readonly seq: Float64Array;
  /** Payload bytes (0: a pure ACK). */
  readonly payload: Uint32Array;
  readonly ack: Float64Array;
  readonly window: Float64Array;
  readonly flags: Uint8Array;
}

/** One frame's header fields, as a TcpEndpoint takes and gives them. */
export interface TcpHeader {
  seq: number;
  payload: number;
  ack: number;
  window: number;
  flags: number;
}

export function allocTcpColumns(capacity: number): TcpColumns {
  return {
    seq: new Float64Array(capacity),
    payload: new Uint32Array(capacity),
    ack: new Float64Array(capacity),
    window: new Float64Array(capacity),
    flags: new Uint8Array(capacity),
  };
}

/** Up to this many entries clearTcpColumns writes the zeros itself. */
const SMALL_COLUMNS = 64;

/** Clear every entry (a batch's columns reused for other frames: entries it does not write must read as no segment, all zero). */
export function clearTcpColumns(c: TcpColumns): void {
  const n = c.flags.length;
  if (n <= SMALL_COLUMNS) {
    // A batch's columns are mostly a pool class of 16 (one ACK): one loop is cheaper than five calls of fill.
    const { seq, payload, ack, window, flags } = c;
    for (let i = 0; i < n; i++) {
      seq[i] = 0;
      payload[i] = 0;
      ack[i] = 0;
      window[i] = 0;
      flags[i] = 0;
    }
    return;
  }
  c.seq.fill(0);
  c.payload.fill(0);
  c.ack.fill(0);
  c.window.fill(0);
  c.flags.fill(0);
}

/** Copy entry i of `src` (absent: no segment) to entry j of `dst`. */
export function copyTcpEntry(src: TcpColumns | undefined, i: number, dst: TcpColumns, j: number): void {
  if (src === undefined) {
    dst.flags[j] = 0;
    return;
  }
  dst.seq[j] = src.seq[i] as number;
  dst.payload[j] = src.payload[i] as number;
  dst.ack[j] = src.ack[i] as number;
  dst.window[j] = src.window[i] as number;
  dst.flags[j] = src.flags[i] as number;
}

/** Write a header into entry j. */
export function setTcpEntry(dst: TcpColumns, j: number, h: TcpHeader): void {
  dst.seq[j] = h.seq;
  dst.payload[j] = h.payload;
  dst.ack[j] = h.ack;
  dst.window[j] = h.window;
  dst.flags[j] = h.flags;
}

/** Entry i as a header, or undefined when it carries no segment. */
export function tcpEntry(src: TcpColumns | undefined, i: number): TcpHeader | undefined {
  if (src === undefined || ((src.flags[i] as number) & TCP_HAS_SEGMENT) === 0) return undefined;
  return {
    seq: src.seq[i] as number,
    payload: src.payload[i] as number,
    ack: src.ack[i] as number,
    window: src.window[i] as number,
    flags: src.flags[i] as number,
  };
}
