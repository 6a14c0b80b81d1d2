// Regenerates docs/img/dashboard.png: a real live run (two faults) with --dashboard, photographed by headless chromium while it runs.
// Run: npm run build && node packages/report/dist/test/dashboard-screenshot.js [out.png]
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { launchChromium } from './browser.js';
import { root, serveDashboard } from './dashboard-process.js';

/** The page function's one DOM call (this file compiles without the DOM library). */
declare const document: { readonly body: { getAttribute(name: string): string | null } };

/** 2 VMs × 2 queues, 300 Mbit/s on 1 GbE (so that the line rate does not flatten the throughput), at TDF 100 (8 s of wall time), a lost event channel and a link flap to shade. */
const SCENARIO = `name: dashboard-demo
description: 2 VMs with 2 queues, 2 vRSS workers, 300 Mbit/s on a 1 GbE link, a lost event channel and a NIC link flap, live at TDF 100
duration: 80ms
warmup: 10ms
sampleInterval: 1ms
topology:
  link: 1Gbps
  vms: { count: 2, queues: 2 }
  workers: 2
  vrss: per-flow
  steering: toeplitz
  toeplitz: { hashSlot: false }
traffic: [ { flows: 16, rate: 300Mbps, size: 1518, pattern: poisson } ]
coalescing:
  nic: { policy: static, usecs: 100 }
live: { tdf: 100, maxLag: 5ms }
faults:
  - { id: lost-evtchn, at: 25ms, duration: 5ms, target: vm:0:queue:1, action: lose-notifications }
  - { id: flap, at: 45ms, duration: 4ms, target: nic, action: link-flap }
`;

const out = resolve(process.argv[2] ?? join(root, 'docs/img/dashboard.png'));
const dir = mkdtempSync(join(tmpdir(), 'splitnet-dashboard-shot-'));
const scenario = join(dir, 'demo.yaml');
writeFileSync(scenario, SCENARIO);
const served = serveDashboard(['run', scenario, '--runtime', 'live', '--out', join(dir, 'run'), '--dashboard', '0']);
const browser = await launchChromium('dashboard screenshot');
try {
  const url = await served.url;
  const page = await browser.newPage({ viewport: { width: 1100, height: 1500 }, deviceScaleFactor: 1 });
  await page.goto(url, { waitUntil: 'load' });
  // Past both faults, before the end: the page as someone watching the run sees it.
  await page.waitForFunction(
    () => document.body.getAttribute('data-status') === 'running' && Number(document.body.getAttribute('data-t-ms')) >= 60,
    undefined,
    { timeout: 120_000, polling: 100 },
  );
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  process.stdout.write(`dashboard screenshot: ${out}\n`);
  served.child.kill('SIGINT');
  await served.exited;
} finally {
  served.kill();
  await browser.close();
}
