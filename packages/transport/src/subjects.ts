// Builds every NATS subject splitnet uses (sn.<run>.…) and validates the run and actor ids inside them.
import { SplitnetError } from '@splitnet/model';

/** Every subject starts with this token; it keeps splitnet's traffic apart from anything else on a shared server. */
export const SUBJECT_ROOT = 'sn';

/**
 * Longest accepted run id. NATS has no hard subject limit, but every data-plane message carries
 * the subject (and the envelope carries the run id), so an unbounded id would cost bytes per packet batch.
 */
export const RUN_ID_MAX_LENGTH = 64;

/**
 * One subject token: letters, digits, `_` and `-`. This excludes `.` (a level separator), `*`
 * and `>` (wildcards) and whitespace, so a run id can never widen or shift another run's subjects.
 */
const TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * Actor ids: the singletons, or a role and its index (`worker.3`, `vm.0`); in a multi-host run (live, lockstep per host),
 * a host's actors prefixed with it (`h1.nic`, `h1.vm.0`) and the switch. Indices are canonical
 * decimal (no leading zeros) so that one actor cannot have two subjects (`worker.3`, `worker.03`).
 */
const ACTOR_ID = /^(?:controller|switch|(?:h(?:0|[1-9][0-9]{0,9})\.)?(?:nic|backend|(?:worker|vm)\.(?:0|[1-9][0-9]{0,9})))$/;

/** Longest base-36 form of a safe integer (2^53 − 1), plus the separating `-`. */
const ENTROPY_SUFFIX_MAX = 1 + Number.MAX_SAFE_INTEGER.toString(36).length;

/** True if `s` can be a run id: one subject token, at most RUN_ID_MAX_LENGTH characters. */
export function isValidRunId(s: unknown): s is string {
  return typeof s === 'string' && s.length <= RUN_ID_MAX_LENGTH && TOKEN.test(s);
}

/** True if `s` is an actor id: `nic`, `backend`, `controller`, `worker.<k>` or `vm.<v>`, host-prefixed (`h<i>.nic`), or `switch`. */
export function isValidActorId(s: unknown): s is string {
  return typeof s === 'string' && ACTOR_ID.test(s);
}

/**
 * A fresh valid run id from a human prefix (a scenario name, say) and a number the caller drew
 * (time, randomness): this module stays free of clocks and randomness so that it is deterministic.
 * Characters a subject token cannot hold become `-`; an empty prefix becomes `run`.
 */
export function newRunId(prefix: string, entropy: number): string {
  if (!Number.isSafeInteger(entropy) || entropy < 0) {
    throw new SplitnetError('E_USAGE', `run id: entropy must be a non-negative safe integer, found ${String(entropy)}`);
  }
  let p = prefix.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  if (p.length === 0) p = 'run';
  p = p.slice(0, RUN_ID_MAX_LENGTH - ENTROPY_SUFFIX_MAX);
  return `${p}-${entropy.toString(36)}`;
}

/** An actor id or, in a permission pattern, a role's every actor (`worker.*`, `vm.*`). */
const ACTOR_PATTERN = /^(?:controller|switch|(?:(?:\*|h(?:0|[1-9][0-9]{0,9}))\.)?(?:nic|backend|(?:worker|vm)\.(?:\*|0|[1-9][0-9]{0,9})))$/;

/**
 * The subjects of one run. Layout (`<actor>` may span two levels, e.g. `worker.3`):
 *
 * | subject | use |
 * |---|---|
 * | `sn.<run>.<to>.from.<from>` | data plane: the messages actor `<from>` sends actor `<to>`; the subject names the sender, so the bus's permissions decide who may send as whom |
 * | `sn.<run>.ctl.<actor>` | control of the process whose first actor is `<actor>` (start, stop, restarted, fault); `ctl.controller`: requests to the controller (`splitnet fault`) |
 * | `sn.<run>.hello.<actor>` | a process announces readiness |
 * | `sn.<run>.join` | actors started elsewhere ask the controller for an identity |
 * | `sn.<run>.run` | the controller's claim on the run id (its nonce), so that a second controller of the same id is refused |
 * | `sn.<run>.stats.<actor>` | samples, events and final reports of a process |
 * | `sn.<run>.hb.<actor>` | heartbeats for the supervisor |
 *
 * No actor id is `ctl`, `stats`, `hb`, `hello`, `join` or `run`, so the families cannot collide within a run;
 * the run id is a single token, so runs cannot collide either.
 */
export class Subjects {
  readonly runId: string;
  /** `sn.<run>`: the prefix of every subject of this run. */
  readonly prefix: string;
  /** Actor ids already validated: subjects are built on every publish, the regex need not be. */
  private readonly knownActors = new Set<string>();
  /** A pattern builder (run `*`, actors `worker.*`): for NATS permissions, never for publishing. */
  private readonly patterns: boolean;

  /** @throws SplitnetError E_USAGE if `runId` is not a valid run id. */
  constructor(runId: string, patterns = false) {
    if (!isValidRunId(runId) && !(patterns && runId === '*')) {
      throw new SplitnetError('E_USAGE', `run id: expected 1–${RUN_ID_MAX_LENGTH} characters from [A-Za-z0-9_-], found ${JSON.stringify(runId)}`);
    }
    this.runId = runId;
    this.prefix = `${SUBJECT_ROOT}.${runId}`;
    this.patterns = patterns;
  }

  /**
   * Subject patterns for NATS permissions: `run` is a run id or `*` (every run), and an actor may be a role's
   * every actor (`worker.*`, `vm.*`). The same shapes as the subjects themselves, from the same builders.
   */
  static patterns(run: string): Subjects {
    return new Subjects(run, true);
  }

  static validRunId(s: unknown): s is string {
    return isValidRunId(s);
  }

  static validActorId(s: unknown): s is string {
    return isValidActorId(s);
  }

  /** Data plane: where actor `from` sends its messages for actor `to`. */
  data(to: string, from: string): string {
    return `${this.prefix}.${this.actor(to)}.from.${this.actor(from)}`;
  }

  /** Everything sent to actor `to`, from any sender (the receiver reads the sender from the subject: `senderOf`). */
  dataInbox(to: string): string {
    return `${this.prefix}.${this.actor(to)}.from.>`;
  }

  /**
   * The sender a data subject names, for a subject that matched `dataInbox(to)`; undefined if it names none
   * (an actor id that is not one: the bus let something through that no actor sends).
   */
  senderOf(to: string, subject: string): string | undefined {
    const head = `${this.prefix}.${to}.from.`;
    if (!subject.startsWith(head)) return undefined;
    const from = subject.slice(head.length);
    if (this.knownActors.has(from)) return from;
    if (!isValidActorId(from)) return undefined;
    this.knownActors.add(from);
    return from;
  }

  /**
   * Lockstep: the promises of the partition whose first actor is `from` to the one whose first actor is `to`
   * (docs/lockstep.md#the-synchronisation).
   */
  promise(to: string, from: string): string {
    return `${this.prefix}.${this.actor(to)}.promise.${this.actor(from)}`;
  }

  /** Lockstep: every promise to the partition whose first actor is `to`. */
  promiseInbox(to: string): string {
    return `${this.prefix}.${this.actor(to)}.promise.>`;
  }

  /** Control of the process whose first actor is `actorId` (or `controller`: requests to the controller). */
  control(actorId: string): string {
    return `${this.prefix}.ctl.${this.actor(actorId)}`;
  }

  /** Join requests of actors started elsewhere (request/reply with the controller). */
  join(): string {
    return `${this.prefix}.join`;
  }

  /** The controller's claim on the run id (request/reply and announcements of its nonce). */
  claim(): string {
    return `${this.prefix}.run`;
  }

  /** Readiness of the process whose first actor is `actorId`. */
  hello(actorId: string): string {
    return `${this.prefix}.hello.${this.actor(actorId)}`;
  }

  helloAll(): string {
    return `${this.prefix}.hello.>`;
  }

  stats(actorId: string): string {
    return `${this.prefix}.stats.${this.actor(actorId)}`;
  }

  /** Every actor's stats (`>` because actor ids may span two levels). */
  statsAll(): string {
    return `${this.prefix}.stats.>`;
  }

  heartbeat(actorId: string): string {
    return `${this.prefix}.hb.${this.actor(actorId)}`;
  }

  heartbeatAll(): string {
    return `${this.prefix}.hb.>`;
  }

  /** Everything of this run (monitoring, recording); never matches another run's subjects. */
  runWildcard(): string {
    return `${this.prefix}.>`;
  }

  private actor(actorId: string): string {
    if (this.knownActors.has(actorId)) return actorId;
    if (!(this.patterns ? ACTOR_PATTERN.test(actorId) : isValidActorId(actorId))) {
      throw new SplitnetError('E_USAGE', `actor id: expected nic, backend, controller, worker.<k> or vm.<v>, found ${JSON.stringify(actorId)}`);
    }
    this.knownActors.add(actorId);
    return actorId;
  }
}
