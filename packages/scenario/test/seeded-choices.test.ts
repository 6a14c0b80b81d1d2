// The run seed draws what a repetition varies, each generator's source ports and start phase, unless the scenario fixes them.
import test from 'ava';
import { formatResolvedYaml } from '../src/index.js';
import { compile, errorOf } from './helpers.js';

const TWO = `topology: { vms: { count: 2 } }
traffic:
  - { flows: 16, rate: 3Gbps }
  - { flows: 4, rate: 1Mpps, pattern: { onoff: { on: 1ms, off: 3ms } }, protocol: udp }
`;

function ports(text: string, seed: number): number[] {
  return compile(text, { seed }).traffic.flows.map((f) => f.srcPort);
}

function phases(text: string, seed: number): number[] {
  return compile(text, { seed }).traffic.generators.map((g) => g.phase ?? Number.NaN);
}

test('seeded choices - seeded source ports are spread over the ephemeral range 32768-60999', (t) => {
  const all = [1, 2, 3].flatMap((seed) => ports('traffic: [ { flows: 2000 } ]', seed));
  t.true(all.every((p) => Number.isInteger(p) && p >= 32768 && p <= 60999));
  // 6000 uniform draws over 28,232 ports: each tenth of the range gets about 600.
  const tenths = new Array<number>(10).fill(0);
  for (const p of all) tenths[Math.floor(((p - 32768) * 10) / 28232)]! += 1;
  t.true(
    tenths.every((n) => n > 450 && n < 750),
    tenths.join(' '),
  );
});

test('seeded choices - another seed gives other source ports, the same addresses; the same seed the same ports', (t) => {
  const a = compile(TWO, { seed: 1 }).traffic.flows;
  const b = compile(TWO, { seed: 7 }).traffic.flows;
  t.notDeepEqual(
    a.map((f) => f.srcPort),
    b.map((f) => f.srcPort),
  );
  const addresses = (fs: typeof a) => fs.map((f) => [f.id, f.vm, f.src, f.dst, f.dstPort, f.protocol]);
  t.deepEqual(addresses(a), addresses(b));
  t.deepEqual(ports(TWO, 7), ports(TWO, 7));
});

test('seeded choices - a flow keeps its seeded source port when flows are added after it or another generator fixes its ports', (t) => {
  const few = ports('traffic: [ { flows: 4 }, { flows: 3 } ]', 5);
  const more = ports('traffic: [ { flows: 10 }, { flows: 3 } ]', 5);
  t.deepEqual(more.slice(0, 4), few.slice(0, 4));
  t.deepEqual(more.slice(10), few.slice(4));
  const fixedFirst = ports('traffic: [ { flows: 4, srcPort: 2000 }, { flows: 3 } ]', 5);
  t.deepEqual(fixedFirst, [2000, 2001, 2002, 2003, ...few.slice(4)]);
});

test('seeded choices - a fixed srcPort gives flow i port srcPort + i whatever the seed', (t) => {
  const text = 'traffic: [ { flows: 5, srcPort: 65531 } ]';
  t.deepEqual(ports(text, 1), [65531, 65532, 65533, 65534, 65535]);
  t.deepEqual(ports(text, 12345), ports(text, 1));
});

test('seeded choices - a seeded phase lies within one gap (constant) or one on/off cycle, and the seed moves it; Poisson gets 0', (t) => {
  const text = `${TWO}  - { flows: 2, rate: 1Gbps, pattern: poisson }\n`;
  const gap = 1e9 / (3e9 / ((1518 + 20) * 8));
  const seen: number[][] = [];
  for (let seed = 1; seed <= 20; seed++) {
    const [constant, onoff, poisson] = phases(text, seed) as [number, number, number];
    t.true(constant >= 0 && constant < gap, `seed ${seed}: ${constant}`);
    t.true(onoff >= 0 && onoff < 4_000_000, `seed ${seed}: ${onoff}`);
    t.is(poisson, 0);
    seen.push([constant, onoff]);
  }
  t.is(new Set(seen.map((p) => p[0])).size, 20);
  t.is(new Set(seen.map((p) => p[1])).size, 20);
  // 20 uniform draws over one cycle: some in its first half, some in its second.
  t.true(seen.some((p) => (p[1] as number) < 2_000_000) && seen.some((p) => (p[1] as number) >= 2_000_000));
});

test('seeded choices - a fixed phase is the same for every seed', (t) => {
  const text = 'traffic:\n  - { rate: 1Gbps, phase: 250ns }\n  - { rate: 1Mpps, pattern: { onoff: { on: 1ms, off: 1ms } }, phase: 0 }\n';
  t.deepEqual(phases(text, 1), [250, 0]);
  t.deepEqual(phases(text, 99), [250, 0]);
});

test('seeded choices - the resolved scenario says seeded or fixed, and compiling it gives the same flows and phases', (t) => {
  const seeded = compile(TWO, { seed: 42 });
  const fixed = compile('traffic:\n  - { flows: 3, srcPort: 40000, phase: 1.5us }\n  - { pattern: poisson }\n', { seed: 42 });
  const traffic = (s: typeof seeded) => (s.resolved as unknown as { traffic: { srcPort: unknown; phase: unknown }[] }).traffic.map((g) => [g.srcPort, g.phase]);
  t.deepEqual(traffic(seeded), [
    ['seeded', 'seeded'],
    ['seeded', 'seeded'],
  ]);
  t.deepEqual(traffic(fixed), [
    [40000, '1.5us'],
    ['seeded', 'seeded'],
  ]);
  // Every process of a live run compiles the resolved scenario, seed included: it must give the same table.
  for (const s of [seeded, fixed]) {
    const again = compile(formatResolvedYaml(s));
    t.deepEqual(again.traffic, s.traffic);
  }
});

test('seeded choices - bad srcPort and phase values are one located line', (t) => {
  const cases: [string, string][] = [
    ['traffic:\n  - srcPort: 0\n', 's.yaml:2:14: traffic[0].srcPort: expected "seeded" or a port from 1 to 65528, found 0'],
    ['traffic:\n  - srcPort: 1.5\n', 's.yaml:2:14: traffic[0].srcPort: expected "seeded" or a port from 1 to 65528, found 1.5'],
    ['traffic:\n  - srcPort: random\n', 's.yaml:2:14: traffic[0].srcPort: expected "seeded" or a port from 1 to 65528, found "random"'],
    [
      'traffic:\n  - flows: 8\n    srcPort: 65530\n',
      's.yaml:3:14: traffic[0].srcPort: expected "seeded" or a port from 1 to 65528, found 65530 (flow 7 would send from port 65537; flows is 8)',
    ],
    [
      'traffic:\n  - phase: -1us\n',
      's.yaml:2:12: traffic[0].phase: expected "seeded" or a duration ≥ 0 with a unit (ns, us, ms, s) such as 0ms or 250ns, found "-1us"',
    ],
    [
      'traffic:\n  - phase: 5\n',
      's.yaml:2:12: traffic[0].phase: expected "seeded" or a duration ≥ 0 with a unit (ns, us, ms, s) such as 0ms or 250ns, found 5 (a bare number has no unit)',
    ],
    [
      'traffic:\n  - pattern: poisson\n    phase: 1us\n',
      's.yaml:3:12: traffic[0].phase: expected "seeded", found "1us" (poisson arrivals are memoryless, so there is no phase to fix; the seed draws them)',
    ],
  ];
  for (const [text, message] of cases) t.is(errorOf(t, text), message, text);
});

test('seeded choices - srcPort and phase can be set from the command line', (t) => {
  const s = compile(TWO, { overrides: ['traffic.0.srcPort=1000', 'traffic.1.phase=2ms'] });
  t.deepEqual(
    s.traffic.flows.slice(0, 3).map((f) => f.srcPort),
    [1000, 1001, 1002],
  );
  t.is(s.traffic.generators[1]?.phase, 2_000_000);
});
