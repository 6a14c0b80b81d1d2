// Code warm-up of an actor process: a short rehearsal of the run's datapath before the process says it is ready.
import { MESSAGE_ROUTES } from '@splitnet/model';
import type { ActorRef, Logger, Message, Nanos } from '@splitnet/model';
import { SimRuntime } from '@splitnet/runtime';
import { DilatedClock, systemWallClock } from './dilated-clock.js';
import { LiveHost } from './live-host.js';
import type { CompiledScenario } from '@splitnet/scenario';
import { encodeEnvelope, EnvelopeDecoder, MemoryBus, PROTOCOL_VERSION } from '@splitnet/transport';
import { buildActors, decoderLimitsFor, linkDelayFor, senderRulesFor } from '@splitnet/controller';
import type { ActorGraph } from '@splitnet/controller';

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
  // No warm-up period in the rehearsal: code that only runs once the run's warm-up is over (the front
  // end's latency histogram) must be compiled too, or its first use mid-run throws the optimised
  // datapath back to the interpreter.
  const g = buildActors({ ...s, faults: [], warmup: 0 });
  const ids = g.all.map((a) => a.id);
  const run = 'warmup';
  const limits = decoderLimitsFor(s);
  const rules = senderRulesFor(g);
  const decoders = ids.map((self) => new EnvelopeDecoder({ run, limits, pool: g.pool, self, admit: (from, m) => rules(from, self, m) }));
  const seqs = new Map<number, number>();
  let messages = 0;
  const tap = (from: ActorRef, to: ActorRef, msg: Message, at: Nanos, due: Nanos): void => {
    // What never crosses the bus in a run (the NIC and its driver share a process) is not rehearsed on it.
    if (!MESSAGE_ROUTES[msg.kind].bus) return;
    const link = from * 65536 + to;
    const seq = (seqs.get(link) ?? 0) + 1;
    seqs.set(link, seq);
    const sender = ids[from] as string;
    const frame = encodeEnvelope({ v: PROTOCOL_VERSION, run, from: sender, to: ids[to] as string, seq, t: at, at: due, m: msg });
    for (const env of (decoders[to] as EnvelopeDecoder).decodeFrame(frame, sender)) {
      if ('batch' in env.m) g.pool.release(env.m.batch);
      messages++;
    }
  };
  const rt = new SimRuntime({ linkDelay: linkDelayFor(g, s), tap, pool: g.pool });
  for (const actor of g.all) rt.add(actor);
  rt.run(Math.min(emulated, s.duration));
  let rejected = 0;
  for (const d of decoders) for (const v of Object.values(d.rejected)) rejected += v;
  const c = process.cpuUsage(cpu0);
  return { messages, rejected, cpuMs: Math.round((c.user + c.system) / 1000) };
}

/**
 * Emulated time the live rehearsal starts at, when the run is longer. Times in ns pass 2^30 (V8's small
 * integers) after 1.07 s and 2^31 (int32 arithmetic) after 2.15 s: code compiled for the smaller values
 * is thrown away there, mid-run, in every process (seen as bursts of deoptimisations at those marks).
 * Rehearsing beyond both compiles the datapath for the values it meets for most of a run.
 */
export const REHEARSAL_FROM: Nanos = 2.5e9;

/** Wall time the live path is rehearsed for (see rehearseLivePath). */
export const LIVE_REHEARSAL_MS = 200;

export interface LiveRehearsalResult {
  /** Events the rehearsal's live hosts processed. */
  readonly events: number;
  /** Emulated time the rehearsal started at (REHEARSAL_FROM, or 0 for a run too short for it). */
  readonly fromNs: Nanos;
  readonly cpuMs: number;
}

/**
 * The second half of the code warm-up: the live runtime's own path, which the `sim` rehearsal does not
 * touch. Measured at TDF 1: with only the actors and the codec warm, each process still fell 0.1–1 s
 * behind in the first seconds of a run while V8 compiled the host's pump, frame building and decoding
 * path; with this rehearsal the first second delivered 2–3× more and the lag p99 of the window roughly
 * halved. Every actor of the scenario, fresh, runs in its own LiveHost over an in-memory bus, in real time
 * (TDF 1) for `wallMs`: pumps, frames, decoding, the event queue, timers — as in the run, in one process.
 * (Messages round the process's own NATS connection, to warm the client too, made no measurable
 * difference, and the deployment's NATS permissions give a role no subject it may both publish and
 * subscribe to.) As with warmUpCode, nothing of it is kept: its actors are dropped, the run's untouched.
 */
export async function rehearseLivePath(s: CompiledScenario, wallMs = LIVE_REHEARSAL_MS): Promise<LiveRehearsalResult> {
  const cpu0 = process.cpuUsage();
  // Where the rehearsal's emulated time starts (see REHEARSAL_FROM): late in the run if the run is long.
  const from = s.duration > REHEARSAL_FROM + wallMs * 1e6 ? REHEARSAL_FROM : 0;
  const g = buildActors({ ...s, faults: [], warmup: 0 });
  const hosts = perActorHostsOnMemoryBus(s, g, {
    runId: 'warmup',
    tdf: 1,
    // The whole rehearsal is measured, its second half as the second half of a run's window: every
    // path of the host's lag accounting is compiled (a path first taken mid-run deoptimises the pump:
    // the likely cause of a dip in throughput and a burst of drops seen at TDF 1 at the window's midpoint).
    duration: Math.min(s.duration, from + wallMs * 1e6),
    measureFrom: from,
    // Both kinds of sample, with and without the front ends' latency histograms (see actor-process.ts).
    fullReportEvery: 2,
  });
  // The run's own clock object (see systemWallClock).
  const clock = systemWallClock;
  for (const h of hosts) {
    h.attach();
    h.done.catch(() => {}); // the rehearsal keeps nothing, not even a failure: the run would meet it and report it
  }
  // Emulated time `from` is now: the hosts join there as restarted ones do (the NIC replays its traffic up to it).
  const epoch = new DilatedClock(clock, 1).epochWhereNowIs(from);
  for (const h of hosts) h.start(epoch, from > 0);
  await new Promise((r) => setTimeout(r, wallMs));
  let events = 0;
  for (const h of hosts) {
    events += h.eventsProcessed;
    h.close();
  }
  const c = process.cpuUsage(cpu0);
  return { events, fromNs: from, cpuMs: Math.round((c.user + c.system) / 1000) };
}

/**
 * Every actor of `g` in a LiveHost of its own over a fresh in-memory bus, grouped as a run groups them per actor: the
 * NIC and its driver share a host (their messages never cross the bus), every other actor has its own. The hosts use
 * the run's clock object (systemWallClock) and sender rules, and sample as a run does (the reports dropped). Not yet
 * attached or started. The rehearsal above runs them; test/bench/live-path-cost.ts measures them.
 */
export function perActorHostsOnMemoryBus(
  s: CompiledScenario,
  g: ActorGraph,
  o: { readonly runId: string; readonly tdf: number; readonly duration: Nanos; readonly measureFrom: Nanos; readonly fullReportEvery: number },
): LiveHost[] {
  const ids = g.all.map((a) => a.id);
  const bus = new MemoryBus();
  const admit = senderRulesFor(g);
  const groups = [[g.refs.nic, g.refs.backend], ...g.all.map((_, ref) => [ref]).filter(([ref]) => ref !== g.refs.nic && ref !== g.refs.backend)];
  return groups.map(
    (refs) =>
      new LiveHost({
        runId: o.runId,
        transport: bus.connect(ids[refs[0] as number] as string),
        clock: systemWallClock,
        tdf: o.tdf,
        actorIds: ids,
        local: refs.map((ref) => ({ ref, actor: g.all[ref] as (typeof g.all)[number] })),
        admit,
        linkDelay: linkDelayFor(g, s),
        limits: decoderLimitsFor(s),
        pool: g.pool,
        duration: o.duration,
        measureFrom: o.measureFrom,
        // Samples as in the run (their reports are dropped here): the sample path meets the same large times.
        sampleInterval: s.sampleInterval,
        onSample: () => {},
        fullReportEvery: o.fullReportEvery,
      }),
  );
}

/**
 * The code warm-up of one OS process (`live.codeWarmup`), done once: actors placed `inprocess` share one
 * process and its compiled code. Whoever owns the process (the CLI's actor command, the inprocess
 * placement) holds one and hands it to every actor host it starts in that process.
 */
export class ProcessWarmup {
  private done = false;

  /** Rehearse the scenario's datapath unless this process already did (a no-op when `live.codeWarmup` is 0). */
  async once(s: CompiledScenario, logger: Logger): Promise<void> {
    if (s.live.codeWarmup <= 0 || this.done) return;
    this.done = true;
    const w = warmUpCode(s, s.live.codeWarmup);
    const l = await rehearseLivePath(s);
    logger.info('code warm-up', { emulatedMs: s.live.codeWarmup / 1e6, messages: w.messages, cpuMs: w.cpuMs, liveEvents: l.events, liveCpuMs: l.cpuMs });
    if (w.rejected > 0) logger.warn('code warm-up: the wire codec rejected messages the actors sent', { rejected: w.rejected });
  }
}
