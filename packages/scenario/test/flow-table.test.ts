// The flow table follows the documented layout: ids, VM round-robin, addresses and destination ports; source ports as srcPort sets them.
import test from 'ava';
import { compile } from './helpers.js';

const TWO_GENERATORS = 'topology: { vms: { count: 3 } }\ntraffic:\n  - flows: 4\n    vms: [0, 2]\n  - flows: 300\n    protocol: udp\n';

test('flow table - ids are consecutive and each generator owns its range', (t) => {
  const s = compile(TWO_GENERATORS);
  t.deepEqual(
    s.traffic.flows.map((f) => f.id),
    Array.from({ length: 304 }, (_, i) => i),
  );
  t.deepEqual(
    s.traffic.generators.map((g) => [g.firstFlow, g.flows]),
    [
      [0, 4],
      [4, 300],
    ],
  );
  t.true(s.traffic.flows.slice(0, 4).every((f) => f.generator === 0 && f.protocol === 'tcp'));
  t.true(s.traffic.flows.slice(4).every((f) => f.generator === 1 && f.protocol === 'udp'));
});

test("flow table - VMs are assigned round-robin over the generator's list", (t) => {
  const s = compile(TWO_GENERATORS);
  t.deepEqual(
    s.traffic.flows.slice(0, 4).map((f) => f.vm),
    [0, 2, 0, 2],
  );
  t.deepEqual(
    s.traffic.flows.slice(4, 10).map((f) => f.vm),
    [0, 1, 2, 0, 1, 2],
  );
});

test('flow table - IPv4 addresses and ports', (t) => {
  const s = compile(TWO_GENERATORS.replace('flows: 4\n', 'flows: 4\n    srcPort: 40000\n').replace('flows: 300\n', 'flows: 300\n    srcPort: 1024\n'));
  const first = s.traffic.flows[0];
  t.like(first, { src: [10, 0, 0, 1], dst: [10, 255, 0, 1], srcPort: 40000, dstPort: 5001, ipVersion: 4 });
  const f = s.traffic.flows[4 + 256];
  t.like(f, { generator: 1, src: [10, 1, 1, 1], dst: [10, 255, 256 % 3, 1], srcPort: 1024 + 256, dstPort: 5002 });
});

test('flow table - IPv6 addresses use the documentation prefix', (t) => {
  const s = compile('traffic:\n  - flows: 2\n    ipVersion: 6\n');
  t.deepEqual(s.traffic.flows[1]?.src, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  t.deepEqual(s.traffic.flows[1]?.dst, [0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
});

test('flow table - every 4-tuple is distinct', (t) => {
  const s = compile('topology: { vms: { count: 2 } }\ntraffic:\n  - flows: 65535\n  - flows: 100\n');
  const tuples = new Set(s.traffic.flows.map((f) => `${f.src.join('.')}:${f.srcPort}>${f.dst.join('.')}:${f.dstPort}`));
  t.is(tuples.size, s.traffic.flows.length);
});

test('flow table - the same scenario and seed give the same table', (t) => {
  t.deepEqual(compile(TWO_GENERATORS).traffic.flows, compile(TWO_GENERATORS).traffic.flows);
  t.deepEqual(compile(TWO_GENERATORS, { seed: 99 }).traffic.flows, compile(TWO_GENERATORS, { seed: 99 }).traffic.flows);
});
