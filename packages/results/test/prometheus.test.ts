// Unit tests of the run's Prometheus registry: values set whole from snapshots, live-only and end-only metrics, labels.
import test from 'ava';
import type { ActorReport } from '@splitnet/model';
import type { FaultOccurrence } from '@splitnet/scenario';
import { combine, RunMetrics } from '../src/index.js';
import type { MetricsView, RunIdentity } from '../src/index.js';

const live: RunIdentity = { run: 'r1', scenario: 'unit', runtime: 'live', seed: 3 };

/** A front end's report: `delivered` packets of 1000 bytes on queue 0 of VM 0, `virqs` interrupts. */
function frontend(delivered: number, virqs: number): ActorReport {
  return {
    role: 'frontend',
    id: 'vm.0',
    vm: 0,
    delivered,
    deliveredBytes: delivered * 1000,
    virqs: [virqs],
    virqsWhilePolling: 0,
    timerPolls: 0,
    idleTimerTicks: 0,
    ringOccupancy: 2,
    held: 2,
    reordered: 0,
    busy: { 'vm0.vcpu0': 5000 },
    queueDelivered: [delivered],
    queueDeliveredBytes: [delivered * 1000],
    queueRingOccupancy: [2],
  } as unknown as ActorReport;
}

function view(t: number, delivered: number, extra: Partial<MetricsView> = {}): MetricsView {
  return { snapshot: combine([frontend(delivered, delivered / 2)], t), occurrences: [], complete: false, live: { tdf: 100, lagBoundUs: 50 }, ...extra };
}

/** The sample lines of `name` (without HELP/TYPE). */
async function lines(m: RunMetrics, name: string): Promise<string[]> {
  return (await m.text()).split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

test('prometheus - a later snapshot replaces the values: counters show the snapshot, not a sum of updates', async (t) => {
  const m = await RunMetrics.create(live);
  m.update(view(1e6, 10));
  m.update(view(2e6, 30));
  t.deepEqual(await lines(m, 'splitnet_packets_delivered_total'), ['splitnet_packets_delivered_total{vm="0",queue="0",run="r1",host="h0"} 30']);
  t.deepEqual(await lines(m, 'splitnet_emulated_seconds_total'), ['splitnet_emulated_seconds_total{run="r1",host="h0"} 0.002']);
  t.deepEqual(await lines(m, 'splitnet_virtual_interrupts_total'), ['splitnet_virtual_interrupts_total{vm="0",queue="0",run="r1",host="h0"} 15']);
  t.deepEqual(await lines(m, 'splitnet_cpu_busy_seconds_total'), ['splitnet_cpu_busy_seconds_total{core="vm0.vcpu0",run="r1",host="h0"} 0.000005']);
});

test('prometheus - the verdict metrics appear only with the end, and the sample delay goes', async (t) => {
  const m = await RunMetrics.create(live);
  m.update(view(1e6, 10, { live: { tdf: 100, lagBoundUs: 50, sampleDelayNs: 20_000 } }));
  t.deepEqual(await lines(m, 'splitnet_live_sample_delay_seconds'), ['splitnet_live_sample_delay_seconds{run="r1",host="h0"} 0.00002']);
  t.deepEqual(await lines(m, 'splitnet_live_valid'), [], 'no verdict while the run goes');
  m.update(view(2e6, 30, { complete: true, live: { tdf: 100, lagBoundUs: 50, end: { processingLagUs: { p50: 1, p99: 40, max: 90 }, verdict: 'invalid' } } }));
  t.deepEqual(await lines(m, 'splitnet_live_valid'), ['splitnet_live_valid{run="r1",host="h0"} 0']);
  t.deepEqual(await lines(m, 'splitnet_live_tainted'), ['splitnet_live_tainted{run="r1",host="h0"} 0']);
  t.deepEqual(await lines(m, 'splitnet_live_processing_lag_seconds'), [
    'splitnet_live_processing_lag_seconds{statistic="p50",run="r1",host="h0"} 0.000001',
    'splitnet_live_processing_lag_seconds{statistic="p99",run="r1",host="h0"} 0.00004',
    'splitnet_live_processing_lag_seconds{statistic="max",run="r1",host="h0"} 0.00009',
  ]);
  t.deepEqual(await lines(m, 'splitnet_live_sample_delay_seconds'), []);
  t.deepEqual(await lines(m, 'splitnet_run_complete'), ['splitnet_run_complete{run="r1",host="h0"} 1']);
});

test('prometheus - a sim run has no live metrics', async (t) => {
  const m = await RunMetrics.create({ ...live, runtime: 'sim' });
  m.update({ snapshot: combine([frontend(4, 2)], 1e6), occurrences: [], complete: true });
  t.notRegex(await m.text(), /splitnet_live_/);
  t.deepEqual(await lines(m, 'splitnet_run_info'), ['splitnet_run_info{scenario="unit",runtime="sim",seed="3",run="r1",host="h0"} 1']);
});

test('prometheus - faults: those started are counted, those in effect at the snapshot time are active (an instantaneous one never is)', async (t) => {
  const occ = (start: number, end: number, instantaneous = false): FaultOccurrence => ({ id: 'f', spec: {} as FaultOccurrence['spec'], start, end, instantaneous });
  const occurrences = [occ(0.5e6, 3e6), occ(0.8e6, 0.8e6, true), occ(1.5e6, 1.8e6), occ(5e6, 6e6)];
  const m = await RunMetrics.create(live);
  m.update(view(2e6, 10, { occurrences }));
  t.deepEqual(await lines(m, 'splitnet_faults_injected_total'), ['splitnet_faults_injected_total{run="r1",host="h0"} 3']);
  t.deepEqual(await lines(m, 'splitnet_faults_active'), ['splitnet_faults_active{run="r1",host="h0"} 1']);
});
