// Tests for the plotting module: tick arithmetic, number formats, statistics, and the SVG the charts produce.
import test from 'ava';
import { barChart, estimate, formatValue, lineChart, niceTicks, tickFormatter, tQuantile975 } from '../src/index.js';

test('ticks - steps are 1, 2 or 5 × 10ⁿ and cover the range', (t) => {
  for (const [lo, hi] of [
    [0, 9.87],
    [0.5, 50],
    [3, 1234567],
    [-4, 17],
    [0.001, 0.0042],
  ] as const) {
    const k = niceTicks(lo, hi);
    t.true(k.lo <= lo && k.hi >= hi, `[${lo}, ${hi}] inside [${k.lo}, ${k.hi}]`);
    const mant = k.step / 10 ** Math.floor(Math.log10(k.step));
    t.true([1, 2, 5].some((m) => Math.abs(mant - m) < 1e-9), `step ${k.step}`);
    t.true(k.values.length >= 3 && k.values.length <= 12, `${k.values.length} ticks`);
    t.deepEqual(k.values, [...k.values].sort((a, b) => a - b));
  }
  t.deepEqual(niceTicks(0, 10).values, [0, 2, 4, 6, 8, 10]);
  t.deepEqual(niceTicks(0, 0.3).values, [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]);
});

test('ticks - a zero-width range still gets an axis', (t) => {
  t.true(niceTicks(0, 0).hi > 0);
  const k = niceTicks(5, 5);
  t.true(k.lo <= 5 && k.hi >= 5 && k.hi > k.lo);
  t.throws(() => niceTicks(0, Number.NaN), { instanceOf: RangeError });
});

test('ticks - labels use one SI suffix per axis and just enough decimals', (t) => {
  const big = niceTicks(0, 60000);
  t.deepEqual(big.values.map(tickFormatter(big)), ['0', '10k', '20k', '30k', '40k', '50k', '60k']);
  const small = niceTicks(0, 1);
  t.deepEqual(small.values.map(tickFormatter(small)), ['0', '0.2', '0.4', '0.6', '0.8', '1.0']);
  const mid = niceTicks(0, 1500);
  t.is(tickFormatter(mid)(1500), '1500');
  t.is(formatValue(812744), '812,700');
  t.is(formatValue(0.015093), '0.01509');
  t.is(formatValue(-2.5), '−2.5');
});

test('stats - mean, sample sd and the t-based 95 % interval', (t) => {
  const e = estimate([2, 4, 4, 4, 5, 5, 7, 9]);
  t.is(e.mean, 5);
  t.is(Math.round(e.sd * 1e6) / 1e6, 2.13809);
  t.is(Math.round(e.ci95 * 1e4) / 1e4, Math.round(((2.365 * e.sd) / Math.sqrt(8)) * 1e4) / 1e4);
  t.deepEqual(estimate([3]), { n: 1, mean: 3, sd: 0, ci95: 0 });
  t.true(Number.isNaN(estimate([]).mean));
  t.is(tQuantile975(1), 12.706);
  t.is(tQuantile975(500), 1.96);
});

const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;

test('charts - a line chart draws every point, error bars and a legend, and says how many points', (t) => {
  const c = lineChart({
    id: 'demo',
    title: 'Demo <&>',
    xLabel: 'x (ms)',
    yLabel: 'y (1/s)',
    series: [
      { name: 'a', points: [{ x: 1, y: 10, err: 2 }, { x: 2, y: 20, err: 0 }, { x: 3, y: 15 }] },
      { name: 'b', points: [{ x: 1, y: 5 }, { x: 3, y: Number.NaN }] },
    ],
    xTicksAt: [1, 2, 3],
  });
  t.is(c.points, 4, 'the NaN point is dropped');
  t.regex(c.svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  t.regex(c.svg, /data-plot="demo" data-points="4"/);
  t.is(count(c.svg, /data-mark="point"/g), 4);
  t.is(count(c.svg, /data-mark="line"/g), 2);
  t.true(c.svg.includes('Demo &lt;&amp;&gt;'), 'text is escaped');
  t.true(c.svg.includes('>x (ms)<') && c.svg.includes('>y (1/s)<'), 'axis labels');
  t.true(c.svg.includes('± 2'), 'the error shows in the tooltip');
  t.true(c.svg.includes('class="legend"'));
});

test('charts - spans and vertical lines are drawn inside the plot', (t) => {
  const c = lineChart({
    id: 'spans',
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    series: [{ name: 'only', points: [{ x: 0, y: 1 }, { x: 10, y: 2 }] }],
    markers: false,
    spans: [{ from: 2, to: 4, label: 'f1', detail: 'f1: kill worker.0' }],
    vlines: [{ x: 1, label: 'warm-up end' }],
  });
  t.is(count(c.svg, /data-span="f1"/g), 1);
  t.true(c.svg.includes('f1: kill worker.0'));
  t.true(c.svg.includes('warm-up end'));
  t.true(c.svg.includes('fault active'), 'spans get a legend entry');
});

test('charts - no data is an error, never an empty chart', (t) => {
  t.throws(() => lineChart({ id: 'e', title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [] }] }), { message: /no data/ });
  t.throws(() => barChart({ id: 'e', title: 't', xLabel: 'x', yLabel: 'y', categories: ['a'], series: [{ name: 's', values: [undefined] }] }), { message: /no data/ });
});

test('charts - grouped bars: one bar per series and category with a value', (t) => {
  const c = barChart({
    id: 'bars',
    title: 'Bars',
    xLabel: 'policy',
    yLabel: 'virq/s',
    categories: ['none', 'static', 'aic'],
    series: [
      { name: 'workers=1', values: [100, 50, 60], errs: [5, 5, undefined] },
      { name: 'workers=2', values: [120, undefined, 70] },
    ],
  });
  t.is(c.points, 5);
  t.is(count(c.svg, /data-mark="bar"/g), 5);
  t.true(c.svg.includes('workers=2 · aic: 70'));
});
