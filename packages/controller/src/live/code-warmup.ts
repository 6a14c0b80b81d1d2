// Code warm-up of an actor process: a short rehearsal of the run's datapath before the process says it is ready.
import { releaseBatch } from '@splitnet/model';
import type { ActorRef, Message, Nanos } from '@splitnet/model';
import { SimRuntime } from '@splitnet/runtime';
import type { CompiledScenario } from '@splitnet/scenario';
import { encodeEnvelope, EnvelopeDecoder, PROTOCOL_VERSION } from '@splitnet/transport';
import { buildActors } from '../build.js';
import { decoderLimitsFor, linkDelayFor } from './links.js';

export interface CodeWarmupResult {
  /** Messages the rehearsal put through the wire codec. */
  readonly messages: number;
  /** Messages the decoder rejected: always 0 unless the codec and the actors disagree (a bug). */
  readonly rejected: number;
  readonly cpuMs: number;
}

/**
 * Why: a fresh Node process runs the datapath in V8's interpreter and baseline code for its first
 * second or two while the optimising compiler catches up. In a live run that start-up cost lands
 * inside emulated time: at TDF 1 measured here, every process fell ~1 s behind at the start (while
 * they kept up after it), so short runs were invalid and early packets were dropped in the backlog.
 *
 * What: before the process announces itself, it plays `emulated` ns of the same scenario in `sim`
 * with fresh actors of every role (the actors it will host and those it talks to, with the same
 * shapes of data), and puts every message they exchange through the wire codec: encoded into a
 * frame and decoded and validated, as in the run. Nothing of the rehearsal is kept: its actors are
 * dropped and the run's actors have not been touched, so results are the same with or without it;
 * only the process's start-up takes longer (and its compiled code is warm).
 */
export function warmUpCode(s: CompiledScenario, emulated: Nanos): CodeWarmupResult {
  const cpu0 = process.cpuUsage();
  if (emulated <= 0) return { messages: 0, rejected: 0, cpuMs: 0 };
  const g = buildActors({ ...s, faults: [] });
  const ids = g.all.map((a) => a.id);
  const run = 'warmup';
  const limits = decoderLimitsFor(s);
  const decoders = ids.map(() => new EnvelopeDecoder({ run, limits }));
  const seqs = new Map<number, number>();
  let messages = 0;
  const tap = (from: ActorRef, to: ActorRef, msg: Message, at: Nanos, due: Nanos): void => {
    const link = from * 65536 + to;
    const seq = (seqs.get(link) ?? 0) + 1;
    seqs.set(link, seq);
    const frame = encodeEnvelope({ v: PROTOCOL_VERSION, run, from: ids[from] as string, seq, t: at, at: due, m: msg });
    for (const env of (decoders[to] as EnvelopeDecoder).decodeFrame(frame)) {
      if ('batch' in env.m) releaseBatch(env.m.batch);
      messages++;
    }
  };
  const rt = new SimRuntime({ linkDelay: linkDelayFor(g, s), tap });
  for (const actor of g.all) rt.add(actor);
  rt.run(Math.min(emulated, s.duration));
  let rejected = 0;
  for (const d of decoders) for (const v of Object.values(d.rejected)) rejected += v;
  const c = process.cpuUsage(cpu0);
  return { messages, rejected, cpuMs: Math.round((c.user + c.system) / 1000) };
}
