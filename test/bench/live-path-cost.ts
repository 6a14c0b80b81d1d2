// The live runtime's CPU per packet without NATS or processes: every actor in a LiveHost of its own over an in-memory bus, in this one process.
//
// Run: npx tsc -b && node test/dist/bench/live-path-cost.js [--tdf 1] [--ms 1500] [--gbps 15] [--rounds 2]
//
// What it measures: the bench scenario's real-time variant (1 VM × 4 queues, 4 vRSS workers, 1518-byte frames),
// its actors grouped as a run groups them per actor (the NIC with its driver, every other actor alone), exchanging
// frames as a live run does — encoding, frames, decoding and validation, the sender rules, sequence numbers, the
// bus accounting, the event queue, samples — but over the in-memory bus, so the figure is the CPU time of our own
// path per offered packet, free of the machine's wake-ups and of nats-server. Beside it, `sim` of the same
// scenario in the same process: the model's share. CPU time (process.cpuUsage), not wall time, so a loaded machine
// changes it less than it changes a real-time run; still, alternate runs when comparing two trees. At TDF 1 one
// process may fall behind the whole datapath (its frames then grow, as a lagging live process's do); --tdf 20 keeps
// up, with small frames.

import { parseArgs } from 'node:util';
import { buildActors, runSim } from '@splitnet/controller';
import { perActorHostsOnMemoryBus, systemWallClock } from '@splitnet/live';
import { compileScenarioText } from '@splitnet/scenario';

const { values } = parseArgs({
  options: {
    tdf: { type: 'string', default: '1' },
    ms: { type: 'string', default: '1500' },
    gbps: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '2' },
  },
});
const tdf = Number(values.tdf);
const ms = Number(values.ms);
const gbps = Number(values.gbps);
const rounds = Number(values.rounds);
for (const [name, v] of [
  ['--tdf', tdf],
  ['--ms', ms],
  ['--gbps', gbps],
  ['--rounds', rounds],
] as const) {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
}

const yaml = `name: live-path-cost
duration: ${ms}ms
warmup: ${Math.round(ms * 0.3)}ms
topology: { link: 40Gbps, vms: { count: 1, queues: 4, ringSize: 32768 }, workers: 4, vrss: per-flow, steering: flow-hash }
traffic: [ { flows: 64, rate: ${gbps}Gbps, size: 1518 } ]
`;
const s = compileScenarioText(yaml, 'live-path-cost.yaml');
const offered = ((gbps * 1e9) / ((1518 + 20) * 8)) * (ms / 1e3);
const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;

/** One live round: CPU ms, wall ms, frames and envelopes published, events processed. */
async function liveRound(): Promise<{ cpu: number; wall: number; frames: number; envelopes: number; events: number }> {
  const hosts = perActorHostsOnMemoryBus(s, buildActors(s), { runId: 'live-path-cost', tdf, duration: s.duration, measureFrom: s.warmup, fullReportEvery: 13 });
  for (const h of hosts) h.attach();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const epoch = systemWallClock.nowMs() + 20;
  for (const h of hosts) h.start(epoch);
  await Promise.all(hosts.map((h) => h.done));
  const cpu = cpuMs(process.cpuUsage(c0));
  const wall = performance.now() - t0;
  let frames = 0;
  let envelopes = 0;
  let events = 0;
  for (const h of hosts) {
    const f = h.final();
    frames += f.framesSent;
    envelopes += f.envelopesSent;
    events += f.eventsProcessed;
    h.close();
  }
  return { cpu, wall, frames, envelopes, events };
}

console.log(`live path cost: ${ms} ms emulated at ${gbps} Gbit/s (${(offered / 1e6).toFixed(2)} M packets offered), TDF ${tdf}, ${rounds} round(s) each`);
for (let r = 1; r <= rounds; r++) {
  const c0 = process.cpuUsage();
  runSim(s);
  const sim = cpuMs(process.cpuUsage(c0));
  const l = await liveRound();
  console.log(
    `  round ${r}: sim ${((sim * 1e3) / offered).toFixed(3)} µs/packet; live path ${((l.cpu * 1e3) / offered).toFixed(3)} µs/packet ` +
      `(${Math.round(l.cpu)} ms CPU in ${Math.round(l.wall)} ms wall; ${l.frames} frames, ${(l.envelopes / Math.max(1, l.frames)).toFixed(1)} envelopes each; ${l.events} events)`,
  );
}
