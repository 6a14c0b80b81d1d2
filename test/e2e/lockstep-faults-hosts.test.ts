// Lockstep end to end with a multi-host scenario's faults and an external source: switch-port faults, a host paused or killed, and faults on one host's actors and links, each applied in the partition that owns the port or the actors, give sim's result files byte for byte.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, scenarioFile, tmp } from './live-helpers.js';

const FILES = ['summary.json', 'metrics.jsonl', 'events.jsonl', 'latency.json'];

/** Run the scenario in sim and in lockstep with the processes placement, check the four files are the same; sim's directory. */
async function sameAsSim(t: ExecutionContext, text: string): Promise<string> {
  const file = scenarioFile(text);
  const simDir = join(tmp(), 'sim');
  const lsDir = join(tmp(), 'lockstep');
  const sim = await run(['run', file, '--out', simDir, '-q']);
  t.is(sim.code, 0, sim.stderr);
  const ls = await run(['run', file, '--runtime', 'lockstep', '--placement', 'processes', '--out', lsDir, '-q']);
  t.is(ls.code, 0, ls.stderr);
  for (const f of FILES) t.is(readFileSync(join(lsDir, f), 'utf8'), readFileSync(join(simDir, f), 'utf8'), f);
  return simDir;
}

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
  const simDir = await sameAsSim(t, SCENARIO);
  // The faults acted: the lossy port dropped frames toward host 1, and the pause took its port down; the source sent.
  const summary = JSON.parse(readFileSync(join(simDir, 'summary.json'), 'utf8')) as {
    fabric: { ports: { drops: Record<string, number> }[]; sources: { sent: number }[] };
  };
  t.true((summary.fabric.sources[0]?.sent ?? 0) > 0, JSON.stringify(summary.fabric.sources));
  const port1 = summary.fabric.ports[1]?.drops ?? {};
  t.true((port1['switch-port-loss'] ?? 0) > 0, JSON.stringify(port1));
  t.true((port1['switch-port-down'] ?? 0) > 0, JSON.stringify(port1));
});

/** Three hosts: message faults on links inside hosts 0 and 1, host 0's receiving guest killed and restarted, then host 2 (which only receives) killed and restarted 100 us later. */
const ACTOR_FAULTS = `name: lockstep-hosts-actor-faults-e2e
seed: 4
duration: 1ms
warmup: 200us
hosts: 3
fabric: { delay: 2us }
topology: { vms: { count: 2, queues: 1 }, workers: 1 }
traffic:
  - { from: h0.vm.0, to: h1.vm.0, protocol: udp, rate: 2Gbps }
  - { from: h1.vm.0, to: h0.vm.1, protocol: udp, rate: 1Gbps }
  - { from: h0.vm.0, to: h2.vm.0, protocol: udp, rate: 1Gbps }
  - { from: external, to: h2.vm.1, protocol: udp, rate: 2Gbps }
faults:
  - { id: drop, at: 300us, target: 'h1.link:backend>worker:0', action: drop-messages, kinds: [rx], duration: 100us }
  - { id: dup, at: 300us, target: 'h0.link:vm:*>worker:*', action: duplicate-messages, duration: 300us }
  - { id: crash-vm, at: 400us, target: h0.vm.1, action: kill, restartAfter: 100us }
  - { id: crash-h2, at: 700us, target: h2, action: kill, restartAfter: 100us }
`;

test("lockstep faults hosts - message faults inside two hosts, a host's receiving guest killed and restarted, and a host killed and restarted: processes placement (a partition per host) writes summary, metrics, events and latency byte-identical to sim", async (t) => {
  const simDir = await sameAsSim(t, ACTOR_FAULTS);
  // The faults acted: rx batches dropped on host 1, frames lost in host 0's guest's crash, host 2's port dark.
  const summary = JSON.parse(readFileSync(join(simDir, 'summary.json'), 'utf8')) as {
    hosts: { drops: Record<string, number> }[];
    fabric: { ports: { drops: Record<string, number> }[] };
    faults: { restarts: number };
  };
  t.true((summary.hosts[1]?.drops['link-drop'] ?? 0) > 0, JSON.stringify(summary.hosts[1]?.drops));
  t.true((summary.hosts[0]?.drops['lost-in-crash'] ?? 0) > 0, JSON.stringify(summary.hosts[0]?.drops));
  t.true((summary.fabric.ports[2]?.drops['switch-port-down'] ?? 0) > 0, JSON.stringify(summary.fabric.ports[2]));
  t.is(summary.faults.restarts, 1 + 5); // host 0's guest, and host 2's five actors (its NIC reset among them)
});

/** Three hosts: host 0's guest that sends across the switch killed and restarted, host 1's worker serving a sender restarted, then host 0 (whose guest sends) killed and restarted 100 us later. */
const SENDER_FAULTS = `name: lockstep-hosts-sender-faults-e2e
seed: 5
duration: 1ms
warmup: 200us
hosts: 3
fabric: { delay: 2us }
topology: { vms: { count: 2, queues: 1 }, workers: 1 }
traffic:
  - { from: h0.vm.0, to: h1.vm.0, protocol: udp, rate: 3Gbps }
  - { from: h1.vm.1, to: h2.vm.0, protocol: udp, rate: 1Gbps }
  - { from: external, to: h2.vm.1, protocol: udp, rate: 2Gbps }
faults:
  - { id: crash-sender, at: 300us, target: h0.vm.0, action: kill, restartAfter: 100us }
  - { id: restart-worker, at: 400us, target: h1.worker.0, action: restart }
  - { id: crash-h0, at: 600us, target: h0, action: kill, restartAfter: 100us }
`;

test("lockstep faults hosts - restarts beside guests that send: a sender across the switch killed, a sender's worker restarted, the sender's host killed and restarted: processes placement (a partition per host) writes summary, metrics, events and latency byte-identical to sim", async (t) => {
  const simDir = await sameAsSim(t, SENDER_FAULTS);
  // The faults acted: host 0's transmit path lost frames in its crashes, host 1's in its worker's restart; every accounting balanced.
  const summary = JSON.parse(readFileSync(join(simDir, 'summary.json'), 'utf8')) as {
    hosts: { tx?: { drops: Record<string, number> }; accounting: { balanced: boolean; tx?: { balanced: boolean } } }[];
    accounting: { balanced: boolean; fabric?: { balanced: boolean } };
    faults: { restarts: number };
  };
  t.true((summary.hosts[0]?.tx?.drops['lost-in-crash'] ?? 0) > 0, JSON.stringify(summary.hosts[0]?.tx));
  t.true(summary.accounting.balanced && summary.accounting.fabric?.balanced === true, JSON.stringify(summary.accounting));
  for (const h of summary.hosts) t.true(h.accounting.balanced && h.accounting.tx?.balanced !== false, JSON.stringify(h.accounting));
  t.is(summary.faults.restarts, 1 + 1 + 5); // host 0's guest, host 1's worker, host 0's five actors (its NIC reset among them)
});

/** Two hosts: a TCP stream from host 0 into host 1 and an rr client on host 1 of a server on host 0; the stream's receiver restarted at once, then host 1 killed and restarted 100 us later. */
const TCP_FAULTS = `name: lockstep-hosts-tcp-faults-e2e
seed: 6
duration: 1ms
warmup: 200us
hosts: 2
fabric: { delay: 2us }
topology: { vms: { count: 2, queues: 1 }, workers: 1 }
traffic:
  - { name: bulk, from: h0.vm.0, to: h1.vm.0, flows: 1, tcp: { rcvbuf: 65536 } }
  - { name: rr, from: h1.vm.1, to: h0.vm.1, flows: 1, rr: { request: 64, response: 64 } }
faults:
  - { id: restart-receiver, at: 300us, target: h1.vm.0, action: restart }
  - { id: crash-h1, at: 600us, target: h1, action: kill, restartAfter: 100us }
`;

test("lockstep faults hosts - restarts beside TCP connections across the switch: a stream's receiver restarted (its RSTs cross the fabric, the sender reconnects), then the host of that receiver and of an rr client killed and restarted (the client reconnects): processes placement (a partition per host) writes summary, metrics, events and latency byte-identical to sim", async (t) => {
  const simDir = await sameAsSim(t, TCP_FAULTS);
  const summary = JSON.parse(readFileSync(join(simDir, 'summary.json'), 'utf8')) as {
    tcp: { flows: { workload: string; resets?: number; reconnects?: number; rstSent?: number }[] };
    accounting: { balanced: boolean; fabric?: { balanced: boolean } };
  };
  const [bulk, rr] = summary.tcp.flows;
  t.like(bulk, { workload: 'bulk', resets: 1, reconnects: 1 });
  t.true((bulk?.rstSent ?? 0) > 0, JSON.stringify(bulk));
  t.like(rr, { workload: 'rr', resets: 0, reconnects: 1 });
  t.true(summary.accounting.balanced && summary.accounting.fabric?.balanced === true, JSON.stringify(summary.accounting));
});

/** Three hosts: the NIC of host 0 (whose guest sends across the switch) killed and restarted, host 1's NIC (receiving across the switch) crash-looped, then host 2's worker cut off from its host's others. */
const DRIVER_DOMAIN_FAULTS = `name: lockstep-hosts-driver-domain-e2e
seed: 6
duration: 1ms
warmup: 200us
hosts: 3
fabric: { delay: 2us }
topology: { vms: { count: 2, queues: 1 }, workers: 1 }
traffic:
  - { from: h0.vm.0, to: h1.vm.0, protocol: udp, rate: 6Gbps }
  - { from: h1.vm.1, to: h2.vm.0, protocol: udp, rate: 1Gbps }
  - { from: external, to: h2.vm.1, protocol: udp, rate: 2Gbps }
faults:
  - { id: crash-h0-nic, at: 300us, target: h0.nic, action: kill, restartAfter: 100us }
  - { id: loop-h1-nic, at: 450us, target: h1.nic, action: crash-loop, restartAfter: 50us, repeat: { every: 150us, count: 2 } }
  - { id: cut-h2-worker, at: 700us, target: h2.worker.0, action: partition, duration: 100us }
`;

test("lockstep faults hosts - a host's driver domain killed alone and crash-looped, and a host's worker cut off: processes placement (a partition per host) writes summary, metrics, events and latency byte-identical to sim", async (t) => {
  const simDir = await sameAsSim(t, DRIVER_DOMAIN_FAULTS);
  // The faults acted: host 0's queued frames lost with its NIC, host 1's port without carrier while its NIC was dead, host 2's cut; all balanced.
  const summary = JSON.parse(readFileSync(join(simDir, 'summary.json'), 'utf8')) as {
    hosts: { drops: Record<string, number>; tx?: { drops: Record<string, number> }; accounting: { balanced: boolean; tx?: { balanced: boolean } } }[];
    fabric: { ports: { drops: Record<string, number> }[] };
    accounting: { balanced: boolean; fabric?: { balanced: boolean } };
    faults: { restarts: number };
  };
  t.true((summary.hosts[0]?.tx?.drops['lost-in-crash'] ?? 0) > 0, JSON.stringify(summary.hosts[0]?.tx));
  t.true((summary.fabric.ports[1]?.drops['switch-port-down'] ?? 0) > 0, JSON.stringify(summary.fabric.ports[1]));
  t.true((summary.hosts[2]?.drops['link-drop'] ?? 0) > 0, JSON.stringify(summary.hosts[2]?.drops));
  t.true(summary.accounting.balanced && summary.accounting.fabric?.balanced === true, JSON.stringify(summary.accounting));
  for (const h of summary.hosts) t.true(h.accounting.balanced && h.accounting.tx?.balanced !== false, JSON.stringify(h.accounting));
  t.is(summary.faults.restarts, 2 + 2 * 2); // the driver domain is two actors (NIC and back end): host 0's once, host 1's twice
});
