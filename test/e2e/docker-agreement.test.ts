// End-to-end: a live run in Docker containers (placement docker, one container per actor) that its auto lag bound calls valid agrees with sim on what the tool measures.
import test from 'ava';
import { join } from 'node:path';
import { buildSplitnetImage, dockerCli, localNatsBase, removeLabelled, requireEngine } from './docker-helpers.js';
import { disagreements, figuresOf, jsonSummary, relativeTo, run, tmp } from './live-helpers.js';

const runTag = `${process.pid}-${Date.now().toString(36)}`;
const labels = ['--label', 'splitnet.test=1', '--label', `splitnet.test.run=${runTag}`];
const image = `splitnet-test:agree-${runTag}`;

// As test/e2e/live-agreement.test.ts: the quickstart for 15 ms, whose auto bound is 5 µs (its 50 µs front-end timer).
// At TDF 4000 (60 s of wall time), not 2000: containers reach NATS over a Docker bridge network, and at TDF 2000
// one such run lagged 7.9 µs (p99) on this 2-vCPU machine under a load average of 12.
const SCENARIO = 'examples/quickstart.yaml';
const SHORT = ['--duration', '15ms'];
const TDF = '4000';

test.before('docker agreement - the engine is running; build the image', async (t) => {
  t.timeout(15 * 60_000, 'building the splitnet image');
  await requireEngine();
  await buildSplitnetImage(image, labels);
});

test.after.always('docker agreement - remove the test image', async () => {
  await removeLabelled(`splitnet.test.run=${runTag}`);
});

test.serial(
  'docker agreement - a run in containers within its auto lag bound (TDF 4000, one container per actor) is valid and agrees with sim on virtual interrupts, timer polls, latency p50/p99 and throughput',
  async (t) => {
    t.timeout(5 * 60_000);
    const sim = await run(['run', SCENARIO, ...SHORT, '--out', join(tmp(), 'sim'), '--json']);
    t.is(sim.code, 0, sim.stderr);
    const runId = `agree-${runTag}`;
    const args = ['--runtime', 'live', '--tdf', TDF, '--placement', 'docker', '--image', image, '--nats-image', localNatsBase, '--run-id', runId];
    const live = await run(['run', SCENARIO, ...SHORT, ...args, '--out', join(tmp(), 'live'), '--json']);
    t.is(live.code, 0, `a valid run exits 0: ${live.stderr}`);
    const l = jsonSummary(live);
    t.is(l.live?.verdict, 'valid');
    t.is(l.live?.processes, 6, 'the driver, 4 workers and the VM, each in its own container');
    t.is(l.live?.lagBound.us, 5);
    const simFigures = figuresOf(jsonSummary(sim));
    t.log(`live in containers vs sim: ${JSON.stringify(relativeTo(simFigures, figuresOf(l)))}; lag ${JSON.stringify(l.live?.processingLagUs)}`);
    t.deepEqual(disagreements(simFigures, figuresOf(l)), []);
    const left = await dockerCli(['ps', '-aq', '--filter', `label=splitnet.run=${runId}`]);
    t.is(left.stdout.trim(), '', 'no container left');
  },
);
