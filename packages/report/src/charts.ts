// The plotting module: data → standalone SVG text for line/scatter charts (error bars, steps, shaded spans) and grouped bar charts, with axes, ticks and legends.
import { AXIS, FAULT_FILL, GRID, MUTED, seriesStyle } from './palette.js';
import type { SeriesStyle, Shape } from './palette.js';
import { formatValue, linear, niceTicks, tickFormatter } from './scale.js';
import type { Ticks } from './scale.js';
import { FONT, esc, px, textWidth } from './svg.js';

export interface XYPoint {
  readonly x: number;
  readonly y: number;
  /** Half-width of the error bar (same unit as y); absent: no bar. */
  readonly err?: number;
}

export interface XYSeries {
  readonly name: string;
  readonly points: readonly XYPoint[];
  /** A reference line (e.g. the link's line rate): grey, dashed, no markers. */
  readonly reference?: boolean;
}

/** A shaded interval of x, e.g. a fault that was active. */
export interface Span {
  readonly from: number;
  readonly to: number;
  /** Short label drawn at the top of the span. */
  readonly label: string;
  /** Longer text for the hover tooltip. */
  readonly detail?: string;
}

/** A labelled vertical line, e.g. the end of the warm-up. */
export interface VLine {
  readonly x: number;
  readonly label: string;
}

export interface LineChartSpec {
  /** Stable id: the figure's file name and its `data-plot` attribute. */
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly XYSeries[];
  /** Draw markers at every point (sweeps) or only hover targets (dense time series). Default true. */
  readonly markers?: boolean;
  /** Connect the points with a line. Default true. */
  readonly lines?: boolean;
  /** Steps instead of straight segments (a CDF). */
  readonly step?: boolean;
  /** Start the y axis at 0 (default) rather than at the data's minimum. */
  readonly yFromZero?: boolean;
  /** Fix the top of the y axis (e.g. 1 for a CDF). */
  readonly yMax?: number;
  /** Put the x ticks exactly at these values (a sweep axis with a few values). */
  readonly xTicksAt?: readonly number[];
  /** Labels of those ticks (and of the points there in tooltips), e.g. the rates as written (`500Mbps`); default: the numbers. */
  readonly xTickLabels?: readonly string[];
  readonly spans?: readonly Span[];
  /** Legend text for the spans (one entry for all of them). */
  readonly spanLegend?: string;
  readonly vlines?: readonly VLine[];
}

export interface BarSeries {
  readonly name: string;
  /** One value per category; undefined: no bar there. */
  readonly values: readonly (number | undefined)[];
  /** Error-bar half-widths, per category. */
  readonly errs?: readonly (number | undefined)[];
}

export interface BarChartSpec {
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
  /**
   * With one series: colour each category by its group (index into `groupNames`), e.g. cores by
   * domain. The legend then lists the groups.
   */
  readonly categoryGroups?: readonly number[];
  readonly groupNames?: readonly string[];
}

const WIDTH = 720;
const BASE_HEIGHT = 360;
const MARGIN_LEFT = 74;
const MARGIN_RIGHT = 20;
const TITLE_Y = 22;
const LEGEND_TOP = 36;
const LEGEND_ROW = 18;
const TICK_FONT = 11;
const LABEL_FONT = 12;

/** Smallest and largest of many numbers (Math.min(...xs) overflows the stack on very long series). */
function extent(xs: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of xs) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Hover targets per series at most: enough to read a line, without bloating a long time series. */
const MAX_HOVER_TARGETS = 200;

/** Count of data marks drawn: the browser test and callers check it is not zero. */
export interface Chart {
  readonly svg: string;
  readonly points: number;
}

interface LegendItem {
  readonly name: string;
  readonly kind: 'line' | 'bar' | 'span' | 'reference';
  readonly style: SeriesStyle;
}

/** Lay legend items out in rows across the chart's width; returns the SVG and the rows used. */
function legend(items: readonly LegendItem[]): { svg: string; rows: number } {
  if (items.length === 0) return { svg: '', rows: 0 };
  const parts: string[] = [];
  let x = MARGIN_LEFT;
  let row = 0;
  for (const it of items) {
    const name = fitText(it.name, TICK_FONT, WIDTH - MARGIN_LEFT - MARGIN_RIGHT - 48);
    const w = 30 + textWidth(name, TICK_FONT) + 18;
    if (x + w > WIDTH - MARGIN_RIGHT && x > MARGIN_LEFT) {
      row++;
      x = MARGIN_LEFT;
    }
    const y = LEGEND_TOP + row * LEGEND_ROW + 6;
    const s = it.style;
    if (it.kind === 'bar') {
      parts.push(`<rect x="${px(x)}" y="${px(y - 5)}" width="20" height="10" fill="${s.color}"/>`);
    } else if (it.kind === 'span') {
      parts.push(
        `<rect x="${px(x)}" y="${px(y - 6)}" width="20" height="12" fill="${FAULT_FILL}" fill-opacity="0.16" stroke="${FAULT_FILL}" stroke-opacity="0.5"/>`,
      );
    } else if (it.kind === 'reference') {
      parts.push(`<line x1="${px(x)}" y1="${px(y)}" x2="${px(x + 20)}" y2="${px(y)}" stroke="${MUTED}" stroke-width="1.5" stroke-dasharray="5 3"/>`);
    } else {
      parts.push(
        `<line x1="${px(x)}" y1="${px(y)}" x2="${px(x + 20)}" y2="${px(y)}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      );
      parts.push(marker(s.shape, x + 10, y, s.color, 3.5));
    }
    parts.push(
      `<text x="${px(x + 26)}" y="${px(y + 4)}" font-size="${TICK_FONT}" fill="#222">${esc(name)}${name !== it.name ? `<title>${esc(it.name)}</title>` : ''}</text>`,
    );
    x += w;
  }
  return { svg: `<g class="legend">${parts.join('')}</g>`, rows: row + 1 };
}

/** `text` cut to at most `max` px (estimated) with an ellipsis: long legend names and category labels stay inside the figure. */
export function fitText(text: string, size: number, max: number): string {
  if (textWidth(text, size) <= max) return text;
  let out = '';
  for (const ch of text) {
    if (textWidth(`${out}${ch}…`, size) > max) break;
    out += ch;
  }
  return `${out.trimEnd()}…`;
}

function marker(shape: Shape, x: number, y: number, color: string, r: number, extra = ''): string {
  switch (shape) {
    case 'circle':
      return `<circle cx="${px(x)}" cy="${px(y)}" r="${px(r)}" fill="${color}"${extra}/>`;
    case 'square':
      return `<rect x="${px(x - r)}" y="${px(y - r)}" width="${px(2 * r)}" height="${px(2 * r)}" fill="${color}"${extra}/>`;
    case 'triangle':
      return `<path d="M${px(x)} ${px(y - r * 1.2)}L${px(x + r * 1.1)} ${px(y + r * 0.8)}L${px(x - r * 1.1)} ${px(y + r * 0.8)}Z" fill="${color}"${extra}/>`;
    case 'triangle-down':
      return `<path d="M${px(x)} ${px(y + r * 1.2)}L${px(x + r * 1.1)} ${px(y - r * 0.8)}L${px(x - r * 1.1)} ${px(y - r * 0.8)}Z" fill="${color}"${extra}/>`;
    case 'diamond':
      return `<path d="M${px(x)} ${px(y - r * 1.3)}L${px(x + r * 1.3)} ${px(y)}L${px(x)} ${px(y + r * 1.3)}L${px(x - r * 1.3)} ${px(y)}Z" fill="${color}"${extra}/>`;
  }
}

function open(id: string, title: string, height: number, points: number): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${px(height)}" width="${WIDTH}" height="${px(height)}" ` +
    `font-family="${esc(FONT)}" role="img" aria-labelledby="${esc(id)}-title" data-plot="${esc(id)}" data-points="${points}">` +
    `<title id="${esc(id)}-title">${esc(title)}</title>` +
    `<rect width="${WIDTH}" height="${px(height)}" fill="#ffffff"/>` +
    `<text x="${MARGIN_LEFT}" y="${TITLE_Y}" font-size="15" font-weight="600" fill="#111">${esc(title)}</text>`
  );
}

interface Frame {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/** Horizontal grid lines, y tick labels, the y axis label (rotated) and the x axis label. */
function yAxis(f: Frame, ticks: Ticks, y: (v: number) => number, yLabel: string): string {
  const fmt = tickFormatter(ticks);
  const parts: string[] = [];
  for (const v of ticks.values) {
    const yy = y(v);
    parts.push(`<line x1="${f.left}" y1="${px(yy)}" x2="${f.right}" y2="${px(yy)}" stroke="${GRID}" stroke-width="1"/>`);
    parts.push(`<text x="${f.left - 6}" y="${px(yy + 4)}" font-size="${TICK_FONT}" text-anchor="end" fill="${AXIS}">${esc(fmt(v))}</text>`);
  }
  const cy = (f.top + f.bottom) / 2;
  parts.push(`<text transform="translate(16 ${px(cy)}) rotate(-90)" font-size="${LABEL_FONT}" text-anchor="middle" fill="#222">${esc(yLabel)}</text>`);
  return parts.join('');
}

function frameLines(f: Frame): string {
  return (
    `<line x1="${f.left}" y1="${px(f.bottom)}" x2="${f.right}" y2="${px(f.bottom)}" stroke="${AXIS}" stroke-width="1"/>` +
    `<line x1="${f.left}" y1="${px(f.top)}" x2="${f.left}" y2="${px(f.bottom)}" stroke="${AXIS}" stroke-width="1"/>`
  );
}

function xLabelText(f: Frame, label: string, y: number): string {
  return `<text x="${px((f.left + f.right) / 2)}" y="${px(y)}" font-size="${LABEL_FONT}" text-anchor="middle" fill="#222">${esc(label)}</text>`;
}

function errorBar(x: number, y0: number, y1: number, color: string): string {
  return (
    `<path d="M${px(x)} ${px(y0)}V${px(y1)}M${px(x - 4)} ${px(y0)}H${px(x + 4)}M${px(x - 4)} ${px(y1)}H${px(x + 4)}" ` +
    `stroke="${color}" stroke-width="1.2" fill="none"/>`
  );
}

/** A line chart's scales: where x and y values are drawn in the frame, and the ticks of both axes. */
interface LineScales {
  readonly xt: Ticks;
  readonly yt: Ticks;
  readonly x: (v: number) => number;
  readonly y: (v: number) => number;
}

function lineScales(spec: LineChartSpec, all: readonly XYPoint[], f: Frame): LineScales {
  const [dataXMin, dataXMax] = extent(all.map((p) => p.x));
  const [tickMin, tickMax] = extent(spec.xTicksAt ?? []);
  const xMin = Math.min(dataXMin, tickMin);
  const xMax = Math.max(dataXMax, tickMax);
  const [lowY] = extent(all.map((p) => p.y - (p.err ?? 0)));
  const [, highY] = extent(all.map((p) => p.y + (p.err ?? 0)));
  // Data that is never negative (rates, counts, latencies) keeps its axis at 0: an error bar that reaches
  // below 0 is cut at the axis rather than inventing a negative scale.
  const nonNegative = all.every((p) => p.y >= 0);
  const yLo = nonNegative && spec.yFromZero !== false ? 0 : spec.yFromZero === false ? lowY : Math.min(0, lowY);
  const yHi = spec.yMax ?? highY;
  const yt = niceTicks(yLo, yHi, 5);
  // A few discrete x values (a sweep axis) get ticks exactly there, with a margin so markers are not on the frame.
  let xt: Ticks;
  if (spec.xTicksAt && spec.xTicksAt.length > 0) {
    const pad = xMax > xMin ? (xMax - xMin) * 0.06 : 1;
    xt = { lo: xMin - pad, hi: xMax + pad, step: 0, values: [...spec.xTicksAt] };
  } else {
    xt = niceTicks(xMin, xMax, 8);
    // Time axes start where the data starts (e.g. 0.5 ms), not at a rounder number far before.
    xt = { ...xt, lo: Math.max(xt.lo, dataXMin - (xt.step > 0 ? xt.step : 0)) };
  }
  return { xt, yt, x: linear(xt.lo, xt.hi, f.left, f.right), y: linear(yt.lo, yt.hi, f.bottom, f.top) };
}

/** Shaded spans (faults), below everything else. */
function spansSvg(spec: LineChartSpec, f: Frame, x: (v: number) => number): string[] {
  const clampX = (v: number) => Math.min(f.right, Math.max(f.left, x(v)));
  return (spec.spans ?? []).map((s) => {
    const x0 = clampX(s.from);
    const x1 = clampX(s.to);
    return (
      `<g class="span" data-span="${esc(s.label)}"><rect x="${px(x0)}" y="${px(f.top)}" width="${px(Math.max(1.5, x1 - x0))}" height="${px(f.bottom - f.top)}" fill="${FAULT_FILL}" fill-opacity="0.14"/>` +
      `<line x1="${px(x0)}" y1="${px(f.top)}" x2="${px(x0)}" y2="${px(f.bottom)}" stroke="${FAULT_FILL}" stroke-opacity="0.6"/>` +
      `<text x="${px(x0 + 3)}" y="${px(f.top + 12)}" font-size="10" fill="${FAULT_FILL}">${esc(s.label)}</text>` +
      `<title>${esc(s.detail ?? s.label)}</title></g>`
    );
  });
}

/** How an x value is written: swept values as given (1518, not 1,518: a frame size is a label, not a quantity to read off), others as the ticks say. */
function xFormat(spec: LineChartSpec, xt: Ticks): (v: number) => string {
  const given = new Map((spec.xTicksAt ?? []).flatMap((v, i) => (spec.xTickLabels?.[i] !== undefined ? [[v, spec.xTickLabels[i] as string] as const] : [])));
  return spec.xTicksAt ? (v: number) => given.get(v) ?? (Number.isInteger(v) && Math.abs(v) < 1e7 ? String(v) : formatValue(v)) : tickFormatter(xt);
}

/** The x axis's ticks and labels; a label that would overlap the previous one is left out (its tick stays): values crowded at one end of a linear axis. */
function xAxisSvg(sc: LineScales, f: Frame, xfmt: (v: number) => string): string[] {
  const parts: string[] = [];
  let labelEnd = -Infinity;
  for (const v of sc.xt.values) {
    if (v < sc.xt.lo - 1e-9 || v > sc.xt.hi + 1e-9) continue;
    const xx = sc.x(v);
    parts.push(`<line x1="${px(xx)}" y1="${px(f.bottom)}" x2="${px(xx)}" y2="${px(f.bottom + 5)}" stroke="${AXIS}"/>`);
    const label = xfmt(v);
    const half = textWidth(label, TICK_FONT) / 2;
    if (xx - half < labelEnd + 4) continue;
    labelEnd = xx + half;
    parts.push(`<text x="${px(xx)}" y="${px(f.bottom + 18)}" font-size="${TICK_FONT}" text-anchor="middle" fill="${AXIS}">${esc(label)}</text>`);
  }
  return parts;
}

/** Dashed vertical lines with labels (the end of the warm-up). */
function vlinesSvg(spec: LineChartSpec, f: Frame, x: (v: number) => number): string[] {
  const parts: string[] = [];
  for (const v of spec.vlines ?? []) {
    const xx = x(v.x);
    if (xx < f.left || xx > f.right) continue;
    parts.push(
      `<line x1="${px(xx)}" y1="${px(f.top)}" x2="${px(xx)}" y2="${px(f.bottom)}" stroke="${MUTED}" stroke-dasharray="3 3"/>` +
        `<text x="${px(xx + 3)}" y="${px(f.bottom - 6)}" font-size="10" fill="${MUTED}">${esc(v.label)}</text>`,
    );
  }
  return parts;
}

/** One series: its line (a path) and its points (markers, error bars and hover targets with the values). */
function seriesSvg(
  spec: LineChartSpec,
  s: XYSeries,
  st: { readonly color: string; readonly shape: Shape; readonly dash?: string | undefined },
  sc: LineScales,
  xfmt: (v: number) => string,
): string {
  const markers = spec.markers ?? true;
  const lines = spec.lines ?? true;
  const pts = s.points.map((p) => [sc.x(p.x), sc.y(p.y)] as const);
  const sparse = Math.max(1, Math.ceil(s.points.length / 10));
  const hoverEvery = Math.max(1, Math.ceil(s.points.length / MAX_HOVER_TARGETS));
  const g: string[] = [`<g class="series" data-series="${esc(s.name)}">`];
  if (lines || s.reference) {
    let d = '';
    pts.forEach(([px0, py0], i) => {
      if (i === 0) d += `M${px(px0)} ${px(py0)}`;
      else if (spec.step) d += `H${px(px0)}V${px(py0)}`;
      else d += `L${px(px0)} ${px(py0)}`;
    });
    g.push(
      `<path d="${d}" fill="none" stroke="${st.color}" stroke-width="${s.reference ? 1.5 : 2}" stroke-linejoin="round"${st.dash ? ` stroke-dasharray="${st.dash}"` : ''} data-mark="line"/>`,
    );
  }
  s.points.forEach((p, i) => {
    const [cx, cy] = pts[i] as readonly [number, number];
    if (p.err !== undefined && p.err > 0) g.push(errorBar(cx, sc.y(Math.max(sc.yt.lo, p.y - p.err)), sc.y(p.y + p.err), st.color));
    const tip = `<title>${esc(s.name)}: ${esc(spec.xTicksAt ? xfmt(p.x) : formatValue(p.x))} → ${esc(formatValue(p.y))}${p.err !== undefined && p.err > 0 ? ` ± ${esc(formatValue(p.err))}` : ''}</title>`;
    if (markers && !s.reference) {
      g.push(`<g data-mark="point">${marker(st.shape, cx, cy, st.color, 3.5)}${tip}</g>`);
    } else {
      // Dense lines get a marker every few points so series stay apart in grey print too.
      if (!s.reference && !spec.step && i % sparse === Math.floor(sparse / 2) % sparse) g.push(marker(st.shape, cx, cy, st.color, 3));
      // Invisible hover target: the value under the pointer without cluttering a dense line.
      if (i % hoverEvery === 0 || i === s.points.length - 1)
        g.push(`<circle cx="${px(cx)}" cy="${px(cy)}" r="4" fill="transparent" data-mark="point">${tip}</circle>`);
    }
  });
  g.push('</g>');
  return g.join('');
}

/** A line (or scatter) chart. Throws if no series has a finite point: callers omit such plots with a note instead. */
export function lineChart(spec: LineChartSpec): Chart {
  const series = spec.series.map((s) => ({ ...s, points: s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)) }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) throw new RangeError(`lineChart ${spec.id}: no data`);
  const dataSeries = series.filter((s) => !s.reference);
  const items: LegendItem[] = series.map((s) => ({
    name: s.name,
    kind: s.reference ? 'reference' : 'line',
    style: seriesStyle(s.reference ? 0 : dataSeries.indexOf(s)),
  }));
  if (spec.spans && spec.spans.length > 0) items.push({ name: spec.spanLegend ?? 'fault active', kind: 'span', style: seriesStyle(0) });
  const lg = series.length > 1 || items.some((it) => it.kind === 'span') ? legend(items) : { svg: '', rows: 0 };
  const height = BASE_HEIGHT + Math.max(0, lg.rows - 1) * LEGEND_ROW;
  const f: Frame = { top: LEGEND_TOP + lg.rows * LEGEND_ROW + 10, bottom: height - 50, left: MARGIN_LEFT, right: WIDTH - MARGIN_RIGHT };
  const sc = lineScales(spec, all, f);
  const xfmt = xFormat(spec, sc.xt);
  const parts: string[] = [open(spec.id, spec.title, height, all.length), lg.svg, ...spansSvg(spec, f, sc.x)];
  parts.push(
    yAxis(f, sc.yt, sc.y, spec.yLabel),
    ...xAxisSvg(sc, f, xfmt),
    xLabelText(f, spec.xLabel, f.bottom + 38),
    ...vlinesSvg(spec, f, sc.x),
    frameLines(f),
  );
  for (const s of series) {
    if (s.points.length === 0) continue;
    const st = s.reference ? { color: MUTED, shape: 'circle' as const, dash: '5 3' } : seriesStyle(dataSeries.indexOf(s));
    parts.push(seriesSvg(spec, s, st, sc, xfmt));
  }
  parts.push('</svg>');
  return { svg: parts.join(''), points: all.length };
}

/** A grouped bar chart: categories along x, one bar per series in each. Throws if there is no value. */
export function barChart(spec: BarChartSpec): Chart {
  const values = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  if (values.length === 0 || spec.categories.length === 0) throw new RangeError(`barChart ${spec.id}: no data`);
  const byGroup = spec.series.length === 1 && spec.categoryGroups !== undefined && spec.groupNames !== undefined;
  const items: LegendItem[] = byGroup
    ? (spec.groupNames ?? []).map((name, i) => ({ name, kind: 'bar' as const, style: seriesStyle(i) }))
    : spec.series.map((s, i) => ({ name: s.name, kind: 'bar' as const, style: seriesStyle(i) }));
  const lg = items.length > 1 ? legend(items) : { svg: '', rows: 0 };

  const slot = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / spec.categories.length;
  // A category may have several lines (`\n`): stacked under its bars when every line fits the slot.
  const lines = spec.categories.map((c) => c.split('\n'));
  const fullWidth = Math.max(...lines.flat().map((c) => textWidth(c, TICK_FONT)));
  const rotate = fullWidth > slot - 6;
  const rows = rotate ? 1 : Math.max(...lines.map((l) => l.length));
  // Rotated labels (−40°) must stay inside the figure: at most 170 px long (the label band's depth),
  // and the first must not run past the left edge. The full label is in the tooltip.
  const labels = rotate
    ? spec.categories.map((c) => fitText(c.replace(/\n/g, ', '), TICK_FONT, Math.min(170, (MARGIN_LEFT + slot / 2) / 0.77 - 4)))
    : [...spec.categories];
  const longest = Math.max(...labels.map((c) => textWidth(c, TICK_FONT)));
  const labelDepth = rotate ? Math.min(120, longest * 0.66 + 8) : 18 + (rows - 1) * 14;
  const height = BASE_HEIGHT + Math.max(0, lg.rows - 1) * LEGEND_ROW + (labelDepth - 18);
  const f: Frame = { top: LEGEND_TOP + lg.rows * LEGEND_ROW + 10, bottom: height - 32 - labelDepth, left: MARGIN_LEFT, right: WIDTH - MARGIN_RIGHT };

  const highs = spec.series.flatMap((s) => s.values.map((v, i) => (v === undefined ? 0 : v + (s.errs?.[i] ?? 0))));
  const lows = spec.series.flatMap((s) => s.values.map((v, i) => (v === undefined ? 0 : v - (s.errs?.[i] ?? 0))));
  // Bars that are never negative keep the axis at 0; an error bar reaching below is cut there.
  const yt = niceTicks(values.every((v) => v >= 0) ? 0 : Math.min(0, ...lows), Math.max(0, ...highs), 5);
  const y = linear(yt.lo, yt.hi, f.bottom, f.top);

  let points = 0;
  const parts: string[] = [];
  parts.push(yAxis(f, yt, y, spec.yLabel));
  const n = spec.series.length;
  const inner = slot * 0.8;
  const barW = inner / n;
  spec.categories.forEach((cat, ci) => {
    const x0 = f.left + ci * slot + (slot - inner) / 2;
    const cx = f.left + ci * slot + slot / 2;
    if (rotate) {
      const label = labels[ci] ?? cat;
      parts.push(
        `<text transform="translate(${px(cx + 4)} ${px(f.bottom + 12)}) rotate(-40)" font-size="${TICK_FONT}" text-anchor="end" fill="${AXIS}">${esc(label)}${label !== cat ? `<title>${esc(cat)}</title>` : ''}</text>`,
      );
    } else {
      (lines[ci] ?? [cat]).forEach((line, li) => {
        parts.push(`<text x="${px(cx)}" y="${px(f.bottom + 16 + li * 14)}" font-size="${TICK_FONT}" text-anchor="middle" fill="${AXIS}">${esc(line)}</text>`);
      });
    }
    spec.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === undefined || !Number.isFinite(v)) return;
      const color = seriesStyle(byGroup ? (spec.categoryGroups?.[ci] ?? 0) : si).color;
      const bx = x0 + si * barW;
      const y0 = y(Math.max(0, Math.min(v, yt.hi)));
      const y1 = y(Math.min(0, v));
      const err = s.errs?.[ci];
      const tip = `${n > 1 ? `${s.name} · ` : ''}${cat.replace(/\n/g, ', ')}: ${formatValue(v)}${err !== undefined && err > 0 ? ` ± ${formatValue(err)}` : ''}`;
      parts.push(
        `<rect x="${px(bx + 1)}" y="${px(y0)}" width="${px(Math.max(1, barW - 2))}" height="${px(Math.max(v === 0 ? 0 : 1, y1 - y0))}" fill="${color}" data-mark="bar"><title>${esc(tip)}</title></rect>`,
      );
      if (err !== undefined && err > 0) parts.push(errorBar(bx + barW / 2, y(Math.max(yt.lo, v - err)), y(v + err), '#222'));
      points++;
    });
  });
  parts.push(frameLines(f));
  if (spec.xLabel !== '') parts.push(xLabelText(f, spec.xLabel, height - 12));
  return { svg: open(spec.id, spec.title, height, points) + lg.svg + parts.join('') + '</svg>', points };
}
