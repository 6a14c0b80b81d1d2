// Live runs a multi-host scenario: two hosts and the switch as processes over NATS, results per host and per switch port, the accounting balanced in every host and across the fabric, throughput as sim's.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSim } from '@splitnet/controller';
import { compileScenarioText } from '@splitnet/scenario';
import type { Summary } from '@splitnet/results';
import { AGREEMENT_TOLERANCE, completed, processesOf, run, scenarioFile, tmp } from './live-helpers.js';

/** Two hosts of two guests; each host's vm.1 sends 1 Gbit/s of UDP to a guest on the other host (east–west both ways, through the switch). */
const TWO_HOSTS = `name: two-hosts
seed: 3
duration: 6ms
warmup: 1ms
hosts: 2
fabric: { delay: 2us }
topology: { link: 10Gbps, vms: { count: 2, queues: 1 }, workers: 1 }
traffic:
  - { name: east, from: h1.vm.1, to: h0.vm.0, protocol: udp, rate: 1Gbps, flows: 1 }
  - { name: west, from: h0.vm.1, to: h1.vm.0, protocol: udp, rate: 1Gbps, flows: 1 }
live: { tdf: 2000 }
`;

test.serial(
  'live hosts - two hosts per actor with placement processes: the switch a process of its own, hosts[] and fabric in the summary, every host and the fabric balanced, throughput within the live tolerance of sim, nothing left behind',
  async (t) => {
    const out = join(tmp(), 'run');
    const runId = `hosts-${process.pid}`;
    const r = await run(['run', scenarioFile(TWO_HOSTS), '--runtime', 'live', '--placement', 'processes', '--run-id', runId, '--out', out, '-q']);
    // Exit 3 (invalid) is a complete run too: the auto bound here is the 1 µs floor (the fabric's frame time is 1.23 µs), which a loaded machine misses.
    t.true(completed(r), r.stderr + r.stdout);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    t.is(s.runtime, 'live');
    t.is(s.live?.processes, 9, 'per host: NIC+back end, one worker, two guests (4 each); and the switch');
    t.true(readdirSync(join(out, 'logs')).includes('switch.log'));
    t.deepEqual(
      s.hosts?.map((h) => h.host),
      ['h0', 'h1'],
    );
    t.deepEqual(
      s.fabric?.ports.map((p) => p.host),
      ['h0', 'h1'],
    );
    // Balanced both ways (receive and transmit paths) in each host and in the whole run, and across the fabric.
    t.true(s.accounting.balanced, JSON.stringify(s.accounting));
    t.true(s.accounting.tx?.balanced, JSON.stringify(s.accounting.tx));
    for (const h of s.hosts ?? []) t.true(h.accounting.balanced, `${h.host}: ${JSON.stringify(h.accounting)}`);
    t.true(s.fabric?.accounting.balanced, JSON.stringify(s.fabric?.accounting));
    t.is(s.fabric?.accounting.unaccounted, 0);
    // Frames crossed the switch both ways.
    for (const p of s.fabric?.ports ?? []) t.true(p.forwarded > 0, `port ${p.port} forwarded ${p.forwarded}`);
    // Throughput agrees with sim: within ±2 % for a valid run (docs/live.md, "Agreement with sim"). An invalid one's
    // packets cross the window's edges up to its lag late, so it is held to ±2 % plus its p99 lag's share of the window.
    const sim = runSim(compileScenarioText(TWO_HOSTS, '<test>')).summary;
    const rel = (s.throughput.gbps - sim.throughput.gbps) / sim.throughput.gbps;
    const lagShare = s.live?.valid === true ? 0 : (s.live?.processingLagUs.p99 ?? 0) / (((s.windowMs[1] ?? 0) - (s.windowMs[0] ?? 0)) * 1000);
    t.true(
      Math.abs(rel) <= AGREEMENT_TOLERANCE.gbps + lagShare,
      `live ${s.throughput.gbps} Gbit/s, sim ${sim.throughput.gbps} (${(rel * 100).toFixed(1)} %; valid ${String(s.live?.valid)}, lag share ${(lagShare * 100).toFixed(1)} %)`,
    );
    t.deepEqual(processesOf(runId), [], 'no actor process or nats-server left behind');
  },
);
