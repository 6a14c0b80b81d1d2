// netback's transmit side on a scheduled dom0 vCPU: the kick's TX NAPI in softirq context, the dealloc kernel thread, and what follows each when the vCPU says it is done.
import test from 'ava';
import { CpuAccount, RecordingEffects, takeBatch, UNIT_TEST_COSTS, Vcpu } from '@splitnet/model';
import type { PacketBatch, VcpuParams } from '@splitnet/model';
import { WorkerActor } from '../src/worker-actor.js';

const BACKEND = 1;
const FRONTEND = 5;

function frames(lens: readonly number[]): PacketBatch {
  const b = takeBatch(lens.length);
  lens.forEach((len, i) => {
    b.flow[i] = 0;
    b.seq[i] = i;
    b.len[i] = len;
    b.emittedAt[i] = 0;
  });
  b.count = lens.length;
  return b;
}

function vcpu(wakeup: number, contextSwitch: number): Vcpu {
  const params: VcpuParams = {
    contextSwitch,
    wakeup,
    timeslice: 1_000_000,
    netdevBudget: 300,
    netdevBudgetTime: 2_000_000,
    maxSoftirqTime: 2_000_000,
    maxSoftirqRestart: 10,
    ksoftirqd: true,
  };
  return new Vcpu('dom0.vcpu0', params, (v) => new CpuAccount('dom0.ksoftirqd0', v));
}

/** A worker serving guest 0's one queue, RX and TX, bound to `v` as a normal kernel thread. */
function worker(v: Vcpu): { w: WorkerActor; account: CpuAccount } {
  const account = new CpuAccount('dom0.worker0', v);
  const w = new WorkerActor({
    id: 'worker.0',
    index: 0,
    costs: UNIT_TEST_COSTS,
    pass: { maxPackets: 64, ringSlack: 0, copyBatch: 64 },
    rxQueueBytes: 512 * 1024,
    qdisc: 'pfifo-fast',
    extraSlots: 0,
    skbHash: new Uint32Array(1),
    served: [{ vm: 0, queue: 0, frontend: FRONTEND, ringSize: 256 }],
    policy: { kind: 'none' },
    sched: { vcpu: v, src: v.thread('netback0', account, false), account },
    tx: { queues: [{ vm: 0, queue: 0, frontend: FRONTEND, ringSize: 256, port: 1 }], backend: BACKEND, budget: 64, credit: null },
  });
  return { w, account };
}

const kick = { kind: 'txreq', vm: 0, queue: 0, reqProd: 1, rspEvent: 1, rspProdSeen: 0, notify: true } as const;

test("netback tx on a vcpu - a kick wakes the blocked vCPU and the poll's frame goes to the bridge when the vCPU says the poll is done, charged to the worker", (t) => {
  const v = vcpu(5000, 2000);
  const { w, account } = worker(v);
  const fx = new RecordingEffects();
  // At 10 µs the vCPU has been idle, hence blocked, since the start.
  w.receive({ ...kick, batch: frames([1518]) }, 10_000, fx);
  fx.drain(w);
  const xmit = fx.of('xmit');
  t.is(xmit.length, 1);
  // The vCPU's wake-up (5 µs), then the poll (netbackPerPoll 500 + netbackPerPacket 1000) in softirq: no context switch.
  t.true(Math.abs((xmit[0]?.at ?? 0) - 16_500) < 0.01, String(xmit[0]?.at));
  t.true(Math.abs(account.busyThrough(30_000) - 1500) < 0.01, String(account.busyNs));
  t.is(v.stats.switches, 0);
});

test('netback tx on a vcpu - the kick preempts a thread running on the vCPU: the TX poll runs in softirq at once, not after the thread', (t) => {
  const v = vcpu(0, 0);
  const other = v.thread('busy', new CpuAccount('other', v), false);
  v.submit(other, 0, 100_000, false, 0, () => {});
  const { w } = worker(v);
  const fx = new RecordingEffects();
  w.receive({ ...kick, batch: frames([1518]) }, 10_000, fx);
  fx.drain(w);
  t.true(Math.abs((fx.of('xmit')[0]?.at ?? 0) - 11_500) < 0.01, String(fx.of('xmit')[0]?.at));
});

test('netback tx on a vcpu - the dealloc is a kernel thread: woken by the zero-copy callback, it pays the wake-up and a context switch before it answers the slot', (t) => {
  const v = vcpu(5000, 2000);
  const { w } = worker(v);
  const fx = new RecordingEffects();
  w.receive({ ...kick, batch: frames([1518]) }, 0, fx);
  fx.drain(w);
  t.is(fx.of('txrsp').at(-1)?.rspProd, 0, 'the mapped slot waits for its dealloc');
  w.receive({ kind: 'dealloc', vm: 0, queue: 0, frames: 1, slots: 1 }, 100_000, fx);
  fx.drain(w);
  const answer = fx.of('txrsp').find((m) => m.rspProd === 1);
  // Wake-up 5 µs, switch 2 µs, deallocPerBatch 500 + deallocPerSlot 100.
  t.true(Math.abs((answer?.at ?? 0) - 107_600) < 0.01, String(answer?.at));
  t.is(v.stats.switches, 1);
  t.is(w.report(200_000).tx?.held, 0);
});
