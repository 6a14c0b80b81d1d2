// A scheduled driver-domain vCPU shared by the work placed on it: hard interrupts, softirqs bounded and deferred to ksoftirqd, kernel threads (CFS, SCHED_FIFO), context switches, and the wake-up of a blocked vCPU.
import { SplitnetError } from './errors.js';
import type { Nanos } from './time.js';

/**
 * How the vCPU schedules, from Linux's own rules and the cost profile (docs/model.md §2, "Scheduled dom0 vCPUs").
 * The softirq limits are net_rx_action's (`net/core/dev.c`) and __do_softirq's (`kernel/softirq.c`).
 */
export interface VcpuParams {
  /** CPU time of switching the vCPU to a thread, from another thread or from idle (`__schedule` → `context_switch`). */
  readonly contextSwitch: Nanos;
  /** Latency before anything runs when work reaches a vCPU that was idle, hence blocked in Xen (the wake-up path of a blocked vCPU). */
  readonly wakeup: Nanos;
  /** A normal (CFS) thread's time slice, measured in wall time from when it was switched in, when others are runnable. */
  readonly timeslice: Nanos;
  /** netdev_budget: packets one net_rx_action round polls before it yields (300). */
  readonly netdevBudget: number;
  /** netdev_budget_usecs: time one net_rx_action round may take (2 ms). */
  readonly netdevBudgetTime: Nanos;
  /** MAX_SOFTIRQ_TIME: how long one __do_softirq may restart (2 ms). */
  readonly maxSoftirqTime: Nanos;
  /** MAX_SOFTIRQ_RESTART: rounds one __do_softirq runs at most (10). */
  readonly maxSoftirqRestart: number;
  /** Softirq work left when those limits are reached goes to ksoftirqd (wakeup_softirqd); false: it runs on until none is pending. */
  readonly ksoftirqd: boolean;
}

/** Where a piece of work's CPU time is counted: one emulated "core" name of the results (`dom0.nic0`, `dom0.worker1`). */
export class CpuAccount {
  busyNs: Nanos = 0;
  constructor(
    readonly name: string,
    readonly vcpu: Vcpu,
  ) {}

  /** Busy time up to `t` (≥ the time of the vCPU's last input). */
  busyThrough(t: Nanos): Nanos {
    this.vcpu.advance(t);
    return this.busyNs;
  }
}

const HARDIRQ = 0;
const NAPI = 1;
const TASKLET = 2;
const THREAD = 3;
const KSOFTIRQD = 4;
type SourceKind = typeof HARDIRQ | typeof NAPI | typeof TASKLET | typeof THREAD | typeof KSOFTIRQD;

/** Something that submits work to a vCPU: a NIC queue's NAPI poll, a tasklet, or a kernel thread. */
export class CpuSource {
  /** Work not finished yet, in order; the first may be running. */
  jobs: Job[] = [];
  /** Its last job just finished and no decision has been taken since (the next job may continue it). */
  justRan = false;
  /** In the softirq queue (NAPI, tasklets) or in a run queue (threads). */
  queued = false;
  /** A thread being switched in: the context switch still to run. */
  switchJob: Job | null = null;
  constructor(
    readonly kind: SourceKind,
    readonly name: string,
    readonly account: CpuAccount,
    /** Threads: SCHED_FIFO (true) or a normal CFS thread. */
    readonly rt: boolean,
  ) {}
}

/** One piece of work: its cost, and when it finished or is planned to. */
export class Job {
  remaining: Nanos;
  /** When the running segment ends (NaN while not running). */
  segEnd = Number.NaN;
  started = false;
  done = false;
  /** When it finished (done), NaN before. */
  finish = Number.NaN;
  /** When the latest plan says it finishes. */
  planned = Number.NaN;
  /** The latest time its owner was asked to look at it (Infinity: never). */
  armedAt = Infinity;
  constructor(
    readonly src: CpuSource,
    readonly account: CpuAccount,
    cost: Nanos,
    /** Continues its source's previous job without a scheduling point in between (the rest of a tasklet run, of a thread's pass). */
    readonly cont: boolean,
    /** Packets a NAPI poll processed (net_rx_action's budget counts them). */
    readonly packets: number,
    /** Asks the owner to look at the job at a time (a timer of the owning actor). */
    readonly alarm: ((at: Nanos) => void) | null,
  ) {
    this.remaining = cost;
  }
}

/** One __do_softirq (inline at an interrupt's exit, or one run of ksoftirqd): its limits' bookkeeping. */
interface SoftirqRun {
  start: Nanos;
  restarts: number;
  roundStart: Nanos;
  roundPackets: number;
  /** Tasklets that ran in this round: tasklet_action runs each scheduled tasklet once per round. */
  ran: Set<CpuSource>;
}

/** A piece of work never takes less than this, so that its end is an instant after its start [assumption: 1 ps]. */
const MIN_WORK: Nanos = 1e-3;
const WAIT = 1;
const IDLE = 2;
type Step = Job | typeof WAIT | typeof IDLE;

/** Counters of the scheduler's events, for the results. */
export interface VcpuStats {
  /** Context switches to a thread (worker or ksoftirqd). */
  switches: number;
  /** __do_softirq runs that ended with work left and woke ksoftirqd. */
  deferrals: number;
  /** Wake-ups of the vCPU from blocked (idle). */
  wakeups: number;
}

/**
 * A driver-domain vCPU that the NIC queues' softirq, netback's threads or tasklets and ksoftirqd share. Work
 * is submitted at the current time; a piece of work's finish is not final when it is submitted (later work of a
 * higher class delays it, and a softirq deferral can advance it), so the vCPU keeps a plan of every open job's
 * finish and asks a job's owner (through `alarm`, a timer of that actor) to look again whenever the plan puts it
 * earlier than the owner was told; the owner then calls `check`. The vCPU is simulated lazily, up to the current
 * time only, and a decision at an instant is taken only when time moves past it, so everything submitted at that
 * instant is seen first. Deterministic: a function of the submissions and their times.
 */
export class Vcpu {
  readonly stats: VcpuStats = { switches: 0, deferrals: 0, wakeups: 0 };
  /** ksoftirqd/<n>: a normal thread; its work is the softirq queue while softirqs are deferred to it. */
  readonly ksoftirqd: CpuSource;
  private readonly sources: CpuSource[] = [];
  private t: Nanos = 0;
  /** A blocked vCPU woken at some time runs nothing before this. */
  private wakeEnd: Nanos = 0;
  private idle = false;
  private readonly hardq: Job[] = [];
  /** NAPI instances and tasklets with pending work, in the order they were raised (the head may be running). */
  private softq: CpuSource[] = [];
  /** Runnable threads waiting for the vCPU: SCHED_FIFO ones (FIFO) and normal ones (round robin). */
  private rtq: CpuSource[] = [];
  private rq: CpuSource[] = [];
  /** The thread whose context the vCPU is in (null: idle), interrupted or not, and since when. */
  private cur: CpuSource | null = null;
  private sliceStart: Nanos = 0;
  /** An inline __do_softirq at an interrupt's exit; ksoftirqd's current __do_softirq. */
  private inline: SoftirqRun | null = null;
  private ksRun: SoftirqRun | null = null;
  /** Softirq work was raised from an interrupt (or an interrupt returned with softirq work pending): run it at once. */
  private inlinePending = false;
  /** The job executing now, whose segment ends at its segEnd. */
  private running: Job | null = null;
  /** Jobs not finished, in submission order. */
  private open: Job[] = [];
  private planning = false;
  private readonly hardSource: CpuSource;

  constructor(
    readonly name: string,
    readonly params: VcpuParams,
    ksoftirqdAccount: (vcpu: Vcpu) => CpuAccount,
  ) {
    const ks = ksoftirqdAccount(this);
    this.ksoftirqd = new CpuSource(KSOFTIRQD, `${name}.ksoftirqd`, ks, false);
    this.hardSource = new CpuSource(HARDIRQ, `${name}.hardirq`, ks, false);
    this.sources.push(this.ksoftirqd);
  }

  /** A NIC queue's NAPI instance whose polls run in NET_RX softirq context on this vCPU. */
  napi(name: string, account: CpuAccount): CpuSource {
    return this.add(new CpuSource(NAPI, name, account, false));
  }

  /** A tasklet (TASKLET_SOFTIRQ) that runs on this vCPU. */
  tasklet(name: string, account: CpuAccount): CpuSource {
    return this.add(new CpuSource(TASKLET, name, account, false));
  }

  /** A kernel thread bound to this vCPU: SCHED_FIFO (`rt`) or normal. */
  thread(name: string, account: CpuAccount, rt: boolean): CpuSource {
    return this.add(new CpuSource(THREAD, name, account, rt));
  }

  private add(s: CpuSource): CpuSource {
    this.sources.push(s);
    return s;
  }

  /**
   * Submit `cost` ns of work for `src` at `now`. `cont`: it continues the source's job that just finished (the
   * rest of a tasklet run or of a thread's pass: no scheduling point in between); `packets`: what a NAPI poll
   * processed. `alarm(at)` is called whenever the owner should look at the job at `at` (then `check` it).
   */
  submit(src: CpuSource, now: Nanos, cost: Nanos, cont: boolean, packets: number, alarm: (at: Nanos) => void): Job {
    this.advance(now);
    this.wake(now);
    const job = new Job(src, src.account, cost > MIN_WORK ? cost : MIN_WORK, cont, packets, alarm);
    this.open.push(job);
    if (cont) {
      // After the source's other continuing jobs, before anything it queued as a new unit of work.
      let i = 0;
      while (i < src.jobs.length && ((src.jobs[i] as Job).started || (src.jobs[i] as Job).cont)) i++;
      src.jobs.splice(i, 0, job);
    } else src.jobs.push(job);
    if (src.kind === NAPI || src.kind === TASKLET) {
      if (!src.queued) {
        src.queued = true;
        this.softq.push(src);
      }
      // Raised from a softirq already running here it joins that run; otherwise it was raised from an interrupt.
      if (!this.softirqActive()) this.inlinePending = true;
    } else if (src.kind === THREAD && src !== this.cur && !src.queued) {
      src.queued = true; // try_to_wake_up
      (src.rt ? this.rtq : this.rq).push(src);
    }
    this.replan();
    return job;
  }

  /** A hard interrupt's work on this vCPU (its handler; it preempts everything and is preempted by nothing). */
  hardirq(now: Nanos, cost: Nanos, account: CpuAccount, alarm: ((at: Nanos) => void) | null): Job {
    this.advance(now);
    this.wake(now);
    const job = new Job(this.hardSource, account, cost > MIN_WORK ? cost : MIN_WORK, false, 0, alarm);
    this.open.push(job);
    this.hardq.push(job);
    this.replan();
    return job;
  }

  /** Has `job` finished by `now`? If not, the owner is asked to look again when the plan says it finishes. */
  check(job: Job, now: Nanos): boolean {
    this.advance(now);
    if (job.done) return true;
    if (!(job.planned > now)) this.replan(); // the plan cannot be behind; recover rather than spin
    if (!(job.planned > now)) throw new SplitnetError('E_INTERNAL', `${this.name}: work of ${job.src.name} planned at ${job.planned}, not after ${now}`);
    if ((job.armedAt <= now || job.planned < job.armedAt) && job.planned !== Infinity) {
      job.armedAt = job.planned;
      job.alarm?.(job.planned);
    }
    return false;
  }

  /** Forget a source's work (its actor restarted: a new incarnation starts with nothing queued). */
  discard(src: CpuSource, now: Nanos): void {
    this.advance(now);
    const gone = (j: Job) => j.src === src || j.account === src.account;
    if (this.running !== null && gone(this.running)) this.running = null;
    src.jobs = [];
    src.justRan = false;
    src.switchJob = null;
    this.open = this.open.filter((j) => !gone(j));
    for (let i = this.hardq.length - 1; i >= 0; i--) if (gone(this.hardq[i] as Job)) this.hardq.splice(i, 1);
    this.softq = this.softq.filter((s) => s !== src);
    this.rtq = this.rtq.filter((s) => s !== src);
    this.rq = this.rq.filter((s) => s !== src);
    src.queued = false;
    if (this.cur === src) this.cur = null;
    this.replan();
  }

  /** A blocked (idle) vCPU that gets work is woken first (Xen: vcpu_wake; the guest's idle loop had blocked it). */
  private wake(now: Nanos): void {
    if (!this.idle) return;
    this.idle = false;
    if (this.params.wakeup > 0) {
      this.wakeEnd = now + this.params.wakeup;
      this.stats.wakeups++;
    }
  }

  private softirqActive(): boolean {
    return this.inline !== null || (this.cur === this.ksoftirqd && this.ksRun !== null);
  }

  /** Simulate up to `limit`: what runs at each instant before it is decided with everything submitted up to that instant. */
  advance(limit: Nanos): void {
    while (this.t < limit) {
      const step = this.select();
      if (step === IDLE) {
        this.idle = true;
        this.t = limit;
        return;
      }
      if (step === WAIT) {
        this.t = this.wakeEnd < limit ? this.wakeEnd : limit;
        continue;
      }
      this.run(step, limit);
    }
  }

  /** Run `job` from now until it finishes or `limit`; a job preempted earlier keeps what is left of it. */
  private run(job: Job, limit: Nanos): void {
    const was = this.running;
    if (was !== job) {
      if (was !== null && !was.done) {
        was.remaining = was.segEnd - this.t;
        was.segEnd = Number.NaN;
      }
      job.segEnd = this.t + job.remaining;
      job.started = true;
      this.running = job;
    }
    const end = job.segEnd;
    const to = end <= limit ? end : limit;
    if (!this.planning) job.account.busyNs += to - this.t;
    this.t = to;
    if (end <= limit) this.complete(job);
  }

  private complete(job: Job): void {
    this.running = null;
    job.done = true;
    job.remaining = 0;
    job.segEnd = Number.NaN;
    if (this.planning) job.planned = this.t;
    else job.finish = this.t;
    const src = job.src;
    if (src.switchJob === job) {
      src.switchJob = null;
      return;
    }
    const i = this.open.indexOf(job);
    if (i >= 0) this.open.splice(i, 1);
    if (src === this.hardSource) {
      this.hardq.shift();
      // irq_exit: softirq work pending and no softirq running here is run now (invoke_softirq).
      if (this.softq.length > 0 && !this.softirqActive()) this.inlinePending = true;
      return;
    }
    src.jobs.shift();
    src.justRan = true;
    if (src.kind === NAPI) {
      const ctx = this.inline ?? this.ksRun;
      if (ctx !== null) ctx.roundPackets += job.packets;
    }
  }

  /** What runs now: a decision taken with everything submitted up to now (only called for instants before the limit). */
  private select(): Step {
    if (this.t < this.wakeEnd) return WAIT;
    const hard = this.hardq[0];
    if (hard !== undefined) return hard;
    if (this.inlinePending) {
      this.inlinePending = false;
      if (this.inline === null && !this.softirqActive() && this.softq.length > 0) this.inline = this.newRun();
    }
    if (this.inline !== null) {
      const j = this.nextSoftirq(this.inline, true);
      if (j !== null) return j;
    }
    return this.selectThread();
  }

  private newRun(): SoftirqRun {
    return { start: this.t, restarts: 0, roundStart: this.t, roundPackets: 0, ran: new Set() };
  }

  /**
   * The next softirq work of a __do_softirq (`inline`: at an interrupt's exit; else in ksoftirqd), or null when
   * it ends: nothing pending, or its limits reached with work left (inline: ksoftirqd is woken for it).
   */
  private nextSoftirq(run: SoftirqRun, inline: boolean): Job | null {
    const head = this.softq[0];
    if (head !== undefined) {
      const j = head.jobs[0];
      if (j !== undefined && j.started) return j;
      if (head.justRan) {
        head.justRan = false;
        if (j !== undefined && j.cont) return j; // the same tasklet run goes on
        this.softq.shift();
        if (head.kind === TASKLET) run.ran.add(head);
        if (j !== undefined)
          this.softq.push(head); // re-raised (a tasklet) or re-polled (NAPI): to the tail
        else head.queued = false;
      }
    }
    const p = this.params;
    if (run.roundPackets >= p.netdevBudget || this.t - run.roundStart >= p.netdevBudgetTime) return this.roundEnd(run, inline);
    const e = this.firstEligible(run);
    if (e !== null) return e;
    return this.softq.length > 0 ? this.roundEnd(run, inline) : this.endRun(inline, false);
  }

  /** The first pending work a round may run; its source moves to the head of the queue (the one being served). */
  private firstEligible(run: SoftirqRun): Job | null {
    const q = this.softq;
    for (let i = 0; i < q.length; i++) {
      const s = q[i] as CpuSource;
      if (s.kind === TASKLET && run.ran.has(s)) continue;
      const j = s.jobs[0];
      if (j === undefined) continue;
      if (i > 0) {
        q.splice(i, 1);
        q.unshift(s);
      }
      return j;
    }
    return null;
  }

  /** A round ended (budget, time, or only tasklets that already ran): restart, or stop and leave the rest to ksoftirqd. */
  private roundEnd(run: SoftirqRun, inline: boolean): Job | null {
    if (this.softq.length === 0) return this.endRun(inline, false);
    const p = this.params;
    const again = !p.ksoftirqd || (this.t - run.start < p.maxSoftirqTime && !this.needResched(inline) && run.restarts + 1 < p.maxSoftirqRestart);
    if (!again) return this.endRun(inline, true);
    run.restarts++;
    run.roundStart = this.t;
    run.roundPackets = 0;
    run.ran.clear();
    return this.firstEligible(run) ?? this.endRun(inline, false);
  }

  private endRun(inline: boolean, left: boolean): null {
    if (inline) {
      this.inline = null;
      if (left) {
        // wakeup_softirqd
        const ks = this.ksoftirqd;
        if (this.cur !== ks && !ks.queued) {
          ks.queued = true;
          this.rq.push(ks);
        }
        if (!this.planning) this.stats.deferrals++;
      }
    } else this.ksRun = null;
    return null;
  }

  /**
   * need_resched() as __do_softirq sees it: a thread is runnable that preempts what was interrupted (anything
   * preempts the idle task; a SCHED_FIFO thread preempts a normal one), or the interrupted normal thread's slice
   * is used up with others waiting. A woken normal thread does not preempt a running normal one [assumption].
   */
  private needResched(inline: boolean): boolean {
    const c = this.cur;
    if (c === null) return inline && this.rtq.length + this.rq.length > 0;
    if (c.rt) return false;
    return this.rtq.length > 0 || (this.t - this.sliceStart >= this.params.timeslice && this.rq.length > 0);
  }

  /** Thread level: the current thread goes on, or at a scheduling point another runs (switch), or the vCPU idles. */
  private selectThread(): Step {
    for (;;) {
      const c = this.cur;
      if (c !== null) {
        if (c.switchJob !== null) return c.switchJob;
        const j = this.threadWork(c);
        if (j !== null) return j;
        if (this.cur === c) {
          // A scheduling point with work left (cond_resched; the tick's slice check).
          const rtWaits = !c.rt && this.rtq.length > 0;
          const sliceOver = !c.rt && this.t - this.sliceStart >= this.params.timeslice && this.rq.length > 0;
          if (!rtWaits && !sliceOver) {
            const k = this.resumeThread(c);
            if (k !== null) return k;
            continue;
          }
          c.queued = true;
          if (rtWaits) this.rq.unshift(c);
          else this.rq.push(c);
          this.cur = null;
        }
      }
      const next = this.rtq.shift() ?? this.rq.shift();
      if (next === undefined) return IDLE;
      next.queued = false;
      this.cur = next;
      this.sliceStart = this.t;
      if (!this.planning) this.stats.switches++;
      if (this.params.contextSwitch > 0) {
        const sw = new Job(next, next.account, this.params.contextSwitch, false, 0, null);
        next.switchJob = sw;
        return sw;
      }
      const k = this.resumeThread(next);
      if (k !== null) return k;
    }
  }

  /**
   * The current thread's work in progress, or its continuation without a scheduling point; null at a scheduling
   * point (the thread then still has work) or when it blocked (cur cleared).
   */
  private threadWork(c: CpuSource): Job | null {
    if (c === this.ksoftirqd) {
      if (this.ksRun !== null) {
        const j = this.nextSoftirq(this.ksRun, false);
        if (j !== null) return j;
      }
      if (this.softq.length === 0) this.cur = null; // nothing pending: ksoftirqd sleeps
      return null;
    }
    const j = c.jobs[0];
    if (j !== undefined && j.started) return j;
    const cont = c.justRan && j !== undefined && j.cont;
    c.justRan = false;
    if (cont) return j as Job;
    if (j === undefined) this.cur = null; // nothing to do: the thread sleeps
    return null;
  }

  /** The current thread carries on after a scheduling point (ksoftirqd starts another __do_softirq); null if it blocked. */
  private resumeThread(c: CpuSource): Job | null {
    if (c === this.ksoftirqd) {
      this.ksRun = this.newRun();
      const j = this.nextSoftirq(this.ksRun, false);
      if (j === null && this.softq.length === 0) this.cur = null;
      return j;
    }
    const j = c.jobs[0];
    if (j === undefined) {
      this.cur = null;
      return null;
    }
    return j;
  }

  /**
   * Plan every open job's finish assuming nothing more is submitted, then restore the state. A job whose planned
   * finish is earlier than its owner was told gets an alarm: preemption only delays, but a softirq deferral or a
   * thread that stops waiting can bring a finish forward.
   */
  private replan(): void {
    if (this.open.length === 0) return;
    const restore = this.snapshot();
    this.planning = true;
    try {
      let guard = 0;
      while (this.open.length > 0) {
        if (++guard > 1_000_000) throw new SplitnetError('E_INTERNAL', `${this.name}: the vCPU plan does not converge`);
        const step = this.select();
        if (step === IDLE) break;
        if (step === WAIT) this.t = this.wakeEnd;
        else this.run(step, Infinity);
      }
      for (const j of this.open) j.planned = Infinity;
    } finally {
      this.planning = false;
      restore();
    }
    for (const j of this.open) {
      if (j.planned < j.armedAt) {
        j.armedAt = j.planned;
        j.alarm?.(j.planned);
      }
    }
  }

  /** Everything `select` and `run` change, to undo a plan. */
  private snapshot(): () => void {
    const scalars = {
      t: this.t,
      wakeEnd: this.wakeEnd,
      idle: this.idle,
      cur: this.cur,
      sliceStart: this.sliceStart,
      inlinePending: this.inlinePending,
      running: this.running,
      stats: { ...this.stats },
    };
    const runCopy = (r: SoftirqRun | null): SoftirqRun | null => (r === null ? null : { ...r, ran: new Set(r.ran) });
    const inline = runCopy(this.inline);
    const ksRun = runCopy(this.ksRun);
    const hardq = [...this.hardq];
    const softq = [...this.softq];
    const rtq = [...this.rtq];
    const rq = [...this.rq];
    const open = [...this.open];
    const srcs = this.sources.map((s) => [s, [...s.jobs], s.justRan, s.queued, s.switchJob] as const);
    const jobs: Job[] = [...open];
    for (const s of this.sources) if (s.switchJob !== null) jobs.push(s.switchJob);
    const jobState = jobs.map((j) => [j, j.remaining, j.segEnd, j.started, j.done, j.finish] as const);
    return () => {
      this.t = scalars.t;
      this.wakeEnd = scalars.wakeEnd;
      this.idle = scalars.idle;
      this.cur = scalars.cur;
      this.sliceStart = scalars.sliceStart;
      this.inlinePending = scalars.inlinePending;
      this.running = scalars.running;
      Object.assign(this.stats, scalars.stats);
      this.inline = inline;
      this.ksRun = ksRun;
      this.hardq.length = 0;
      this.hardq.push(...hardq);
      this.softq = softq;
      this.rtq = rtq;
      this.rq = rq;
      this.open = open;
      for (const [s, js, justRan, queued, sw] of srcs) {
        s.jobs = [...js];
        s.justRan = justRan;
        s.queued = queued;
        s.switchJob = sw;
      }
      for (const [j, remaining, segEnd, started, done, finish] of jobState) {
        j.remaining = remaining;
        j.segEnd = segEnd;
        j.started = started;
        j.done = done;
        j.finish = finish;
      }
    };
  }
}
