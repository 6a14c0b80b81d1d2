// The transmit path on scheduled dom0 vCPUs: netback's TX NAPI, dealloc threads and the NIC's TX clean share the vCPUs with the receive path.
import test from 'ava';
import type { RunResult, Summary } from '@splitnet/results';
import { run } from './helpers.js';

/** Busy fraction of dom0 vCPU 0's work when it carries the NIC queue and worker 0 (their accounts and its ksoftirqd). */
function vcpu0(s: Summary): number {
  return (s.cpu['dom0.nic0'] ?? 0) + (s.cpu['dom0.worker0'] ?? 0) + (s.cpu['dom0.ksoftirqd0'] ?? 0);
}

/** Guest 1 receives `rx` from the wire while guest 0 sends `tx` of UDP to the wire (1518-byte frames); one NIC queue, one worker. */
const contention = (tx: string, dom0: string, rx = '2Gbps') => `
name: contention
duration: 20ms
warmup: 4ms
topology: { nicQueues: 1, vms: { count: 2, queues: 1 }, workers: 1, vrss: per-flow, dom0: { vcpus: ${dom0} } }
traffic:
  - { name: in, rate: ${rx}, flows: 4, size: 1518, vms: [1] }
${tx === '0' ? '' : `  - { name: out, from: vm.0, to: wire, protocol: udp, rate: ${tx}, flows: 4, size: 1518 }`}
`;

function balanced(t: { true: (v: boolean, m?: string) => void }, r: RunResult): void {
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.true(r.accounting.tx?.balanced === true, JSON.stringify(r.accounting.tx));
}

test("tx on vcpus - on one dom0 vCPU a guest sending 3 Gbit/s adds netback's TX work to that vCPU and takes CPU from a guest receiving beside it", (t) => {
  const dedicated = run(contention('3Gbps', 'dedicated'));
  const shared = run(contention('3Gbps', '1'));
  const rxOnly = run(contention('0', '1'));
  const rxOf = (r: RunResult) => r.summary.throughput.perVm.find((v) => v.vm === 1)?.gbps ?? 0;
  t.log(
    `guest 1 receives ${rxOf(dedicated)} Gbit/s on dedicated cores, ${rxOf(shared)} on one vCPU; vCPU 0 busy ${vcpu0(rxOnly.summary)} receive-only, ${vcpu0(shared.summary)} with the sender; TX polls/s ${shared.summary.tx?.netback.pollsPerSec}`,
  );
  // The sender's frames go out all the same: its TX polls, maps and dealloc run on vCPU 0.
  t.true(Math.abs((shared.summary.tx?.onWireGbps ?? 0) - 3) < 0.1, `${shared.summary.tx?.onWireGbps}`);
  t.true((shared.summary.tx?.netback.pollsPerSec ?? 0) > 0);
  t.true(vcpu0(shared.summary) > vcpu0(rxOnly.summary) + 0.3, `${vcpu0(shared.summary)} vs ${vcpu0(rxOnly.summary)}`);
  // Contention: on dedicated cores the receiving guest gets its 2 Gbit/s; sharing the vCPU with the TX softirq it does not.
  t.true(rxOf(dedicated) > 1.9, `${rxOf(dedicated)}`);
  t.true(rxOf(shared) < 0.9 * rxOf(dedicated), `${rxOf(shared)} vs ${rxOf(dedicated)}`);
  // Receive-only on the same vCPU, the receiving guest has it all.
  t.true(rxOf(rxOnly) > 1.9, `${rxOf(rxOnly)}`);
  balanced(t, shared);
  balanced(t, dedicated);
});

/** One TCP CUBIC stream from the wire into a guest, whose ACKs go out through its netfront TX ring and netback's TX path. */
const tcpBulk = (dom0: string) => `
name: tcp-bulk
duration: 20ms
warmup: 2ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 1, queues: 1 }, workers: 1, vrss: per-flow, dom0: { vcpus: ${dom0} } }
traffic:
  - { name: stream, flows: 1, tcp: { cc: cubic, rcvbuf: 131072, mss: 1448 } }
`;

test('tx on vcpus - a TCP stream completes on one scheduled dom0 vCPU with its ACKs through the scheduled TX path, and both invariants hold', (t) => {
  const dedicated = run(tcpBulk('dedicated'));
  const shared = run(tcpBulk('1'));
  const flow = (r: RunResult) => r.summary.tcp?.flows[0];
  t.log(
    `goodput ${flow(dedicated)?.goodputGbps} Gbit/s dedicated, ${flow(shared)?.goodputGbps} on one vCPU; RTT min ${flow(dedicated)?.rttUs.min} → ${flow(shared)?.rttUs.min} µs; ACK polls/s ${shared.summary.tx?.netback.pollsPerSec}`,
  );
  const f = flow(shared);
  t.truthy(f);
  t.is(f?.retransmissions, 0);
  t.true((f?.goodputGbps ?? 0) > 0.85 * (flow(dedicated)?.goodputGbps ?? 0), `${f?.goodputGbps}`);
  // Its ACKs left through netback's TX NAPI on the vCPU and reached the wire.
  t.true((shared.summary.tx?.netback.pollsPerSec ?? 0) > 1000);
  // One ACK per GRO packet of the guest's poll (about 25 segments here: 155 ACKs in the 20 ms; 1000 and more when
  // the guest acked every second segment).
  t.true((shared.accounting.tx?.onWire ?? 0) > 100);
  t.true((shared.summary.sched?.dom0?.contextSwitchesPerSec ?? 0) > 0);
  balanced(t, shared);
});

test('tx on vcpus - a run with a guest sending on scheduled dom0 vCPUs repeats byte for byte', (t) => {
  const yaml = contention('3Gbps', '1');
  const a = run(yaml, ['netback.threading=kthread-rt']);
  const b = run(yaml, ['netback.threading=kthread-rt']);
  t.is(JSON.stringify(a.summary), JSON.stringify(b.summary));
  t.is(JSON.stringify(a.series), JSON.stringify(b.series));
  t.is(JSON.stringify(a.events), JSON.stringify(b.events));
  t.deepEqual(a.latency, b.latency);
  t.true((a.summary.tx?.onWireGbps ?? 0) > 0);
});

/** Guest 0 sends 64-byte frames on 4 queues as fast as it can; guest 1 receives 1 Gbit/s; dom0 has one vCPU. */
const smallFrames = (tx: string) => `
name: tx-softirq
duration: 20ms
warmup: 4ms
topology: { nicQueues: 1, vms: { count: 2, queues: 4 }, workers: 1, vrss: per-flow, dom0: { vcpus: 1 } }
traffic:
  - { name: in, rate: 1Gbps, flows: 4, size: 1518, vms: [1] }
${tx === '0' ? '' : `  - { name: out, from: vm.0, to: wire, protocol: udp, rate: ${tx}, flows: 16, size: 64 }`}
`;

test("tx on vcpus - TX NAPI polls of 64 frames use up net_rx_action's budget, so softirq work is deferred to ksoftirqd, and both invariants hold", (t) => {
  const loaded = run(smallFrames('5Gbps'));
  const quiet = run(smallFrames('0'));
  const deferrals = (r: RunResult) => r.summary.sched?.dom0?.softirqDeferralsPerSec ?? 0;
  const tx = loaded.summary.tx;
  t.log(
    `deferrals/s ${deferrals(quiet)} receive-only, ${deferrals(loaded)} with the sender; TX ${tx?.onWirePps} frames/s on the wire in ${tx?.netback.pollsPerSec} polls/s; ksoftirqd ${loaded.summary.cpu['dom0.ksoftirqd0']}`,
  );
  t.is(deferrals(quiet), 0);
  t.true(deferrals(loaded) > 0);
  // Polls take nearly the whole NAPI weight (64) each: the softirq always has more to do.
  t.true((tx?.onWirePps ?? 0) / (tx?.netback.pollsPerSec ?? 1) > 32);
  t.true((loaded.summary.cpu['dom0.ksoftirqd0'] ?? 0) > 0);
  balanced(t, loaded);
});
