// A guest that sends: `from`/`to` on a generator and the `tx` section — their errors (one line, file:line:col), defaults and resolved form.
import test from 'ava';
import { compileScenarioText, formatResolvedYaml } from '../src/index.js';
import { errorOf } from './helpers.js';

const cases: readonly (readonly [what: string, text: string, expected: string])[] = [
  ['a sender beyond the VMs', 'traffic:\n  - from: vm.3\n', 's.yaml:2:11: traffic[0].from: expected wire or vm.0 (topology.vms.count is 1), found "vm.3"'],
  ['a sender that is neither the wire nor a VM', 'traffic:\n  - from: host\n', 's.yaml:2:11: traffic[0].from: expected wire or vm.<index>, found "host"'],
  [
    'a guest sending to itself',
    'topology: { vms: { count: 2 } }\ntraffic:\n  - from: vm.1\n    to: vm.1\n',
    's.yaml:4:9: traffic[0].to: expected wire or another guest than vm.1, found "vm.1" (a guest does not send to itself through the bridge)',
  ],
  [
    'a receiving guest beyond the VMs',
    'topology: { vms: { count: 2 } }\ntraffic:\n  - from: vm.0\n    to: vm.2\n',
    's.yaml:4:9: traffic[0].to: expected wire or vm.0 to vm.1 (topology.vms.count is 2), found "vm.2"',
  ],
  ['a destination that is no place', 'traffic:\n  - from: vm.0\n    to: nowhere\n', 's.yaml:3:9: traffic[0].to: expected wire or vm.<index>, found "nowhere"'],
  [
    'vms on a guest generator',
    'traffic:\n  - from: vm.0\n    vms: [0]\n',
    "s.yaml:3:10: traffic[0].vms: expected no vms: (a guest's frames go to `to`, not to guests), found a list of 1",
  ],
  [
    'to on a wire generator',
    'traffic:\n  - to: wire\n',
    's.yaml:2:9: traffic[0].to: expected no to: (frames from the wire go to the guests in vms), found "wire"',
  ],
  [
    'a tx section without a guest that sends',
    'tx: { rate: 1Gbps }\n',
    's.yaml:1:5: tx: expected no tx section, found a map (no generator sends from a guest: give one from: vm.<index>)',
  ],
  [
    'a rate without a unit',
    'traffic:\n  - from: vm.0\ntx: { rate: 5 }\n',
    's.yaml:3:13: tx.rate: expected a bit rate such as 10Gbps or 500Mbps, found 5 (a bare number has no unit)',
  ],
  [
    'a split setting that is no boolean',
    'traffic:\n  - from: vm.0\ntx: { splitEventChannels: yes }\n',
    's.yaml:3:27: tx.splitEventChannels: expected true or false, found "yes"',
  ],
  [
    'a credit interval below 1 µs',
    'traffic:\n  - from: vm.0\ntx: { rateInterval: 1ns }\n',
    's.yaml:3:21: tx.rateInterval: expected a duration ≥ 1000ns, found "1ns"',
  ],
  [
    'a guest that sends with tasklet netback',
    'traffic:\n  - from: vm.0\ntopology: { dom0: { vcpus: 2 } }\nnetback: { threading: tasklet }\n',
    "s.yaml:4:23: netback.threading: expected kthread or kthread-rt with a guest that sends: the tasklet netback's transmit side (a TX tasklet that grant-copies every frame) is not modelled, found tasklet",
  ],
  [
    'a negative transmit cost',
    'traffic:\n  - from: vm.0\ncosts: { profile: default, override: { tx: { nicDma: -1 } } }\n',
    's.yaml:3:54: costs.override.tx.nicDma: expected a number from 0 to 1000000000 (ns), found -1',
  ],
];

for (const [what, text, expected] of cases) {
  test(`tx scenario - ${what} is one line naming where`, (t) => {
    t.is(errorOf(t, text), expected);
  });
}

test('tx scenario - a guest generator compiles to a sender, flows from the guest, and the tx defaults', (t) => {
  const s = compileScenarioText('traffic:\n  - { name: in }\n  - { name: out, from: vm.0, flows: 2 }\n', 's.yaml');
  t.is(s.traffic.generators[0]?.sender, undefined);
  t.is(s.traffic.generators[1]?.sender, 0);
  const flow = s.traffic.flows[8];
  t.is(flow?.sender, 0);
  t.deepEqual(flow?.src, [10, 255, 0, 1], 'a guest flow starts at the guest');
  t.deepEqual(s.tx, { creditBytes: null, creditInterval: 50_000_000, splitEventChannels: true, guestQdiscLen: 1000, nicQdiscLen: 1000 });
  t.truthy(s.costs.tx);
});

test('tx scenario - the resolved scenario of a guest that sends compiles to the same scenario', (t) => {
  const s = compileScenarioText('traffic:\n  - { from: vm.0, rate: 1Gbps }\ntx: { rate: 500Mbps, rateInterval: 1ms }\n', 's.yaml');
  const again = compileScenarioText(formatResolvedYaml(s), 's.yaml');
  t.deepEqual(again.resolved, s.resolved);
  t.deepEqual(again.tx, s.tx);
  t.is(again.tx?.creditBytes, 62_500);
  t.deepEqual(again.costs.tx, s.costs.tx);
});

test('tx scenario - a receive-only scenario resolves without tx keys and carries no transmit costs', (t) => {
  const s = compileScenarioText('traffic:\n  - { rate: 1Gbps }\n', 's.yaml');
  t.is(s.tx, null);
  t.is(s.costs.tx, undefined);
  const yaml = formatResolvedYaml(s);
  t.false(/^tx:/m.test(yaml));
  t.false(/from:/.test(yaml));
  t.false(/guestPerPacket/.test(yaml));
});

test('tx scenario - a guest-to-guest generator: its flows go from one guest to the other, and it resolves as written', (t) => {
  const s = compileScenarioText('topology: { vms: { count: 2 } }\ntraffic:\n  - { from: vm.0, to: vm.1, flows: 1 }\n', 's.yaml');
  t.is(s.traffic.generators[0]?.receiver, 1);
  const f = s.traffic.flows[0];
  t.is(f?.vm, 1);
  t.is(f?.sender, 0);
  t.deepEqual(
    [f?.src, f?.dst],
    [
      [10, 255, 0, 1],
      [10, 255, 1, 1],
    ],
  );
  t.regex(formatResolvedYaml(s), /to: vm\.1/);
});

test('tx scenario - a guest-to-guest TCP generator: each connection is a flow per direction, the reverse ones after every other flow with the 4-tuple swapped', (t) => {
  const s = compileScenarioText(
    'topology: { vms: { count: 3 } }\ntraffic:\n  - { from: vm.0, to: vm.2, flows: 2, rr: { request: 64 } }\n  - { vms: [1], flows: 1 }\n',
    's.yaml',
  );
  const g = s.traffic.generators[0];
  t.is(g?.sender, 0);
  t.is(g?.receiver, 2);
  t.is(g?.closedLoop?.active, 'guest');
  t.deepEqual(
    s.traffic.flows.map((f) => [f.id, f.generator, f.sender, f.vm, f.reverse, f.reverseOf]),
    [
      [0, 0, 0, 2, 3, undefined],
      [1, 0, 0, 2, 4, undefined],
      [2, 1, undefined, 1, undefined, undefined],
      [3, 0, 2, 0, undefined, 0],
      [4, 0, 2, 0, undefined, 1],
    ],
  );
  const [f, r] = [s.traffic.flows[1], s.traffic.flows[4]];
  t.deepEqual([r?.src, r?.dst, r?.srcPort, r?.dstPort], [f?.dst, f?.src, f?.dstPort, f?.srcPort]);
  t.deepEqual(f?.src, [10, 255, 0, 1]);
  t.regex(formatResolvedYaml(s), /from: vm\.0\n\s+to: vm\.2/);
});
