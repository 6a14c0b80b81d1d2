// End-to-end: a live run with --metrics-port answers Prometheus scrapes while it goes, and its final scrape matches summary.json and metrics.prom.
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Summary } from '@splitnet/results';
import { cli, completed, root, scenarioFile, tmp, twoByTwo, waitFor } from './live-helpers.js';
import { parsePrometheus, total } from './prometheus-text.js';
import type { PromSample } from './prometheus-text.js';

/** One scrape of `url`: its samples, and the text as served. */
async function scrape(url: string): Promise<{ text: string; samples: PromSample[]; contentType: string }> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  const text = await res.text();
  return { text, samples: parsePrometheus(text), contentType: res.headers.get('content-type') ?? '' };
}

const value = (samples: readonly PromSample[], name: string): number => total(samples, name);

test.serial('metrics live - a run with --metrics-port 0 answers scrapes whose delivered packets grow while it runs', async (t) => {
  t.timeout(120_000);
  const out = join(tmp(), 'run');
  const child = spawn(
    process.execPath,
    [cli, 'run', scenarioFile(twoByTwo), '--runtime', 'live', '--metrics-port', '0', '--out', out, '--run-id', 'metrics-e2e', '-q'],
    {
      cwd: root,
    },
  );
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await waitFor('the metrics address on stderr', () => /metrics at (http:\S+)/.test(stderr));
  const url = (/metrics at (http:\S+)/.exec(stderr) as RegExpExecArray)[1] as string;
  t.regex(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'loopback by default');

  // While the run goes: scrapes before the end (splitnet_run_complete 0), delivered packets rising between two of them.
  const running: PromSample[][] = [];
  let final: Awaited<ReturnType<typeof scrape>> | undefined;
  while (final === undefined) {
    const s = await scrape(url);
    t.regex(s.contentType, /^text\/plain; version=0\.0\.4/);
    if (value(s.samples, 'splitnet_run_complete') === 1) final = s;
    else running.push(s.samples);
    await new Promise((r) => setTimeout(r, 100));
  }
  const delivered = running.map((s) => value(s, 'splitnet_packets_delivered_total'));
  t.true(
    delivered.some((d, i) => i > 0 && d > (delivered[i - 1] as number)),
    `delivered packets grew between two scrapes while the run went: ${delivered.join(', ')}`,
  );
  const times = running.map((s) => value(s, 'splitnet_emulated_seconds_total'));
  t.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    'emulated time never goes back',
  );
  t.true(
    running.every((s) => s.every((x) => x.labels['run'] === 'metrics-e2e' && x.labels['host'] === 'h0')),
    'every series has the run and host labels',
  );

  // The final scrape: the run's results, as summary.json has them, and exactly the text of metrics.prom.
  const code = await exited;
  t.true(completed({ code }), stderr);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  const f = final.samples;
  t.is(value(f, 'splitnet_packets_emitted_total'), summary.accounting.emitted);
  t.is(value(f, 'splitnet_packets_delivered_total'), summary.accounting.delivered);
  for (const [reason, n] of Object.entries(summary.accounting.dropped)) t.is(total(f, 'splitnet_packets_dropped_total', { reason }), n, reason);
  for (const vm of summary.interrupts.perVm) t.true(total(f, 'splitnet_virtual_interrupts_total', { vm: String(vm.vm) }) > 0, `vm ${vm.vm} was interrupted`);
  t.is(value(f, 'splitnet_emulated_seconds_total'), 0.06);
  const live = summary.live;
  if (live === undefined) return t.fail('no live section');
  t.is(value(f, 'splitnet_live_valid'), live.valid ? 1 : 0);
  t.is(total(f, 'splitnet_live_processing_lag_seconds', { statistic: 'p99' }), live.processingLagUs.p99 / 1e6);
  t.is(value(f, 'splitnet_live_tdf'), 100);
  t.is(final.text, readFileSync(join(out, 'metrics.prom'), 'utf8'), 'the final scrape is metrics.prom');
  t.regex(stderr, /^splitnet: metrics at http:\/\/127\.0\.0\.1:\d+\/metrics /m);
});
