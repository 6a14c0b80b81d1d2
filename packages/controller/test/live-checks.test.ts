// Pieces of a live run that need no broker: the code warm-up rehearsal and the lag-growth rule.
import test from 'ava';
import { rehearseLivePath, warmUpCode } from '../src/live/code-warmup.js';
import { lagGrowing } from '../src/live/run-live.js';
import { run, scenario } from './helpers.js';

const yaml = `
name: warm
duration: 20ms
warmup: 5ms
topology: { vms: { count: 2, queues: 2 }, workers: 2, vrss: per-flow }
traffic: [ { flows: 8, rate: 2Gbps, size: 1518 } ]
coalescing: { nic: { policy: static, usecs: 100 }, backend: { policy: static, usecs: 50, frames: 0 } }
`;

test('code warm-up puts the datapath messages (dma, rx, rsp, evt, req) through the codec, with nothing rejected', (t) => {
  const s = scenario(yaml);
  const w = warmUpCode(s, 10e6);
  // 10 ms at 2 Gbit/s of 1518-byte frames is ~1,600 packets: DMA, rx, rsp, evt and req messages by the hundred.
  t.true(w.messages > 500, `only ${w.messages} messages`);
  t.is(w.rejected, 0);
  t.deepEqual(warmUpCode(s, 0), { messages: 0, rejected: 0, cpuMs: 0 });
});

test('code warm-up leaves the run itself untouched: sim results are the same after it', (t) => {
  const s = scenario(yaml);
  const before = JSON.stringify(run(yaml).summary);
  warmUpCode(s, 20e6);
  t.is(JSON.stringify(run(yaml).summary), before);
});

test('live-path rehearsal: every actor in a live host over an in-memory bus processes events; the run is untouched', async (t) => {
  const s = scenario(yaml);
  const before = JSON.stringify(run(yaml).summary);
  const r = await rehearseLivePath(s, 100);
  // 100 ms of real time at 2 Gbit/s: ~16,000 packets through NIC, back end, workers and front ends.
  t.true(r.events > 1000, `only ${r.events} events`);
  t.is(JSON.stringify(run(yaml).summary), before);
});

test('lag growth: a lag that more than doubles by more than half the bound grows; noise around a bounded lag does not', (t) => {
  const ms = 1e6;
  t.false(lagGrowing(10 * ms, 12 * ms, 50 * ms), 'bounded, a little noisier in the second half');
  t.false(lagGrowing(1 * ms, 5 * ms, 50 * ms), 'five times larger, but small against the bound');
  t.false(lagGrowing(400 * ms, 60 * ms, 50 * ms), 'a start-up transient that the host recovered from');
  t.true(lagGrowing(10 * ms, 80 * ms, 50 * ms), 'falling behind');
  t.true(lagGrowing(0, 30 * ms, 50 * ms), 'from nothing to more than half the bound');
});
