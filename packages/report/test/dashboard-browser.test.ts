// The dashboard in a real headless browser: a live run's page (real actor processes over a real nats-server) updates while it goes, ends on its results, survives a reload; `splitnet dashboard` shows a finished run's.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Summary } from '@splitnet/results';
import { buildReport, formatValue } from '../src/index.js';
import { launchChromium, plots, watchedPage } from './browser.js';
import { serveDashboard } from './dashboard-process.js';
import type { Serving } from './dashboard-process.js';
import { addFaultEvents, BASE, tmp, writeRun } from './fixtures.js';

/**
 * A live run of a few seconds of wall time (60 ms emulated at TDF 100) with samples every 2 ms: long enough that
 * the page sees it running; one VM, one worker (three actor processes) to be light on a small machine.
 */
const LIVE = `name: dashboard-live
duration: 60ms
warmup: 10ms
sampleInterval: 2ms
topology: { vms: { count: 1, queues: 1 }, workers: 1 }
traffic: [ { flows: 4, rate: 100Mbps, size: 1518, pattern: constant } ]
coalescing: { nic: { policy: static, usecs: 100 } }
live: { tdf: 100, maxLag: 5ms }
`;

/** The few DOM calls the functions run in the page make (this file compiles without the DOM library). */
declare const document: {
  readonly body: { getAttribute(name: string): string | null };
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
};

let browser: Browser | undefined;

test.before(async () => {
  browser = await launchChromium('dashboard browser test');
});

test.after.always(async () => {
  await browser?.close();
});

function serve(t: ExecutionContext, args: readonly string[]): Serving {
  const s = serveDashboard(args);
  t.teardown(() => s.kill());
  return s;
}

/** A page of the dashboard at `url`: requests elsewhere are problems. */
async function newPage(url: string): Promise<{ page: Page; problems: string[] }> {
  if (!browser) throw new Error('browser not started');
  return watchedPage(browser, (u) => u.startsWith(url) || u.startsWith('data:'));
}

/** The problems, but for the update stream a reload or a close cut off (that is how a page leaves it). */
function realProblems(problems: readonly string[]): string[] {
  return problems.filter((p) => !/^request failed: http:\S+\/events \(net::ERR_ABORTED\)$/.test(p));
}

/** The page's state: what the server last pushed. */
function state(page: Page): Promise<{ status: string; tMs: number; throughputPoints: number }> {
  return page.evaluate(() => ({
    status: document.body.getAttribute('data-status') ?? '',
    tMs: Number(document.body.getAttribute('data-t-ms')),
    throughputPoints: Number(document.querySelector('svg[data-plot="throughput"]')?.getAttribute('data-points') ?? 0),
  }));
}

/** The KPI tiles: label → value as shown (with its unit). */
function kpis(page: Page): Promise<Record<string, string>> {
  return page.$$eval('.kpi', (tiles) =>
    Object.fromEntries(tiles.map((k) => [k.querySelector('.l')?.textContent ?? '', k.querySelector('.v')?.textContent ?? ''])),
  );
}

/** The tile whose label starts with `label`. */
function tile(all: Record<string, string>, label: string): string | undefined {
  return Object.entries(all).find(([l]) => l.startsWith(label))?.[1];
}

const WAIT = { timeout: 100_000, polling: 100 } as const;

test.serial('dashboard browser - a live run: the page updates while it runs, ends on its results (summary.json values), and survives a reload', async (t) => {
  t.timeout(180_000);
  const dir = tmp();
  const scenario = join(dir, 'live.yaml');
  writeFileSync(scenario, LIVE);
  const out = join(dir, 'run');
  const s = serve(t, ['run', scenario, '--runtime', 'live', '--out', out, '--dashboard', '0']);
  const url = await s.url;
  t.regex(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'bound to this machine only by default');
  const { page, problems } = await newPage(url);
  await page.goto(url, { waitUntil: 'load' });

  // While the run goes: a first sample drawn, then a later one (or the end, which fails the check below).
  await page.waitForFunction(
    () => document.querySelector('svg[data-plot="throughput"]') !== null || document.body.getAttribute('data-status') === 'finished',
    undefined,
    WAIT,
  );
  const first = await state(page);
  t.is(first.status, 'running', 'the page saw the run running');
  await page.waitForFunction(
    (n) =>
      document.body.getAttribute('data-status') !== 'running' ||
      Number(document.querySelector('svg[data-plot="throughput"]')?.getAttribute('data-points') ?? 0) > n,
    first.throughputPoints,
    WAIT,
  );
  const later = await state(page);
  t.is(later.status, 'running', 'still running when the next sample came');
  t.true(later.throughputPoints > first.throughputPoints && later.tMs > first.tMs, `${JSON.stringify(first)} → ${JSON.stringify(later)}`);
  const running = await kpis(page);
  t.truthy(tile(running, 'lag behind emulated time'), 'the lag is shown while the run goes');
  t.truthy(tile(running, 'physical interrupts per second'));
  t.true((await plots(page)).some((p) => p.id === 'cpu-over-time'));

  // The end: the results as the report shows them, and the lag figure.
  await s.said(/still serving its results/);
  await page.waitForFunction(() => document.body.getAttribute('data-status') === 'finished', undefined, WAIT);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  const checkEnd = async (when: string) => {
    const shown = await kpis(page);
    t.is(tile(shown, 'delivered'), `${formatValue(summary.throughput.gbps)}Gbit/s`, `${when}: delivered as in summary.json`);
    t.is(tile(shown, 'virtual interrupts per second'), `${formatValue(summary.interrupts.virqPerSec)}/s`, `${when}: virq/s as in summary.json`);
    t.is(tile(shown, 'physical interrupts per second'), `${formatValue(summary.interrupts.physicalIrqPerSec)}/s`, `${when}: physical irq/s`);
    const drawn = await plots(page);
    for (const id of ['throughput', 'interrupts', 'cpu-per-core', 'cpu-over-time', 'lag'])
      t.true(
        drawn.some((p) => p.id === id && p.visibleMarks > 0),
        `${when}: plot ${id} drawn`,
      );
    t.regex((await page.textContent('#status')) ?? '', /finished — (valid|invalid)/);
  };
  await checkEnd('at the end');
  await page.reload({ waitUntil: 'load' });
  t.is((await state(page)).status, 'finished', 'a reload shows the end state at once');
  await checkEnd('after a reload');
  await page.close();
  t.deepEqual(realProblems(problems), [], 'no console errors, page errors or requests elsewhere');

  // Ctrl-C ends the server; the run's own exit code (0 valid, 3 invalid on a loaded machine).
  s.child.kill('SIGINT');
  const code = await s.exited;
  t.true(code === 0 || code === 3, `exit ${code}: ${s.stderr()}`);
});

test.serial("dashboard browser - `splitnet dashboard` shows a finished sim run: its summary's values and the report's figures, faults shaded", async (t) => {
  const dir = tmp();
  writeRun(dir);
  addFaultEvents(dir);
  const s = serve(t, ['dashboard', dir, '--port', '0']);
  const url = await s.url;
  const { page, problems } = await newPage(url);
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.getAttribute('data-connected') === 'yes', undefined, WAIT);
  t.is((await state(page)).status, 'finished');
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
  const shown = await kpis(page);
  t.is(tile(shown, 'delivered'), `${formatValue(summary.throughput.gbps)}Gbit/s`);
  t.is(tile(shown, 'one-way latency p50'), `${formatValue(summary.latencyUs.p50)}µs`);
  const drawn = await plots(page);
  t.deepEqual(
    drawn.map((p) => p.id),
    buildReport(dir).figures.map((f) => f.id),
    'the same figures as the report, in its order (no lag figure: sim has no lag)',
  );
  for (const p of drawn) t.true(p.visibleMarks > 0, `${p.id} drawn`);
  t.true((await page.$$('svg[data-plot="throughput"] [data-span="f1"]')).length > 0, 'fault f1 shaded on the throughput figure');
  await page.close();
  t.deepEqual(realProblems(problems), []);
  s.child.kill('SIGINT');
  t.is(await s.exited, 0);
});

test.serial('dashboard browser - a sim run with --dashboard ends on its results, serves them until Ctrl-C, then exits 0', async (t) => {
  const dir = tmp();
  const scenario = join(dir, 'sim.yaml');
  writeFileSync(scenario, BASE);
  const out = join(dir, 'run');
  const s = serve(t, ['run', scenario, '--out', out, '--dashboard', '0', '--quiet']);
  const url = await s.url;
  await s.said(/still serving its results/);
  const { page, problems } = await newPage(url);
  await page.goto(url, { waitUntil: 'load' });
  t.is((await state(page)).status, 'finished');
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  t.is(tile(await kpis(page), 'delivered'), `${formatValue(summary.throughput.gbps)}Gbit/s`);
  t.deepEqual(
    (await plots(page)).map((p) => p.id),
    buildReport(out).figures.map((f) => f.id),
  );
  await page.close();
  t.deepEqual(realProblems(problems), []);
  s.child.kill('SIGINT');
  t.is(await s.exited, 0, "the run's own exit code, not 130");
});
