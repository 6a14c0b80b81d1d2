// Lockstep end to end with a multi-host scenario's faults and an external source: a switch-port fault, a host pause and a host's worker stall, each applied in the partition that owns the port or the actors, and the source in the switch's, give sim's result files byte for byte.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, scenarioFile, tmp } from './live-helpers.js';

const FILES = ['summary.json', 'metrics.jsonl', 'events.jsonl', 'latency.json'];

/** Two hosts, a stream each way across the switch and one from an external source into host 1; host 1's port loses frames (its partition is not the switch's) while its worker stalls, then host 1 pauses. */
const SCENARIO = `name: lockstep-hosts-faults-e2e
seed: 3
duration: 1ms
warmup: 200us
hosts: 2
fabric: { delay: 2us }
topology: { vms: { count: 1, queues: 1 }, workers: 1 }
traffic:
  - { from: h0.vm.0, to: h1.vm.0, protocol: udp, rate: 2Gbps }
  - { from: h1.vm.0, to: h0.vm.0, protocol: udp, rate: 1Gbps }
  - { from: external, to: h1.vm.0, protocol: udp, rate: 2Gbps }
faults:
  - { id: lossy, at: 300us, target: 'switch:port:1', action: drop-messages, probability: 0.3, duration: 200us }
  - { id: stop, at: 600us, target: h1, action: pause, duration: 200us }
  - { id: stall, at: 300us, target: h1.worker.0, action: slow-worker, factor: 20, duration: 200us }
`;

test('lockstep faults hosts - a lossy switch port, a paused host, a stalled worker of that host and an external source: processes placement (a partition per host) writes summary, metrics, events and latency byte-identical to sim', async (t) => {
  const file = scenarioFile(SCENARIO);
  const simDir = join(tmp(), 'sim');
  const lsDir = join(tmp(), 'lockstep');
  const sim = await run(['run', file, '--out', simDir, '-q']);
  t.is(sim.code, 0, sim.stderr);
  const ls = await run(['run', file, '--runtime', 'lockstep', '--placement', 'processes', '--out', lsDir, '-q']);
  t.is(ls.code, 0, ls.stderr);
  for (const f of FILES) t.is(readFileSync(join(lsDir, f), 'utf8'), readFileSync(join(simDir, f), 'utf8'), f);
  // The faults acted: the lossy port dropped frames toward host 1, and the pause took its port down; the source sent.
  const summary = JSON.parse(readFileSync(join(simDir, 'summary.json'), 'utf8')) as {
    fabric: { ports: { drops: Record<string, number> }[]; sources: { sent: number }[] };
  };
  t.true((summary.fabric.sources[0]?.sent ?? 0) > 0, JSON.stringify(summary.fabric.sources));
  const port1 = summary.fabric.ports[1]?.drops ?? {};
  t.true((port1['switch-port-loss'] ?? 0) > 0, JSON.stringify(port1));
  t.true((port1['switch-port-down'] ?? 0) > 0, JSON.stringify(port1));
});
