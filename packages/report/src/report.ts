// Assembles a report from a results directory: the figures, the key numbers, the scenario and the environment that produced them, as one HTML page.
import { basename, resolve } from 'node:path';
import type { Figure, Omitted, ReportItem } from './figure.js';
import { contents, details, items, kpis, page, pre, table } from './html.js';
import type { Kpi } from './html.js';
import type { Summary } from '@splitnet/results';
import { flatten, loadResults } from './load.js';
import type { RunData, SweepData } from './load.js';
import { clusterFigures } from './fabric-figures.js';
import { endOf, faultSpans, finite, runFigures, timeline } from './run-figures.js';
import { formatValue } from './scale.js';
import { esc } from './svg.js';
import { describeErrorBars, errorOf } from './stats.js';
import type { ErrorBars } from './stats.js';
import {
  DOM0_CPU_PER_PACKET,
  METRICS,
  axisGroups,
  axisName,
  groupName,
  pointEstimate,
  repetitionsIdentical,
  sweepFigures,
  sweepPoints,
  valueLabel,
} from './sweep-figures.js';
import type { SweepPoint } from './sweep-figures.js';

export interface ReportOptions {
  /** What a sweep's error bars show (default: the sample standard deviation). */
  readonly errorBars?: ErrorBars;
}

export interface Report {
  readonly kind: 'run' | 'sweep';
  readonly html: string;
  readonly figures: readonly Figure[];
  readonly omitted: readonly Omitted[];
}

/** Standalone .svg file text for a figure (what `--figures DIR` writes). */
export function svgFile(f: Figure): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${f.svg}\n`;
}

function v(n: number | undefined): string {
  return n === undefined ? '—' : formatValue(n);
}

function split(list: readonly ReportItem[]): { figures: Figure[]; omitted: Omitted[] } {
  return {
    figures: list.filter((i): i is Figure => i.kind === 'figure'),
    omitted: list.filter((i): i is Omitted => i.kind === 'omitted'),
  };
}

/** Environment as rows: the command line joined, nested values as JSON. */
function environmentTable(env: Readonly<Record<string, unknown>> | undefined, source: string): string {
  if (!env) return `<p class="omitted">No environment.json in ${esc(source)}.</p>`;
  const rows = Object.entries(env).map(([k, x]) => [k, Array.isArray(x) ? x.map(String).join(' ') : typeof x === 'string' ? x : JSON.stringify(x)]);
  return table(['field', 'value'], rows);
}

/** The key numbers of a run (its summary), as the report's and the dashboard's finished page show them. */
export function runKpis(s: Summary): Kpi[] {
  const n = (x: number | null | undefined) => v(finite(x));
  const { throughput: tp, interrupts: irq, latencyUs: lat, accounting: acc } = s;
  const dropped = finite(s.drops.total) ?? 0;
  const out: Kpi[] = [
    { label: `delivered (offered ${n(tp.offeredGbps)}, line rate ${n(tp.lineRateGbps)})`, value: n(tp.gbps), unit: 'Gbit/s' },
    { label: 'packets delivered per second', value: n(tp.pps), unit: '/s' },
    { label: `virtual interrupts per second (${n(irq.virqPerPacket)} per packet)`, value: n(irq.virqPerSec), unit: '/s' },
    { label: 'physical interrupts per second', value: n(irq.physicalIrqPerSec), unit: '/s' },
    { label: `one-way latency p50 (p99 ${n(lat.p99)} µs)`, value: n(lat.p50), unit: 'µs' },
    { label: 'packets dropped (whole run)', value: n(s.drops.total), bad: dropped > 0 },
    {
      label: 'accounting invariant',
      value: acc.balanced === true ? 'balanced' : acc.balanced === false ? `${n(acc.unaccounted)} unaccounted` : '—',
      bad: acc.balanced === false,
    },
  ];
  const live = s.live;
  if (live !== undefined) {
    out.push({
      label: `live run (TDF ${n(live.tdf)}); time resolution`,
      value: live.valid === true ? n(live.effectiveResolutionUs) : 'invalid',
      unit: live.valid === true ? 'µs' : '',
      bad: live.valid !== true,
    });
  }
  return out;
}

/** The transmit path beside the receive summary (a guest that sends), or '' when no guest sends. */
function transmitSection(s: Summary): string {
  const t = s.tx;
  const acc = s.accounting.tx;
  if (t === undefined || acc === undefined) return '';
  const n = (x: number | null | undefined) => v(finite(x));
  const f = acc.inFlight;
  const kpiList: Kpi[] = [
    { label: `on the wire (guests sent ${n(t.sentGbps)})`, value: n(t.onWireGbps), unit: 'Gbit/s' },
    { label: 'to other guests through the bridge', value: n(t.toGuestsGbps), unit: 'Gbit/s' },
    { label: 'guest TX virtual interrupts per second', value: n(t.interrupts.virqPerSec), unit: '/s' },
    { label: 'NIC TX-completion interrupts per second', value: n(t.interrupts.nicIrqPerSec), unit: '/s' },
    { label: 'mean latency, send to the wire', value: n(t.meanLatencyUs), unit: 'µs' },
    { label: 'frames dropped (whole run)', value: n(t.drops.total), bad: (finite(t.drops.total) ?? 0) > 0 },
    { label: 'transmit accounting', value: acc.balanced ? 'balanced' : `${n(acc.unaccounted)} unaccounted`, bad: !acc.balanced },
  ];
  const rows = [
    ['guest notifications to netback', `${n(t.notifications.guestPerSec)} /s`],
    ['netback notifications to the guests', `${n(t.notifications.netbackPerSec)} /s`],
    ['netback TX polls', `${n(t.netback.pollsPerSec)} /s`],
    ['TX responses (share after the dealloc)', `${n(t.netback.responsesPerSec)} /s (${n(t.netback.deallocShare * 100)} %)`],
    ['credit waits (rate=)', `${n(t.netback.creditWaitsPerSec)} /s`],
    [
      'drops by reason',
      Object.entries(acc.dropped)
        .map(([k, x]) => `${k} ${n(x)}`)
        .join(', '),
    ],
    [
      'accounting',
      `sent ${n(acc.sent)} = on the wire ${n(acc.onWire)} + to guests ${n(acc.toGuests)} + dropped ${n(t.drops.total)} + in flight ${n(f.guestQdiscs + f.txRings + f.links + f.nicTxQueues)}`,
    ],
  ];
  return `<section id="transmit"><h2>Transmit path</h2>${kpis(kpiList)}${table(['figure', 'value'], rows)}<p>Guests that send: the receive figures above include what other guests sent through the bridge; CPU per core includes the transmit work.</p></section>`;
}

/** A multi-host run's section: the switch ports over time and the hosts side by side, after a line on the fabric's accounting. */
function clusterSection(s: Summary, figures: readonly ReportItem[], counter: { n: number }): string {
  const f = s.fabric;
  const n = (x: number | null | undefined) => v(finite(x));
  const lead =
    f === undefined
      ? ''
      : kpis([
          { label: 'hosts', value: String(s.hosts?.length ?? 0) },
          { label: 'frames dropped at the switch (whole run)', value: n(f.drops.total), bad: (finite(f.drops.total) ?? 0) > 0 },
          { label: 'fabric accounting', value: f.accounting.balanced ? 'balanced' : `${n(f.accounting.unaccounted)} unaccounted`, bad: !f.accounting.balanced },
        ]);
  return `<section id="cluster"><h2>Hosts and switch</h2>${lead}<p>A multi-host run: the figures above add up every host; here each switch port over time (metrics.jsonl’s switchPorts) and each host’s own summary (summary.json’s hosts[]).</p>${items(figures, counter)}</section>`;
}

/** The scenario's one-line `description` from the resolved YAML (plain or quoted scalar), if any. */
export function scenarioDescription(yaml: string | undefined): string | undefined {
  const m = /^description: (.+)$/m.exec(yaml ?? '');
  const raw = m?.[1]?.trim();
  if (raw === undefined || raw === '' || raw === 'null') return undefined;
  if (raw.startsWith('"')) {
    try {
      return String(JSON.parse(raw));
    } catch {
      return raw;
    }
  }
  return raw.startsWith("'") && raw.endsWith("'") ? raw.slice(1, -1).replace(/''/g, "'") : raw;
}

export function renderRunReport(run: RunData): Report {
  const s = run.summary;
  const own = runFigures(run);
  const cluster = clusterFigures(timeline(run.samples, run.events, endOf(run), finite(s.windowMs[0])), s);
  const list = [...own, ...cluster];
  const counter = { n: 0 };
  const name = typeof s.scenario === 'string' ? s.scenario : basename(resolve(run.dir));
  const window = `${v(finite(s.windowMs[0]))}–${v(finite(s.windowMs[1]))} ms`;
  const faults = faultSpans(run.events, endOf(run));
  const body: string[] = [];
  const description = scenarioDescription(run.scenarioYaml);
  body.push(`<section id="summary">${description !== undefined ? `<p class="lead">${esc(description)}</p>` : ''}<h2>Summary</h2>${kpis(runKpis(s))}`);
  body.push(
    `<p>Rates and latency cover the measurement window ${esc(window)} of emulated time (after the warm-up); drops and accounting cover the whole run. Hover over a plot for its values.</p></section>`,
  );
  const txSection = transmitSection(s);
  if (txSection !== '') body.push(txSection);
  body.push(`<section id="figures"><h2>Figures</h2>${items(own, counter)}</section>`);
  if (cluster.length > 0) body.push(clusterSection(s, cluster, counter));
  if (faults.length > 0) {
    body.push(
      `<section id="faults"><h2>Faults</h2>${table(
        ['fault', 'action', 'target', 'from (ms)', 'to (ms)'],
        faults.map((f) => [f.id, f.action, f.target, v(f.fromMs), f.open ? `${v(f.toMs)} (end of run)` : v(f.toMs)]),
        [false, false, false, true, true],
      )}</section>`,
    );
  }
  body.push(`<section id="scenario"><h2>Scenario</h2>`);
  body.push(
    run.scenarioYaml !== undefined
      ? `<p>The scenario with every default filled in (<code>scenario.resolved.yaml</code>); <code>splitnet run</code> on it reproduces the run.</p>${details('scenario.resolved.yaml', pre(run.scenarioYaml))}`
      : '<p class="omitted">No scenario.resolved.yaml in the results directory.</p>',
  );
  body.push(
    details(
      'every summary value (summary.json, nested keys joined with dots)',
      table(
        ['metric', 'value'],
        [...flatten(s)].map(([k, x]) => [k, typeof x === 'number' ? v(x) : String(x)]),
        [false, true],
      ),
    ),
  );
  body.push('</section>');
  body.push(
    `<section id="environment"><h2>Environment</h2><p>What ran where (<code>environment.json</code>; the only results file that depends on the host and the clock).</p>${environmentTable(run.environment, run.dir)}</section>`,
  );
  const html = page({
    kind: 'Run',
    title: name,
    subtitle: `seed ${String(s.seed ?? '?')} · ${String(s.runtime ?? 'sim')} runtime · window ${window} · ${basename(resolve(run.dir))}`,
    body: body.join('\n'),
    footer: `splitnet report of ${run.dir}. Times are emulated time; rates are per second of emulated time.`,
  });
  return { kind: 'run', html, ...split(list) };
}

/** The sweep's opening section: its size, its axes and what they mean, the base scenario and what error bars show. */
function sweepSummarySection(data: SweepData, points: readonly SweepPoint[], errorBars: string): string {
  const sw = data.sweep;
  const description = scenarioDescription(data.firstRun?.scenarioYaml);
  // A zip is one axis of the product (and of the plots), however many scenario paths move in it.
  const groups = axisGroups(sw.axes).length;
  const axes = table(
    ['axis (scenario path)', 'meaning', 'values'],
    sw.axes.map((a) => {
      // A zip's members advance together: say so, or the table reads as a product.
      const mates = a.zip === undefined ? [] : sw.axes.filter((b) => b !== a && b.zip === a.zip).map((b) => b.path);
      return [a.path, mates.length > 0 ? `${axisName(a.path)} (zip: in step with ${mates.join(', ')})` : axisName(a.path), a.values.map(valueLabel).join(', ')];
    }),
  );
  return [
    `<section id="summary">${description !== undefined ? `<p class="lead">Base scenario: ${esc(description)}</p>` : ''}<h2>Sweep</h2>`,
    kpis([
      { label: groups === sw.axes.length ? 'axes' : `axes (a zip counts once; ${sw.axes.length} scenario paths)`, value: String(groups) },
      { label: 'points', value: String(points.length) },
      { label: 'repetitions per point', value: String(sw.repetitions) },
      { label: 'runs in the table', value: String(data.table.length) },
    ]),
    axes,
    `<p>Base scenario <code>${esc(sw.base)}</code>; run seeds derived from base seed ${esc(String(sw.baseSeed))}. ${esc(errorBars)}</p></section>`,
  ].join('\n');
}

/** The points as a table: each axis's value, the repetitions, and the key metrics as mean ± the chosen error. */
function pointsSection(sw: SweepData['sweep'], points: readonly SweepPoint[], bars: ErrorBars): string {
  const cols = [METRICS.gbps, METRICS.virq, METRICS.p99, DOM0_CPU_PER_PACKET];
  const errName = bars === 'sd' ? '± sd' : '± 95 % CI';
  const rows = points.map((p) => {
    const same = repetitionsIdentical(p);
    return [
      p.id,
      ...sw.axes.map((a) => valueLabel(p.values.get(a.path))),
      String(p.rows.length),
      same === undefined ? '—' : same ? 'identical' : 'differ',
      ...cols.map((m) => {
        const e = pointEstimate(p, m);
        if (e.n === 0) return '—';
        const err = errorOf(e, bars);
        return e.n > 1 && same !== true ? `${formatValue(e.mean)} ± ${formatValue(err)}` : formatValue(e.mean);
      }),
    ];
  });
  return `<section id="points"><h2>Points</h2><p>Mean ${errName} over the repetitions of each point; a point whose repetitions are identical shows its one value.</p>${table(
    ['point', ...sw.axes.map((a) => a.path), 'runs', 'repetitions', ...cols.map((m) => m.label)],
    rows,
    [false, ...sw.axes.map(() => false), true, false, ...cols.map(() => true)],
  )}</section>`;
}

/** The first run's resolved scenario, the sweep file as the sweep wrote it, and the first run's environment. */
function sweepSourcesSections(data: SweepData): string {
  const body = ['<section id="scenario"><h2>Scenario</h2>'];
  if (data.firstRun?.scenarioYaml !== undefined) {
    const firstId = String(data.table[0]?.['run'] ?? '');
    body.push(
      `<p>The resolved scenario of the first run (<code>runs/${esc(firstId)}/scenario.resolved.yaml</code>); every other run differs from it only in the swept values and the seed.</p>${details(
        `runs/${firstId}/scenario.resolved.yaml`,
        pre(data.firstRun.scenarioYaml),
      )}`,
    );
  } else {
    body.push('<p class="omitted">No run directory with a scenario.resolved.yaml under runs/.</p>');
  }
  body.push(details('sweep.json', pre(JSON.stringify(data.sweep, null, 2))));
  body.push('</section>');
  body.push(
    `<section id="environment"><h2>Environment</h2><p>The first run’s <code>environment.json</code>.</p>${environmentTable(data.firstRun?.environment, `${data.dir}/runs`)}</section>`,
  );
  return body.join('\n');
}

export function renderSweepReport(data: SweepData, opts: ReportOptions = {}): Report {
  const bars = opts.errorBars ?? 'sd';
  const sw = data.sweep;
  const { highlights, perAxis } = sweepFigures(data, bars);
  const points = sweepPoints(data);
  const reps = Math.max(0, ...points.map((p) => p.rows.length));
  const identical = points.filter((p) => repetitionsIdentical(p) === true).length;
  const errorBars = describeErrorBars(bars, reps, identical, points.length);
  const counter = { n: 0 };
  const body = [
    sweepSummarySection(data, points, errorBars),
    contents([...highlights, ...perAxis]),
    `<section id="highlights"><h2>Figures</h2>${highlights.length > 0 ? items(highlights, counter) : '<p class="omitted">None of the study’s known axes (packet size, coalescing, workers, VM count) is swept; see the per-axis figures.</p>'}</section>`,
    `<section id="per-axis"><h2>Every metric against every axis</h2>${items(perAxis, counter)}</section>`,
    pointsSection(sw, points, bars),
    sweepSourcesSections(data),
  ];
  const html = page({
    kind: 'Sweep',
    title: sw.name,
    subtitle: `${axisGroups(sw.axes).map(groupName).join(' × ')} · ${points.length} points × ${sw.repetitions} repetitions · ${basename(resolve(data.dir))}`,
    body: body.join('\n'),
    footer: `splitnet report of ${data.dir}. ${errorBars}`,
  });
  return { kind: 'sweep', html, ...split([...highlights, ...perAxis]) };
}

/** Read `dir` (a run's or a sweep's results) and build its report. */
export function buildReport(dir: string, opts: ReportOptions = {}): Report {
  const r = loadResults(dir);
  return r.kind === 'run' ? renderRunReport(r.run) : renderSweepReport(r.sweep, opts);
}
