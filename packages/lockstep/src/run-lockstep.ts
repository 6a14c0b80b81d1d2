// The controller of a lockstep run: place the partitions (as live places its processes), start them together, gather what they report, and merge it into sim's result.
import { SplitnetError } from '@splitnet/model';
import type { Logger, Nanos } from '@splitnet/model';
import { connectPatiently, ControlPlane, derivedPassword, drainOrClose, loginOf, newNonce } from '@splitnet/live';
import type { ActorHandle, NatsAccess, NatsCredentials, Placement, ProcessAccess } from '@splitnet/live';
import type { RunResult } from '@splitnet/results';
import { formatResolvedYaml } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';
import { Subjects } from '@splitnet/transport';
import type { Transport } from '@splitnet/transport';
import { checkLockstepFaults } from './fault-refusals.js';
import { mergeRun } from './merge-run.js';
import type { KeyedEvent, PartitionFinal, PartitionShot } from './partition-engine.js';
import { planOf } from './partition-plan.js';
import type { Partition, PartitionPlan } from './partition-plan.js';
import { PartitionRegistry } from './partition-registry.js';

export interface LockstepRunOptions {
  readonly runId: string;
  /** Where the partitions run: a placement that launches them (processes; docker: DockerPartitionPlacement). */
  readonly placement: Placement;
  readonly logger: Logger;
  /** Where each partition's log is (named in the message when one dies). */
  readonly logsDir: string;
  readonly credentials?: NatsCredentials;
  readonly signal?: AbortSignal;
  /**
   * The emulated time every partition has reached (the slowest's), now and then, with a note naming the slowest
   * partition and the partitions' mean share of wall time spent waiting for promises (the barrier wait).
   */
  readonly onProgress?: (done: Nanos, total: Nanos, note?: string) => void;
  /** How long to wait for every partition's hello (ms; default 60 s). */
  readonly readyTimeoutMs?: number;
  /** Partitions that join (placement external): how long to wait for all of them (ms; default 300 s). */
  readonly joinTimeoutMs?: number;
  /** Partitions that join: how long one may stay silent before the run ends naming it (ms; default 15 s; they beat every second). */
  readonly silentMs?: number;
  /** Lines for the person watching (partitions that join: where to join, who joined). */
  readonly notice?: (line: string) => void;
}

/** A lockstep run's result and how it went (for environment.json, not the result files). */
export interface LockstepOutcome {
  readonly result: RunResult;
  readonly partitions: readonly string[];
  /** Windows each partition ran (safe-time advances). */
  readonly windows: readonly number[];
  /** Per partition: the share of its wall time (from the start to its end) spent waiting for its neighbours' promises. */
  readonly waitShares: readonly number[];
  /** The partition that was behind the others at most of the controller's progress checks (its name), and at what share of them. */
  readonly slowest: { readonly name: string; readonly share: number } | null;
}

/** The partitions of `s` (checked before any I/O: a link without delay between two is refused, and faults lockstep cannot run exactly). */
export function lockstepPlan(s: CompiledScenario): PartitionPlan {
  const { g, plan } = planOf(s);
  // A multi-host scenario's faults each act in one partition (the switch's, a host's): all are exact (a host's link
  // faults keep FIFO floors of their own, and all its actors are in its partition).
  if (!('hosts' in g)) checkLockstepFaults(s, g);
  return plan;
}

/** What the controller has heard from each partition. */
class Reports {
  readonly hello = new Set<string>();
  /** Per partition: its direct links not made yet, as it last said before its hello (direct-waiting.ts). */
  readonly waiting = new Map<string, readonly string[]>();
  readonly samples = new Map<Nanos, PartitionShot[]>();
  readonly events = new Map<string, KeyedEvent[]>();
  readonly finals = new Map<string, Record<string, unknown>>();
  readonly reached = new Map<string, Nanos>();
  readonly waitShare = new Map<string, number>();
  /** Per partition: when the controller last heard from it (wall ms). */
  readonly lastHeard = new Map<string, number>();
  /** Per partition: how many progress checks found it the slowest. */
  private readonly behind = new Map<string, number>();
  private checks = 0;
  private wake: () => void = () => {};
  constructor(private readonly plan: PartitionPlan) {}

  /** Resolves at the next report (the caller checks what it waits for). */
  next(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  take(name: string, m: { kind: string } & Record<string, unknown>): void {
    const i = this.plan.partitions.findIndex((p) => p.name === name);
    this.lastHeard.set(name, Date.now());
    switch (m.kind) {
      case 'hello':
        this.hello.add(name);
        break;
      case 'lockstep-waiting':
        this.waiting.set(name, m['waiting'] as string[]);
        break;
      case 'lockstep-sample': {
        const t = m['t'] as Nanos;
        let row = this.samples.get(t);
        if (row === undefined) this.samples.set(t, (row = this.plan.partitions.map(() => ({ reports: [] }))));
        row[i] = m['shot'] as PartitionShot;
        break;
      }
      case 'hb':
        this.reached.set(name, m['emulatedNow'] as Nanos);
        if (typeof m['waitShare'] === 'number') this.waitShare.set(name, m['waitShare']);
        break;
      case 'lockstep-events': {
        const list = this.events.get(name) ?? [];
        list.push(...(m['events'] as KeyedEvent[]));
        this.events.set(name, list);
        break;
      }
      case 'lockstep-final':
        this.finals.set(name, m['final'] as Record<string, unknown>);
        break;
    }
    this.wake();
  }

  /**
   * For the hello-timeout error: each partition's direct links not made yet, as it last said (those that did not say
   * hello first: they wait on the links `to …`); empty when none is pending.
   */
  waitingNote(): string {
    const named = this.plan.partitions
      .map((p) => p.name)
      .sort((a, b) => Number(this.hello.has(a)) - Number(this.hello.has(b)))
      .flatMap((n) => {
        const w = this.waiting.get(n) ?? [];
        return w.length === 0 ? [] : [`${n} [${w.join('; ')}]`];
      });
    return named.length === 0 ? '' : `; direct links not made: ${named.join(', ')}`;
  }

  /** The slowest partition's time. */
  slowest(): Nanos {
    let t = Infinity;
    for (const p of this.plan.partitions) t = Math.min(t, this.finals.has(p.name) ? Infinity : (this.reached.get(p.name) ?? 0));
    return t;
  }

  /** A progress check once running: the slowest partition now (counted) and the mean barrier wait, as a note. */
  progressNote(): string | undefined {
    let slow: string | undefined;
    let at = Infinity;
    for (const p of this.plan.partitions) {
      const t = this.finals.has(p.name) ? Infinity : this.reached.get(p.name);
      if (t !== undefined && t < at) [slow, at] = [p.name, t];
    }
    if (slow === undefined) return undefined;
    this.checks++;
    this.behind.set(slow, (this.behind.get(slow) ?? 0) + 1);
    const shares = [...this.waitShare.values()];
    const wait = shares.length > 0 ? shares.reduce((a, b) => a + b, 0) / shares.length : 0;
    return `slowest partition ${slow}, partitions waiting ${(wait * 100).toFixed(0)}% of the time`;
  }

  /** The partition most often the slowest at the progress checks. */
  mostOftenBehind(): { name: string; share: number } | null {
    let best: { name: string; share: number } | null = null;
    for (const [name, n] of this.behind) if (best === null || n / this.checks > best.share) best = { name, share: n / this.checks };
    return best;
  }
}

/** A partition's final account, checked: what it says it sent must all be there. */
function finalOf(name: string, f: Record<string, unknown>, events: readonly KeyedEvent[], plan: PartitionPlan): PartitionFinal {
  const refs = plan.partitions.find((p) => p.name === name)?.refs.length ?? 0;
  const reports = (k: string): PartitionShot => {
    const r = f[k] as Partial<PartitionShot> | undefined;
    if (!Array.isArray(r?.reports) || r.reports.length !== refs)
      throw new SplitnetError('E_OPERATIONAL', `lockstep: partition ${name} sent a final report without its ${refs} actors' ${k}`);
    return r as PartitionShot;
  };
  if (f['events'] !== events.length)
    throw new SplitnetError('E_OPERATIONAL', `lockstep: partition ${name} reported ${String(f['events'])} log entries, ${events.length} arrived`);
  return {
    startReports: reports('startReports'),
    warmReports: reports('warmReports'),
    finalReports: reports('finalReports'),
    events,
    onLinks: Number(f['onLinks']),
    txOnLinks: Number(f['txOnLinks']),
    eventsProcessed: Number(f['eventsProcessed']),
    ...(f['hostsOnLinks'] !== undefined ? { hostsOnLinks: f['hostsOnLinks'] as NonNullable<PartitionFinal['hostsOnLinks']> } : {}),
    refused: Number(f['refused']),
    windows: Number(f['windows']),
    ...(Array.isArray(f['linkFaultCounts']) ? { linkFaultCounts: f['linkFaultCounts'] as NonNullable<PartitionFinal['linkFaultCounts']> } : {}),
  };
}

/** Run `s` in lockstep: place → connect → launch → start → gather → stop → merge. */
export async function runLockstep(s: CompiledScenario, o: LockstepRunOptions): Promise<LockstepOutcome> {
  const plan = lockstepPlan(s);
  if (o.placement.launch === undefined && o.placement.kind !== 'external')
    throw new SplitnetError(
      'E_USAGE',
      `--placement ${o.placement.kind}: lockstep launches its partitions or lets them join (external); this placement does neither`,
    );
  try {
    const nats = await o.placement.start(plan.partitions);
    const login = nats.login ?? o.credentials;
    const bus: Transport = await connectPatiently(nats.url, `splitnet ${o.runId} controller`, {
      waitMs: 30_000,
      ...(login ? { credentials: login } : {}),
      log: (m) => o.logger.warn(m),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    try {
      return await onBus(s, o, plan, nats, bus);
    } finally {
      await drainOrClose(bus, o.logger);
    }
  } finally {
    await o.placement.stop();
  }
}

/** The run on the controller's connection: launch every partition, start them at once, gather their reports. */
async function onBus(s: CompiledScenario, o: LockstepRunOptions, plan: PartitionPlan, nats: NatsAccess, bus: Transport): Promise<LockstepOutcome> {
  const names = plan.partitions.map((p) => p.name);
  const subjects = new Subjects(o.runId);
  const control = new ControlPlane(o.runId, newNonce(), bus, subjects);
  control.setProcesses(names);
  const reports = new Reports(plan);
  const subs = [subjects.helloAll(), subjects.statsAll()].map((subject) =>
    bus.subscribe(subject, (data, on) => {
      const opened = control.open(data, on);
      if (opened.ok) reports.take(opened.value.name, opened.value.m as { kind: string } & Record<string, unknown>);
    }),
  );
  const watch = o.placement.launch !== undefined ? launchAll(s, o, plan, nats, control, reports) : admitAll(s, o, plan, nats, bus, control, reports);
  try {
    const wait = async (done: () => boolean, what: () => string, deadline: number): Promise<void> => {
      while (!done()) {
        const left = deadline - Date.now();
        if (left <= 0) throw new SplitnetError('E_JOIN_TIMEOUT', `lockstep: ${what()}`);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([reports.next(), watch.ended, new Promise((r) => (timer = setTimeout(r, Math.min(left, 1000))))]);
        clearTimeout(timer);
        watch.check?.();
        if (watch.failure !== undefined) throw watch.failure;
        if (o.signal?.aborted === true)
          throw new SplitnetError('E_INTERRUPTED', `lockstep: interrupted (${String(o.signal.reason)}); run ${o.runId} stopped with no results to keep`);
        const note = reports.progressNote();
        o.onProgress?.(Math.min(reports.slowest(), s.duration), s.duration, note);
      }
    };
    const readyMs = o.readyTimeoutMs ?? 60_000;
    if (watch.registry !== undefined) {
      const registry = watch.registry;
      const joinMs = o.joinTimeoutMs ?? 300_000;
      await wait(
        () => registry.complete,
        () =>
          `${registry.joined} of the run's ${names.length} partitions joined within ${joinMs / 1000} s (no process for ${registry.missing().join(', ')}): start that many (compose: SPLITNET_PARTITIONS, the partition service's replicas), or give the controller --expect partition=${registry.joined}`,
        Date.now() + joinMs,
      );
    }
    await wait(
      () => reports.hello.size === names.length,
      () =>
        `not every partition said hello within ${readyMs / 1000} s (${names.filter((n) => !reports.hello.has(n)).join(', ')} did not)${reports.waitingNote()}`,
      Date.now() + readyMs,
    );
    control.sendAll({ kind: 'start', epochMs: 0 });
    await wait(
      () => reports.finals.size === names.length,
      () => 'partitions did not finish',
      Infinity,
    );
    watch.finished = true;
    control.sendAll({ kind: 'stop' });
    o.onProgress?.(s.duration, s.duration);
    const finals = names.map((n) => finalOf(n, reports.finals.get(n) as Record<string, unknown>, reports.events.get(n) ?? [], plan));
    refuseTainted(names, reports, control.refused);
    checkSamples(s, plan, reports.samples);
    // The partitions exit when told to stop: wait for them (bounded), so that nothing outlives the run.
    await Promise.race([Promise.all(watch.handles.map((h) => h.exited)), new Promise((r) => setTimeout(r, 10_000).unref())]);
    return {
      result: mergeRun(s, { plan, samples: reports.samples, finals }),
      partitions: names,
      windows: finals.map((f) => f.windows),
      waitShares: names.map((n) => Number(reports.finals.get(n)?.['waitShare'] ?? 0)),
      slowest: reports.mostOftenBehind(),
    };
  } finally {
    // Partitions that joined are nobody's to kill: those still running are told to stop (they exit), whatever ended the run.
    if (watch.registry !== undefined && !watch.finished) control.sendAll({ kind: 'stop' });
    watch.finished = true;
    for (const sub of subs) sub.unsubscribe();
  }
}

/** The partitions' processes, and how the run ended if one died first (or the run was interrupted). */
interface Watch {
  readonly handles: readonly ActorHandle[];
  /** Resolves when a partition died before the end, or on an interrupt. */
  readonly ended: Promise<void>;
  failure: SplitnetError | undefined;
  finished: boolean;
  /** Partitions that join: who joined (and answers their probes until the controller's connection closes). */
  readonly registry?: PartitionRegistry;
  /** Partitions that join: sets `failure` when one has gone silent (their exits are not the controller's to see). */
  readonly check?: () => void;
}

/** Launch one process per partition; a partition that exits before the run is done ends it, naming the partition and its log. */
function launchAll(s: CompiledScenario, o: LockstepRunOptions, plan: PartitionPlan, nats: NatsAccess, control: ControlPlane, reports: Reports): Watch {
  const launch = o.placement.launch as NonNullable<Placement['launch']>;
  const handles: ActorHandle[] = [];
  const watch: Watch = { handles, ended: Promise.resolve(), failure: undefined, finished: false };
  (watch as { ended: Promise<void> }).ended = new Promise<void>((resolve) => {
    for (const p of plan.partitions) {
      const access = { secret: control.secretFor(p.name, 0), ...(nats.processLogin ? { login: nats.processLogin(p.ids) } : {}) };
      const h = launch(p, 0, access);
      handles.push(h);
      void h.exited.then((code) => {
        if (watch.finished || watch.failure !== undefined) return;
        const at = reports.reached.get(p.name) ?? 0;
        watch.failure = new SplitnetError(
          'E_ACTOR_DIED',
          `lockstep: partition ${p.name} (${h.container !== undefined ? `container ${h.container}` : `pid ${h.pid}`}) exited${code === null ? '' : ` with code ${code}`} before the end of the run, at ${(at / 1e6).toFixed(3)} ms emulated of ${s.duration / 1e6} ms; the run ends here (its log: ${o.logsDir}/${p.name}.log)`,
        );
        resolve();
      });
    }
    o.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  return watch;
}

/** A run whose partitions or controller refused anything on the bus cannot be exact: it ends without results. */
function refuseTainted(names: readonly string[], reports: Reports, controlRefused: number): void {
  for (const n of names) {
    const f = reports.finals.get(n) as Record<string, unknown>;
    const envelopes = Object.values((f['envelopesRefused'] ?? {}) as Record<string, number>).reduce((a, b) => a + b, 0);
    const refused = Number(f['refused']) + Number(f['promisesRefused']) + Number(f['controlRefused']) + envelopes;
    if (refused > 0 || controlRefused > 0)
      throw new SplitnetError(
        'E_OPERATIONAL',
        `lockstep: partition ${n} refused ${refused} message(s)${refused > 0 ? ` (first: ${String(f['firstRefusal'])})` : ''} and the controller ${controlRefused}: the run cannot be exact; its results are not written`,
      );
  }
}

/** Every sample time has every partition's reports (core NATS delivers at most once: a lost one is said, not merged). */
function checkSamples(s: CompiledScenario, plan: PartitionPlan, samples: ReadonlyMap<Nanos, readonly PartitionShot[]>): void {
  const expected = s.sampleInterval > 0 ? Math.floor(s.duration / s.sampleInterval) : 0;
  if (samples.size !== expected)
    throw new SplitnetError('E_OPERATIONAL', `lockstep: ${samples.size} of the run's ${expected} samples arrived; its results are not written`);
  for (const [t, row] of samples) {
    plan.partitions.forEach((p, i) => {
      if (row[i]?.reports.length !== p.refs.length)
        throw new SplitnetError('E_OPERATIONAL', `lockstep: the sample at ${t / 1e6} ms of partition ${p.name} did not arrive; its results are not written`);
    });
  }
}

/**
 * What the process of `p` is issued: its control secret and its NATS login — on a server the placement
 * configured, its own user there; on a deployment's server whose users splitnet wrote from the controller's
 * password (deploy/nats.conf), the user derived from it; else none (the environment's credentials apply).
 */
function accessOf(o: LockstepRunOptions, nats: NatsAccess, control: ControlPlane): (p: Partition) => ProcessAccess {
  const pass = o.credentials?.pass;
  const loginFor =
    nats.processLogin ??
    (nats.login === undefined && pass !== undefined ? (ids: readonly string[]) => loginOf(ids, (u) => derivedPassword(pass, u)) : undefined);
  return (p) => ({ secret: control.secretFor(p.name, 0), ...(loginFor ? { login: loginFor(p.ids) } : {}) });
}

/**
 * Partitions started elsewhere (compose) join: each joiner is given the next partition and the run's scenario.
 * A partition that joined and then stays silent longer than `silentMs` (it beats every second, from its join to
 * its final report) has died, or lost the bus: the run ends naming it and its container.
 */
function admitAll(
  s: CompiledScenario,
  o: LockstepRunOptions,
  plan: PartitionPlan,
  nats: NatsAccess,
  bus: Transport,
  control: ControlPlane,
  reports: Reports,
): Watch {
  const n = plan.partitions.length;
  o.notice?.(
    `run ${o.runId}: waiting for ${n} partitions to join at ${nats.url} (splitnet partition --join --run ${o.runId} --nats <url>, with the partition join login)`,
  );
  const registry = new PartitionRegistry({
    runId: o.runId,
    transport: bus,
    logger: o.logger,
    plan,
    scenarioYaml: formatResolvedYaml(s),
    accessFor: accessOf(o, nats, control),
    onJoin: (p, container, joined) => {
      o.notice?.(`run ${o.runId}: partition ${p.name} joined${container !== undefined ? ` (container ${container})` : ''}: ${joined} of ${n}`);
      // Its silence counts from its join: it says hello at once, and beats every second from then on.
      reports.lastHeard.set(p.name, Date.now());
    },
    onRefused: (why) => o.notice?.(`run ${o.runId}: a join was refused: ${why}`),
  });
  const silentMs = o.silentMs ?? 15_000;
  const watch: Watch = {
    handles: [],
    ended: new Promise<void>((resolve) => o.signal?.addEventListener('abort', () => resolve(), { once: true })),
    failure: undefined,
    finished: false,
    registry,
    check: () => {
      if (watch.finished || watch.failure !== undefined) return;
      const now = Date.now();
      plan.partitions.forEach((p, i) => {
        const heard = reports.lastHeard.get(p.name);
        if (watch.failure !== undefined || heard === undefined || reports.finals.has(p.name) || now - heard <= silentMs) return;
        const container = registry.containers[i];
        const at = reports.reached.get(p.name) ?? 0;
        watch.failure = new SplitnetError(
          'E_ACTOR_DIED',
          `lockstep: partition ${p.name}${container !== undefined ? ` (container ${container})` : ''} went silent for ${((now - heard) / 1000).toFixed(0)} s before the end of the run, at ${(at / 1e6).toFixed(3)} ms emulated of ${s.duration / 1e6} ms: it died or lost the bus; the run ends here (its log is the container's)`,
        );
      });
    },
  };
  return watch;
}
