// Tests for the scheduled vCPU: interrupt and softirq priority, softirq limits and ksoftirqd, CFS slices, SCHED_FIFO, context switches, wake-up of a blocked vCPU, and the owners' alarms.
import test from 'ava';
import { CpuAccount, Vcpu } from '../src/index.js';
import type { CpuSource, Job, Nanos, VcpuParams } from '../src/index.js';

const LINUX: VcpuParams = {
  contextSwitch: 0,
  wakeup: 0,
  timeslice: 3_000_000,
  netdevBudget: 300,
  netdevBudgetTime: 2_000_000,
  maxSoftirqTime: 2_000_000,
  maxSoftirqRestart: 10,
  ksoftirqd: true,
};

/** A minimal discrete-event loop standing in for the runtime: timers in time order, then submission order. */
class Loop {
  now: Nanos = 0;
  private q: { at: Nanos; seq: number; fn: () => void }[] = [];
  private seq = 0;
  at(at: Nanos, fn: () => void): void {
    this.q.push({ at, seq: this.seq++, fn });
    this.q.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
  run(until: Nanos): void {
    for (;;) {
      const e = this.q[0];
      if (e === undefined || e.at >= until) break;
      this.q.shift();
      this.now = e.at;
      e.fn();
    }
    this.now = until;
  }
}

/** An owner that runs `then` when its job is done, as an actor would on its timer. */
function own(loop: Loop, vcpu: Vcpu, then: (job: Job, at: Nanos) => void = () => {}) {
  const pending: Job[] = [];
  const alarm = (at: Nanos) =>
    loop.at(at, () => {
      for (const j of [...pending]) {
        if (!vcpu.check(j, loop.now)) continue;
        pending.splice(pending.indexOf(j), 1);
        then(j, loop.now);
      }
    });
  return {
    submit(src: CpuSource, cost: Nanos, cont = false, packets = 0): Job {
      const j = vcpu.submit(src, loop.now, cost, cont, packets, alarm);
      pending.push(j);
      return j;
    },
    hardirq(account: CpuAccount, cost: Nanos): Job {
      const j = vcpu.hardirq(loop.now, cost, account, alarm);
      pending.push(j);
      return j;
    },
  };
}

function setup(params: Partial<VcpuParams> = {}) {
  const loop = new Loop();
  const vcpu = new Vcpu('dom0.vcpu0', { ...LINUX, ...params }, (v) => new CpuAccount('dom0.ksoftirqd0', v));
  const acc = (name: string) => new CpuAccount(name, vcpu);
  return { loop, vcpu, acc };
}

test('vcpu - a hard interrupt preempts a thread and delays its finish by exactly its own cost', (t) => {
  const { loop, vcpu, acc } = setup();
  const w = acc('dom0.worker0');
  const thread = vcpu.thread('netback', w, false);
  const done: Nanos[] = [];
  const o = own(loop, vcpu, (_j, at) => done.push(at));
  o.submit(thread, 10_000);
  loop.at(2_000, () => o.hardirq(acc('dom0.nic0'), 1_500));
  loop.run(1e9);
  t.deepEqual(done, [3_500, 11_500]);
  t.is(w.busyThrough(1e9), 10_000);
});

test('vcpu - softirq work runs before a runnable thread, and a switch to the thread costs contextSwitch', (t) => {
  const { loop, vcpu, acc } = setup({ contextSwitch: 2_000 });
  const nic = acc('dom0.nic0');
  const napi = vcpu.napi('nic0', nic);
  const thread = vcpu.thread('netback', acc('dom0.worker0'), false);
  const done: string[] = [];
  const o = own(loop, vcpu, (j, at) => done.push(`${j.src.name}@${at}`));
  o.submit(thread, 1_000);
  o.submit(napi, 5_000, false, 10);
  loop.run(1e9);
  // The NAPI poll raised "from an interrupt" runs first; then the thread, after its context switch.
  t.deepEqual(done, ['nic0@5000', 'netback@8000']);
  t.is(vcpu.stats.switches, 1);
});

test('vcpu - work reaching an idle vCPU waits for its wake-up; work reaching a busy one does not', (t) => {
  const { loop, vcpu, acc } = setup({ wakeup: 7_000 });
  const napi = vcpu.napi('nic0', acc('dom0.nic0'));
  const done: Nanos[] = [];
  const o = own(loop, vcpu, (_j, at) => done.push(at));
  loop.at(1_000, () => o.submit(napi, 2_000, false, 1));
  loop.at(4_000, () => o.submit(napi, 2_000, false, 1)); // the vCPU is still busy (waking, then working)
  loop.run(1e9);
  t.deepEqual(done, [10_000, 12_000]);
  t.is(vcpu.stats.wakeups, 1);
});

/** A NIC queue under overload: each full poll (64 packets) at once brings the next (NAPI stays scheduled). */
function overload(params: Partial<VcpuParams>, threadRt = false) {
  const { loop, vcpu, acc } = setup(params);
  const nic = acc('dom0.nic0');
  const worker = acc('dom0.worker0');
  const napi = vcpu.napi('nic0', nic);
  const thread = vcpu.thread('netback', worker, threadRt);
  const polls = own(loop, vcpu, () => polls.submit(napi, 10_000, false, 64));
  let passes = 0;
  const work = own(loop, vcpu, () => {
    passes++;
    work.submit(thread, 50_000);
  });
  polls.submit(napi, 10_000, false, 64);
  loop.at(1, () => work.submit(thread, 50_000)); // netback woken by the first packets
  loop.run(50_000_000);
  return { nic: nic.busyThrough(50_000_000), worker: worker.busyThrough(50_000_000), passes, vcpu };
}

test('vcpu - without deferral to ksoftirqd an endless softirq load starves the thread (receive livelock)', (t) => {
  const r = overload({ ksoftirqd: false });
  t.is(r.passes, 0);
  t.is(r.worker, 0);
  t.true(r.nic > 49_000_000);
});

test('vcpu - with ksoftirqd the softirq yields after a round once a thread is woken, and then shares the vCPU with it by time slices', (t) => {
  const r = overload({});
  t.log(`nic ${r.nic} ns, worker ${r.worker} ns, passes ${r.passes}, deferrals ${r.vcpu.stats.deferrals}, switches ${r.vcpu.stats.switches}`);
  t.true(r.vcpu.stats.deferrals >= 1);
  // CFS shares 50 ms between ksoftirqd and netback in 3 ms slices: each gets about half.
  t.true(Math.abs(r.nic - r.worker) < 0.1 * 50_000_000, `nic ${r.nic} vs worker ${r.worker}`);
  t.true(r.passes > 400);
});

test('vcpu - a SCHED_FIFO thread is never time-sliced against ksoftirqd: it keeps the vCPU while it has work', (t) => {
  const r = overload({}, true);
  t.log(`nic ${r.nic} ns, worker ${r.worker} ns`);
  // The inline softirq round before the deferral is all the NIC gets.
  t.true(r.worker > 0.95 * 50_000_000);
  t.true(r.nic < 0.05 * 50_000_000);
});

test('vcpu - two normal threads alternate in time slices', (t) => {
  const { loop, vcpu, acc } = setup({ timeslice: 1_000_000 });
  const a = vcpu.thread('a', acc('a'), false);
  const b = vcpu.thread('b', acc('b'), false);
  const order: string[] = [];
  const oa = own(loop, vcpu, (j) => {
    order.push('a');
    oa.submit(j.src, 400_000);
  });
  const ob = own(loop, vcpu, (j) => {
    order.push('b');
    ob.submit(j.src, 400_000);
  });
  oa.submit(a, 400_000);
  ob.submit(b, 400_000);
  loop.run(4_000_000);
  // A slice of 1 ms is noticed at the next scheduling point (the end of a 0.4 ms job): three jobs each.
  t.deepEqual(order.slice(0, 9), ['a', 'a', 'a', 'b', 'b', 'b', 'a', 'a', 'a']);
});

test('vcpu - a job whose finish a softirq deferral brings forward is re-announced to its owner at the earlier time', (t) => {
  // A thread is interrupted by the polls of 20 NIC queues: with nothing else runnable the softirq restarts
  // round after round (5 polls of 64 packets each), so the thread's job is planned after all of them. A
  // SCHED_FIFO thread waking at 25 µs sets need_resched: the softirq stops at the end of its round and leaves
  // the rest to ksoftirqd, so the interrupted thread finishes its job early.
  const { loop, vcpu, acc } = setup();
  const nic = acc('nic');
  const queues = Array.from({ length: 20 }, (_, q) => vcpu.napi(`nic${q}`, nic));
  const x = vcpu.thread('x', acc('x'), false);
  const rt = vcpu.thread('rt', acc('rt'), true);
  const done: string[] = [];
  const o = own(loop, vcpu, (j, at) => {
    if (j.src === x || j.src === rt) done.push(`${j.src.name}@${at}`);
  });
  const job = o.submit(x, 100_000);
  loop.at(1_000, () => {
    for (const q of queues) o.submit(q, 10_000, false, 64);
  });
  let before = 0;
  loop.at(25_000, () => {
    before = job.planned;
    o.submit(rt, 1_000);
  });
  loop.run(1e9);
  t.is(before, 300_000, 'all 20 polls inline, then the rest of the job');
  // Round one ends at 51 µs (320 packets); the thread's job goes on (threads are not preempted mid-job), then the FIFO thread.
  t.deepEqual(done, ['x@150000', 'rt@151000']);
  t.is(vcpu.stats.deferrals, 1);
});
