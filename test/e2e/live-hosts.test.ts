// Live runs a multi-host scenario: two hosts and the switch as processes over NATS, results per host and per switch port, the accounting balanced in every host and across the fabric, throughput as sim's.
import test from 'ava';
import { spawnSync } from 'node:child_process';
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

/**
 * TWO_HOSTS with a host's own message, datapath and process faults — rx batches lost inside host 1, messages delayed, a
 * worker slowed, a guest paused and the worker cut off inside host 0 —, faults on the switch's ports — port 0 down, then port 1 lossy and port 0 delayed — and host 1
 * paused; 1 Gbit/s from outside into host 0's guest 1 (through its NIC, not the switch) goes on meanwhile.
 */
const TWO_HOSTS_FAULTS = `${TWO_HOSTS.replace('name: two-hosts', 'name: two-hosts-faults')
  .replace('duration: 6ms', 'duration: 5ms')
  .replace('traffic:\n', 'traffic:\n  - { name: wire-h0, to: h0.vm.1, rate: 1Gbps, flows: 1 }\n')}faults:
  - { id: drop-h1, at: 2ms, target: 'h1.link:backend>worker:*', action: drop-messages, probability: 0.5, duration: 1ms }
  - { id: delay-h0, at: 1.5ms, target: 'h0.link:worker:0>vm:0', action: delay-messages, delay: 20us, duration: 1ms }
  - { id: slow-h0, at: 2ms, target: h0.worker:0, action: slow-worker, factor: 3, duration: 1ms }
  - { id: down-p0, at: 1.2ms, target: switch:port:0, action: link-flap, duration: 200us }
  - { id: lossy-p1, at: 3.2ms, target: switch:port:1, action: drop-messages, probability: 0.5, duration: 500us }
  - { id: slow-p0, at: 3.2ms, target: switch:port:0, action: delay-messages, delay: 20us, duration: 500us }
  - { id: pause-h1, at: 4ms, target: h1, action: pause, duration: 500us }
  - { id: freeze-h0, at: 2.8ms, target: h0.vm:0, action: pause, duration: 200us }
  - { id: cut-h0, at: 3.3ms, target: h0.worker:0, action: partition, duration: 200us }
`;

/** The pids of run `runId`'s processes whose arguments hold `match` that `ps` shows stopped by a signal (state T), in one call. */
function stoppedOf(runId: string, match: string): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' }).stdout;
  return ps
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1]?.startsWith('T') === true && f.join(' ').includes(runId) && f.join(' ').includes(match))
    .map((f) => Number(f[0]));
}

/** Of a run's timeseries.csv, the sum of one entity's metric over the samples at t_ms in (from, to]. */
function seriesSum(csv: string, entity: string, metric: string, from: number, to: number): number {
  let sum = 0;
  for (const line of csv.trim().split('\n').slice(1)) {
    const [t, e, m, v] = line.split(',');
    if (e === entity && m === metric && Number(t) > from && Number(t) <= to) sum += Number(v);
  }
  return sum;
}

test.serial(
  "live hosts - a host's own message and datapath faults (messages dropped inside host 1, delayed inside host 0, host 0's worker slowed), a pause of host 0's guest 0 and a partition of its worker act in its processes: each host's link-drop its own, every host and the fabric balanced, each fault's recovery on its host's throughput; switch-port faults (port 0 down, port 1 lossy, port 0 delayed) act in the switch's process at their instants: drops counted at their port, the fabric balanced; host 1 paused: its processes stopped (SIGSTOP) and resumed, its port down meanwhile, its guest silent while host 0's went on",
  async (t) => {
    const out = join(tmp(), 'run-faults');
    const runId = `hosts-faults-${process.pid}`;
    const running = run(['run', scenarioFile(TWO_HOSTS_FAULTS), '--runtime', 'live', '--placement', 'processes', '--run-id', runId, '--out', out, '-q']);
    let finished = false;
    void running.then(() => (finished = true));
    // Watch host 1's processes until the run ends: the host's pause (1 s of wall time) must show each stopped by a signal.
    const stopped = new Set<number>();
    while (!finished) {
      for (const pid of stoppedOf(runId, '--id h1.')) stopped.add(pid);
      await new Promise((w) => setTimeout(w, 50));
    }
    const r = await running;
    t.true(completed(r), r.stderr + r.stdout);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    // The timeline as sim's: each host's occurrences by their start, host 0's first at one instant.
    const sim = runSim(compileScenarioText(TWO_HOSTS_FAULTS, '<test>')).summary;
    t.deepEqual(
      s.faults?.timeline.map((f) => [f.id, f.target]),
      [
        ['delay-h0', 'h0.link:worker:0>vm:0'],
        ['slow-h0', 'h0.worker:0'],
        ['drop-h1', 'h1.link:backend>worker:*'],
        ['freeze-h0', 'h0.vm:0'],
        ['cut-h0', 'h0.worker:0'],
      ],
    );
    t.deepEqual(s.faults?.timeline, sim.faults?.timeline);
    // The drop happened in host 1's send paths and is counted there, as sim counts it (its own draws: a count of its own);
    // the partition of host 0's worker cut messages inside host 0 only, counted there (host 0 has no other drop).
    const [h0, h1] = s.hosts ?? [];
    t.true((h1?.accounting.dropped['link-drop'] ?? 0) > 0, JSON.stringify(h1?.accounting));
    t.true((h0?.accounting.dropped['link-drop'] ?? 0) > 0, JSON.stringify(h0?.accounting));
    t.is(s.accounting.dropped['link-drop'], (h0?.accounting.dropped['link-drop'] ?? 0) + (h1?.accounting.dropped['link-drop'] ?? 0));
    t.true(s.accounting.balanced, JSON.stringify(s.accounting));
    t.true(s.accounting.tx?.balanced, JSON.stringify(s.accounting.tx));
    for (const h of s.hosts ?? []) t.true(h.accounting.balanced, `${h.host}: ${JSON.stringify(h.accounting)}`);
    t.true(s.fabric?.accounting.balanced, JSON.stringify(s.fabric?.accounting));
    t.deepEqual(
      s.faults?.recovery.map((x) => [x.id, x.host]),
      [
        ['delay-h0', 'h0'],
        ['slow-h0', 'h0'],
        ['drop-h1', 'h1'],
        ['freeze-h0', 'h0'],
        ['cut-h0', 'h0'],
      ],
    );
    // The slow-worker command reached host 0's worker process, and went away at the fault's end.
    const events = readFileSync(join(out, 'events.jsonl'), 'utf8');
    t.regex(events, /"actor":"h0\.worker\.0","kind":"worker-slowed"/);
    t.regex(events, /"actor":"h0\.worker\.0","kind":"worker-restored"/);
    t.true((sim.hosts?.[1]?.accounting.dropped['link-drop'] ?? 0) > 0, 'sim drops inside host 1 too');
    // The switch's ports: port 0 down for 200 µs drops frames toward host 0 and from it (switch-port-down, only there),
    // port 1 lossy for 500 µs drops about half of those toward host 1 (switch-port-loss, only there), as sim counts them.
    const [p0, p1] = s.fabric?.ports ?? [];
    t.true((p0?.drops['switch-port-down'] ?? 0) > 0, JSON.stringify(p0?.drops));
    t.is(p0?.drops['switch-port-loss'], 0);
    t.true((p1?.drops['switch-port-loss'] ?? 0) > 0, JSON.stringify(p1?.drops));
    t.is(s.fabric?.accounting.unaccounted, 0);
    // Each port fault's start and end in the event log as sim's (the controller's lines at their emulated instants).
    const portEvents = (text: string): unknown[] =>
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { t: number; actor: string; kind: string; detail: { target?: string } })
        .filter((e) => e.actor === 'controller' && e.kind.startsWith('fault-') && e.detail.target?.startsWith('switch:') === true);
    const simEvents = runSim(compileScenarioText(TWO_HOSTS_FAULTS, '<test>'))
      .events.map((e) => JSON.stringify(e))
      .join('\n');
    t.is(portEvents(events).length, 6);
    t.deepEqual(portEvents(events), portEvents(simEvents));
    // Host 1 paused: each of its four processes (NIC+back end, worker, two guests) got SIGSTOP at 4 ms and SIGCONT at
    // 4.5 ms, ps saw each stopped, none restarted; its port down meanwhile, as sim's (switch-port-down on port 1).
    const ev = events
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: number; actor: string; kind: string; detail: Record<string, unknown> });
    const paused = ev.filter((e) => e.kind === 'actor-paused' && e.detail['id'] === 'pause-h1');
    const resumed = ev.filter((e) => e.kind === 'actor-resumed' && e.detail['id'] === 'pause-h1');
    t.deepEqual(
      paused.map((e) => [e.t, e.actor, e.detail['signal']]),
      ['h1.nic+h1.backend', 'h1.worker.0', 'h1.vm.0', 'h1.vm.1'].map((a) => [4e6, a, 'SIGSTOP']),
    );
    t.deepEqual(
      resumed.map((e) => [e.t, e.actor, e.detail['signal'], e.detail['pid']]),
      paused.map((e) => [4.5e6, e.actor, 'SIGCONT', e.detail['pid']]),
    );
    // ps saw them stopped (on a loaded machine a poll can miss one of the four in the pause's second of wall time).
    const pausedPids = paused.map((e) => e.detail['pid'] as number);
    t.true(
      stopped.size > 0 && [...stopped].every((pid) => pausedPids.includes(pid)),
      `seen stopped ${[...stopped].join(', ')}; paused ${pausedPids.join(', ')}`,
    );
    t.is(s.live?.restarts, 0);
    // Host 0's guest 0 paused on its own (a one-host pause of that process): stopped and continued once, at its instants.
    t.deepEqual(
      ev.filter((e) => e.detail['id'] === 'freeze-h0' && e.kind.startsWith('actor-')).map((e) => [e.t, e.actor, e.kind, e.detail['signal']]),
      [
        [2.8e6, 'h0.vm.0', 'actor-paused', 'SIGSTOP'],
        [3e6, 'h0.vm.0', 'actor-resumed', 'SIGCONT'],
      ],
    );
    t.deepEqual(
      ev.filter((e) => e.actor === 'controller' && e.detail['id'] === 'pause-h1').map((e) => [e.t, e.kind]),
      [
        [4e6, 'fault-start'],
        [4.5e6, 'fault-end'],
      ],
    );
    // During the pause host 1's guest received nothing (after what was already on its way, 100 µs), host 0's guest 1 went
    // on receiving from its wire, and host 1's guest received again after it.
    const csv = readFileSync(join(out, 'timeseries.csv'), 'utf8');
    t.is(seriesSum(csv, 'h1.vm0', 'throughput_gbps', 4.1, 4.5), 0);
    t.true(seriesSum(csv, 'h0.vm1', 'throughput_gbps', 4.1, 4.5) > 0);
    t.true(seriesSum(csv, 'h1.vm0', 'throughput_gbps', 4.5, 5) > 0);
    t.true((p1?.drops['switch-port-down'] ?? 0) > 0, JSON.stringify(p1?.drops));
    t.deepEqual(processesOf(runId), [], 'no actor process or nats-server left behind');
  },
);
