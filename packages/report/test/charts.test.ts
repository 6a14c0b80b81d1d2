// Tests for the plotting module: tick arithmetic, number formats, statistics, and the SVG the charts produce.
import test from 'ava';
import { barChart, estimate, fitText, formatValue, lineChart, niceTicks, tickFormatter, tQuantile975 } from '../src/index.js';
import { textWidth } from '../src/svg.js';

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
    t.true(
      [1, 2, 5].some((m) => Math.abs(mant - m) < 1e-9),
      `step ${k.step}`,
    );
    t.true(k.values.length >= 3 && k.values.length <= 12, `${k.values.length} ticks`);
    t.deepEqual(
      k.values,
      [...k.values].sort((a, b) => a - b),
    );
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

test('stats - identical repetitions have exactly no spread, whatever the rounding of their sum', (t) => {
  // 0.1 + 0.1 + 0.1 is 0.30000000000000004: a mean computed from the sum is not 0.1, and its sd not 0.
  t.deepEqual(estimate([0.1, 0.1, 0.1]), { n: 3, mean: 0.1, sd: 0, ci95: 0 });
  t.deepEqual(estimate([2.917, 2.917]), { n: 2, mean: 2.917, sd: 0, ci95: 0 });
});

const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;

test('charts - a line chart draws every point, error bars and a legend, and says how many points', (t) => {
  const c = lineChart({
    id: 'demo',
    title: 'Demo <&>',
    xLabel: 'x (ms)',
    yLabel: 'y (1/s)',
    series: [
      {
        name: 'a',
        points: [
          { x: 1, y: 10, err: 2 },
          { x: 2, y: 20, err: 0 },
          { x: 3, y: 15 },
        ],
      },
      {
        name: 'b',
        points: [
          { x: 1, y: 5 },
          { x: 3, y: Number.NaN },
        ],
      },
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

test('charts - x ticks carry the labels given (rates as written), placed by their numbers; one that would overlap its neighbour is left out', (t) => {
  const c = lineChart({
    id: 'rates',
    title: 'rates',
    xLabel: 'offered rate',
    yLabel: 'y',
    series: [
      {
        name: 'a',
        points: [
          { x: 1e8, y: 1 },
          { x: 1.2e8, y: 2 },
          { x: 1e9, y: 3 },
          { x: 6e9, y: 4 },
        ],
      },
    ],
    xTicksAt: [1e8, 1.2e8, 1e9, 6e9],
    xTickLabels: ['100Mbps', '120Mbps', '1Gbps', '6Gbps'],
  });
  const labels = [...c.svg.matchAll(/text-anchor="middle" fill="#444444">([^<]+)</g)].map((m) => m[1]);
  t.deepEqual(labels, ['100Mbps', '1Gbps', '6Gbps'], '120Mbps sits a few pixels from 100Mbps: its label is left out');
  t.is(count(c.svg, /<line x1="[\d.]+" y1="[\d.]+" x2="[\d.]+" y2="[\d.]+" stroke="#444444"\/>/g), 4, 'every tick is drawn');
  t.true(c.svg.includes('a: 120Mbps → 2'), 'tooltips name the value as written');
});

test('charts - spans and vertical lines are drawn inside the plot', (t) => {
  const c = lineChart({
    id: 'spans',
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    series: [
      {
        name: 'only',
        points: [
          { x: 0, y: 1 },
          { x: 10, y: 2 },
        ],
      },
    ],
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
  t.throws(() => barChart({ id: 'e', title: 't', xLabel: 'x', yLabel: 'y', categories: ['a'], series: [{ name: 's', values: [undefined] }] }), {
    message: /no data/,
  });
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

/** The y tick labels of a chart, bottom to top (the text right-aligned at the y axis, drawn in that order). */
function yTicks(svg: string): string[] {
  return [...svg.matchAll(/<text x="68" y="[^"]+" font-size="11" text-anchor="end"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] ?? '');
}

test('charts - data that is never negative keeps its axis at 0 when an error bar reaches below', (t) => {
  // A mean of 2 interrupts/s with sd 4.5 (one repetition of five interrupts): the scale must not go negative.
  const bars = barChart({
    id: 'b',
    title: 't',
    xLabel: 'x',
    yLabel: 'virq/s',
    categories: ['none', 'static'],
    series: [{ name: 's', values: [120_000, 2], errs: [100, 4.5] }],
  });
  t.is(yTicks(bars.svg)[0], '0', yTicks(bars.svg).join(' '));
  t.false(yTicks(bars.svg).some((v) => v.startsWith('−') || v.startsWith('-')));
  const line = lineChart({
    id: 'l',
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    series: [
      {
        name: 'a',
        points: [
          { x: 1, y: 1, err: 3 },
          { x: 2, y: 10 },
        ],
      },
    ],
  });
  t.is(yTicks(line.svg)[0], '0', yTicks(line.svg).join(' '));
  // Negative data still gets a negative axis.
  const neg = barChart({ id: 'n', title: 't', xLabel: 'x', yLabel: 'y', categories: ['a', 'b'], series: [{ name: 's', values: [-5, 10] }] });
  t.true(
    yTicks(neg.svg).some((v) => v.startsWith('−') || v.startsWith('-')),
    yTicks(neg.svg).join(' '),
  );
});

test('charts - long category labels and legend names are cut to fit the figure, the full text in a tooltip; multi-line labels stack', (t) => {
  const long = 'backend static 50 µs/32, frontend static 50 µs/32, and a great deal more text than fits';
  const c = barChart({
    id: 'cut',
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    categories: ['none', long, 'b', 'c', 'd', 'e', 'f', 'g'],
    series: [
      { name: `${long} (series)`.repeat(2), values: [1, 2, 3, 4, 5, 6, 7, 8] },
      { name: 's2', values: [1, 2, 3, 4, 5, 6, 7, 8] },
    ],
  });
  t.false(c.svg.includes(`>${long}</text>`), 'not drawn in full');
  t.true(c.svg.includes(`<title>${long.replace(/&/g, '&amp;')}</title>`), 'the tooltip has it all');
  for (const m of c.svg.matchAll(/<text[^>]*>([^<]+)</g)) t.true(textWidth(m[1] ?? '', 11) <= 720, m[1]);
  t.true(fitText(long, 11, 100).endsWith('…') && textWidth(fitText(long, 11, 100), 11) <= 100);
  t.is(fitText('short', 11, 100), 'short');
  const stacked = barChart({
    id: 's',
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    categories: ['backend none\nfrontend none', 'backend aic\nfrontend none'],
    series: [{ name: 's', values: [1, 2] }],
  });
  t.true(stacked.svg.includes('>backend none<') && stacked.svg.includes('>frontend none<'), 'one text per line');
  t.false(stacked.svg.includes('rotate(-40)'));
});
