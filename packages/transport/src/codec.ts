// The wire codec of live mode: the one msgpackr configuration, the envelope, and validation of every message received.
import { Packr } from 'msgpackr';
import { BatchPool, packetsIn, SplitnetError, TCP_HAS_ACK, TCP_HAS_SEGMENT, TCP_RETRANSMIT, TCP_RST, TCP_SYN, tcpColumnsOf } from '@splitnet/model';
import type { Message, MutableBatch, Nanos, PacketBatch } from '@splitnet/model';
import { isValidActorId, isValidRunId } from './subjects.js';

/**
 * Bumped on any change of the wire format; a receiver rejects every other version (as malformed).
 * 2: frames (one header, then one or more envelope bodies); message kinds as small integers.
 * 3: `ring` says whether the front end set up a new ring; `connected` (a restarted front end's reconnect).
 * 4: `ring` and `connected` name the ring (`ringAt`, when the front end set it up).
 * 5: `dma` and `poll` name the batch (`issuedAt`): the driver's poll gives that batch's descriptors back.
 * 6: the frame header names the receiver (`to`), so that a frame re-published to another actor's inbox is refused.
 */
export const PROTOCOL_VERSION = 6;

/** What travels on the wire: one Message stamped with who sent it, when, and its place in the link's order. */
export interface Envelope {
  readonly v: typeof PROTOCOL_VERSION;
  readonly run: string;
  /** Actor id of the sender. */
  readonly from: string;
  /** Actor id of the receiver the sender addressed. */
  readonly to: string;
  /** Per sender→receiver link, 1, 2, 3…: the receiver detects replays (≤ last) and losses (jumps). */
  readonly seq: number;
  /** Emulated time the message left the sender. */
  readonly t: Nanos;
  /** Emulated time the message is due at the receiver (t + the modeled link delay). */
  readonly at: Nanos;
  readonly m: Message;
}

/**
 * Why a received message was dropped. Garbled input: `malformed`, `truncated`, `invalid-batch`. Well-formed
 * but not this receiver's to take: `wrong-run` (another run's), `misrouted` (addressed to another actor),
 * `spoofed` (the header names another sender than the subject it came on), `not-allowed` (a message its
 * sender never sends this receiver in the datapath, e.g. a NIC's DMA batch over the bus), `duplicate` (a
 * sequence number at or below the last accepted: a replay), `seq-jump` (a sequence number implausibly far
 * ahead: it would make the sender's real messages look like replays).
 */
export type RejectKind = 'malformed' | 'truncated' | 'wrong-run' | 'duplicate' | 'invalid-batch' | 'misrouted' | 'spoofed' | 'not-allowed' | 'seq-jump';

export const REJECT_KINDS: readonly RejectKind[] = [
  'malformed',
  'truncated',
  'wrong-run',
  'duplicate',
  'invalid-batch',
  'misrouted',
  'spoofed',
  'not-allowed',
  'seq-jump',
];

/**
 * How far past the last accepted sequence number a sender's next one may be. Messages lost on the bus (a NATS
 * outage: up to the reconnect buffer's worth, and whatever the server held) leave gaps; a jump larger than
 * this is no loss but a forgery, which would otherwise make every real message after it a "duplicate".
 */
export const MAX_SEQ_JUMP = 2 ** 24;

/** What the receiver's scenario allows; anything beyond is rejected as an invalid batch. */
export interface DecoderLimits {
  /** Flows in the scenario's flow table: a flow id must be below this. */
  readonly flows: number;
  /** Most packets one batch may carry. */
  readonly maxBatch: number;
}

export interface EnvelopeDecoderOptions {
  readonly run: string;
  readonly limits: DecoderLimits;
  /** The receiving actor: a frame addressed to another is refused (`misrouted`). Absent: not checked. */
  readonly self?: string;
  /**
   * Whether `from` may send this receiver `m` (the datapath's sender rules): a reason to refuse it
   * (`not-allowed`), or undefined. Checked before the sequence number, which a refused message does not advance.
   */
  readonly admit?: (from: string, m: Message) => string | undefined;
  /**
   * A receiver restarted in the middle of a run: its senders' sequences are already under way, so the
   * first message from each sets where its sequence is (not a gap). Senders it is told restarted start at 1.
   */
  readonly resumed?: boolean;
  /** Where decoded batches come from: the pool of the actors that receive them (default: the decoder's own). */
  readonly pool?: BatchPool;
}

/*
 * How packet batches cross the wire, and why (msgpackr 1.12, checked by codec.test.ts; speeds
 * from a throughput script on this 2-core machine, encode + decode, 64 packets per batch):
 *
 * - With default options msgpackr writes a Uint32Array/Uint16Array/Float64Array as a `bin` whose
 *   header gives the byte length but whose body gets the *elements* truncated to bytes; the rest
 *   is stale scratch memory. So msgpackr must never see a typed array other than Uint8Array.
 * - With `moreTypes: true` typed arrays round-trip (ext 0x74 + a type code), but the decoder always
 *   slices each payload into a fresh ArrayBuffer (one copy and one allocation per column): ≈ 4×
 *   slower than the layout below. A payload of the wrong size also surfaces as a RangeError that
 *   msgpackr flags "incomplete", i.e. it would be miscounted as truncation.
 * - A `bin` decodes (copyBuffers: false) to a view into the input: no copy at all. Each `bin`
 *   costs msgpackr a trip through its extension machinery, so one per batch beats one per column
 *   (≈ 20 % faster).
 *
 * So a batch travels as `[count, cols]` where `cols` is one `bin` holding the columns for
 * [0, count) back to back, widest first: emittedAt (f64), flow (u32), seq (u32), len (u16), all
 * little-endian — still columnar, 18 bytes per packet. The sender writes them with a DataView into
 * a reused scratch buffer (msgpackr then copies that into its output); the receiver reads them with
 * a DataView straight from the input view and writes them into a batch from the decoder's pool
 * (a model BatchPool), checking each packet in the same pass. So packet data is copied exactly once on
 * receipt; no typed array is allocated once receivers release their batches (as in `sim`); a
 * batch never pins the transport's input buffer; alignment is moot (a Float64Array view straight
 * onto the input would need byteOffset % 8 === 0, which nothing guarantees); and the byte order is
 * fixed whatever the host's. Against per-column Uint8Array views + `set` this was ≈ 10 % faster at
 * 16–64 packets and ≈ 10 % slower at 256 (within this machine's noise); realistic batches are ≤ 64.
 *
 * Envelopes and messages are msgpack arrays in a fixed order, not maps: msgpackr builds a decoded
 * map key by key into a fresh object, which made decoding the same envelope ≈ 3× slower (0.83 vs
 * 0.28 µs without the packets). Arrays stay self-describing — no state shared between processes —
 * because the header's first element is the protocol version and a message's first element its
 * kind, which fixes the rest.
 *
 * One published NATS message is a **frame**: a header naming the run and the sender, then one or
 * more envelope bodies, each a complete msgpack value, back to back. A sender publishes everything
 * one pump produced for one receiver as one frame (see LiveHost): the bus's per-message cost (the
 * client's publish, the server's routing, the receiver's parse and callback) is what limits live
 * mode, and a busy sender's frames grow with its load. The header is written once per frame, so the
 * run id and sender name are not re-encoded and re-validated per message; kinds are small integers
 * so that decoding a body allocates no string:
 *
 *   header    [v, run, from, to]                    then bodies [seq, t, at, m] …
 *   dma       [1, nicQueue, irq, issuedAt, batch]   poll  [2, nicQueue, issuedAt]
 *   rx        [3, vm, queue, batch]                 evt   [5, vm, port]
 *   rsp       [4, vm, queue, rspProd, reqEvent, batch]
 *   req       [6, vm, queue, reqProd, rspEvent, rspProdSeen, notify]
 *   reconnect [7, vm, queue]                       ring  [8, vm, queue, reqProd, rspEvent, rspProdSeen, newRing, ringAt]
 *   connected [9, vm, queue, ringAt]
 *   batch     [count, cols] or [count, cols, tcp] when a frame carries a TCP segment (closed-loop flows)
 *
 * Packr options: `useRecords: false` (records keep key lists in Packr state that a peer process
 * does not share); `structuredClone: false` so a back-reference extension in hostile input is a
 * clean error; float64 for every non-integer (msgpackr's default), so emulated times keep their
 * fractions.
 */
const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  copyBuffers: false,
  structuredClone: false,
  bundleStrings: false,
});

const U32_MAX = 0xffff_ffff;

/** Bytes per packet in a batch's `cols`: emittedAt (f64) + flow (u32) + seq (u32) + len (u16). */
export const WIRE_BYTES_PER_PACKET = 18;

/**
 * Bytes per packet in a batch's `tcp` columns: seq (f64) + ack (f64) + window (f64) + payload (u32) + flags (u8).
 * Sent only for batches that carry TCP headers, so receive-only runs put the same bytes on the bus as before.
 */
export const WIRE_TCP_BYTES_PER_PACKET = 29;
const TCP_FLAG_BITS = TCP_HAS_SEGMENT | TCP_HAS_ACK | TCP_RETRANSMIT | TCP_SYN | TCP_RST;
/** Sequence and ACK numbers are byte offsets below 2^53 (exact in a double). */
const MAX_TCP_OFFSET = Number.MAX_SAFE_INTEGER;

/** The wire form of a batch's TCP columns [0, count). */
function wireTcp(b: PacketBatch, count: number): Uint8Array {
  const tcp = b.tcp;
  const out = new Uint8Array(count * WIRE_TCP_BYTES_PER_PACKET);
  if (tcp === undefined) return out;
  const dv = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    dv.setFloat64(8 * i, tcp.seq[i] as number, true);
    dv.setFloat64(8 * (count + i), tcp.ack[i] as number, true);
    dv.setFloat64(8 * (2 * count + i), tcp.window[i] as number, true);
    dv.setUint32(24 * count + 4 * i, tcp.payload[i] as number, true);
    dv.setUint8(28 * count + i, tcp.flags[i] as number);
  }
  return out;
}

/** Where the sender lays out a batch's columns; reused (msgpackr copies it before `encodeEnvelope` returns). */
let scratch = new Uint8Array(WIRE_BYTES_PER_PACKET * 256);
let scratchView = new DataView(scratch.buffer);

/** The wire form of a PacketBatch: [count, cols]. */
function wireBatch(b: PacketBatch): [number, Uint8Array] | [number, Uint8Array, Uint8Array] {
  const count = b.count;
  const { flow, seq, len, emittedAt } = b;
  if (!Number.isInteger(count) || count < 0 || count > flow.length || count > seq.length || count > len.length || count > emittedAt.length) {
    throw new SplitnetError('E_INTERNAL', `encode: batch count ${String(count)} does not fit its columns`);
  }
  const size = count * WIRE_BYTES_PER_PACKET;
  if (scratch.length < size) {
    scratch = new Uint8Array(size);
    scratchView = new DataView(scratch.buffer);
  }
  const dv = scratchView;
  const seqAt = 12 * count;
  const lenAt = 16 * count;
  for (let i = 0, flowAt = 8 * count; i < count; i++) {
    dv.setFloat64(8 * i, emittedAt[i] as number, true);
    dv.setUint32(flowAt + 4 * i, flow[i] as number, true);
    dv.setUint32(seqAt + 4 * i, seq[i] as number, true);
    dv.setUint16(lenAt + 2 * i, len[i] as number, true);
  }
  if (b.tcp !== undefined) return [count, scratch.subarray(0, size), wireTcp(b, count)];
  return [count, scratch.subarray(0, size)];
}

/** Message kinds on the wire (layout above). */
const K_DMA = 1;
const K_POLL = 2;
const K_RX = 3;
const K_RSP = 4;
const K_EVT = 5;
const K_REQ = 6;
const K_RECONNECT = 7;
const K_RING = 8;
const K_CONNECTED = 9;
const K_TXREQ = 10;
const K_TXRSP = 11;
const K_XMIT = 12;
const K_TXPOST = 13;
const K_TXDONE = 14;
const K_DEALLOC = 15;
const K_UPLINK = 16;
const K_DOWNLINK = 17;

/** The wire form of a Message (layout above). */
function wireMessage(m: Message): unknown[] {
  switch (m.kind) {
    case 'dma':
      return [K_DMA, m.nicQueue, m.irq, m.issuedAt, wireBatch(m.batch)];
    case 'poll':
      return [K_POLL, m.nicQueue, m.issuedAt];
    case 'rx':
      return [K_RX, m.vm, m.queue, wireBatch(m.batch)];
    case 'rsp':
      return [K_RSP, m.vm, m.queue, m.rspProd, m.reqEvent, wireBatch(m.batch)];
    case 'evt':
      return [K_EVT, m.vm, m.port];
    case 'req':
      return [K_REQ, m.vm, m.queue, m.reqProd, m.rspEvent, m.rspProdSeen, m.notify];
    case 'reconnect':
      return [K_RECONNECT, m.vm, m.queue];
    case 'ring':
      // A TX ring renewed with it is a ninth element, absent otherwise.
      return m.txRenewed === true
        ? [K_RING, m.vm, m.queue, m.reqProd, m.rspEvent, m.rspProdSeen, m.newRing, m.ringAt, true]
        : [K_RING, m.vm, m.queue, m.reqProd, m.rspEvent, m.rspProdSeen, m.newRing, m.ringAt];
    case 'connected':
      return [K_CONNECTED, m.vm, m.queue, m.ringAt];
    case 'txreq':
      return [K_TXREQ, m.vm, m.queue, m.reqProd, m.rspEvent, m.rspProdSeen, m.notify, wireBatch(m.batch)];
    case 'txrsp':
      return [K_TXRSP, m.vm, m.queue, m.rspProd, m.reqEvent];
    case 'xmit':
      return m.sentSlots === undefined
        ? [K_XMIT, m.vm, m.queue, wireBatch(m.batch)]
        : [K_XMIT, m.vm, m.queue, wireBatch(m.batch), m.sentFrames ?? 0, m.sentSlots];
    case 'txpost':
      return [K_TXPOST, m.nicQueue, wireBatch(m.batch)];
    case 'txdone':
      return [K_TXDONE, m.nicQueue, wireBatch(m.batch)];
    case 'dealloc':
      if (m.freed === undefined) return [K_DEALLOC, m.vm, m.queue, m.frames, m.slots];
      return m.from === undefined ? [K_DEALLOC, m.vm, m.queue, m.frames, m.slots, m.freed] : [K_DEALLOC, m.vm, m.queue, m.frames, m.slots, m.freed, m.from];
    case 'uplink':
      return m.voided === true ? [K_UPLINK, m.port, wireBatch(m.batch), 1] : [K_UPLINK, m.port, wireBatch(m.batch)];
    case 'downlink':
      return [K_DOWNLINK, wireBatch(m.batch)];
  }
}

/**
 * A frame's header: who sends, to whom, in which run. Constant per link, so a sender encodes it once.
 * The result is a view into msgpackr's output slab that later encodes never overwrite.
 */
export function encodeFrameHeader(run: string, from: string, to: string): Uint8Array {
  return packr.pack([PROTOCOL_VERSION, run, from, to]);
}

/**
 * One envelope's body (everything but the header): a frame is a header and one or more bodies
 * back to back. Only [0, count) of a batch's columns is sent; the batch stays the sender's (its
 * packets were copied), so it may go back to the pool. The result is a view into msgpackr's output
 * slab that later encodes never overwrite: it may be kept until the frame is published.
 * @throws SplitnetError E_INTERNAL if a batch's count does not fit its columns (a sender bug).
 */
export function encodeEnvelopeBody(seq: number, t: Nanos, at: Nanos, m: Message): Uint8Array {
  return packr.pack([seq, t, at, wireMessage(m)]);
}

/**
 * A lockstep promise (docs/lockstep.md): partition `from` sends partition `to` nothing more due before `promise`.
 * It travels on the data subject of one link between the two (their channel), beside the frames: a receiver
 * tells it from a frame by its first bytes (`isLockstepPromise`).
 */
export interface LockstepPromise {
  readonly run: string;
  /** The channel's actors: the sender's (the subject names it) and the receiver's. */
  readonly from: string;
  readonly to: string;
  readonly promise: Nanos;
  /** Per link it used since its last promise: [from ref, to ref, last sequence number]. */
  readonly links: readonly (readonly [number, number, number])[];
  /**
   * When it was published, in the sender's wall-clock ms (performance.timeOrigin + performance.now(); 0: not said):
   * a diagnostic of the bus's one-way hop between processes of one machine, never part of the protocol's decisions.
   */
  readonly sentAtMs?: number;
}

/** The marker of a promise's layout: [LOCKSTEP_PROMISE, version, run, from, to, promise, links, sentAtMs]. */
const LOCKSTEP_PROMISE = 'promise';

export function encodeLockstepPromise(p: LockstepPromise): Uint8Array {
  return packr.pack([LOCKSTEP_PROMISE, PROTOCOL_VERSION, p.run, p.from, p.to, p.promise, p.links, p.sentAtMs ?? 0]);
}

/** Whether a message on a data subject is a promise rather than a frame: an 8-element array opening with the string "promise" (a frame's header is 4 elements opening with the version). */
export function isLockstepPromise(bytes: Uint8Array): boolean {
  return bytes[0] === 0x98 && bytes[1] === 0xa7;
}

const isRef = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < 1 << 16;

/** A promise, checked; or why it is refused (a message the receiver counts and never applies). */
export function decodeLockstepPromise(bytes: Uint8Array): LockstepPromise | string {
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch (e) {
    return `not a msgpack value: ${errorText(e)}`;
  }
  if (!Array.isArray(raw) || raw.length !== 8 || raw[0] !== LOCKSTEP_PROMISE) return `expected a promise, found ${show(raw)}`;
  const [, v, run, from, to, promise, links, sentAtMs] = raw as unknown[];
  if (v !== PROTOCOL_VERSION) return `protocol version ${show(v)}, expected ${PROTOCOL_VERSION}`;
  if (typeof run !== 'string' || !isValidActorId(from) || !isValidActorId(to)) return `run, from or to is not one: ${show(run)}, ${show(from)}, ${show(to)}`;
  if (typeof promise !== 'number' || !(promise >= 0)) return `promise: expected a time ≥ 0 ns, found ${show(promise)}`;
  if (
    !Array.isArray(links) ||
    !links.every((l) => Array.isArray(l) && l.length === 3 && isRef(l[0]) && isRef(l[1]) && Number.isSafeInteger(l[2]) && (l[2] as number) >= 1)
  )
    return `links: expected [from, to, seq] triples, found ${show(links)}`;
  if (typeof sentAtMs !== 'number' || !(sentAtMs >= 0)) return `sentAtMs: expected wall-clock ms ≥ 0, found ${show(sentAtMs)}`;
  return { run, from, to, promise, links: links as [number, number, number][], sentAtMs };
}

/** One envelope as a whole frame (header + body). */
export function encodeEnvelope(env: Envelope): Uint8Array {
  const header = encodeFrameHeader(env.run, env.from, env.to);
  const body = encodeEnvelopeBody(env.seq, env.t, env.at, env.m);
  const out = new Uint8Array(header.byteLength + body.byteLength);
  out.set(header, 0);
  out.set(body, header.byteLength);
  return out;
}

/** Internal control flow of validation: thrown and caught inside `decode` only, never escapes. */
class Rejection {
  constructor(
    readonly kind: RejectKind,
    readonly what: string,
  ) {}
}

function malformed(what: string): Rejection {
  return new Rejection('malformed', what);
}

function invalidBatch(what: string): Rejection {
  return new Rejection('invalid-batch', what);
}

/** A short, one-line rendering of an untrusted value for `lastError`. */
function show(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x);
  if (typeof x === 'bigint') return `${x}n`;
  if (x instanceof Uint8Array) return `${x.byteLength} bytes`;
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (typeof x === 'object' && x !== null) return `a ${Object.getPrototypeOf(x) === Object.prototype ? 'map' : (x.constructor?.name ?? 'object')}`;
  return String(x);
}

function errorText(e: unknown): string {
  const line = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ');
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}

/**
 * Did decoding run out of input? msgpackr flags such errors `incomplete`, but it flags every
 * RangeError too, and only a DataView read past the end ("…outside the bounds…") among those is
 * one: a stack overflow on hostile nesting or a typed-array extension of the wrong size is not.
 */
function ranOutOfInput(e: unknown): boolean {
  if (typeof e !== 'object' || e === null || Reflect.get(e, 'incomplete') !== true) return false;
  return !(e instanceof RangeError) || e.message.includes('bounds');
}

/** `x` as a msgpack array of exactly `length` elements. */
function tuple(x: unknown, length: number, what: string, kind: RejectKind): readonly unknown[] {
  if (!Array.isArray(x)) throw new Rejection(kind, `${what}: expected an array, found ${show(x)}`);
  if (x.length !== length) throw new Rejection(kind, `${what}: expected ${length} elements, found ${x.length}`);
  return x;
}

/** An index (queue, VM, port) or a free-running ring index: an integer in [0, 2^32). */
function uint32(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > U32_MAX) {
    throw malformed(`${what}: expected an integer in [0, 2^32), found ${show(x)}`);
  }
  return x;
}

/** A free-running count (frames, slots): an integer in [0, 2^53). */
function count(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw malformed(`${what}: expected a whole count in [0, 2^53), found ${show(x)}`);
  return x;
}

function bool(x: unknown, what: string): boolean {
  if (typeof x !== 'boolean') throw malformed(`${what}: expected a boolean, found ${show(x)}`);
  return x;
}

/** Emulated time: finite and not before the run started. */
function time(x: unknown, what: string): Nanos {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
    throw malformed(`${what}: expected a finite time ≥ 0 ns, found ${show(x)}`);
  }
  return x;
}

/** When something a message names happened (a ring set up, a batch issued): a time, and not after the message was sent at `t`. */
function sentBy(x: unknown, t: Nanos, what: string): Nanos {
  const at = time(x, what);
  if (at > t) throw malformed(`${what} = ${at} ns is after the send time t = ${t} ns`);
  return at;
}

/**
 * Validates and decodes the envelopes arriving at one actor (one decoder per receiver: sequence
 * numbers are tracked per sender). `decode` never throws: anything wrong returns null and is
 * counted by kind in `rejected`, with the latest reason in `lastError`.
 */
export class EnvelopeDecoder {
  readonly run: string;
  readonly limits: DecoderLimits;
  readonly rejected: Record<RejectKind, number> = {
    malformed: 0,
    truncated: 0,
    'wrong-run': 0,
    duplicate: 0,
    'invalid-batch': 0,
    misrouted: 0,
    spoofed: 0,
    'not-allowed': 0,
    'seq-jump': 0,
  };
  /** Packets in messages rejected after they decoded, by the sender they named (see rejectedPackets). */
  private readonly rejectedPacketsFrom = new Map<string, number>();
  /** Packets in accepted messages, by sender. */
  private readonly acceptedPacketsFrom = new Map<string, number>();
  /** Sequence numbers skipped, by sender. */
  private readonly gapsFrom = new Map<string, number>();
  /** The first rejection of each kind, as `lastError` words it. */
  private readonly firstErrors = new Map<RejectKind, string>();
  private acceptedCount = 0;
  private gapCount = 0;
  private lastErrorText: string | undefined = undefined;
  /**
   * Highest accepted seq per sender. Only accepted messages advance it (a corrupt seq cannot be
   * trusted), so a rejected message becomes a gap once its successor arrives.
   */
  private readonly lastSeq = new Map<string, number>();
  private readonly self: string | undefined;
  private readonly admit: ((from: string, m: Message) => string | undefined) | undefined;
  private readonly resumed: boolean;

  /** @throws SplitnetError E_USAGE on an invalid run id or limits (configuration, not input). */
  constructor(options: EnvelopeDecoderOptions) {
    const { run, limits } = options;
    this.self = options.self;
    this.admit = options.admit;
    this.resumed = options.resumed === true;
    if (!isValidRunId(run)) throw new SplitnetError('E_USAGE', `decoder: invalid run id ${JSON.stringify(run)}`);
    if (!Number.isInteger(limits.flows) || limits.flows < 1 || limits.flows > U32_MAX + 1) {
      throw new SplitnetError('E_USAGE', `decoder: limits.flows must be an integer in [1, 2^32], found ${String(limits.flows)}`);
    }
    if (!Number.isSafeInteger(limits.maxBatch) || limits.maxBatch < 1) {
      throw new SplitnetError('E_USAGE', `decoder: limits.maxBatch must be a positive integer, found ${String(limits.maxBatch)}`);
    }
    this.run = run;
    this.limits = Object.freeze({ flows: limits.flows, maxBatch: limits.maxBatch });
    this.pool = options.pool ?? new BatchPool();
  }

  /** The pool decoded batches are taken from (and rejected ones given back to). */
  readonly pool: BatchPool;

  /** Messages accepted so far. */
  get accepted(): number {
    return this.acceptedCount;
  }

  /** Sequence numbers skipped between accepted messages: lost on the way, or rejected here. */
  get gaps(): number {
    return this.gapCount;
  }

  /** One line on the most recent rejection: its kind, what was wrong, and the sender when known. */
  get lastError(): string | undefined {
    return this.lastErrorText;
  }

  /**
   * Packets in messages that decoded but were refused (replays, jumps, refused senders, misrouted or spoofed
   * frames), by the sender they named. What a real sender sent and was refused is dropped, not in flight; a
   * forger's packets were never emitted: the bus accounting tells the two apart by what the sender sent.
   */
  rejectedPackets(): ReadonlyMap<string, number> {
    return this.rejectedPacketsFrom;
  }

  /** Packets in accepted messages, by sender. */
  acceptedPackets(): ReadonlyMap<string, number> {
    return this.acceptedPacketsFrom;
  }

  /** Sequence numbers skipped between accepted messages, by sender. */
  gapsBySender(): ReadonlyMap<string, number> {
    return this.gapsFrom;
  }

  /** The first rejection of each kind (one line each, as `lastError`). */
  firstRejections(): ReadonlyMap<RejectKind, string> {
    return this.firstErrors;
  }

  /** A restarted sender's sequence starts at 1 again: the next message must be 1, not taken for a replay. */
  forgetSender(actorId: string): void {
    if (isValidActorId(actorId)) this.lastSeq.set(actorId, 0);
  }

  /**
   * The envelope in `bytes`, or null (counted in `rejected`). A returned batch comes from the
   * decoder's pool and belongs to the caller (`pool.release` when done); it shares no memory with `bytes`.
   */
  decode(bytes: Uint8Array, subjectSender?: string): Envelope | null {
    const envs = this.decodeFrame(bytes, subjectSender);
    return envs.length === 1 ? (envs[0] as Envelope) : null;
  }

  /**
   * Every envelope of a frame, in order (see the layout above); rejected ones are counted by kind.
   * A bad header rejects the whole frame, as one rejection. Bytes after the last complete body that
   * do not decode count as one rejection (truncated or malformed); the envelopes before them are
   * still returned. The array is reused by the next call: use it before decoding another frame.
   * Never throws.
   */
  decodeFrame(bytes: Uint8Array, subjectSender?: string): readonly Envelope[] {
    const out = this.frameOut;
    out.length = 0;
    if (bytes.byteLength === 0) {
      this.reject('truncated', 'an empty frame', undefined);
      return out;
    }
    let header = true;
    let from: string | undefined;
    let bodies = 0;
    try {
      packr.unpackMultiple(bytes, (raw: unknown) => {
        if (header) {
          header = false;
          from = this.header(raw, subjectSender);
          // A bad header makes the rest meaningless: stop reading (counted once).
          return from !== undefined;
        }
        bodies++;
        const env = this.body(raw, from as string);
        if (env !== null) out.push(env);
        return true;
      });
      if (!header && from !== undefined && bodies === 0) this.reject('truncated', 'a frame header without any envelope', from);
    } catch (e) {
      const where = header ? 'not a msgpack value' : `not a msgpack value after the frame header and ${bodies} envelope(s)`;
      this.reject(ranOutOfInput(e) ? 'truncated' : 'malformed', `${where}: ${errorText(e)}`, from);
    }
    return out;
  }

  private readonly frameOut: Envelope[] = [];
  /** The receiver the current frame's header names. */
  private frameTo = '';

  /**
   * The sender named by a valid frame header, or undefined (counted). `subjectSender`: the sender the subject
   * named (the bus's permissions vouch for it where the bus has them); the header must agree.
   */
  private header(raw: unknown, subjectSender: string | undefined): string | undefined {
    let from: string | undefined;
    try {
      if (!Array.isArray(raw)) throw malformed(`expected a frame header array, found ${show(raw)}`);
      // The version first: another version may have another layout.
      if (raw[0] !== PROTOCOL_VERSION) throw malformed(`protocol version ${show(raw[0])}, expected ${PROTOCOL_VERSION}`);
      const [, run, sender, to] = tuple(raw, 4, 'frame header', 'malformed');
      if (typeof run !== 'string') throw malformed(`run: expected a string, found ${show(run)}`);
      // A sender with a sequence entry was validated when first accepted: skip the pattern match.
      if (typeof sender === 'string' && (this.lastSeq.has(sender) || isValidActorId(sender))) from = sender;
      if (run !== this.run) throw new Rejection('wrong-run', `run ${show(run)}, expected ${JSON.stringify(this.run)}`);
      if (from === undefined) throw malformed(`from: expected an actor id, found ${show(sender)}`);
      if (typeof to !== 'string') throw malformed(`to: expected an actor id, found ${show(to)}`);
      if (subjectSender !== undefined && from !== subjectSender) {
        throw new Rejection('spoofed', `the header names sender ${show(from)} but it came on ${JSON.stringify(subjectSender)}'s subject`);
      }
      if (this.self !== undefined && to !== this.self) throw new Rejection('misrouted', `addressed to ${show(to)}, received by ${this.self}`);
      this.frameTo = to;
      return from;
    } catch (e) {
      if (e instanceof Rejection) this.reject(e.kind, e.what, from);
      else this.reject('malformed', `decoder fault: ${errorText(e)}`, from);
      return undefined;
    }
  }

  /** Validate one envelope body from `from`. */
  private body(raw: unknown, from: string): Envelope | null {
    try {
      const [seq, rawT, rawAt, rawM] = tuple(raw, 4, 'envelope', 'malformed');
      if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
        throw malformed(`seq: expected an integer ≥ 1, found ${show(seq)}`);
      }
      const t = time(rawT, 't');
      const at = time(rawAt, 'at');
      if (at < t) throw malformed(`at = ${at} ns is before the send time t = ${t} ns`);
      const m = this.message(rawM, t);
      const refused = this.admit?.(from, m);
      if (refused !== undefined) return this.refuse('not-allowed', refused, from, m);
      const known = this.lastSeq.get(from);
      // A restarted receiver takes a sender's first message as where its sequence is.
      const last = known ?? (this.resumed ? seq - 1 : 0);
      if (seq <= last) return this.refuse('duplicate', `seq ${seq} ≤ ${last}, the last accepted`, from, m);
      if (seq - last > MAX_SEQ_JUMP)
        return this.refuse('seq-jump', `seq ${seq} is ${seq - last} past ${last}, the last accepted (at most ${MAX_SEQ_JUMP} may be missing)`, from, m);
      if (seq > last + 1) {
        this.gapCount += seq - last - 1;
        this.gapsFrom.set(from, (this.gapsFrom.get(from) ?? 0) + seq - last - 1);
      }
      this.lastSeq.set(from, seq);
      this.acceptedCount++;
      // Received frames only (packetsIn), as senders count them: a guest's transmitted frames are the transmit path's.
      if ('batch' in m) this.acceptedPacketsFrom.set(from, (this.acceptedPacketsFrom.get(from) ?? 0) + packetsIn(m));
      return { v: PROTOCOL_VERSION, run: this.run, from, to: this.frameTo, seq, t, at, m };
    } catch (e) {
      if (e instanceof Rejection) return this.reject(e.kind, e.what, from);
      // A bug here must not take the actor down with it; it still shows up as a counted reason.
      return this.reject('malformed', `decoder fault: ${errorText(e)}`, from);
    }
  }

  private reject(kind: RejectKind, what: string, from: string | undefined): null {
    this.rejected[kind]++;
    this.lastErrorText = `${kind}: ${what} (from ${from ?? 'an unknown sender'})`;
    if (!this.firstErrors.has(kind)) this.firstErrors.set(kind, this.lastErrorText);
    return null;
  }

  /** A message that decoded but is refused: its batch goes back to the pool, its packets are counted against its sender. */
  private refuse(kind: RejectKind, what: string, from: string, m: Message): null {
    if ('batch' in m) {
      this.rejectedPacketsFrom.set(from, (this.rejectedPacketsFrom.get(from) ?? 0) + packetsIn(m));
      this.pool.release(m.batch);
    }
    return this.reject(kind, what, from);
  }

  /** The message of an envelope sent at `t`. Scalars are checked before any packet is copied. */
  private message(x: unknown, t: Nanos): Message {
    if (!Array.isArray(x)) throw malformed(`m: expected a message array, found ${show(x)}`);
    const kind: unknown = x[0];
    switch (kind) {
      case K_DMA: {
        const [, nicQueue, irq, issuedAt, batch] = tuple(x, 5, 'dma', 'malformed');
        const scalars = { nicQueue: uint32(nicQueue, 'dma.nicQueue'), irq: bool(irq, 'dma.irq'), issuedAt: sentBy(issuedAt, t, 'dma.issuedAt') };
        return { kind: 'dma', ...scalars, batch: this.batch(batch, t) };
      }
      case K_POLL: {
        const [, nicQueue, issuedAt] = tuple(x, 3, 'poll', 'malformed');
        return { kind: 'poll', nicQueue: uint32(nicQueue, 'poll.nicQueue'), issuedAt: sentBy(issuedAt, t, 'poll.issuedAt') };
      }
      case K_RX: {
        const [, vm, queue, batch] = tuple(x, 4, 'rx', 'malformed');
        return { kind: 'rx', vm: uint32(vm, 'rx.vm'), queue: uint32(queue, 'rx.queue'), batch: this.batch(batch, t) };
      }
      case K_RSP: {
        const [, vm, queue, rspProd, reqEvent, batch] = tuple(x, 6, 'rsp', 'malformed');
        return {
          kind: 'rsp',
          vm: uint32(vm, 'rsp.vm'),
          queue: uint32(queue, 'rsp.queue'),
          rspProd: uint32(rspProd, 'rsp.rspProd'),
          reqEvent: uint32(reqEvent, 'rsp.reqEvent'),
          batch: this.batch(batch, t),
        };
      }
      case K_EVT: {
        const [, vm, port] = tuple(x, 3, 'evt', 'malformed');
        return { kind: 'evt', vm: uint32(vm, 'evt.vm'), port: uint32(port, 'evt.port') };
      }
      case K_REQ: {
        const [, vm, queue, reqProd, rspEvent, rspProdSeen, notify] = tuple(x, 7, 'req', 'malformed');
        return {
          kind: 'req',
          vm: uint32(vm, 'req.vm'),
          queue: uint32(queue, 'req.queue'),
          reqProd: uint32(reqProd, 'req.reqProd'),
          rspEvent: uint32(rspEvent, 'req.rspEvent'),
          rspProdSeen: uint32(rspProdSeen, 'req.rspProdSeen'),
          notify: bool(notify, 'req.notify'),
        };
      }
      case K_RECONNECT: {
        const [, vm, queue] = tuple(x, 3, 'reconnect', 'malformed');
        return { kind: 'reconnect', vm: uint32(vm, 'reconnect.vm'), queue: uint32(queue, 'reconnect.queue') };
      }
      case K_RING: {
        const [, vm, queue, reqProd, rspEvent, rspProdSeen, newRing, ringAt, txRenewed] = tuple(
          x,
          Array.isArray(x) && x.length === 9 ? 9 : 8,
          'ring',
          'malformed',
        );
        return {
          kind: 'ring',
          vm: uint32(vm, 'ring.vm'),
          queue: uint32(queue, 'ring.queue'),
          reqProd: uint32(reqProd, 'ring.reqProd'),
          rspEvent: uint32(rspEvent, 'ring.rspEvent'),
          rspProdSeen: uint32(rspProdSeen, 'ring.rspProdSeen'),
          newRing: bool(newRing, 'ring.newRing'),
          ringAt: sentBy(ringAt, t, 'ring.ringAt'),
          ...(txRenewed !== undefined && bool(txRenewed, 'ring.txRenewed') ? { txRenewed: true } : {}),
        };
      }
      case K_CONNECTED: {
        const [, vm, queue, ringAt] = tuple(x, 4, 'connected', 'malformed');
        return { kind: 'connected', vm: uint32(vm, 'connected.vm'), queue: uint32(queue, 'connected.queue'), ringAt: sentBy(ringAt, t, 'connected.ringAt') };
      }
      default:
        return this.txMessage(x, t);
    }
  }

  /** A message of the transmit path (a guest's frames on their way out), or an unknown kind. */
  private txMessage(x: readonly unknown[], t: Nanos): Message {
    const kind: unknown = x[0];
    switch (kind) {
      case K_TXREQ: {
        const [, vm, queue, reqProd, rspEvent, rspProdSeen, notify, batch] = tuple(x, 8, 'txreq', 'malformed');
        const scalars = {
          vm: uint32(vm, 'txreq.vm'),
          queue: uint32(queue, 'txreq.queue'),
          reqProd: uint32(reqProd, 'txreq.reqProd'),
          rspEvent: uint32(rspEvent, 'txreq.rspEvent'),
          rspProdSeen: uint32(rspProdSeen, 'txreq.rspProdSeen'),
          notify: bool(notify, 'txreq.notify'),
        };
        return { kind: 'txreq', ...scalars, batch: this.batch(batch, t) };
      }
      case K_TXRSP: {
        const [, vm, queue, rspProd, reqEvent] = tuple(x, 5, 'txrsp', 'malformed');
        return {
          kind: 'txrsp',
          vm: uint32(vm, 'txrsp.vm'),
          queue: uint32(queue, 'txrsp.queue'),
          rspProd: uint32(rspProd, 'txrsp.rspProd'),
          reqEvent: uint32(reqEvent, 'txrsp.reqEvent'),
        };
      }
      case K_XMIT: {
        const [, vm, queue, batch, sentFrames, sentSlots] = tuple(x, x.length === 6 ? 6 : 4, 'xmit', 'malformed');
        const scalars = { vm: uint32(vm, 'xmit.vm'), queue: uint32(queue, 'xmit.queue') };
        const sent = x.length === 6 ? { sentFrames: count(sentFrames, 'xmit.sentFrames'), sentSlots: count(sentSlots, 'xmit.sentSlots') } : {};
        return { kind: 'xmit', ...scalars, ...sent, batch: this.batch(batch, t) };
      }
      case K_TXPOST: {
        const [, nicQueue, batch] = tuple(x, 3, 'txpost', 'malformed');
        return { kind: 'txpost', nicQueue: uint32(nicQueue, 'txpost.nicQueue'), batch: this.batch(batch, t) };
      }
      case K_TXDONE: {
        const [, nicQueue, batch] = tuple(x, 3, 'txdone', 'malformed');
        return { kind: 'txdone', nicQueue: uint32(nicQueue, 'txdone.nicQueue'), batch: this.batch(batch, t) };
      }
      case K_UPLINK: {
        // A fourth element, 1: the frames never left (UplinkMessage.voided).
        const [, port, batch, voided] = Array.isArray(x) && x.length === 4 ? tuple(x, 4, 'uplink', 'malformed') : tuple(x, 3, 'uplink', 'malformed');
        if (voided !== undefined && voided !== 1) throw malformed(`uplink.voided: expected 1, found ${show(voided)}`);
        // A voided uplink is sent as the NIC flushes its frames, ahead of the times their last bits would have left (their
        // emittedAt, the switch's key for them): those need only be times (finite, ≥ 0), not before the message's.
        const m = { kind: 'uplink', port: uint32(port, 'uplink.port'), batch: this.batch(batch, voided === 1 ? Number.MAX_VALUE : t) } as const;
        return voided === 1 ? { ...m, voided: true } : m;
      }
      case K_DOWNLINK: {
        const [, batch] = tuple(x, 2, 'downlink', 'malformed');
        return { kind: 'downlink', batch: this.batch(batch, t) };
      }
      case K_DEALLOC: {
        const n = Array.isArray(x) && (x.length === 6 || x.length === 7) ? x.length : 5;
        const [, vm, queue, frames, slots, freed, from] = tuple(x, n, 'dealloc', 'malformed');
        return {
          kind: 'dealloc',
          vm: uint32(vm, 'dealloc.vm'),
          queue: uint32(queue, 'dealloc.queue'),
          frames: uint32(frames, 'dealloc.frames'),
          slots: uint32(slots, 'dealloc.slots'),
          ...(n >= 6 ? { freed: count(freed, 'dealloc.freed') } : {}),
          ...(n === 7 ? { from: uint32(from, 'dealloc.from') } : {}),
        };
      }
      default:
        throw malformed(`m: unknown message kind ${show(kind)}`);
    }
  }

  /**
   * A batch's TCP columns into `out`, each header checked: flags only of the known bits, sequence and ACK numbers
   * and the window whole byte counts in [0, 2^53), a payload no longer than its frame. A bad one gives `out` back.
   */
  private tcpColumns(out: MutableBatch, count: number, cols: unknown): void {
    const fail = (what: string): never => {
      this.pool.release(out);
      throw invalidBatch(what);
    };
    if (!(cols instanceof Uint8Array)) return fail(`batch.tcp: expected bytes, found ${show(cols)}`);
    if (cols.byteLength !== count * WIRE_TCP_BYTES_PER_PACKET) {
      return fail(`batch.tcp: ${cols.byteLength} bytes for count ${count}, expected ${count * WIRE_TCP_BYTES_PER_PACKET}`);
    }
    const dv = new DataView(cols.buffer, cols.byteOffset, cols.byteLength);
    const tcp = tcpColumnsOf(out);
    const offset = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= MAX_TCP_OFFSET;
    for (let i = 0; i < count; i++) {
      const seq = dv.getFloat64(8 * i, true);
      const ack = dv.getFloat64(8 * (count + i), true);
      const window = dv.getFloat64(8 * (2 * count + i), true);
      const payload = dv.getUint32(24 * count + 4 * i, true);
      const flags = dv.getUint8(28 * count + i);
      if ((flags & ~TCP_FLAG_BITS) !== 0) fail(`batch.tcp.flags[${i}] = ${flags}: expected bits of ${TCP_FLAG_BITS}`);
      if (!offset(seq) || !offset(ack) || !offset(window))
        fail(`batch.tcp[${i}]: seq ${seq}, ack ${ack}, window ${window}: expected whole byte counts in [0, 2^53)`);
      if (payload > (out.len[i] as number)) fail(`batch.tcp.payload[${i}] = ${payload} bytes in a ${out.len[i] as number}-byte frame`);
      tcp.seq[i] = seq;
      tcp.ack[i] = ack;
      tcp.window[i] = window;
      tcp.payload[i] = payload;
      tcp.flags[i] = flags;
    }
  }

  /**
   * A message's batch, copied once into a pooled batch. Sizes are checked before a batch is taken
   * from the pool; a bad packet afterwards gives it back.
   */
  private batch(x: unknown, t: Nanos): MutableBatch {
    const withTcp = Array.isArray(x) && x.length === 3;
    const [count, cols, tcpCols] = withTcp ? tuple(x, 3, 'batch', 'invalid-batch') : tuple(x, 2, 'batch', 'invalid-batch');
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw invalidBatch(`batch.count: expected an integer ≥ 0, found ${show(count)}`);
    }
    if (count > this.limits.maxBatch) throw invalidBatch(`batch.count ${count} exceeds the limit of ${this.limits.maxBatch}`);
    if (!(cols instanceof Uint8Array)) throw invalidBatch(`batch.cols: expected bytes, found ${show(cols)}`);
    if (cols.byteLength !== count * WIRE_BYTES_PER_PACKET) {
      throw invalidBatch(`batch.cols: ${cols.byteLength} bytes for count ${count}, expected ${count * WIRE_BYTES_PER_PACKET}`);
    }

    // One pass reads each packet from the input (a view, no copy yet), checks it, and writes it
    // into the pooled batch: the one copy of packet data on receipt.
    const out = this.pool.take(count);
    const { flow, seq, len, emittedAt } = out;
    const dv = new DataView(cols.buffer, cols.byteOffset, cols.byteLength);
    const flowAt = 8 * count;
    const seqAt = 12 * count;
    const lenAt = 16 * count;
    const flows = this.limits.flows;
    for (let i = 0; i < count; i++) {
      const e = dv.getFloat64(8 * i, true);
      const f = dv.getUint32(flowAt + 4 * i, true);
      const l = dv.getUint16(lenAt + 2 * i, true);
      // A packet cannot leave before it arrived at the NIC: emittedAt ≤ t. Written as
      // !(0 ≤ e ≤ t) so that NaN fails too; t is finite, so ±Infinity fails as well.
      if (f >= flows || l === 0 || !(e >= 0 && e <= t)) {
        this.pool.release(out);
        if (f >= flows) throw invalidBatch(`batch.flow[${i}] = ${f}, but the scenario has ${flows} flows`);
        if (l === 0) throw invalidBatch(`batch.len[${i}] = 0: a frame has at least a header`);
        throw invalidBatch(`batch.emittedAt[${i}] = ${e} ns: expected a time in [0, t = ${t}]`);
      }
      emittedAt[i] = e;
      flow[i] = f;
      seq[i] = dv.getUint32(seqAt + 4 * i, true);
      len[i] = l;
    }
    if (withTcp) this.tcpColumns(out, count, tcpCols);
    out.count = count;
    return out;
  }
}
