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

/** What the page showed at one frame the server pushed. */
interface SeenFrame {
  readonly status: string;
  readonly tMs: number;
  /** Points of the throughput figure (0: not drawn). */
  readonly throughputPoints: number;
  readonly lagShown: boolean;
  readonly plots: readonly string[];
}

/**
 * Records every frame as the page applies it (a MutationObserver on <body>'s state, installed before the page's
 * script runs), so that no frame is missed between two looks from the test: read them with `seen`.
 */
const RECORDER = `
window.__frames = [];
document.addEventListener('DOMContentLoaded', function () {
  new MutationObserver(function () {
    var tp = document.querySelector('svg[data-plot="throughput"]');
    window.__frames.push({
      status: document.body.getAttribute('data-status'),
      tMs: Number(document.body.getAttribute('data-t-ms')),
      throughputPoints: tp ? Number(tp.getAttribute('data-points')) : 0,
      lagShown: Array.prototype.some.call(document.querySelectorAll('.kpi .l'), function (l) { return /^lag behind/.test(l.textContent); }),
      plots: Array.prototype.map.call(document.querySelectorAll('svg[data-plot]'), function (p) { return p.getAttribute('data-plot'); }),
    });
  }).observe(document.body, { attributes: true, attributeFilter: ['data-seq'] });
});
`;

function seen(page: Page): Promise<SeenFrame[]> {
  return page.evaluate('window.__frames') as Promise<SeenFrame[]>;
}

/** The frames seen while running with samples drawn: more than one, each with more points and later than the one before. */
function checkUpdates(t: ExecutionContext, frames: readonly SeenFrame[]): readonly SeenFrame[] {
  const running = frames.filter((f) => f.status === 'running' && f.throughputPoints > 0);
  const points = [...new Set(running.map((f) => f.throughputPoints))];
  t.true(points.length >= 2, `the page saw the figures grow while running: ${JSON.stringify(frames.map((f) => [f.status, f.throughputPoints]))}`);
  t.true(
    running.every((f, i) => i === 0 || (f.throughputPoints >= (running[i - 1]?.throughputPoints ?? 0) && f.tMs >= (running[i - 1]?.tMs ?? 0))),
    'points and emulated time only grow',
  );
  t.is(frames.at(-1)?.status, 'finished', 'the last frame is the end state');
  return running;
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
  await page.addInitScript(RECORDER);
  await page.goto(url, { waitUntil: 'load' });

  // While the run goes: the figures grow with every sample; then the end.
  await s.said(/still serving its results/);
  await page.waitForFunction(() => document.body.getAttribute('data-status') === 'finished', undefined, WAIT);
  const running = checkUpdates(t, await seen(page));
  t.true(
    running.every((f) => f.lagShown && f.plots.includes('cpu-over-time') && f.plots.includes('interrupts')),
    'while running: the lag, interrupts and CPU over time are shown',
  );

  // The end: the results as the report shows them, and the lag figure.
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

test.serial('dashboard browser - `splitnet dashboard --replay` plays the samples as they came once the page is open, then shows the results', async (t) => {
  const dir = tmp();
  writeRun(dir);
  addFaultEvents(dir);
  // 6 s of replay: on a loaded machine (CI runs two test files at a time) the browser may apply one frame in 2 s and
  // then the end, which would leave nothing to see grow (seen once in CI at 2 s).
  const s = serve(t, ['dashboard', dir, '--port', '0', '--replay', '6']);
  const url = await s.url;
  const { page, problems } = await newPage(url);
  await page.addInitScript(RECORDER);
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.getAttribute('data-status') === 'finished', undefined, WAIT);
  const running = checkUpdates(t, await seen(page));
  t.true(running.some((f) => f.plots.includes('throughput')) && running.every((f) => !f.lagShown), 'the replay draws the figures; a sim run has no lag');
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
  t.is(tile(await kpis(page), 'delivered'), `${formatValue(summary.throughput.gbps)}Gbit/s`, 'the end: the summary');
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
