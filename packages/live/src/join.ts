// The join protocol of externally started actors (compose, other hosts): register, get an identity and the scenario.
import { SplitnetError } from '@splitnet/model';
import type { Logger } from '@splitnet/model';
import { compileScenarioText, formatResolvedYaml } from '@splitnet/scenario';
import type { CompiledScenario, LiveProcesses } from '@splitnet/scenario';
import { Subjects } from '@splitnet/transport';
import type { Transport } from '@splitnet/transport';
import { parseControlSecret } from './control-seal.js';
import type { NatsLogin, ProcessAccess } from './placement.js';
import { BoxKeys, isBoxKey, sealTo } from './sealed-box.js';

/** What an external actor process says it is. `driver` hosts the NIC and the back-end (its driver). */
export type JoinRole = 'driver' | 'worker' | 'frontend';
export const JOIN_ROLES: readonly JoinRole[] = ['driver', 'worker', 'frontend'];

/** Who may ask to join: a live run's actor processes, or a lockstep run's partitions (packages/lockstep, partition-registry.ts). */
export type JoinerRole = JoinRole | 'partition';

export interface JoinRequest {
  readonly kind: 'join';
  readonly role: JoinerRole;
  /**
   * The joiner's X25519 public key (sealed-box.ts): the reply's secret part — the process's control secret and
   * NATS login, which the controller issues — is sealed to it, so no one else on the bus can read it.
   */
  readonly pub: string;
  /**
   * A front end only: the queues it asks for (one per vCPU), as netfront writes multi-queue-num-queues to
   * xenstore. Absent: it takes what the scenario gives its VM.
   */
  readonly queues?: number;
  /**
   * The container the process runs in, when a placement that started it says so (the docker placement sets
   * SPLITNET_CONTAINER): the controller then knows which container hosts which actors, to signal and restart it.
   */
  readonly container?: string;
}

/**
 * A restarted actor process that has no scenario file at hand (a container the docker placement started
 * again): it names the actors it hosts and asks the run's controller for the scenario. Honoured only while
 * the controller's supervisor is restarting exactly those actors (see RegistrationOptions.rejoinable).
 */
export interface RejoinRequest {
  readonly kind: 'rejoin';
  readonly ids: readonly string[];
  readonly incarnation: number;
}

export type JoinReply =
  /** `box`: the process's ProcessAccess (control secret, NATS login) as JSON, sealed to the joiner's key (joins only, not rejoins). */
  | { readonly kind: 'assign'; readonly ids: readonly string[]; readonly scenarioYaml: string; readonly box?: string }
  | { readonly kind: 'refuse'; readonly reason: string };

const enc = new TextEncoder();
const dec = new TextDecoder();

function parse(data: Uint8Array): unknown {
  try {
    return JSON.parse(dec.decode(data));
  } catch {
    return null;
  }
}

/** Why a worker may not join a per-domain run. */
const PER_DOMAIN_WORKER =
  'this run has one process per Xen domain (live.processes: per-domain): the driver process hosts the vRSS workers (topology.workers of them); start no process with --role worker';

/** The subject joins are sent to (request/reply with the controller; not a control subject, so actors may publish there). */
export function joinSubject(runId: string): string {
  return new Subjects(runId).join();
}

export interface RegistrationOptions {
  readonly runId: string;
  readonly transport: Transport;
  readonly logger: Logger;
  /** Close registration once every role has joined and nobody new joined for this long (ms). */
  readonly windowMs: number;
  /** Give up if registration has not closed after this long (ms). */
  readonly timeoutMs: number;
  /** The scenario the run was started with: its vRSS mode, RETA size and per-VM queue counts bound the negotiation. */
  readonly base: CompiledScenario;
  /** Build the run's scenario for the actors that joined: one queue count per VM (front ends in identity order), and the workers. */
  readonly compile: (vmQueues: readonly number[], workers: number) => { scenario: CompiledScenario; yaml: string };
  readonly onJoin?: (role: JoinRole, count: number) => void;
  /** Close as soon as exactly these many have joined (containers the controller started itself), instead of waiting for a quiet window. */
  readonly expect?: { readonly workers: number; readonly frontends: number };
  /**
   * Wait for at least these many of a role before the quiet window counts (`--expect frontend=4`): a
   * container that starts slowly is not left out of the run by one that started fast.
   */
  readonly atLeast?: Partial<Record<JoinRole, number>>;
  /**
   * After registration: whether a `rejoin` for this process name (ids joined by '+') and incarnation is
   * expected now (the supervisor is restarting it). Without it, every rejoin is refused.
   */
  readonly rejoinable?: (name: string, incarnation: number) => boolean;
  /**
   * How actors share processes (the scenario's live.processes; default per-actor). `per-domain`: the driver
   * process hosts the vRSS workers too (netback's threads live in dom0), as many as `base` says
   * (topology.workers); a process that joins as a worker is refused.
   */
  readonly processes?: LiveProcesses;
  /** Ends the wait for joins early (E_INTERRUPTED). */
  readonly signal?: AbortSignal;
  /** What the controller issues the process `name` (ids joined by '+') that joined: its control secret and NATS login. */
  readonly accessFor: (name: string, incarnation: number) => ProcessAccess;
  /**
   * A join or rejoin refused: a malformed request, a role the run does not take, a join after registration
   * closed or a rejoin no restart waits for (none of which the run takes: `taints` false), or a second driver
   * (`taints` true: which of the two is the real one is unknown, so the run's results cannot be trusted).
   */
  readonly onRefused?: (why: string, taints: boolean) => void;
}

/** One VIF's queue-count negotiation (xenstore's multi-queue-max-queues / multi-queue-num-queues step). */
export interface QueueNegotiation {
  /** The VM index (actor `vm.<vm>`). */
  readonly vm: number;
  /** What its front end asked for; null when it asked for nothing (the scenario's count for the VM applies). */
  readonly requested: number | null;
  /** The back-end's limit, netback's multi-queue-max-queues. */
  readonly max: number;
  readonly granted: number;
}

/**
 * The most queues the back-end offers a VIF (netback's multi-queue-max-queues, whose default is the
 * number of dom0 CPUs): one per worker thread when vRSS is per flow — at most the RETA's entries, which
 * the queues share — and 1 for the single-threaded and per-VIF back-ends, which serve one queue per VIF.
 */
export function backendMaxQueues(s: CompiledScenario, workers: number): number {
  return s.topology.vrss === 'per-flow' ? Math.min(workers, s.topology.retaSize) : 1;
}

/**
 * What each VM gets: a front end that asked gets min(asked, max), as netfront writes
 * multi-queue-num-queues = min(its wish, multi-queue-max-queues); one that did not ask gets the
 * scenario's count for its VM (`topology.vms.queues`, the same for every VM when it is one integer).
 */
export function negotiateQueues(base: CompiledScenario, requested: readonly (number | undefined)[], workers: number): QueueNegotiation[] {
  const max = backendMaxQueues(base, workers);
  const listed = base.topology.vms.map((vm) => vm.queues);
  const uniform = listed.every((q) => q === listed[0]);
  return requested.map((asked, vm) => {
    if (asked !== undefined) return { vm, requested: asked, max, granted: Math.min(asked, max) };
    const fromScenario = listed[vm] ?? (uniform ? listed[0] : undefined);
    if (fromScenario === undefined) {
      throw new SplitnetError(
        'E_USAGE',
        `live: vm.${vm} joined without --queues, and topology.vms.queues lists ${listed.length} VMs (${listed.join(', ')}) but ${requested.length} front ends joined: give each front end --queues, or list one entry per front end (and set vms.count to match)`,
      );
    }
    return { vm, requested: null, max, granted: fromScenario };
  });
}

/** A join request's `queues`: absent, or a whole number ≥ 1 from a front end. Returns why it is not, or undefined. */
function badQueues(x: Partial<JoinRequest>): string | undefined {
  if (x.queues === undefined) return undefined;
  if (x.role !== 'frontend') return `only a front end asks for queues, found queues ${JSON.stringify(x.queues)} from a ${String(x.role)}`;
  if (typeof x.queues !== 'number' || !Number.isSafeInteger(x.queues) || x.queues < 1)
    return `queues: expected a whole number ≥ 1, found ${JSON.stringify(x.queues)}`;
  return undefined;
}

/** What registration settled: the run's scenario, the actor processes, and each VIF's negotiation. */
export interface Registration {
  readonly scenario: CompiledScenario;
  readonly groups: string[][];
  readonly negotiated: readonly QueueNegotiation[];
  /** The same negotiations as events for the run's event log (`vif-negotiated`, one per VM). */
  readonly events: readonly JoinEvent[];
  /** Per process name (ids joined by '+'), the container it said it runs in (JoinRequest.container), if it did. */
  readonly containers: ReadonlyMap<string, string>;
}

/** An event of the join step, recorded in the run's event log before the run starts. */
export interface JoinEvent {
  readonly actor: string;
  readonly kind: string;
  readonly detail: Record<string, unknown>;
}

/**
 * The `compile` of a registration: the scenario `s` the run was started with, sized to the actors that
 * joined — as many VMs as front ends, the workers, each VM's negotiated queue count — and compiled again,
 * so that a size no scenario could have is refused as the scenario's own error would be.
 */
export function sizedToJoined(s: CompiledScenario): RegistrationOptions['compile'] {
  const base = formatResolvedYaml(s);
  return (vmQueues, workers) => {
    // One integer when every VM has the same count, so a run without negotiation resolves as before.
    const queues = vmQueues.every((q) => q === vmQueues[0]) ? vmQueues[0] : [...vmQueues];
    const joined = 'the actors that joined';
    const scenario = compileScenarioText(base, s.source, {
      values: [
        { label: `${joined} (${vmQueues.length} front ends)`, path: ['topology', 'vms', 'count'], value: vmQueues.length },
        { label: `${joined} (${workers} workers)`, path: ['topology', 'workers'], value: workers },
        { label: `${joined} (queues negotiated per VM: ${vmQueues.join(', ')})`, path: ['topology', 'vms', 'queues'], value: queues },
      ],
    });
    return { scenario, yaml: formatResolvedYaml(scenario) };
  };
}

/** A join request waiting for registration to close, with the way to answer it. */
interface Pending {
  readonly role: JoinRole;
  /** The joiner's public key: the reply's secrets are sealed to it. */
  readonly pub: string;
  readonly queues: number | undefined;
  readonly container: string | undefined;
  readonly reply: (r: JoinReply) => void;
}

/**
 * The xenstore step of a run whose actors were started elsewhere: each actor process announces its
 * role (a front end also the queues it wants); once one driver, at least one worker (none per domain)
 * and at least one front end have joined and the window passed quietly, the controller sizes the
 * scenario to them (VMs = front ends; workers = workers, or per domain the scenario's, which the driver
 * runs; each VM's queues negotiated with negotiateQueues), gives each a unique identity (in the order the
 * controller saw them join: a joiner has no say in it) and sends them the scenario with what the controller
 * issues each (its control secret and NATS login, sealed to the joiner's key). The responder keeps answering
 * afterwards: late joiners with a refusal, a restarted process's rejoin with the run's scenario. Every
 * refusal is reported (onRefused); a second driver taints the run, for either may be the impostor.
 */
export async function registerExternalActors(o: RegistrationOptions): Promise<Registration> {
  const r = new Registrar(o);
  try {
    await r.untilClosed();
    return r.assign();
  } finally {
    // Keep answering late joiners (with a refusal) until the caller is done; the subscription ends with the transport.
    r.close();
  }
}

class Registrar {
  private readonly pending: Pending[] = [];
  private readonly perDomain: boolean;
  /** The roles that must join: per domain, the driver hosts the workers. */
  private readonly roles: readonly JoinRole[];
  private lastJoin = 0;
  private closed = false;
  /** The run's scenario once registration closed (what a rejoining process gets). */
  private runYaml: string | undefined;

  constructor(private readonly o: RegistrationOptions) {
    this.perDomain = o.processes === 'per-domain';
    this.roles = this.perDomain ? JOIN_ROLES.filter((r) => r !== 'worker') : JOIN_ROLES;
    o.transport.respond(joinSubject(o.runId), (data) => {
      const req = parse(data) as Partial<JoinRequest> | Partial<RejoinRequest> | { kind: 'probe' } | null;
      // A joined actor after its run asks whether the controller is still there (awaitControllerGone): no join.
      if (req?.kind === 'probe') return enc.encode(JSON.stringify({ kind: 'refuse', reason: 'probe' } satisfies JoinReply));
      return req?.kind === 'rejoin' ? this.answerRejoin(req as Partial<RejoinRequest>) : this.answerJoin(req as Partial<JoinRequest> | null);
    });
  }

  /** A refusal, reported. */
  private refuse(reason: string): Uint8Array {
    this.o.onRefused?.(`join refused: ${reason}`, false);
    return enc.encode(JSON.stringify({ kind: 'refuse', reason } satisfies JoinReply));
  }

  /** A restarted process asks for the run's scenario: only while the supervisor is restarting exactly it. */
  private answerRejoin(r: Partial<RejoinRequest>): Uint8Array {
    const ids = Array.isArray(r.ids) && r.ids.every((i) => typeof i === 'string') ? (r.ids as string[]) : [];
    const name = ids.join('+');
    const inc = typeof r.incarnation === 'number' && Number.isSafeInteger(r.incarnation) ? r.incarnation : -1;
    if (this.runYaml === undefined) return this.refuse('the run has not started: a process joins it with --role, not as a restart');
    if (name === '' || inc < 1 || !(this.o.rejoinable?.(name, inc) ?? false)) {
      this.o.logger.warn('rejoin refused', { ids, incarnation: r.incarnation });
      return this.refuse(`no restart of ${name || '(no ids)'} as incarnation ${String(r.incarnation)} is under way in this run`);
    }
    this.o.logger.info('rejoined', { ids, incarnation: inc });
    return enc.encode(JSON.stringify({ kind: 'assign', ids, scenarioYaml: this.runYaml } satisfies JoinReply));
  }

  /** A join: refused at once if it is malformed or the run cannot take it, else answered when registration closes. */
  private answerJoin(x: Partial<JoinRequest> | null): Uint8Array | Promise<Uint8Array> {
    if (x?.kind === 'join' && x.role === 'partition')
      return this.refuse('this run is live: a lockstep partition joins a run started with --runtime lockstep --placement external');
    if (!x || x.kind !== 'join' || !JOIN_ROLES.includes(x.role as JoinRole)) return this.refuse('not a join request');
    const bad = badQueues(x);
    if (bad !== undefined) {
      this.o.logger.warn('join refused', { role: x.role, reason: bad });
      return this.refuse(`bad join request: ${bad}`);
    }
    if (x.container !== undefined && (typeof x.container !== 'string' || x.container.length === 0 || x.container.length > 256)) {
      return this.refuse(`bad join request: container: expected a container name, found ${JSON.stringify(x.container)}`);
    }
    if (!isBoxKey(x.pub)) return this.refuse("a join request without the joiner's public key (pub): is the joining splitnet as recent as the controller?");
    if (this.perDomain && x.role === 'worker') {
      this.o.logger.warn('join refused', { role: x.role, reason: 'per-domain' });
      return this.refuse(PER_DOMAIN_WORKER);
    }
    if (this.closed) return this.refuse(`registration is closed: the run has started (a ${String(x.role)} joined late)`);
    return new Promise<Uint8Array>((resolve) => {
      this.pending.push({
        role: x.role as JoinRole,
        pub: x.pub as string,
        queues: x.queues,
        container: x.container,
        reply: (r) => resolve(enc.encode(JSON.stringify(r))),
      });
      this.lastJoin = Date.now();
      this.o.logger.info('joined', { role: x.role, ...(x.queues !== undefined ? { queues: x.queues } : {}) });
      this.o.onJoin?.(x.role as JoinRole, this.count(x.role as JoinRole));
    });
  }

  private count(r: JoinRole): number {
    return this.pending.filter((p) => p.role === r).length;
  }

  /** Every role at least once; more where the caller expects more (--expect). */
  private least(r: JoinRole): number {
    return Math.max(1, this.o.atLeast?.[r] ?? 1);
  }

  private complete(): boolean {
    const { expect } = this.o;
    if (expect) return this.count('driver') >= 1 && (this.perDomain || this.count('worker') >= expect.workers) && this.count('frontend') >= expect.frontends;
    return this.roles.every((r) => this.count(r) >= this.least(r)) && Date.now() - this.lastJoin >= this.o.windowMs;
  }

  /** Wait until registration may close; a timeout or an interruption ends the wait with an error. */
  async untilClosed(): Promise<void> {
    const started = Date.now();
    while (!this.complete()) {
      if (this.o.signal?.aborted === true)
        throw new SplitnetError('E_INTERRUPTED', `live: interrupted while waiting for actors to join (${String(this.o.signal.reason)})`);
      if (Date.now() - started > this.o.timeoutMs) {
        const missing = this.roles.filter((r) => this.count(r) < this.least(r)).map((r) => `${r} (${this.count(r)} of ${this.least(r)})`);
        throw new SplitnetError(
          'E_JOIN_TIMEOUT',
          `live: registration did not complete in ${this.o.timeoutMs / 1000} s${missing.length > 0 ? `: too few joined: ${missing.join(', ')}` : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Registration closes: size the run's scenario to the actors that joined and tell each who it is. */
  assign(): Registration {
    this.closed = true;
    // In the order the controller saw them join.
    const byRole = (r: JoinRole) => this.pending.filter((p) => p.role === r);
    const drivers = byRole('driver');
    const workers = byRole('worker');
    const frontends = byRole('frontend');
    const { scenario, yaml, negotiated } = this.build(frontends, workers);
    const events = negotiated.map((n): JoinEvent => ({
      actor: `vm.${n.vm}`,
      kind: 'vif-negotiated',
      detail: { requested: n.requested, max: n.max, granted: n.granted },
    }));
    for (const e of events) this.o.logger.info(e.kind, { actor: e.actor, ...e.detail });
    const workerIds = Array.from({ length: scenario.topology.workers }, (_, k) => `worker.${k}`);
    const driverIds = this.perDomain ? ['nic', 'backend', ...workerIds] : ['nic', 'backend'];
    const groups: string[][] = [driverIds, ...(this.perDomain ? [] : workerIds.map((id) => [id])), ...frontends.map((_, v) => [`vm.${v}`])];
    const containers = new Map<string, string>();
    const noteContainer = (name: string, p: Pending | undefined) => {
      if (p?.container !== undefined) containers.set(name, p.container);
    };
    noteContainer(driverIds.join('+'), drivers[0]);
    workers.forEach((p, k) => noteContainer(`worker.${k}`, p));
    frontends.forEach((p, v) => noteContainer(`vm.${v}`, p));
    this.runYaml = yaml;
    const oneDriver = `this run has one driver (${this.perDomain ? 'NIC, back-end and vRSS workers' : 'NIC + back-end'}) already: ${drivers.length} processes joined as driver (an impostor, or a driver started twice)`;
    // What the controller issues each process, sealed to the key it joined with.
    const assign = (p: Pending, ids: string[]): JoinReply => ({
      kind: 'assign',
      ids,
      scenarioYaml: yaml,
      box: sealTo(p.pub, enc.encode(JSON.stringify(this.o.accessFor(ids.join('+'), 0)))),
    });
    drivers.forEach((p, i) => {
      if (i === 0) p.reply(assign(p, driverIds));
      else {
        this.o.onRefused?.(`join refused: ${oneDriver}`, true);
        p.reply({ kind: 'refuse', reason: oneDriver });
      }
    });
    workers.forEach((p, k) => p.reply(assign(p, [`worker.${k}`])));
    frontends.forEach((p, v) => p.reply(assign(p, [`vm.${v}`])));
    this.o.logger.info('registration closed', { drivers: drivers.length, workers: workers.length, frontends: frontends.length });
    return { scenario, groups, negotiated, events, containers };
  }

  /** The run's scenario for the actors that joined; if it cannot be built, every process that joined is told why. */
  private build(frontends: readonly Pending[], workers: readonly Pending[]): { scenario: CompiledScenario; yaml: string; negotiated: QueueNegotiation[] } {
    // Per domain the scenario sets the worker count (the driver process runs them); else the workers that joined.
    const workerCount = this.perDomain ? this.o.base.topology.workers : workers.length;
    try {
      const negotiated = negotiateQueues(
        this.o.base,
        frontends.map((p) => p.queues),
        workerCount,
      );
      return {
        ...this.o.compile(
          negotiated.map((n) => n.granted),
          workerCount,
        ),
        negotiated,
      };
    } catch (err) {
      // Tell every process that joined why there is no run, rather than leave it waiting for its join timeout.
      const reason = `the controller cannot build the run for the actors that joined: ${err instanceof Error ? err.message : String(err)}`;
      for (const p of this.pending) p.reply({ kind: 'refuse', reason });
      throw err;
    }
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * The actor side: announce the role (a front end also the queues it asks for), wait for the identity, the
 * scenario and what the controller issues this process (its control secret, and its NATS login where the
 * run's servers have one per process), sealed to a key made for this join.
 */
export async function joinRun(
  transport: Transport,
  runId: string,
  role: JoinerRole,
  timeoutMs: number,
  ask: { readonly queues?: number; readonly container?: string } = {},
): Promise<{ ids: string[]; scenarioYaml: string; access: ProcessAccess }> {
  const keys = new BoxKeys();
  const req: JoinRequest = {
    kind: 'join',
    role,
    pub: keys.publicKey,
    ...(ask.queues !== undefined ? { queues: ask.queues } : {}),
    ...(ask.container ? { container: ask.container } : {}),
  };
  const r = await askController(transport, runId, req, timeoutMs);
  const opened = r.box === undefined ? undefined : keys.open(r.box);
  const access = opened === undefined ? undefined : accessFrom(parse(opened));
  if (access === undefined)
    throw new SplitnetError(
      'E_OPERATIONAL',
      `join: the controller of run ${runId} assigned ${r.ids.join('+')} without a secret this process can open (is the controller a splitnet of the same version?)`,
    );
  return { ids: r.ids, scenarioYaml: r.scenarioYaml, access };
}

/** A ProcessAccess as the controller sent it (JSON), or undefined. */
function accessFrom(x: unknown): ProcessAccess | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const { secret, login } = x as { secret?: { nonce?: unknown; key?: unknown }; login?: Partial<NatsLogin> };
  const s = typeof secret?.nonce === 'string' && typeof secret.key === 'string' ? parseControlSecret(`${secret.nonce}:${secret.key}`) : undefined;
  if (s === undefined) return undefined;
  if (login === undefined) return { secret: s };
  if (typeof login.user !== 'string' || typeof login.pass !== 'string' || typeof login.inboxPrefix !== 'string') return undefined;
  return { secret: s, login: { user: login.user, pass: login.pass, inboxPrefix: login.inboxPrefix } };
}

/**
 * The actor side of a restart without the scenario file (a container started again by the docker
 * placement's supervisor): name the actors and the incarnation, get the run's scenario back.
 */
export async function rejoinRun(
  transport: Transport,
  runId: string,
  ids: readonly string[],
  incarnation: number,
  timeoutMs: number,
): Promise<{ ids: string[]; scenarioYaml: string }> {
  const req: RejoinRequest = { kind: 'rejoin', ids: [...ids], incarnation };
  const r = await askController(transport, runId, req, timeoutMs);
  if (r.ids.join('+') !== ids.join('+'))
    throw new SplitnetError('E_INTERNAL', `rejoin: the controller of run ${runId} assigned ${r.ids.join('+')} to a restart of ${ids.join('+')}`);
  return r;
}

async function askController(
  transport: Transport,
  runId: string,
  req: JoinRequest | RejoinRequest,
  timeoutMs: number,
): Promise<{ ids: string[]; scenarioYaml: string; box?: string }> {
  const until = Date.now() + timeoutMs;
  let data: Uint8Array;
  for (;;) {
    try {
      data = await transport.request(joinSubject(runId), enc.encode(JSON.stringify(req)), Math.max(1000, until - Date.now()));
      break;
    } catch (err) {
      // The controller may not be listening yet (containers start in any order): ask again.
      const code = (err as { code?: unknown }).code;
      if (code !== 'E_NO_RESPONDERS' || Date.now() > until) {
        throw new SplitnetError(
          'E_OPERATIONAL',
          `${req.kind}: no answer from the controller of run ${runId}: ${err instanceof Error ? err.message : String(err)}${code === 'E_NO_RESPONDERS' ? ` (no controller serves run ${runId} on this server: is that its --run-id?)` : ''}`,
          { cause: err },
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const r = parse(data) as JoinReply | null;
  if (r?.kind === 'assign' && Array.isArray(r.ids) && typeof r.scenarioYaml === 'string')
    return { ids: [...r.ids], scenarioYaml: r.scenarioYaml, ...(typeof r.box === 'string' ? { box: r.box } : {}) };
  throw new SplitnetError('E_USAGE', `${req.kind} refused by the controller of run ${runId}: ${r?.kind === 'refuse' ? r.reason : 'unreadable reply'}`);
}

/**
 * An external actor after its run: wait until the controller of the run no longer answers on the join
 * subject (it has drained its connection to write the results), then `graceMs` more for it to write them
 * and exit. Orchestrators that stop every container once one exits (`docker compose up --exit-code-from
 * controller`) then see the controller exit first, with its summary printed. Gives up after `timeoutMs`.
 */
export async function awaitControllerGone(transport: Transport, runId: string, o: { timeoutMs: number; graceMs: number; signal?: AbortSignal }): Promise<void> {
  const until = Date.now() + o.timeoutMs;
  const interrupted = () => o.signal?.aborted === true;
  // Not a join: the controller answers it with a refusal and registers nothing.
  const probe = enc.encode(JSON.stringify({ kind: 'probe' }));
  while (!interrupted() && Date.now() < until) {
    try {
      await transport.request(joinSubject(runId), probe, 2000);
    } catch (err) {
      // No responders: the controller is gone. A timeout: it is busy, ask again. Anything else (the connection
      // closed): nothing more to wait for.
      if ((err as { code?: unknown }).code !== 'E_TIMEOUT') break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const graceEnd = Date.now() + o.graceMs;
  while (!interrupted() && Date.now() < graceEnd) await new Promise((r) => setTimeout(r, 100));
}
