// `splitnet report <results-dir>`: writes the self-contained HTML report of a run or a sweep, and optionally each figure as a standalone .svg file.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import { buildReport, svgFile } from '@splitnet/report';
import type { ErrorBars } from '@splitnet/report';
import { ensureDirectory, ensureFileParent } from './out-path.js';

export interface ReportFlags {
  readonly out?: string;
  readonly figures?: string;
  readonly errorBars?: string;
}

export interface ReportWritten {
  readonly html: string;
  readonly kind: 'run' | 'sweep';
  readonly figures: number;
  readonly svgFiles: readonly string[];
  /** Plots left out for lack of data, with the reason. */
  readonly omitted: readonly string[];
}

function parseErrorBars(v: string | undefined): ErrorBars {
  if (v === undefined || v === 'sd') return 'sd';
  if (v === 'ci95') return 'ci95';
  throw new SplitnetError('E_USAGE', `--error-bars: expected sd or ci95, found "${v}"`);
}

/** Build the report of `dir` and write it (default `<dir>/report.html`), plus one .svg per figure into `figures` if given. */
export function reportCommand(dir: string, flags: ReportFlags): ReportWritten {
  const errorBars = parseErrorBars(flags.errorBars);
  // Where it writes is checked before the report is built: a bad path is one line naming the flag.
  if (flags.out !== undefined) ensureFileParent('--out', flags.out);
  if (flags.figures !== undefined) ensureDirectory('--figures', flags.figures);
  const report = buildReport(dir, { errorBars });
  const html = flags.out ?? join(dir, 'report.html');
  writeFileSync(html, report.html);
  const svgFiles: string[] = [];
  if (flags.figures !== undefined) {
    for (const f of report.figures) {
      const file = join(flags.figures, `${f.id}.svg`);
      writeFileSync(file, svgFile(f));
      svgFiles.push(file);
    }
  }
  return { html, kind: report.kind, figures: report.figures.length, svgFiles, omitted: report.omitted.map((o) => `${o.title}: ${o.reason}`) };
}
