// Shared by the report's and the dashboard's browser tests: Debian's chromium via playwright-core, pages that collect their problems, and what each plot drew.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

const CHROMIUM_INSTALL_HINT = 'install it (Debian/Ubuntu: apt-get install chromium; .ci/run does) or set SPLITNET_CHROMIUM to a Chromium or Chrome binary';

/** The browser binary: $SPLITNET_CHROMIUM, else chromium (or Chrome) on PATH or in /usr/bin. */
function findChromium(): string | undefined {
  const isExe = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const given = process.env['SPLITNET_CHROMIUM'];
  if (given !== undefined && given !== '') return isExe(given) ? given : undefined;
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    for (const d of dirs) if (d !== '' && isExe(join(d, name))) return join(d, name);
  }
  return undefined;
}

/** Headless chromium; `who` names the test in the error when there is none (a missing browser fails the test, never skips it). */
export async function launchChromium(who: string): Promise<Browser> {
  const exe = findChromium();
  if (exe === undefined) throw new Error(`${who}: chromium not found; ${CHROMIUM_INSTALL_HINT}`);
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: exe, args: ['--no-sandbox'] });
}

/** A page that collects console errors, page errors, failed requests and every request to where `allowed` says no. */
export async function watchedPage(browser: Browser, allowed: (url: string) => boolean): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!allowed(r.url())) problems.push(`external request: ${r.url()}`);
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`));
  return { page, problems };
}

export interface PlotCheck {
  readonly id: string;
  readonly declared: number;
  readonly marks: number;
  readonly visibleMarks: number;
  readonly width: number;
}

/** Every plot on the page: its id, the points it declares, and its data marks (and how many the browser really drew). */
export function plots(page: Page): Promise<PlotCheck[]> {
  return page.$$eval('svg[data-plot]', (svgs) =>
    svgs.map((svg) => {
      const marks = [...svg.querySelectorAll('[data-mark]')];
      // A mark is really drawn if the browser gives it an extent (a path with points, a bar with height).
      const visibleMarks = marks.filter((m) => {
        const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox();
        return b.width > 0 || b.height > 0;
      }).length;
      return {
        id: svg.getAttribute('data-plot') ?? '',
        declared: Number(svg.getAttribute('data-points')),
        marks: marks.length,
        visibleMarks,
        width: svg.getBoundingClientRect().width,
      };
    }),
  );
}
