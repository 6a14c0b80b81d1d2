// The lag bound a live run is judged by: which modelled time constant auto picks, its value, explicit maxLag, and the words the summary uses.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { loadScenarioFile } from '@splitnet/scenario';
import { lagBoundText } from '@splitnet/results';
import { AUTO_LAG_FLOOR, AUTO_LAG_FRACTION, lagBound, timeConstants } from '../src/index.js';
import { scenario } from './helpers.js';

const EXAMPLES = fileURLToPath(new URL('../../../../examples/', import.meta.url));

test('lag bound - auto is a tenth of the shortest constant, at least 1 µs', (t) => {
  t.is(AUTO_LAG_FRACTION, 0.1);
  t.is(AUTO_LAG_FLOOR, 1000);
});

// [example, bound µs, the constant it names]
const examples: [string, number, string][] = [
  ['quickstart.yaml', 5, 'frontend coalescing (static usecs 50, vm.0 queue 0)'],
  ['vrss-per-flow.yaml', 5, 'frontend coalescing (static usecs 50, vm.0 queue 0)'],
  ['coalescing-stacked.yaml', 5, 'backend coalescing (static usecs 50, vm.0 queue 0)'],
  ['coalescing-frontend.yaml', 1, 'NIC coalescing (static throttle usecs 10, NIC queue 0)'],
  ['faults-datapath.yaml', 12.5, 'NIC coalescing (adaptive-itr bulk state at 740 bytes/µs, NIC queue 0)'],
  // One NIC queue and rx-queue steering: every flow on queue 0, where 32 frames come in 39.4 µs, before the 50 µs timer.
  ['netback-linux.yaml', 3.93728, 'frontend coalescing (static frames 32 at 813 k packets/s, vm.0 queue 0)'],
  // 32 frames in 8.6 µs: a tenth is below the floor.
  ['small-packets.yaml', 1, 'frontend coalescing (static frames 32 at 3.72 M packets/s, vm.0 queue 0)'],
  // Closed loop: a bulk stream is judged at its peak, line rate in full segments; TCP_RR at a token load, where the
  // NIC's adaptive ITR sits in its lowest-latency state (10 µs) — windows that do not depend on the load.
  ['tcp-bulk.yaml', 12.5, 'NIC coalescing (adaptive-itr bulk state at 1230 bytes/µs, NIC queue 0)'],
  ['tcp-rr.yaml', 1, 'NIC coalescing (adaptive-itr lowest-latency state at 0.00152 bytes/µs, NIC queue 0)'],
];
for (const [file, us, what] of examples) {
  test(`lag bound - examples/${file}: auto gives ${us} µs from ${what}`, (t) => {
    const b = lagBound(loadScenarioFile(`${EXAMPLES}${file}`));
    t.is(b.rule, 'auto');
    t.is(b.us, us);
    t.is(b.constant?.what, what);
  });
}

const ONE_QUEUE = 'topology: { vms: { queues: 1 } }\n';
// [what, scenario, bound µs, the constant it names, its µs]
const rules: [string, string, number, string, number][] = [
  [
    "the NIC's adaptive ITR in the state the offered bytes/µs select (low latency at 100 Mbit/s)",
    `${ONE_QUEUE}traffic: [ { flows: 4, rate: 100Mbps, size: 1518 } ]\n`,
    5,
    'NIC coalescing (adaptive-itr low-latency state at 12.3 bytes/µs, NIC queue 0)',
    50,
  ],
  [
    'the lowest-latency state under 10 bytes/µs',
    `${ONE_QUEUE}traffic: [ { flows: 4, rate: 20Mbps, size: 1518 } ]\n`,
    1,
    'NIC coalescing (adaptive-itr lowest-latency state at 2.47 bytes/µs, NIC queue 0)',
    10,
  ],
  [
    'aic at its delay for the offered rate, clamped to maxUsecs',
    `${ONE_QUEUE}traffic: [ { flows: 4, rate: 1Gbps, size: 1518 } ]\ncoalescing: { nic: none, frontend: aic }\n`,
    20,
    'frontend coalescing (aic delay at 81.3 k packets/s, vm.0 queue 0)',
    200,
  ],
  [
    'vic at its ratio of completions per interrupt',
    `${ONE_QUEUE}traffic: [ { flows: 4, rate: 1Gbps, size: 1518 } ]\ncoalescing: { nic: none, backend: vic }\n`,
    4.9216,
    'backend coalescing (vic 4 completions per interrupt at 81.3 k packets/s, vm.0 queue 0)',
    49.216,
  ],
  [
    'vic below its low rate interrupts every completion: the packet gap counts instead',
    `${ONE_QUEUE}traffic: [ { flows: 4, rate: 100Mbps, size: 1518 } ]\ncoalescing: { nic: none, backend: vic }\n`,
    12.304,
    'packet gap with no coalescing on the path (8.13 k packets/s, vm.0 queue 0)',
    123.04,
  ],
  [
    "the guest RX ring's fill time when it is the shortest (a frames-only timer waits for 512 packets)",
    `${ONE_QUEUE}traffic: [ { flows: 4, rate: 10Gbps, size: 1518 } ]\ncoalescing: { nic: { policy: static, usecs: 1000 }, frontend: { policy: static, frames: 512 } }\n`,
    31.4982,
    'guest RX ring fill time (256 packets at 813 k packets/s, vm.0 queue 0)',
    314.982,
  ],
  [
    'the hash slot halves the packets a ring holds',
    'topology: { vms: { queues: 1 }, vrss: per-flow, steering: toeplitz, toeplitz: { hashSlot: true } }\ntraffic: [ { flows: 4, rate: 10Gbps, size: 1518 } ]\ncoalescing: { nic: { policy: static, usecs: 1000 }, frontend: { policy: static, usecs: 1000 } }\n',
    15.7491,
    'guest RX ring fill time (128 packets at 813 k packets/s, vm.0 queue 0)',
    157.491,
  ],
  [
    'offered load above the link is counted at the link rate',
    `${ONE_QUEUE}traffic: [ { flows: 4, rate: 20Gbps, size: 1518 } ]\ncoalescing: { nic: { policy: static, usecs: 1000 }, frontend: { policy: static, usecs: 1000 } }\n`,
    31.4982,
    'guest RX ring fill time (256 packets at 813 k packets/s, vm.0 queue 0)',
    314.982,
  ],
  [
    'generators that do not overlap are not added up',
    `${ONE_QUEUE}traffic: [ { flows: 4, rate: 1Gbps, size: 1518, stop: 50ms }, { flows: 4, rate: 2Gbps, size: 1518, start: 50ms } ]\ncoalescing: { nic: { policy: static, usecs: 5000 }, frontend: { policy: static, usecs: 10000 } }\n`,
    157.491,
    'guest RX ring fill time (256 packets at 163 k packets/s, vm.0 queue 0)',
    1574.91,
  ],
  [
    "a guest vCPU's blockAfter",
    'topology: { vms: { queues: 1, blockAfter: 20us } }\ntraffic: [ { flows: 4, rate: 100Mbps, size: 1518 } ]\ncoalescing: { nic: { policy: static, usecs: 100 } }\n',
    2,
    'guest vCPU blockAfter (vm.0)',
    20,
  ],
];
for (const [what, yaml, us, constant, constantUs] of rules) {
  test(`lag bound - ${what}`, (t) => {
    const b = lagBound(scenario(yaml));
    t.deepEqual(b, { us, rule: 'auto', fraction: 0.1, constant: { what: constant, us: constantUs } });
  });
}

test('lag bound - a queue with no flows contributes nothing: with rx-queue steering and one NIC queue only queue 0 of a 4-queue guest has a ring constant', (t) => {
  const s = scenario(
    'topology: { vms: { queues: 4 }, workers: 4, vrss: per-flow }\ntraffic: [ { flows: 16, rate: 1Gbps, size: 1518 } ]\ncoalescing: { nic: { policy: static, usecs: 500 } }\n',
  );
  t.deepEqual(
    timeConstants(s).map((c) => c.what),
    ['NIC coalescing (static throttle usecs 500, NIC queue 0)', 'guest RX ring fill time (256 packets at 81.3 k packets/s, vm.0 queue 0)'],
  );
});

test('lag bound - an explicit maxLag is the bound, and the shortest constant is still named', (t) => {
  const b = lagBound(scenario(`${ONE_QUEUE}traffic: [ { flows: 4, rate: 100Mbps, size: 1518 } ]\nlive: { maxLag: 2ms }\n`));
  t.deepEqual(b, { us: 2000, rule: 'set', constant: { what: 'NIC coalescing (adaptive-itr low-latency state at 12.3 bytes/µs, NIC queue 0)', us: 50 } });
  t.is(lagBound(scenario(`${ONE_QUEUE}traffic: [ { flows: 4, rate: 100Mbps, size: 1518 } ]\n`, ['live.maxLag=1.5us'])).us, 1.5);
  t.is(lagBound(scenario(`${ONE_QUEUE}traffic: [ { flows: 4, rate: 100Mbps, size: 1518 } ]\nlive: { maxLag: 2ms }\n`, ['live.maxLag=auto'])).rule, 'auto');
});

test('lag bound - the summary names the bound and the constant in words', (t) => {
  const cases: [Parameters<typeof lagBoundText>[0], string][] = [
    [
      { us: 5, rule: 'auto', fraction: 0.1, constant: { what: 'frontend coalescing (static usecs 50, vm.0 queue 0)', us: 50 } },
      '5 µs, auto: 0.1 × the shortest modelled constant, frontend coalescing (static usecs 50, vm.0 queue 0) 50 µs',
    ],
    [
      { us: 1, rule: 'auto', fraction: 0.1, constant: { what: 'x', us: 8.6 } },
      '1 µs, auto: the floor (0.1 × the shortest modelled constant, x 8.6 µs, is less)',
    ],
    [{ us: 2000, rule: 'auto', fraction: 0.1, constant: null }, '2 ms, auto: the scenario has no modelled time constant (no traffic reaches a guest)'],
    [{ us: 5000, rule: 'set', constant: { what: 'y', us: 1259.93 } }, '5 ms, set by live.maxLag (shortest modelled constant: y 1.26 ms)'],
  ];
  for (const [b, text] of cases) t.is(lagBoundText(b), text);
});

// The transmit path: guests that send. [what, scenario, the constant (its words), its µs]
const GUEST_SENDS = 'topology: { vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow, nicQueues: 1 }\n';
const transmit: [string, string, string, number][] = [
  [
    "NIC TX-completion coalescing at the guest's sending rate (a static 20 µs timer, 1 Gbit/s of 1518-byte frames to the wire)",
    `${GUEST_SENDS}traffic: [ { from: vm.0, protocol: udp, rate: 1Gbps, size: 1518, flows: 4 } ]\ncoalescing: { nic: { policy: static, usecs: 20 } }\n`,
    'NIC TX-completion coalescing (static throttle usecs 20, NIC TX queue 0)',
    20,
  ],
  [
    // 256 slots, one slot per 1518-byte frame, at 1e9 / ((1518 + 20) × 8) = 81.3 k frames/s: 3.15 ms.
    "the guest TX ring's fill time at the guest's sending rate",
    `${GUEST_SENDS}traffic: [ { from: vm.0, protocol: udp, rate: 1Gbps, size: 1518, flows: 4 } ]\ncoalescing: { nic: { policy: static, usecs: 20 } }\n`,
    'guest TX ring fill time (256 packets at 81.3 k packets/s, vm.0 TX queue 0)',
    3149.8,
  ],
  [
    // Guest to guest no NIC sees the frames: each TX response may take its own virtual interrupt.
    'the gap between frames at a guest TX queue whose completions meet no window (guest to guest, 3 Gbit/s of 1518-byte frames)',
    `${GUEST_SENDS}traffic: [ { from: vm.0, to: vm.1, protocol: udp, rate: 3Gbps, size: 1518, flows: 4 } ]\n`,
    'TX frame gap with no completion coalescing (244 k packets/s, vm.0 TX queue 0)',
    4.1013,
  ],
  [
    "the credit scheduler's window when the vif has a rate",
    `${GUEST_SENDS}traffic: [ { from: vm.0, protocol: udp, rate: 1Gbps, size: 1518, flows: 4 } ]\ntx: { rate: 2Gbps, rateInterval: 200us }\n`,
    'TX credit window (tx.rateInterval)',
    200,
  ],
];
for (const [what, yaml, constant, constantUs] of transmit) {
  test(`lag bound - transmit path: ${what}`, (t) => {
    const found = timeConstants(scenario(yaml)).find((c) => c.what === constant);
    t.truthy(found, JSON.stringify(timeConstants(scenario(yaml)).map((c) => c.what)));
    t.is(Number(((found?.ns ?? 0) / 1000).toPrecision(5)), constantUs);
  });
}

test("lag bound - a guest sending to the wire adds no receive-side constant (its frames reach neither the NIC's receive side nor a guest RX ring)", (t) => {
  const names = timeConstants(scenario(`${GUEST_SENDS}traffic: [ { from: vm.0, protocol: udp, rate: 1Gbps, size: 1518, flows: 4 } ]\n`)).map((c) => c.what);
  t.deepEqual(
    names.filter((w) => / queue \d+\)$/.test(w) && !/TX queue/.test(w)),
    [],
    JSON.stringify(names),
  );
  t.true(names.includes('guest TX ring fill time (256 packets at 81.3 k packets/s, vm.0 TX queue 0)'), JSON.stringify(names));
});

test('lag bound - a receive-only scenario has no transmit-path constant', (t) => {
  const names = timeConstants(scenario(`${ONE_QUEUE}traffic: [ { flows: 4, rate: 1Gbps, size: 1518 } ]\n`)).map((c) => c.what);
  t.deepEqual(
    names.filter((w) => /TX|credit/.test(w)),
    [],
  );
});

test('lag bound - TCP_RR: the transaction time sim gives, divided by the 4 bus hops of a transaction between the wire and a guest, is a constant', (t) => {
  const s = loadScenarioFile(`${EXAMPLES}tcp-rr.yaml`);
  const rr = timeConstants(s).find((c) => c.what.startsWith('TCP_RR'));
  // examples/tcp-rr.yaml in sim: p50 52.063 µs (the front end's 50 µs timer holds each request).
  t.is(rr?.what, 'TCP_RR transaction time ÷ 4 bus hops (flow 0: p50 52.063 µs in sim)');
  t.is(rr?.ns, (52.063 * 1000) / 4);
});

test('lag bound - TCP_RR without coalescing: its transaction time per hop is the shortest constant, and the bound is at the floor', (t) => {
  const s = loadScenarioFile(`${EXAMPLES}tcp-rr.yaml`, { overrides: ['coalescing.frontend=none', 'coalescing.nic=none'] });
  const b = lagBound(s);
  t.is(b.constant?.what, 'TCP_RR transaction time ÷ 4 bus hops (flow 0: p50 16.559 µs in sim)');
  t.is(b.us, 1);
});
