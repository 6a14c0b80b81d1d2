// The pcapng file format, as far as a capture of Ethernet frames needs it: section header, interface description and enhanced packet blocks, little-endian.
//
// Block and option layout from the pcapng specification (IETF opsawg draft "PCAP Next Generation (pcapng) Capture
// File Format"): every block is [type u32][total length u32][body][total length u32], its length a multiple of 4;
// options are [code u16][length u16][value, zero-padded to 4] and end with opt_endofopt (code 0, length 0).

const SHB_TYPE = 0x0a0d0d0a;
const IDB_TYPE = 0x00000001;
const EPB_TYPE = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** LINKTYPE_ETHERNET: frames start with the Ethernet header (no preamble, no FCS unless if_fcslen says so). */
export const LINKTYPE_ETHERNET = 1;

const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_SPEED = 8;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;
const EPB_PACKETID = 5;
const EPB_QUEUE = 6;

/** if_tsresol 9: timestamps count nanoseconds (a power of ten, 10^-9 s). */
const TSRESOL_NANOSECONDS = 9;
/** epb_flags: direction inbound (bits 0–1 = 01), reception type unicast (bits 2–4 = 001). */
export const EPB_FLAGS_INBOUND_UNICAST = 0b00101;

const utf8 = new TextEncoder();
const TWO_32 = 0x1_0000_0000;

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** An option's value before it is laid out. */
type Option = readonly [code: number, value: Uint8Array];

function optionsLength(options: readonly Option[]): number {
  if (options.length === 0) return 0;
  let n = 4; // opt_endofopt
  for (const [, v] of options) n += 4 + pad4(v.length);
  return n;
}

function writeOptions(view: DataView, bytes: Uint8Array, at: number, options: readonly Option[]): number {
  if (options.length === 0) return at;
  for (const [code, v] of options) {
    view.setUint16(at, code, true);
    view.setUint16(at + 2, v.length, true);
    bytes.set(v, at + 4);
    bytes.fill(0, at + 4 + v.length, at + 4 + pad4(v.length));
    at += 4 + pad4(v.length);
  }
  view.setUint32(at, OPT_ENDOFOPT, true); // code 0, length 0
  return at + 4;
}

function u64(v: number): Uint8Array {
  const b = new Uint8Array(8);
  const d = new DataView(b.buffer);
  d.setUint32(0, v % TWO_32, true);
  d.setUint32(4, Math.floor(v / TWO_32), true);
  return b;
}

/** A block of `bodyLength` fixed bytes then `options`, with its type and both length fields; `body` fills the fixed bytes. */
function block(type: number, bodyLength: number, options: readonly Option[], body: (view: DataView, at: number) => void): Uint8Array {
  const total = 12 + bodyLength + optionsLength(options);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  body(view, 8);
  writeOptions(view, bytes, 8 + bodyLength, options);
  view.setUint32(total - 4, total, true);
  return bytes;
}

/** The Section Header Block that opens the file: version 1.0, section length unknown (-1). */
export function sectionHeaderBlock(o: { readonly userAppl?: string; readonly comment?: string }): Uint8Array {
  const options: Option[] = [];
  if (o.comment !== undefined) options.push([OPT_COMMENT, utf8.encode(o.comment)]);
  if (o.userAppl !== undefined) options.push([SHB_USERAPPL, utf8.encode(o.userAppl)]);
  return block(SHB_TYPE, 16, options, (view, at) => {
    view.setUint32(at, BYTE_ORDER_MAGIC, true);
    view.setUint16(at + 4, 1, true); // major version
    view.setUint16(at + 6, 0, true); // minor version
    view.setUint32(at + 8, 0xffffffff, true); // section length: -1, not given
    view.setUint32(at + 12, 0xffffffff, true);
  });
}

export interface InterfaceDescription {
  readonly linkType: number;
  /** The most bytes of a packet the capture keeps (0: no limit). */
  readonly snapLen: number;
  readonly name?: string;
  readonly description?: string;
  /** The interface's speed in bit/s (if_speed). */
  readonly speedBps?: number;
}

/** An Interface Description Block, timestamps in nanoseconds (if_tsresol 9); interfaces are numbered from 0 in the order written. */
export function interfaceDescriptionBlock(i: InterfaceDescription): Uint8Array {
  const options: Option[] = [];
  if (i.name !== undefined) options.push([IF_NAME, utf8.encode(i.name)]);
  if (i.description !== undefined) options.push([IF_DESCRIPTION, utf8.encode(i.description)]);
  if (i.speedBps !== undefined) options.push([IF_SPEED, u64(i.speedBps)]);
  options.push([IF_TSRESOL, Uint8Array.of(TSRESOL_NANOSECONDS)]);
  return block(IDB_TYPE, 8, options, (view, at) => {
    view.setUint16(at, i.linkType, true);
    view.setUint16(at + 2, 0, true); // reserved
    view.setUint32(at + 4, i.snapLen, true);
  });
}

/** One packet of an Enhanced Packet Block: the bytes kept are written by the caller (`EnhancedPacketWriter.write`). */
export interface EnhancedPacket {
  readonly interfaceId: number;
  /** Timestamp in the interface's resolution (ns here): a whole number ≥ 0. */
  readonly timestamp: number;
  /** Bytes kept in the file. */
  readonly capturedLength: number;
  /** The packet's length as it was (≥ capturedLength). */
  readonly originalLength: number;
  /** epb_flags (direction, reception type). */
  readonly flags: number;
  /** epb_packetid as two 32-bit halves: the same packet seen at several interfaces has the same id. */
  readonly packetIdHigh: number;
  readonly packetIdLow: number;
  /** epb_queue: the queue of the interface the packet was seen on. */
  readonly queue: number;
  /** opt_comment, UTF-8 (absent or undefined: none). */
  readonly comment?: Uint8Array | undefined;
}

/** Where an EPB's packet bytes start, from the start of the block. */
export const ENHANCED_PACKET_DATA_OFFSET = 28;
/** Fixed part of an EPB (type, length, interface, timestamp, lengths, trailing length) and its three fixed options (+ end of options). */
const EPB_FIXED = 32;
const EPB_FIXED_OPTIONS = 8 + 12 + 8 + 4; // epb_flags, epb_packetid, epb_queue, opt_endofopt

/** Bytes an EPB takes in the file with `capturedLength` bytes kept and a comment of `commentBytes` bytes (0: none). */
export function enhancedPacketBlockLength(capturedLength: number, commentBytes: number): number {
  return EPB_FIXED + pad4(capturedLength) + EPB_FIXED_OPTIONS + (commentBytes > 0 ? 4 + pad4(commentBytes) : 0);
}

/**
 * Writes an Enhanced Packet Block into `bytes` at `at` (which must have room for
 * `enhancedPacketBlockLength`): the caller has already put the kept bytes at `at + 28`
 * (`ENHANCED_PACKET_DATA_OFFSET`). Returns the offset after the block.
 */
export function writeEnhancedPacketBlock(view: DataView, bytes: Uint8Array, at: number, p: EnhancedPacket): number {
  const comment = p.comment;
  const total = enhancedPacketBlockLength(p.capturedLength, comment?.length ?? 0);
  view.setUint32(at, EPB_TYPE, true);
  view.setUint32(at + 4, total, true);
  view.setUint32(at + 8, p.interfaceId, true);
  view.setUint32(at + 12, Math.floor(p.timestamp / TWO_32), true);
  view.setUint32(at + 16, p.timestamp % TWO_32, true);
  view.setUint32(at + 20, p.capturedLength, true);
  view.setUint32(at + 24, p.originalLength, true);
  let o = ENHANCED_PACKET_DATA_OFFSET + at + p.capturedLength;
  const padded = ENHANCED_PACKET_DATA_OFFSET + at + pad4(p.capturedLength);
  bytes.fill(0, o, padded);
  o = padded;
  view.setUint32(o, EPB_FLAGS | (4 << 16), true);
  view.setUint32(o + 4, p.flags, true);
  view.setUint32(o + 8, EPB_PACKETID | (8 << 16), true);
  view.setUint32(o + 12, p.packetIdLow, true);
  view.setUint32(o + 16, p.packetIdHigh, true);
  view.setUint32(o + 20, EPB_QUEUE | (4 << 16), true);
  view.setUint32(o + 24, p.queue, true);
  o += 28;
  if (comment !== undefined && comment.length > 0) {
    view.setUint32(o, OPT_COMMENT | (comment.length << 16), true);
    bytes.set(comment, o + 4);
    bytes.fill(0, o + 4 + comment.length, o + 4 + pad4(comment.length));
    o += 4 + pad4(comment.length);
  }
  view.setUint32(o, OPT_ENDOFOPT, true);
  view.setUint32(o + 4, total, true);
  return o + 8;
}
