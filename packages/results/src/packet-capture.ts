// A packet capture (--pcap): observes the datapath's points through PacketTap, puts the packets in time order and writes them as a pcapng file, bounded in size.
import { SplitnetError } from '@splitnet/model';
import type { Nanos, NicArrivalDrop, PacketTap, TcpHeader } from '@splitnet/model';
import type { CompiledScenario } from '@splitnet/scenario';
import type { CaptureInterface, CaptureSpec } from './capture-spec.js';
import { FrameHeaders } from './frame-headers.js';
import { HeldPackets } from './held-packets.js';
import {
  ENHANCED_PACKET_DATA_OFFSET,
  enhancedPacketBlockLength,
  EPB_FLAGS_INBOUND_UNICAST,
  interfaceDescriptionBlock,
  LINKTYPE_ETHERNET,
  sectionHeaderBlock,
  writeEnhancedPacketBlock,
} from './pcapng.js';

/** What a run's summary says of its capture (summary.json `pcap`). */
export interface CaptureSummary {
  /** One per --pcap, in the file's interface order: its name and the packets written to it. */
  readonly interfaces: readonly { readonly name: string; readonly frames: number }[];
  /** --pcap-window in ms ([from, null] without an end: the whole run). */
  readonly windowMs: readonly [number, number | null];
  /** Packets written (every interface), and the file's size in bytes. */
  readonly frames: number;
  readonly bytes: number;
  /** --pcap-max in bytes. */
  readonly maxBytes: number;
  /** Packets that matched but were left out because the file had reached maxBytes (0 if it did not). */
  readonly framesLeftOut: number;
  /** Emulated time (ms) of the first packet left out: the capture stopped there. Null if it did not stop. */
  readonly stoppedAtMs: number | null;
}

/** Which flows each interface keeps, and the queue its packets are shown on: the steering the actor graph uses. */
export interface FlowPlacement {
  /** Per flow: the NIC hardware RX queue (hardware RSS). */
  readonly nicQueue: ArrayLike<number>;
  /** Per flow: the queue of its VM's netfront that netback steers it to. */
  readonly guestQueue: ArrayLike<number>;
}

interface Iface {
  readonly index: number;
  readonly spec: CaptureInterface;
  /** Per flow: 1 if this interface keeps its packets. */
  readonly keeps: Uint8Array;
  /** Per flow: the queue shown (epb_queue). */
  readonly queueOf: ArrayLike<number>;
  frames: number;
}

/** Written to `write` in pieces of about this size. */
const CHUNK_BYTES = 1 << 20;
/** Packets held before the buffer is cut down to what the remaining size bound can take (at least). */
const MIN_PRUNE_AT = 1 << 16;
const utf8 = new TextEncoder();
/** The reasons a frame the NIC dropped is marked with: its drop code is 1 + the index here. */
const DROPS: readonly NicArrivalDrop[] = ['nic-ring-full', 'link-down'];
/** By drop code: the comment of a frame the NIC dropped, what a Wireshark filter finds (`frame.comment contains "nic-ring-full"`). */
const DROP_COMMENTS: readonly (Uint8Array | undefined)[] = [undefined, ...DROPS.map((r) => utf8.encode(`dropped: ${r}`))];

const DESCRIPTIONS: Readonly<Record<CaptureInterface['point'], string>> = {
  'nic-rx': 'each frame as its last bit reaches the NIC, before hardware RSS and the RX ring (frames the NIC dropped carry a comment); queue = NIC RX queue',
  'guest-rx': "each packet as netfront hands it to the guest's application (the end of its work in the NAPI poll); queue = netfront queue",
};

function describe(i: CaptureInterface): string {
  const sel = i.selector;
  const only = sel.kind === 'all' ? '' : sel.kind === 'flow' ? `; only flow ${sel.flow}` : `; only VM ${sel.vm}${sel.queue !== undefined ? ` queue ${sel.queue}` : ''}`;
  return `splitnet ${i.point}: ${DESCRIPTIONS[i.point]}${only}; emulated time`;
}

/**
 * The capture a sim run feeds: it is the actors' PacketTap, and the run tells it when a time is complete
 * (`flush(t)` after every actor reported at t) and when the run is over (`finish`). Packets are held until
 * their time is complete, then written in time order (ties in the order they were seen), so the file is a
 * function of the scenario, the seed and the flags: byte-identical run after run.
 *
 * Bounded by `spec.maxBytes`: the first packet, in time order, whose block would take the file past it
 * stops the capture; it and every later packet are counted (`framesLeftOut`) but not written. What is held
 * in memory is at most the packets of one sample interval, and never much more than the bound could take.
 * `write` is given each piece of the file in order and must consume it before it returns (the buffer is reused).
 */
export class PacketCapture implements PacketTap {
  private readonly headers: FrameHeaders;
  private readonly ifaces: Iface[] = [];
  private nicIfaces: readonly Iface[] = [];
  private guestIfaces: readonly Iface[] = [];
  private readonly head: Uint8Array;
  private readonly held = new HeldPackets();
  /** When `held` is cut down to what the bound can still take. */
  private pruneAt: number;
  /** The earliest packet known to be left out by a cut (Infinity: none); later ones are left out as they come. */
  private cutAt = Infinity;
  private stoppedAt: Nanos | null = null;
  private leftOut = 0;
  /** Bytes of the file so far: given to `write`, or in the current piece. */
  private bytes = 0;
  private readonly chunk = new Uint8Array(CHUNK_BYTES);
  private readonly view = new DataView(this.chunk.buffer);
  private used = 0;
  private begun = false;

  constructor(
    private readonly s: CompiledScenario,
    private readonly spec: CaptureSpec,
    private readonly write: (bytes: Uint8Array) => void,
  ) {
    this.headers = new FrameHeaders(s.traffic.flows, s.traffic.generators, s.seed);
    this.head = this.headerBlocks();
    if (this.head.length > spec.maxBytes) {
      throw new SplitnetError('E_USAGE', `--pcap-max ${spec.maxText}: smaller than the file's own header blocks (${this.head.length} bytes)`);
    }
    const smallest = enhancedPacketBlockLength(this.headers.headerLengthRange()[0], 0);
    this.pruneAt = Math.max(MIN_PRUNE_AT, 2 * Math.ceil(spec.maxBytes / smallest));
  }

  /** The section header and one interface description per --pcap. */
  private headerBlocks(): Uint8Array {
    const s = this.s;
    const snapLen = this.headers.headerLengthRange()[1];
    const blocks = [
      sectionHeaderBlock({
        userAppl: 'splitnet',
        comment: `${s.name}, seed ${s.seed}: emulated frames at their emulated time (ns since the run started); synthetic headers from the flow table, no payload`,
      }),
      ...this.spec.interfaces.map((i) =>
        interfaceDescriptionBlock({
          linkType: LINKTYPE_ETHERNET,
          snapLen,
          name: i.name,
          description: describe(i),
          ...(i.point === 'nic-rx' ? { speedBps: s.topology.linkGbps * 1e9 } : {}),
        }),
      ),
    ];
    const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of blocks) {
      out.set(b, at);
      at += b.length;
    }
    return out;
  }

  /** Before the run: which flows each interface keeps (from the graph's steering), and the file's header blocks. */
  begin(placement: FlowPlacement): void {
    const flows = this.s.traffic.flows;
    this.spec.interfaces.forEach((spec, index) => {
      const keeps = new Uint8Array(flows.length);
      const sel = spec.selector;
      for (const f of flows) {
        const take = sel.kind === 'all' || (sel.kind === 'flow' ? f.id === sel.flow : f.vm === sel.vm && (sel.queue === undefined || placement.guestQueue[f.id] === sel.queue));
        keeps[f.id] = take ? 1 : 0;
      }
      this.ifaces.push({ index, spec, keeps, queueOf: spec.point === 'nic-rx' ? placement.nicQueue : placement.guestQueue, frames: 0 });
    });
    this.nicIfaces = this.ifaces.filter((i) => i.spec.point === 'nic-rx');
    this.guestIfaces = this.ifaces.filter((i) => i.spec.point === 'guest-rx');
    this.out(this.head);
    this.begun = true;
  }

  nicArrival(at: Nanos, flow: number, seq: number, len: number, drop: NicArrivalDrop | null, tcp?: TcpHeader): void {
    if (at < this.spec.window.from || at >= this.spec.window.to) return;
    for (const i of this.nicIfaces) if (i.keeps[flow] === 1) this.see(at, i.index, flow, seq, len, drop === null ? 0 : 1 + DROPS.indexOf(drop), tcp);
  }

  guestDelivery(at: Nanos, flow: number, seq: number, len: number, tcp?: TcpHeader): void {
    if (at < this.spec.window.from || at >= this.spec.window.to) return;
    for (const i of this.guestIfaces) if (i.keeps[flow] === 1) this.see(at, i.index, flow, seq, len, 0, tcp);
  }

  private see(at: Nanos, iface: number, flow: number, seq: number, len: number, drop: number, tcp: TcpHeader | undefined): void {
    if (!this.begun) throw new SplitnetError('E_INTERNAL', 'a packet capture saw a packet before begin()');
    // At or after a packet already left out, a packet is left out too (a tie comes after: it was seen later).
    if (this.stoppedAt !== null || at >= this.cutAt) {
      this.leftOut++;
      return;
    }
    this.held.push(at, iface, flow, seq, len, drop, tcp);
    if (this.held.length >= this.pruneAt) this.prune();
  }

  /** Bytes the block of held row k takes in the file. */
  private blockLength(k: number): number {
    const h = this.held;
    return enhancedPacketBlockLength(this.headers.headerLength(h.flow[k] as number), DROP_COMMENTS[h.drop[k] as number]?.length ?? 0);
  }

  /**
   * Cut the held packets down to what the bound can still take: in time order, the packets after the
   * first that does not fit can never be written (whatever comes later is either later, or earlier and
   * pushes them further out).
   */
  private prune(): void {
    const held = this.held;
    held.sort();
    let room = this.spec.maxBytes - this.bytes;
    let k = 0;
    for (; k < held.length; k++) {
      room -= this.blockLength(k);
      if (room < 0) break;
    }
    if (k < held.length) {
      this.cutAt = held.at[k] as number;
      this.leftOut += held.length - k;
      held.length = k;
    }
    this.pruneAt = Math.max(MIN_PRUNE_AT, 2 * held.length);
  }

  /**
   * Every packet of time before `t` has been seen (every actor reported at t): write them. Returns true
   * when this made the capture stop at its size bound (the run records an event).
   */
  flush(t: Nanos): boolean {
    if (this.stoppedAt !== null) return false;
    const held = this.held;
    held.sort();
    let k = 0;
    for (; k < held.length; k++) {
      const at = held.at[k] as number;
      if (at >= t) break;
      const n = this.blockLength(k);
      if (this.bytes + n > this.spec.maxBytes) {
        this.stop(at, held.length - k);
        return true;
      }
      this.writePacket(k, n);
    }
    held.keepFrom(k);
    if (this.cutAt < t) {
      // Everything before the packet a cut left out is written: the capture stopped there.
      this.stop(this.cutAt, 0);
      return true;
    }
    return false;
  }

  private stop(at: Nanos, heldLeftOut: number): void {
    this.stoppedAt = at;
    this.leftOut += heldLeftOut;
    this.held.clear();
  }

  /** Write held row k, whose block takes n bytes. */
  private writePacket(k: number, n: number): void {
    if (this.used + n > this.chunk.length) this.drain();
    const h = this.held;
    const flow = h.flow[k] as number;
    const seq = h.seq[k] as number;
    const iface = this.ifaces[h.iface[k] as number] as Iface;
    const at = this.used;
    const shown = this.headers.write(this.view, this.chunk, at + ENHANCED_PACKET_DATA_OFFSET, flow, seq, h.len[k] as number, h.tcpAt(k));
    this.used = writeEnhancedPacketBlock(this.view, this.chunk, at, {
      interfaceId: iface.index,
      timestamp: Math.round(h.at[k] as number),
      capturedLength: this.headers.headerLength(flow),
      originalLength: shown,
      flags: EPB_FLAGS_INBOUND_UNICAST,
      packetIdHigh: flow,
      packetIdLow: seq,
      queue: iface.queueOf[flow] ?? 0,
      comment: DROP_COMMENTS[h.drop[k] as number],
    });
    this.bytes += n;
    iface.frames++;
  }

  /** Add whole blocks to the file. */
  private out(bytes: Uint8Array): void {
    if (this.used + bytes.length > this.chunk.length) this.drain();
    if (bytes.length > this.chunk.length) {
      this.write(bytes);
    } else {
      this.chunk.set(bytes, this.used);
      this.used += bytes.length;
    }
    this.bytes += bytes.length;
  }

  private drain(): void {
    if (this.used > 0) this.write(this.chunk.subarray(0, this.used));
    this.used = 0;
  }

  /** The run is over: write what is held and the last piece; what the summary says of the capture. */
  finish(): CaptureSummary {
    this.flush(Infinity);
    this.drain();
    const frames = this.ifaces.reduce((n, i) => n + i.frames, 0);
    const w = this.spec.window;
    return {
      interfaces: this.ifaces.map((i) => ({ name: i.spec.name, frames: i.frames })),
      windowMs: [w.from / 1e6, w.to === Infinity ? null : w.to / 1e6],
      frames,
      bytes: this.bytes,
      maxBytes: this.spec.maxBytes,
      framesLeftOut: this.leftOut,
      stoppedAtMs: this.stoppedAt === null ? null : Math.round(this.stoppedAt) / 1e6,
    };
  }

  /** When the capture stopped at its bound (emulated ns: the first packet left out), or null. */
  get stoppedAtNs(): Nanos | null {
    return this.stoppedAt === null ? null : Math.round(this.stoppedAt);
  }

  /** The size bound (--pcap-max), in bytes. */
  get maxBytes(): number {
    return this.spec.maxBytes;
  }
}
