// Test helpers of the live package: an inline scenario, compiled, and its sim run (what live results are checked against).
import { buildActors, linkDelayFor, runSim } from '@splitnet/controller';
import { MemoryBus } from '@splitnet/transport';
import type { WallClock } from '../src/dilated-clock.js';
import { LiveHost } from '../src/live-host.js';
import type { LiveHostOptions } from '../src/live-host.js';
import type { RunResult } from '@splitnet/results';
import { compileScenarioText } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';

export const scenario = (yaml: string, overrides: readonly string[] = []): CompiledScenario => compileScenarioText(yaml, '<test>', { overrides });

export const run = (yaml: string, overrides: readonly string[] = []): RunResult => runSim(scenario(yaml, overrides));

/** The Microsoft RSS sample key, the NIC's default (topology.rss.key). */
const SAMPLE_KEY = '6d5a56da 255b0ec2 4167253d 43a38fb0 d0ca2bcb ae7b30b4 77cb2da3 8030f20c 6a42b73b beac01fa';

/** Topology keys (inside a flow map) for the paper's vRSS under the NIC's own key: the flows the tests expect on each queue. */
export const PAPER_VRSS_NIC_KEY = `steering: toeplitz, toeplitz: { key: '${SAMPLE_KEY}', hashSlot: false }`;

/** The wall clock the live tests run hosts on. */
export const testClock: WallClock = { nowMs: () => performance.timeOrigin + performance.now() };

/**
 * Every actor of `s` in a LiveHost of its own on one in-memory bus, attached (not started), at `tdf`; `extra(ref)`
 * adds options per host (a batch window, diagnostics).
 */
export function hostsOnMemoryBus(
  s: CompiledScenario,
  runId: string,
  tdf: number,
  extra: (ref: number) => Partial<LiveHostOptions> = () => ({}),
): { hosts: LiveHost[]; bus: MemoryBus } {
  const g = buildActors(s);
  const bus = new MemoryBus();
  const ids = g.all.map((a) => a.id);
  const hosts = g.all.map(
    (actor, ref) =>
      new LiveHost({
        runId,
        transport: bus.connect(actor.id),
        clock: testClock,
        tdf,
        actorIds: ids,
        local: [{ ref, actor }],
        linkDelay: linkDelayFor(g, s),
        limits: { flows: s.traffic.flows.length, maxBatch: 1024 },
        duration: s.duration,
        measureFrom: s.warmup,
        sampleInterval: s.sampleInterval,
        ...extra(ref),
      }),
  );
  for (const h of hosts) h.attach();
  return { hosts, bus };
}
