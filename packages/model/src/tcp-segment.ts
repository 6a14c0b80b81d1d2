// What TCP puts on the wire in the models: segment and ACK shapes, header overheads, and the output ports of sender and receiver.
import type { Nanos } from './time.js';

/**
 * Bytes of headers a TCP/IPv4 segment carries in the models: IPv4 20 + TCP 20 + the timestamp option
 * padded to 12 (RFC 7323; Linux sends it on every segment when both ends offer it, the default).
 */
export const TCP_IP_HEADER_BYTES = 52;
/** Ethernet header (14) and FCS (4): what a frame adds to the IP packet (preamble and IFG are the wire's, see WIRE_OVERHEAD_BYTES). */
export const ETHERNET_HEADER_FCS_BYTES = 18;
/** The smallest Ethernet frame (incl. FCS); shorter frames are padded. */
const MIN_ETHERNET_FRAME_BYTES = 64;
/**
 * Default maximum segment size: a 1500-byte MTU less 52 bytes of TCP/IP headers with timestamps, the MSS
 * Linux uses on an Ethernet path (tcp_sock.mss_cache = 1448).
 */
export const TCP_DEFAULT_MSS = 1448;

/** Ethernet frame length (header + payload + FCS, padded to 64) of a TCP segment carrying `payload` bytes (0 for a pure ACK). */
export function tcpFrameBytes(payload: number): number {
  return Math.max(MIN_ETHERNET_FRAME_BYTES, payload + TCP_IP_HEADER_BYTES + ETHERNET_HEADER_FCS_BYTES);
}

/**
 * A cumulative acknowledgement as the receiver sends it (no SACK blocks: the models do not negotiate
 * SACK). `ack` is the next byte the receiver expects; `window` the bytes it will accept from `ack` on.
 * Sequence numbers are byte offsets from 0 in a JS number (no u32 wraparound: 2^53 bytes is ample).
 */
export interface TcpAck {
  readonly ack: number;
  readonly window: number;
}

/** Where a TCP sender's decisions go. The actor that owns the sender turns them into messages and timers. */
export interface TcpSenderOutput {
  /** Put the segment [seq, seq + len) on the wire at `at` (a retransmission when `retransmit`). */
  segment(seq: number, len: number, at: Nanos, retransmit: boolean): void;
  /**
   * Call the sender's `onTimer` at `at` or later. Timers are never cancelled: a timer that fires when
   * nothing is due is ignored by the sender, which asks again for its current deadline (Effects.timer has
   * no cancel either).
   */
  timer(at: Nanos): void;
}

/** Where a TCP receiver's decisions go. */
export interface TcpReceiverOutput {
  /** Send a pure ACK at `at`. */
  ack(ack: TcpAck, at: Nanos): void;
  /**
   * When present, called instead of `ack` with the ACK's fields apart, so that no TcpAck is made per ACK
   * (TcpEndpoint's port: a bulk flow's receiver ACKs every second segment).
   */
  ackFields?(ack: number, window: number, at: Nanos): void;
  /** Call the receiver's `onTimer` (the delayed-ACK timer) at `at` or later; stale firings are ignored. */
  timer(at: Nanos): void;
}
