// Synthetic Ethernet, IPv4-or-IPv6 and TCP-or-UDP headers for the flow table's frames: what a capture shows of a frame the model knows only by flow, sequence number and length.
import { deriveSeed, TCP_HAS_ACK, TCP_RST, TCP_SYN } from '@splitnet/model';
import type { PacketSize, TcpHeader } from '@splitnet/model';
import type { FlowSpec } from '@splitnet/scenario';

export const ETHERNET_HEADER_BYTES = 14;
/** The frame check sequence the scenario's frame sizes include and a capture does not show (the NIC strips it). */
export const FCS_BYTES = 4;
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const TCP_HEADER = 20;
const UDP_HEADER = 8;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
/** Xen's OUI: the prefix of every MAC address the toolstack gives a guest's vif (00:16:3e). */
const XEN_OUI = [0x00, 0x16, 0x3e] as const;
const TTL = 64;
const IPV4_DONT_FRAGMENT = 0x4000;
const TCP_DATA_OFFSET_5 = 0x50;
/** A closed-loop flow's segments carry the timestamp option (NOP, NOP, TS: 12 bytes), as the models count their headers (tcp-segment.ts). */
const TCP_DATA_OFFSET_8 = 0x80;
const TCP_TIMESTAMP_OPTION = [0x01, 0x01, 0x08, 0x0a] as const;
const TCP_TIMESTAMPS_BYTES = 12;
const TCP_FLAG_ACK = 0x10;
const TCP_FLAG_PSH = 0x08;
const TCP_PSH_ACK = 0x18;
const TCP_FLAG_SYN = 0x02;
const TCP_FLAG_RST = 0x04;
const TCP_WINDOW = 0xffff;
const TWO_32 = 0x1_0000_0000;

/** The largest frame (bytes, FCS included) a generator's size distribution gives. */
export function largestFrame(size: PacketSize): number {
  switch (size.kind) {
    case 'fixed':
      return size.bytes;
    case 'uniform':
      return size.max;
    case 'choice':
      return size.values.reduce((a, b) => (b > a ? b : a), 0);
  }
}

/** Sum of the big-endian 16-bit words of bytes[from, to) (an even span), unfolded. */
function wordSum(bytes: Uint8Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i += 2) s += ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  return s;
}

/** The Internet checksum (RFC 1071) of an unfolded sum: folded to 16 bits, one's complement. */
function checksumOf(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** One flow's headers with the per-packet fields zero, and the checksum sums of the rest. */
interface FlowTemplate {
  readonly bytes: Uint8Array;
  readonly ipv4: boolean;
  readonly tcp: boolean;
  /** Offset of the TCP/UDP header. */
  readonly l4: number;
  /** IPv4 header words other than total length, identification and checksum (0 for IPv6). */
  readonly ipSum: number;
  /** The pseudo-header's addresses and protocol plus the TCP/UDP header's fixed words (ports, ack, flags, window). */
  readonly l4Sum: number;
  /** TCP: initial sequence number and how far each packet of the flow moves it (its largest payload). */
  readonly isn: number;
  readonly stride: number;
  /**
   * A closed-loop flow (its frames carry the TCP model's own header): the ISN of the other direction, which its
   * acknowledgement numbers count from. Its template has acknowledgement, flags and window zero (set per frame).
   */
  readonly peerIsn: number | null;
}

/**
 * The headers a capture shows for frame `seq` of a flow. Everything comes from the flow table and the
 * frame's length; what the model does not have is made up deterministically from the run seed:
 * - Ethernet: destination the guest's MAC, 00:16:3e:00:<vm high>:<vm low> (Xen's OUI, as the toolstack
 *   gives vifs); source a locally administered 02:00:00:<generator>:<host high>:<host low>, one per source
 *   address of the flow table (whose last two bytes number the generator's hosts).
 * - IPv4: DF set, TTL 64, identification = the flow's sequence number mod 2^16, header checksum correct.
 *   IPv6: traffic class and flow label 0, hop limit 64.
 * - TCP: PSH+ACK, window 65535, no options; sequence number = ISN + seq × the flow's largest payload (the
 *   ISN drawn from the run seed per flow, stream `pcap:isn:<flow>`), so with one frame size the sequence
 *   numbers follow the bytes exactly; acknowledgement number fixed per flow (no reverse traffic).
 *   A closed-loop flow's frame (TCP bulk or TCP_RR, whose header the model carries) shows that header instead:
 *   sequence number = ISN + the segment's byte offset, acknowledgement number = the other direction's ISN + its
 *   ack (ACK set only when the segment carries one), PSH when it carries data, the window as the model advertises
 *   it capped at 65535 (no window scaling is shown; 65535 on a segment without an ACK), and the timestamp option (zero values) that the models'
 *   52 bytes of TCP/IP headers include, so the length Wireshark computes for each segment is its payload.
 * - UDP: length from the frame.
 * - Lengths: the frame without its 4-byte FCS, as a capture on a host shows it. A frame shorter than its
 *   headers (an IPv6 frame under 78 bytes; the scenario allows 64) is shown at the length that holds them.
 * - TCP and UDP checksums: correct for a payload of zero bytes, which the capture does not hold.
 */
export class FrameHeaders {
  private readonly flows: FlowTemplate[];

  /** The flows of a flow table, the generators they belong to (their frame sizes), and the run seed. */
  constructor(flows: readonly FlowSpec[], generators: readonly { readonly size: PacketSize; readonly closedLoop?: unknown }[], seed: number) {
    this.flows = flows.map((f) => {
      const g = generators[f.generator] as { readonly size: PacketSize; readonly closedLoop?: unknown };
      // The other direction of the connection: between two guests a flow of its own, else the flow itself (never captured).
      const peer = f.reverse ?? f.reverseOf;
      const peerIsn = g.closedLoop === undefined ? null : deriveSeed(seed, peer === undefined ? `pcap:ack:${f.id}` : `pcap:isn:${peer}`);
      return template(f, largestFrame(g.size), seed, peerIsn);
    });
  }

  /** Bytes of headers of the flow's frames: what the capture keeps of each. */
  headerLength(flow: number): number {
    return (this.flows[flow] as FlowTemplate).bytes.length;
  }

  /** The shortest and the longest headers of any flow (0 and 0 without flows). */
  headerLengthRange(): readonly [number, number] {
    let lo = Infinity;
    let hi = 0;
    for (const t of this.flows) {
      if (t.bytes.length < lo) lo = t.bytes.length;
      if (t.bytes.length > hi) hi = t.bytes.length;
    }
    return [lo === Infinity ? 0 : lo, hi];
  }

  /** The length a capture shows for a frame of `len` bytes (FCS included) of the flow. */
  shownLength(flow: number, len: number): number {
    const h = this.headerLength(flow);
    return len - FCS_BYTES > h ? len - FCS_BYTES : h;
  }

  /** Write the headers of frame `seq` of `flow` (`len` bytes with FCS; `tcp`: its segment's header) at `at`; returns the frame's shown length. */
  write(view: DataView, bytes: Uint8Array, at: number, flow: number, seq: number, len: number, tcp?: TcpHeader): number {
    const t = this.flows[flow] as FlowTemplate;
    bytes.set(t.bytes, at);
    const shown = this.shownLength(flow, len);
    const l3 = shown - ETHERNET_HEADER_BYTES;
    const l4len = l3 - (t.ipv4 ? IPV4_HEADER : IPV6_HEADER);
    const ip = at + ETHERNET_HEADER_BYTES;
    if (t.ipv4) {
      const id = seq & 0xffff;
      view.setUint16(ip + 2, l3);
      view.setUint16(ip + 4, id);
      view.setUint16(ip + 10, checksumOf(t.ipSum + l3 + id));
    } else {
      view.setUint16(ip + 4, l4len);
    }
    const l4 = at + t.l4;
    if (t.tcp && t.peerIsn !== null && tcp !== undefined) {
      const sn = (t.isn + tcp.seq) % TWO_32;
      const hasAck = (tcp.flags & TCP_HAS_ACK) !== 0;
      const an = hasAck ? (t.peerIsn + tcp.ack) % TWO_32 : 0;
      // SYN and RST: a connection reset and opened again after a guest's restart (docs/model.md §12 "Restarts").
      const control = ((tcp.flags & TCP_SYN) !== 0 ? TCP_FLAG_SYN : 0) | ((tcp.flags & TCP_RST) !== 0 ? TCP_FLAG_RST : 0);
      const flags = (hasAck ? TCP_FLAG_ACK : 0) | (tcp.payload > 0 ? TCP_FLAG_PSH : 0) | control;
      // A segment without an ACK carries no window of the model's (its sender has received nothing): shown as 65535, as open-loop flows show it.
      const window = hasAck ? Math.min(tcp.window, TCP_WINDOW) : TCP_WINDOW;
      view.setUint32(l4 + 4, sn);
      view.setUint32(l4 + 8, an);
      bytes[l4 + 13] = flags;
      view.setUint16(l4 + 14, window);
      const words = Math.floor(sn / 0x10000) + (sn & 0xffff) + Math.floor(an / 0x10000) + (an & 0xffff) + flags + window;
      view.setUint16(l4 + 16, checksumOf(t.l4Sum + l4len + words));
    } else if (t.tcp) {
      const sn = (t.isn + seq * t.stride) % TWO_32;
      view.setUint32(l4 + 4, sn);
      view.setUint16(l4 + 16, checksumOf(t.l4Sum + l4len + Math.floor(sn / 0x10000) + (sn & 0xffff)));
    } else {
      view.setUint16(l4 + 4, l4len);
      // The length counts twice: in the pseudo-header and in the UDP header. A computed 0 is sent as 0xffff (RFC 768).
      view.setUint16(l4 + 6, checksumOf(t.l4Sum + 2 * l4len) || 0xffff);
    }
    return shown;
  }
}

function template(f: FlowSpec, largest: number, seed: number, peerIsn: number | null): FlowTemplate {
  const ipv4 = f.ipVersion === 4;
  const tcp = f.protocol === 'tcp';
  const closed = tcp && peerIsn !== null;
  const ipLen = ipv4 ? IPV4_HEADER : IPV6_HEADER;
  const l4 = ETHERNET_HEADER_BYTES + ipLen;
  const bytes = new Uint8Array(l4 + (tcp ? TCP_HEADER + (closed ? TCP_TIMESTAMPS_BYTES : 0) : UDP_HEADER));
  const view = new DataView(bytes.buffer);
  // Ethernet: the guest's MAC, then the source host's.
  bytes.set([...XEN_OUI, 0, (f.vm >> 8) & 0xff, f.vm & 0xff], 0);
  const n = f.src.length;
  bytes.set([0x02, 0x00, 0x00, f.generator & 0xff, f.src[n - 2] as number, f.src[n - 1] as number], 6);
  view.setUint16(12, ipv4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6);
  const ip = ETHERNET_HEADER_BYTES;
  const proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
  if (ipv4) {
    bytes[ip] = 0x45; // version 4, 5 words
    view.setUint16(ip + 6, IPV4_DONT_FRAGMENT);
    bytes[ip + 8] = TTL;
    bytes[ip + 9] = proto;
    bytes.set(f.src, ip + 12);
    bytes.set(f.dst, ip + 16);
  } else {
    bytes[ip] = 0x60; // version 6, traffic class and flow label 0
    bytes[ip + 6] = proto;
    bytes[ip + 7] = TTL;
    bytes.set(f.src, ip + 8);
    bytes.set(f.dst, ip + 24);
  }
  view.setUint16(l4, f.srcPort);
  view.setUint16(l4 + 2, f.dstPort);
  const isn = deriveSeed(seed, `pcap:isn:${f.id}`);
  if (closed) {
    // Acknowledgement, flags and window per frame; the timestamp option's values stay zero.
    bytes[l4 + 12] = TCP_DATA_OFFSET_8;
    bytes.set(TCP_TIMESTAMP_OPTION, l4 + TCP_HEADER);
  } else if (tcp) {
    view.setUint32(l4 + 8, deriveSeed(seed, `pcap:ack:${f.id}`));
    bytes[l4 + 12] = TCP_DATA_OFFSET_5;
    bytes[l4 + 13] = TCP_PSH_ACK;
    view.setUint16(l4 + 14, TCP_WINDOW);
  }
  const addresses = ipv4 ? wordSum(bytes, ip + 12, ip + 20) : wordSum(bytes, ip + 8, ip + 40);
  const largestPayload = Math.max(largest - FCS_BYTES, bytes.length) - bytes.length;
  return {
    bytes,
    ipv4,
    tcp,
    l4,
    ipSum: ipv4 ? wordSum(bytes, ip, ip + IPV4_HEADER) : 0,
    l4Sum: addresses + proto + wordSum(bytes, l4, bytes.length),
    isn,
    stride: Math.max(1, largestPayload),
    peerIsn: closed ? peerIsn : null,
  };
}
