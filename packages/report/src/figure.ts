// A report's items: a drawn figure, or a plot omitted because it had no data (with the reason, shown instead of an empty chart).
import type { Chart } from './charts.js';

export interface Figure {
  readonly kind: 'figure';
  readonly id: string;
  readonly title: string;
  /** What the figure shows and how to read it (HTML-escaped by the page). */
  readonly caption: string;
  readonly svg: string;
  readonly points: number;
}

export interface Omitted {
  readonly kind: 'omitted';
  readonly id: string;
  readonly title: string;
  readonly reason: string;
}

export type ReportItem = Figure | Omitted;

/** A figure if `draw` yields a chart with data; otherwise the plot is omitted with `reason` (or the string `draw` returned). */
export function figure(id: string, title: string, caption: string, draw: () => Chart | string): ReportItem {
  let c: Chart | string;
  try {
    c = draw();
  } catch (err) {
    // The charts refuse to draw without a finite data point (RangeError): that is a note, not a failed report.
    if (err instanceof RangeError) return { kind: 'omitted', id, title, reason: 'no finite data points' };
    throw err;
  }
  if (typeof c === 'string') return { kind: 'omitted', id, title, reason: c };
  if (c.points === 0) return { kind: 'omitted', id, title, reason: 'no data points' };
  return { kind: 'figure', id, title, caption, svg: c.svg, points: c.points };
}
