// The report in a real headless browser (Debian's chromium via playwright-core): `splitnet report` output loads without errors or external requests, and every plot has data.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, plots, watchedPage } from './browser.js';
import { addFaultEvents, INCAST, tmp, writeRun, writeSweep } from './fixtures.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const cli = join(root, 'packages/cli/dist/src/main.js');

function splitnet(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let browser: Browser | undefined;

test.before(async () => {
  browser = await launchChromium('report browser test');
});

test.after.always(async () => {
  await browser?.close();
});

/** A page that collects console errors, page errors and every request that is not to a local file. */
function newPage(): Promise<{ page: Page; problems: string[] }> {
  if (!browser) throw new Error('browser not started');
  return watchedPage(browser, (url) => url.startsWith('file:') || url.startsWith('data:'));
}

async function checkReport(t: import('ava').ExecutionContext, dir: string, expectIds: readonly string[]): Promise<void> {
  const figures = join(dir, 'figures');
  const r = splitnet(['report', dir, '--figures', figures]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /report with \d+ figure\(s\)/);
  const { page, problems } = await newPage();
  await page.goto(pathToFileURL(join(dir, 'report.html')).href, { waitUntil: 'load' });
  const found = await plots(page);
  t.deepEqual(problems, [], 'no console errors, page errors or external requests');
  t.true(found.length >= expectIds.length, `${found.length} plots`);
  for (const id of expectIds)
    t.true(
      found.some((p) => p.id === id),
      `plot ${id} is on the page`,
    );
  for (const p of found) {
    t.true(p.declared > 0, `${p.id}: data-points > 0`);
    t.true(p.marks > 0 && p.visibleMarks > 0, `${p.id}: ${p.marks} data marks, ${p.visibleMarks} drawn`);
    t.true(p.width > 300, `${p.id}: rendered ${p.width}px wide`);
  }
  t.is(await page.title().then((s) => s.includes('splitnet report')), true);
  const brokenLinks = await page.$$eval('a[href^="#"]', (as) =>
    as.map((a) => a.getAttribute('href') ?? '').filter((h) => as[0]?.ownerDocument.getElementById(h.slice(1)) === null),
  );
  t.deepEqual(brokenLinks, [], 'every in-page link has its target');
  // Print layout: the figures stay drawn, and printing opens the collapsed scenario.
  await page.emulateMedia({ media: 'print' });
  t.true(
    (await plots(page)).every((p) => p.width > 300),
    'figures render in print media',
  );
  await page.evaluate("window.dispatchEvent(new Event('beforeprint'))");
  t.true(await page.$$eval('details', (ds) => ds.length > 0 && ds.every((d) => (d as unknown as { open: boolean }).open)), 'details open for print');
  await page.close();

  // Each standalone .svg opens on its own, with its data.
  const files = readdirSync(figures).filter((f) => f.endsWith('.svg'));
  t.is(files.length, found.length, 'one .svg per figure on the page');
  const svg = await newPage();
  for (const f of files) {
    await svg.page.goto(pathToFileURL(join(figures, f)).href, { waitUntil: 'load' });
    const [p] = await plots(svg.page);
    t.true(p !== undefined && p.visibleMarks > 0, `${f} draws its data standalone`);
  }
  t.deepEqual(svg.problems, [], 'the .svg files load without errors');
  await svg.page.close();
}

test.serial('report browser - a run report with faults loads cleanly and every plot has data', async (t) => {
  const dir = tmp();
  writeRun(dir);
  addFaultEvents(dir);
  await checkReport(t, dir, ['throughput', 'interrupts', 'cpu-per-core', 'latency-percentiles', 'latency-cdf']);
});

test.serial(
  'report browser - a multi-host run report (3 hosts, an incast) loads cleanly and every plot has data, its switch ports and hosts too',
  async (t) => {
    const dir = tmp();
    writeRun(dir, INCAST);
    await checkReport(t, dir, [
      'throughput',
      'cpu-per-core',
      'switch-throughput',
      'switch-queues',
      'switch-drops',
      'hosts-throughput',
      'hosts-cpu',
      'hosts-latency',
      'hosts-drops',
    ]);
  },
);

test.serial('report browser - a sweep report (2 axes × 2 values × 2 repetitions) loads cleanly and every plot has data', async (t) => {
  const dir = tmp();
  writeSweep(
    dir,
    [
      { path: 'coalescing.frontend.policy', values: ['none', 'aic'] },
      { path: 'traffic.0.size', values: [256, 1518] },
    ],
    2,
  );
  await checkReport(t, dir, ['sweep-virq-per-coalescing', 'sweep-latency-per-coalescing', 'sweep-dom0-cpu-per-coalescing']);
});

test.serial('report browser - a sweep over a rate axis is drawn as one line, no bars, ticks as written, markers spaced by bit/s', async (t) => {
  const dir = tmp();
  writeSweep(dir, [{ path: 'traffic.0.rate', values: ['1Gbps', '3Gbps', '6Gbps'] }], 2);
  const id = 'sweep-throughput-gbps-vs-traffic-0-rate';
  await checkReport(t, dir, [id]);
  const { page, problems } = await newPage();
  await page.goto(pathToFileURL(join(dir, 'report.html')).href, { waitUntil: 'load' });
  const plot = await page.$eval(`svg[data-plot="${id}"]`, (svg) => {
    const drawn = (sel: string) =>
      [...svg.querySelectorAll(sel)].filter((m) => {
        const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox();
        return b.width > 0 || b.height > 0;
      }).length;
    // Marker centres left to right, in page pixels: where the browser put 1, 3 and 6 Gbit/s.
    const xs = [...svg.querySelectorAll('[data-mark="point"]')].map((m) => {
      const r = m.getBoundingClientRect();
      return r.left + r.width / 2;
    });
    return {
      lines: drawn('[data-mark="line"]'),
      bars: svg.querySelectorAll('[data-mark="bar"]').length,
      ticks: [...svg.querySelectorAll('text')].map((x) => x.textContent ?? '').filter((x) => /bps$/.test(x)),
      xs,
    };
  });
  await page.close();
  t.deepEqual(problems, []);
  t.is(plot.lines, 1, 'one line drawn');
  t.is(plot.bars, 0, 'no categorical bars');
  t.deepEqual(plot.ticks, ['1Gbps', '3Gbps', '6Gbps']);
  const [a, b, c] = plot.xs;
  t.true(a !== undefined && b !== undefined && c !== undefined && Math.abs((c - b) / (b - a) - 1.5) < 0.02, plot.xs.join(' '));
});

test.serial('report browser - the checks see what they look for: a console error, an external request, a plot without marks', async (t) => {
  const file = join(tmp(), 'broken.html');
  writeFileSync(
    file,
    '<!DOCTYPE html><html><head><title>broken</title></head><body>' +
      '<svg data-plot="empty" data-points="0" width="400" height="100"></svg>' +
      '<img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script></body></html>',
  );
  const { page, problems } = await newPage();
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  const [p] = await plots(page);
  await page.close();
  t.deepEqual(p && [p.id, p.declared, p.marks], ['empty', 0, 0]);
  t.true(
    problems.some((x) => x === 'console error: boom'),
    problems.join('; '),
  );
  t.true(
    problems.some((x) => x.startsWith('external request: http://127.0.0.1:9/')),
    problems.join('; '),
  );
});
