// Durations and rates parse from the forms people write and format back exactly.
import test from 'ava';
import { formatDuration, formatRate, parseDuration, parseRate } from '../src/index.js';
import { durationPattern, ratePattern } from '../src/units.js';

test('units - durations in every unit', (t) => {
  t.is(parseDuration('250ns'), 250);
  t.is(parseDuration('1.5us'), 1500);
  t.is(parseDuration('1.5µs'), 1500);
  t.is(parseDuration('1.5μs'), 1500);
  t.is(parseDuration('50ms'), 50_000_000);
  t.is(parseDuration('0.1s'), 100_000_000);
  t.is(parseDuration('2 s'), 2_000_000_000);
  t.is(parseDuration('0'), 0);
});

test('units - durations that are not', (t) => {
  for (const bad of ['50', '-5ms', '5 msec', 'ms', '0.5ns', '1e3ms', '']) t.is(parseDuration(bad), undefined, bad);
});

test('units - formatDuration picks a short exact form', (t) => {
  t.is(formatDuration(0), '0ms');
  t.is(formatDuration(50_000_000), '50ms');
  t.is(formatDuration(1_500), '1.5us');
  t.is(formatDuration(1_234_567), '1234.567us');
  t.is(formatDuration(999), '999ns');
  t.is(formatDuration(3_600_000_000_000), '3600s');
  for (const ns of [1, 7, 1001, 123_456_789, 1_000_000_001, 2_500_000]) t.is(parseDuration(formatDuration(ns)), ns, String(ns));
});

test('units - bit and packet rates', (t) => {
  t.deepEqual(parseRate('10Gbps'), { kind: 'bits', bitsPerSecond: 1e10 });
  t.deepEqual(parseRate('500 Mbps'), { kind: 'bits', bitsPerSecond: 5e8 });
  t.deepEqual(parseRate('64kbps'), { kind: 'bits', bitsPerSecond: 64_000 });
  t.deepEqual(parseRate('1.5Mpps'), { kind: 'packets', packetsPerSecond: 1.5e6 });
  t.deepEqual(parseRate('800Kpps'), { kind: 'packets', packetsPerSecond: 8e5 });
  t.deepEqual(parseRate('-1Gbps'), { kind: 'bits', bitsPerSecond: -1e9 });
  t.is(parseRate('10GB/s'), undefined);
  t.is(parseRate('10'), undefined);
});

test('units - formatRate round-trips', (t) => {
  t.is(formatRate({ kind: 'bits', bitsPerSecond: 1e10 }), '10Gbps');
  t.is(formatRate({ kind: 'bits', bitsPerSecond: 5.5e9 }), '5.5Gbps');
  t.is(formatRate({ kind: 'bits', bitsPerSecond: 1e8 }), '100Mbps');
  t.is(formatRate({ kind: 'packets', packetsPerSecond: 1.5e6 }), '1.5Mpps');
  t.is(formatRate({ kind: 'packets', packetsPerSecond: 812 }), '812pps');
  for (const bits of [1, 999, 1234567, 6.25e9, 1e12 / 3]) {
    t.deepEqual(parseRate(formatRate({ kind: 'bits', bitsPerSecond: bits })), { kind: 'bits', bitsPerSecond: bits }, String(bits));
  }
});

/** Every number × unit × spacing: the strings people write, and near misses. */
function corpus(numbers: readonly string[], units: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of numbers) for (const u of units) for (const gap of ['', ' ']) out.push(`${n}${gap}${u}`, ` ${n}${gap}${u} `);
  return out;
}

test("units - the schema's duration patterns accept exactly the strings parseDuration accepts (any, and positive)", (t) => {
  const numbers = [
    '0',
    '00',
    '1',
    '50',
    '1.5',
    '.5',
    '5.',
    '0.1',
    '1.0000',
    '1.0001',
    '1.2345',
    '0.5',
    '1.0000001',
    '0.000000001',
    '3.0000000000',
    '-5',
    '1e3',
    '',
    '.',
  ];
  const units = ['ns', 'us', 'µs', 'μs', 'ms', 's', 'h', 'msec', 'MS', ''];
  const any = new RegExp(durationPattern(false), 'u');
  const positive = new RegExp(durationPattern(true), 'u');
  const texts = corpus(numbers, units);
  for (const text of texts) {
    const ns = parseDuration(text);
    t.is(any.test(text), ns !== undefined, JSON.stringify(text));
    t.is(positive.test(text), ns !== undefined && ns > 0, JSON.stringify(text));
  }
  t.true(texts.filter((x) => parseDuration(x) !== undefined).length > 50, 'the corpus holds many valid durations');
});

test("units - the schema's rate patterns accept exactly the positive rates parseRate reads (any, and bit rates only)", (t) => {
  const numbers = ['0', '1', '10', '1.5', '.5', '5.', '0.001', '-1', '-0', '1e3', ''];
  const units = ['bps', 'kbps', 'Kbps', 'Mbps', 'Gbps', 'Tbps', 'pps', 'kpps', 'Kpps', 'Mpps', 'Gpps', 'GB/s', 'gbps', 'Bps', ''];
  const any = new RegExp(ratePattern(false), 'u');
  const bits = new RegExp(ratePattern(true), 'u');
  for (const text of corpus(numbers, units)) {
    const rate = parseRate(text);
    const amount = rate === undefined ? 0 : rate.kind === 'bits' ? rate.bitsPerSecond : rate.packetsPerSecond;
    t.is(any.test(text), amount > 0, JSON.stringify(text));
    t.is(bits.test(text), rate?.kind === 'bits' && amount > 0, JSON.stringify(text));
  }
});
