// The report page's shell: one self-contained HTML document (inline CSS with print rules, inline SVG figures, no external requests).
import type { ReportItem } from './figure.js';
import { esc } from './svg.js';

const CSS = `
:root { --fg: #1b1b1b; --muted: #5b6068; --rule: #e1e3e6; --bg: #f7f7f5; --card: #ffffff; --accent: #0072B2; --bad: #b3261e; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
header, main, footer { max-width: 1000px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 32px; padding-bottom: 4px; }
h1 { font-size: 27px; line-height: 1.25; margin: 0 0 6px; letter-spacing: -0.01em; }
h1 .kind { color: var(--accent); font-weight: 600; }
.sub { color: var(--muted); margin: 0; }
.lead { font-size: 16.5px; margin: 18px 0 0; }
h2 { font-size: 19px; margin: 40px 0 12px; padding-bottom: 5px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 16px; margin: 24px 0 8px; }
p { margin: 8px 0; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef0f2; padding: 1px 4px; border-radius: 4px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(178px, 1fr)); gap: 10px; margin: 14px 0; }
.kpi { background: var(--card); border: 1px solid var(--rule); border-radius: 8px; padding: 10px 12px; }
.kpi .v { font-size: 21px; font-weight: 650; font-variant-numeric: tabular-nums; }
.kpi .u { font-size: 13px; color: var(--muted); font-weight: 400; margin-left: 3px; }
.kpi .l { color: var(--muted); font-size: 12.5px; }
.kpi.bad .v { color: var(--bad); }
figure.plot { background: var(--card); border: 1px solid var(--rule); border-radius: 10px; padding: 12px 14px 10px; margin: 18px 0; }
figure.plot svg { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 6px; }
figcaption b { color: var(--fg); }
.omitted { color: var(--muted); border-left: 3px solid var(--rule); padding: 4px 12px; margin: 14px 0; font-size: 14px; }
.note { background: #eef5fb; border: 1px solid #cfe3f3; border-radius: 8px; padding: 8px 12px; font-size: 14px; }
table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; margin: 8px 0; }
th, td { text-align: left; padding: 4px 14px 4px 0; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { font-weight: 600; }
td.n { text-align: right; white-space: nowrap; }
.scroll { overflow-x: auto; }
details { margin: 10px 0; }
summary { cursor: pointer; color: var(--accent); }
pre { background: var(--card); border: 1px solid var(--rule); border-radius: 8px; padding: 12px; overflow: auto; max-height: 520px; font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.toc { font-size: 13.5px; color: var(--muted); margin: 14px 0; line-height: 1.8; }
.toc a { color: var(--accent); text-decoration: none; white-space: nowrap; }
.toc a:hover { text-decoration: underline; }
footer { color: var(--muted); font-size: 13px; padding-top: 24px; padding-bottom: 40px; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { background: #fff; font-size: 10.5pt; }
  header, main, footer { max-width: none; padding: 0; }
  h2 { break-after: avoid; margin-top: 20px; }
  figure.plot { break-inside: avoid; border: none; padding: 0; margin: 10px 0 16px; }
  .kpi { break-inside: avoid; border-color: #bbb; }
  pre { max-height: none; overflow: visible; white-space: pre-wrap; border-color: #bbb; }
  summary { color: var(--fg); }
  .toc { display: none; }
  tr { break-inside: avoid; }
}
`;

/** Open every <details> before printing, so the scenario and the tables are on paper too (closed ones would print as one line). */
const PRINT_SCRIPT = `window.addEventListener('beforeprint', function () { document.querySelectorAll('details').forEach(function (d) { d.open = true; }); });`;

export interface Kpi {
  readonly label: string;
  readonly value: string;
  readonly unit?: string;
  readonly bad?: boolean;
}

export function kpis(items: readonly Kpi[]): string {
  return (
    '<div class="kpis">' +
    items
      .map(
        (k) =>
          `<div class="kpi${k.bad ? ' bad' : ''}"><div class="v">${esc(k.value)}${k.unit ? `<span class="u">${esc(k.unit)}</span>` : ''}</div><div class="l">${esc(k.label)}</div></div>`,
      )
      .join('') +
    '</div>'
  );
}

/** A table; cells are plain text (escaped), numeric columns right-aligned. */
export function table(head: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[] = []): string {
  const th = head.map((h, i) => `<th${numeric[i] ? ' class="n"' : ''}>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('');
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table></div>`;
}

export function details(summary: string, inner: string): string {
  return `<details><summary>${esc(summary)}</summary>${inner}</details>`;
}

export function pre(text: string): string {
  return `<pre>${esc(text)}</pre>`;
}

/** Links to the figures of a long page (screen only: print has page numbers). */
export function contents(list: readonly ReportItem[]): string {
  const figs = list.filter((i) => i.kind === 'figure');
  if (figs.length < 6) return '';
  return `<nav class="toc" aria-label="Figures"><b>Figures:</b> ${figs.map((f, i) => `<a href="#fig-${esc(f.id)}">${i + 1}. ${esc(f.title)}</a>`).join(' · ')}</nav>`;
}

/** Figures numbered in page order; an omitted plot becomes a note in its place, never an empty chart. */
export function items(list: readonly ReportItem[], counter: { n: number }): string {
  return list
    .map((it) => {
      if (it.kind === 'omitted') {
        return `<p class="omitted" data-omitted="${esc(it.id)}"><b>${esc(it.title)}</b> — not drawn: ${esc(it.reason)}.</p>`;
      }
      counter.n++;
      return `<figure class="plot" id="fig-${esc(it.id)}">${it.svg}<figcaption><b>Figure ${counter.n}.</b> ${esc(it.caption)}</figcaption></figure>`;
    })
    .join('\n');
}

export interface PageParts {
  readonly title: string;
  /** The kind shown before the title: "Run" or "Sweep". */
  readonly kind: string;
  readonly subtitle: string;
  readonly body: string;
  readonly footer: string;
  /** What made the page (its title and generator say it; default: splitnet report). */
  readonly generator?: string;
  /** More script after the page's own (the dashboard's live updates). */
  readonly script?: string;
  /** Attributes of <body>, already escaped (the dashboard's state, for whoever reads the page). */
  readonly bodyAttributes?: string;
}

export function page(p: PageParts): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${esc(p.generator ?? 'splitnet report')}">
<title>${esc(`${p.kind}: ${p.title} — ${p.generator ?? 'splitnet report'}`)}</title>
<style>${CSS}</style>
</head>
<body${p.bodyAttributes ?? ''}>
<header><h1><span class="kind">${esc(p.kind)}</span> ${esc(p.title)}</h1><p class="sub">${esc(p.subtitle)}</p></header>
<main>
${p.body}
</main>
<footer>${esc(p.footer)}</footer>
<script>${PRINT_SCRIPT}${p.script ?? ''}</script>
</body>
</html>
`;
}
