// A partition process's code warm-up: its own partition of the scenario rehearsed alone, before it says hello, so that the timed run starts with compiled code.
import type { Message, Nanos } from '@splitnet/model';
import { senderRulesFor } from '@splitnet/controller';
import type { CompiledScenario } from '@splitnet/scenario';
import { decodeLockstepPromise, encodeEnvelopeBody, encodeFrameHeader, encodeLockstepPromise, EnvelopeDecoder } from '@splitnet/transport';
import { fabricDecoderLimits, fabricSenderRule } from './fabric-rules.js';
import { PartitionEngine } from './partition-engine.js';

/** What the rehearsal did, for the partition's log. */
export interface RehearsalResult {
  readonly emulatedMs: number;
  readonly wallMs: number;
  readonly windows: number;
  readonly sent: number;
  /** The receive path's warm-up (rehearseReceiving): its neighbours' messages to it decoded, promises encoded and decoded, its wall time. */
  readonly received: number;
  readonly promises: number;
  readonly receiveMs: number;
}

/** The receive path's warm-up: each neighbour rehearsed for at most this much emulated time and wall time. */
const NEIGHBOUR_NS: Nanos = 5_000_000;
const NEIGHBOUR_WALL_MS = 200;
/** At most this many of the neighbours' messages kept, decoded again and again for at most this wall time; promises (within twice it, decoding included). */
const RECEIVE_KEPT = 2000;
const RECEIVE_WALL_MS = 200;
const RECEIVE_DECODES = 20_000;
const PROMISES = 4000;

/** The rehearsal's run id on the frames and promises it decodes itself. */
const REHEARSAL_RUN = 'rehearsal';

/** Emulated time rehearsed per step (ns): the wall budget is checked between steps. */
const STEP: Nanos = 1_000_000;

/**
 * Why: a fresh Node process runs the datapath in V8's interpreter and baseline code for its first second or so of work,
 * which lands inside the timed run (measured: a 20 ms run of 2 partitions at 5.9 % of sim, 100 ms at 6.4 %). As live's
 * actors do (`live.codeWarmup`), a partition rehearses before it announces itself: a fresh engine of its own partition
 * (fresh actors, the same scenario) runs alone — its neighbours unheard, what it would send them encoded into wire
 * bodies and dropped — up to `emulated` ns or `wallBudgetMs` of wall time, whichever comes first. Nothing of it is
 * kept: the run's engine is another, so the results are the same with or without it.
 */
export function rehearsePartition(s: CompiledScenario, index: number, emulated: Nanos, wallBudgetMs: number): RehearsalResult {
  const t0 = performance.now();
  let sent = 0;
  const engine = new PartitionEngine(s, index, {
    send: (_to, _from, _toRef, seq, at, due, msg) => {
      encodeEnvelopeBody(seq, at, due, msg);
      sent++;
    },
    promise: () => {},
    sample: () => {},
  });
  const until = Math.min(emulated, s.duration);
  let windows = 0;
  for (let t = STEP; engine.reached < until && performance.now() - t0 < wallBudgetMs; t += STEP) {
    engine.rehearseUntil = Math.min(t, until);
    if (engine.advance()) windows++;
  }
  const receive = rehearseReceiving(s, engine);
  return { emulatedMs: engine.reached / 1e6, wallMs: Math.round(performance.now() - t0), windows, sent, ...receive };
}

/** A neighbour's messages to one actor of this partition, encoded as their frame's parts. */
interface Kept {
  readonly from: string;
  readonly to: string;
  readonly bodies: Uint8Array[];
}

/**
 * The receive path's code warm-up. What a partition does with what arrives — decoding a neighbour's frame (its kinds
 * of message, batches included) and its promise — runs a few hundred times in a 100 ms run, too few for the
 * optimising compiler, and it is on the chain of windows between two partitions (docs/lockstep.md#how-fast): traced,
 * 50–170 µs a hop where a compiled decoding takes ~5 µs. The partition's own rehearsal sends only its own kinds (a
 * host's uplinks; the switch's downlinks), so each neighbour's partition is rehearsed alone too, briefly, its
 * messages to this partition kept and then decoded again and again, as the wire decodes them (a fresh decoder each
 * pass: their sequence numbers start over), and promises encoded and decoded. Nothing of it is kept.
 */
function rehearseReceiving(s: CompiledScenario, own: PartitionEngine): Pick<RehearsalResult, 'received' | 'promises' | 'receiveMs'> {
  const t0 = performance.now();
  const g = own.g;
  const kept = new Map<string, Kept>();
  let n = 0;
  for (const q of own.hearsFrom) {
    const e = new PartitionEngine(s, q, {
      send: (to, from, toRef, seq, at, due, msg) => {
        if (to !== own.index || n >= RECEIVE_KEPT) return;
        const key = `${from}>${toRef}`;
        let k = kept.get(key);
        if (k === undefined) kept.set(key, (k = { from: g.all[from]?.id as string, to: g.all[toRef]?.id as string, bodies: [] }));
        k.bodies.push(encodeEnvelopeBody(seq, at, due, msg));
        n++;
      },
      promise: () => {},
      sample: () => {},
    });
    const until = Math.min(NEIGHBOUR_NS, s.duration);
    const start = performance.now();
    for (let t = STEP; e.reached < until && performance.now() - start < NEIGHBOUR_WALL_MS; t += STEP) {
      e.rehearseUntil = Math.min(t, until);
      e.advance();
    }
  }
  const admitOf = 'hosts' in g ? fabricSenderRule : senderRulesFor(g);
  const limits = fabricDecoderLimits(s);
  const frames = [...kept.values()].map((k) => ({ ...k, bytes: frameOf(encodeFrameHeader(REHEARSAL_RUN, k.from, k.to), k.bodies) }));
  let received = 0;
  const decodeStart = performance.now();
  while (frames.length > 0 && received < RECEIVE_DECODES && performance.now() - decodeStart < RECEIVE_WALL_MS) {
    for (const f of frames) {
      const self = f.to;
      const d = new EnvelopeDecoder({ run: REHEARSAL_RUN, limits, pool: g.pool, self, admit: (from: string, m: Message) => admitOf(from, self, m) });
      for (const env of d.decodeFrame(f.bytes, f.from)) {
        received++;
        if ('batch' in env.m) g.pool.release(env.m.batch);
      }
    }
  }
  const [from, to] = [g.all[0]?.id ?? 'a', g.all[1]?.id ?? 'b'];
  let promises = 0;
  for (; promises < PROMISES && performance.now() - decodeStart < 2 * RECEIVE_WALL_MS; promises++) {
    const links: [number, number, number][] = [[0, 1, promises + 1]];
    decodeLockstepPromise(
      encodeLockstepPromise({ run: REHEARSAL_RUN, from, to, promise: promises, links, sentAtMs: performance.timeOrigin + performance.now() }),
    );
  }
  return { received, promises, receiveMs: Math.round(performance.now() - t0) };
}

/** A frame: its header, then its bodies in order. */
function frameOf(header: Uint8Array, bodies: readonly Uint8Array[]): Uint8Array {
  const frame = new Uint8Array(bodies.reduce((a, b) => a + b.byteLength, header.byteLength));
  frame.set(header, 0);
  let at = header.byteLength;
  for (const b of bodies) {
    frame.set(b, at);
    at += b.byteLength;
  }
  return frame;
}
