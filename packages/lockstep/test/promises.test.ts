// Lockstep's promises per host: what a partition promises its neighbours from what its actors know, and that a run of hosts that exchange little skips windows and stays sim's.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSim } from '@splitnet/controller';
import type { Nanos } from '@splitnet/model';
import { writeResults } from '@splitnet/results';
import type { RunResult } from '@splitnet/results';
import { compileScenarioText, loadScenarioFile } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';
import { MemoryBus } from '@splitnet/transport';
import { PartitionEngine, runLockstepInProcess } from '../src/index.js';
import { rehearsePartition } from '../src/partition-rehearsal.js';

const root = new URL('../../../../', import.meta.url).pathname;
const FILES = ['summary.json', 'metrics.jsonl', 'events.jsonl', 'latency.json'];
const US = 1000;

/** Hosts of two guests (two unless said), traffic from outside into each; `cross` lines between them. */
function twoHosts(cross: string, hosts = 2): CompiledScenario {
  const inbound = Array.from({ length: hosts }, (_, i) => `  - { name: in-h${i}, to: h${i}.vm.0, rate: 2Gbps, flows: 2, size: 1518 }`);
  return compileScenarioText(
    `
name: promises
seed: 3
duration: 4ms
warmup: 1ms
hosts: ${hosts}
fabric: { delay: 1us }
topology: { link: 10Gbps, vms: { count: 2, queues: 1 }, workers: 1 }
traffic:
${inbound.join('\n')}
${cross}
`,
    '<promises>',
    {},
  );
}

/** A partition's engine that records its promises (to, promise). */
function engine(s: CompiledScenario, index: number): { e: PartitionEngine; promises: [number, Nanos][] } {
  const promises: [number, Nanos][] = [];
  const e = new PartitionEngine(s, index, { send: () => {}, promise: (to, p) => promises.push([to, p]), sample: () => {} });
  return { e, promises };
}

test('lockstep promises - a host whose guests only receive promises the end of the run plus the lookahead: it never holds the switch back', (t) => {
  const s = twoHosts('  - { name: one-way, from: h0.vm.1, to: h1.vm.1, protocol: udp, rate: 24Mbps, flows: 1, size: 1518 }');
  const { e, promises } = engine(s, 1);
  t.true(e.advance());
  t.is(e.reached, 1 * US); // before any promise: the lookahead
  t.deepEqual(promises, [[0, s.duration + 1 * US]]);
});

test("lockstep promises - an open-loop sender's host promises its next frame plus the lookahead, far beyond its time plus the lookahead", (t) => {
  const s = twoHosts('  - { name: back, from: h1.vm.1, to: h0.vm.1, protocol: udp, rate: 24Mbps, flows: 1, size: 1518 }');
  const { e, promises } = engine(s, 1);
  e.advance();
  const [[to, p]] = promises as [[number, Nanos]];
  t.is(to, 0);
  // 24 Mbit/s of 1518-byte frames: one every ~506 µs, the first at some phase within the first interval.
  t.true(p > 50 * (e.reached + 1 * US) && p <= 507 * US + 1 * US, `promise ${p} ns`);
});

test('lockstep promises - a host with a TCP end promises only its time plus the lookahead (it may answer any frame at once)', (t) => {
  const s = twoHosts('  - { name: tcp, from: h0.vm.1, to: h1.vm.1, flows: 1, tcp: { cc: cubic } }');
  const { e, promises } = engine(s, 1);
  e.advance();
  t.deepEqual(promises, [[0, e.reached + 1 * US]]);
});

test("lockstep promises - the switch's partition promises a host no later than what a host with a route to it promised plus the port delay", (t) => {
  // Host 1 sends to host 2 (the switch's table routes host 1's flow to port 2, and back); host 0 and host 2 only receive.
  const s = twoHosts('  - { name: across, from: h1.vm.1, to: h2.vm.1, protocol: udp, rate: 24Mbps, flows: 1, size: 1518 }', 3);
  const { e, promises } = engine(s, 0);
  e.advance(); // up to the lookahead: host 1's first frame (and, for all the switch knows, host 2's) may still come
  t.deepEqual(promises, [
    [1, 2 * US],
    [2, 2 * US],
  ]);
  e.promise(1, 300 * US, []);
  e.promise(2, s.duration + 1 * US, []); // host 2's guests only receive
  e.advance(); // up to 300 µs
  t.is(e.reached, 300 * US);
  // To host 2: what host 1 said; to host 1: what host 2 said (the run's end), since only host 2's frames route there.
  t.deepEqual(promises.slice(2), [
    [1, s.duration + 1 * US],
    [2, 301 * US],
  ]);
});

test("lockstep promises - the switch's partition does not wait for a host's own promise to promise that host: the switch never sends a host's frames back to it", (t) => {
  // Host 1 sends to host 0 only: nothing that comes from host 1 goes back down to it, and host 0's guests only receive.
  const s = twoHosts('  - { name: back, from: h1.vm.1, to: h0.vm.1, protocol: udp, rate: 24Mbps, flows: 1, size: 1518 }');
  const { e, promises } = engine(s, 0);
  e.advance(); // up to the lookahead: host 1's first frame may still come
  t.is(e.reached, 1 * US);
  t.deepEqual(promises, [[1, s.duration + 1 * US]]);
});

test('lockstep promises - per host, a frame across ends the window once its instant has run; the promise after it is the next frame plus the lookahead, and the next window runs on from there', (t) => {
  const s = twoHosts('  - { name: back, from: h1.vm.1, to: h0.vm.1, protocol: udp, rate: 24Mbps, flows: 1, size: 1518 }');
  const sent: Nanos[] = [];
  const promises: Nanos[] = [];
  const e = new PartitionEngine(s, 1, { send: (_to, _from, _toRef, _seq, at) => sent.push(at), promise: (_to, p) => promises.push(p), sample: () => {} });
  e.promise(0, s.duration + 1 * US, []); // the switch's partition: nothing for host 1 before the end
  t.true(e.advance());
  // The first frame's uplink (at some phase within the first ~506 µs) ended the window, long before its safe time.
  t.true(sent.length > 0);
  const first = sent[0] as Nanos;
  t.true(
    sent.every((at) => at === first),
    `sent at ${sent.join(', ')}`,
  );
  // (a frame's `at` is its departure, which may be later than the instant that sent it: the window ends at the next instant)
  t.true(e.reached < s.warmup, `reached ${e.reached} ns (safe: the warm-up's end, ${s.warmup} ns) after a frame at ${first} ns`);
  t.is(promises.length, 1);
  t.true((promises[0] as Nanos) > first + 400 * US, `promise ${promises[0]} ns`);
  // The next window runs on from there to the next frame across (or the warm-up's end).
  const from = e.reached;
  t.true(e.advance());
  t.true(e.reached > from);
});

function files(r: RunResult): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-promises-'));
  writeResults(dir, '', {}, r);
  return Object.fromEntries(FILES.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

const trickles: { name: string; scenario: () => CompiledScenario }[] = [
  {
    name: 'cluster-trickle.yaml (2 hosts, a trickle each way), 6 ms',
    scenario: () => loadScenarioFile(join(root, 'examples/cluster-trickle.yaml'), { duration: '6ms' }),
  },
  {
    name: 'cluster-trickle.yaml with 4 hosts (two only receive from outside), 4 ms',
    scenario: () => loadScenarioFile(join(root, 'examples/cluster-trickle.yaml'), { duration: '4ms', overrides: ['hosts=4'] }),
  },
];

for (const c of trickles) {
  test(`lockstep promises - ${c.name}: fewer than a tenth of the lookaheads are windows, and the four result files are sim's`, async (t) => {
    const s = c.scenario();
    const bus = new MemoryBus();
    let windows: readonly number[] = [];
    const ls = files(
      await runLockstepInProcess(
        s,
        'promises-test',
        (i) => bus.connect(`partition ${i}`),
        (w) => (windows = w),
      ),
    );
    const sim = files(runSim(s));
    for (const f of FILES) t.is(ls[f], sim[f], f);
    const lookaheads = s.duration / (1 * US);
    for (const w of windows) t.true(w < lookaheads / 10, `${w} windows for ${lookaheads} lookaheads`);
  });
}

test("lockstep rehearsal - each partition rehearsed alone reaches the rehearsal's end and encodes what it would send; a run after it in the same process still writes sim's four files", async (t) => {
  const s = loadScenarioFile(join(root, 'examples/cluster-trickle.yaml'), { duration: '4ms', overrides: ['warmup=1ms'] });
  for (const i of [0, 1]) {
    const r = rehearsePartition(s, i, 3_000_000, 60_000);
    t.is(r.emulatedMs, 3);
    t.true(r.sent > 0, `partition ${i} sent ${r.sent} messages across in its rehearsal`);
    // Its neighbour's messages to it (rehearsed alone too) decoded as the wire decodes them: none refused, or none would count.
    t.true(r.received > 0, `partition ${i} decoded ${r.received} of its neighbour's messages`);
    t.true(r.promises > 0);
  }
  const bus = new MemoryBus();
  const ls = files(await runLockstepInProcess(s, 'rehearsal-test', (i) => bus.connect(`partition ${i}`)));
  const sim = files(runSim(s));
  for (const f of FILES) t.is(ls[f], sim[f], f);
});
