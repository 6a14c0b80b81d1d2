// The controller's heartbeat, and how an actor process notices that its controller is gone: silent while other messages arrive, or the bus itself silent or gone too long.
import type { Transport } from '@splitnet/transport';
import type { ControlPlane } from './control-plane.js';
import type { WallClock } from './dilated-clock.js';

/** How often the controller beats (wall ms). */
const BEAT_MS = 500;

/**
 * How long an actor process waits without a beat from its controller, while its own connection is up,
 * before it exits (wall ms). Twenty beats: a controller's event loop on a loaded 2-core machine stalls
 * for a second or two at worst, never ten.
 */
export const CONTROLLER_SILENCE_MS = 10_000;

/** How often an actor process looks at the controller's silence (wall ms). */
const CHECK_MS = 500;

/** A gap between two looks longer than this: the process itself was stopped or blocked meanwhile. */
const FROZEN_MS = 2_000;

/**
 * The controller beats from its connect until its bus closes; returns the function that stops it. The beat
 * goes to every process of the run (once the join step knows them) on its own control subject, sealed with
 * its key like every control message (control-plane.ts): only the controller can beat, and a process hears
 * only its own controller.
 */
export function beatAsController(control: Pick<ControlPlane, 'sendAll'>, emulatedNow: () => number): () => void {
  const beat = (): void => control.sendAll({ kind: 'hb', id: 'controller', emulatedNow: emulatedNow() });
  beat();
  const timer = setInterval(beat, BEAT_MS);
  return () => clearInterval(timer);
}

export interface ControllerWatchOptions {
  readonly transport: Transport;
  readonly clock: WallClock;
  /** Wall ms the controller may be silent while this process's connection is up (default CONTROLLER_SILENCE_MS). */
  readonly silenceMs?: number;
  /** Wall ms this process's own connection may stay lost (live.busOutageLimit). */
  readonly outageLimitMs: number;
  /**
   * The run's join subject, which the controller serves for the whole run. A process that hears no beat asks
   * there: an answer says the controller is there; "no responders" says the bus carried the question and
   * nobody serves the run any more — the evidence a process that receives nothing from its peers (the
   * driver: NIC and back end only send over the bus) has instead of other messages arriving.
   */
  readonly probeSubject?: string;
}

/** The question asked on the join subject (the controller answers it with a refusal and registers nothing: join.ts). */
const PROBE = new TextEncoder().encode(JSON.stringify({ kind: 'probe' }));
/** How long a probe waits for its answer (wall ms). */
const PROBE_TIMEOUT_MS = 2000;

/**
 * An actor process's orphan guard. `gone` resolves with the reason once the controller has been silent for
 * `silenceMs` while other messages kept arriving (a controller that was killed: its actors must not live
 * on), once nothing at all has arrived for `outageLimitMs` (a controller gone after the run's traffic
 * ended, or a bus that carries nothing), or once this process's own connection has been lost for
 * `outageLimitMs` (the bus is gone and the run with it). Silence while disconnected does not count, nor
 * silence of the whole bus shorter than the limit: a network partition that keeps the TCP connection
 * (a docker node cut off for a while) silences the controller and everyone else alike. With `probeSubject`,
 * a process the controller has been silent to for half of `silenceMs` asks the controller's join subject:
 * "no responders" (the server carried the question; nobody serves the run) counts as a message arriving.
 */
export class ControllerWatch {
  readonly gone: Promise<string>;
  private resolveGone: (why: string) => void = () => {};
  /** Wall ms of the last beat, or of the moment the connection came (back) up. */
  private heardAt: number;
  private downSince: number | undefined;
  /** Wall ms when a message last arrived (anything: the transport's received counter moved), and that count. */
  private lastAny: number;
  private lastReceived: number;
  /** A probe is waiting for its answer; the last one found nobody serving the run's join subject. */
  private probing = false;
  private nobodyServes = false;
  /** Wall ms of the last check. */
  private lastCheck: number;
  private readonly timer: NodeJS.Timeout;
  private readonly stops: (() => void)[] = [];

  constructor(private readonly o: ControllerWatchOptions) {
    this.gone = new Promise<string>((resolve) => {
      this.resolveGone = resolve;
    });
    this.heardAt = o.clock.nowMs();
    this.lastCheck = this.heardAt;
    this.lastAny = this.heardAt;
    this.lastReceived = o.transport.counters.received;
    this.stops.push(
      o.transport.onStatus((st) => {
        if (st.kind === 'disconnect') this.downSince ??= o.clock.nowMs();
        else if (st.kind === 'reconnect') {
          this.downSince = undefined;
          this.heardAt = this.lastAny = o.clock.nowMs();
        }
      }),
    );
    this.timer = setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  /**
   * An authentic control message from the controller arrived (its beat, a start, a fault, a stop): it is
   * there. The process's control handler calls this once the message's seal is checked.
   */
  heard(): void {
    this.heardAt = this.o.clock.nowMs();
    this.nobodyServes = false;
  }

  /** Ask the run's join subject whether the controller is there (see `probeSubject`). */
  private probe(subject: string): void {
    this.probing = true;
    this.o.transport.request(subject, PROBE, PROBE_TIMEOUT_MS).then(
      () => {
        this.probing = false;
        this.heard();
      },
      (err: unknown) => {
        this.probing = false;
        // A timeout, or a connection that went down meanwhile, says nothing about the controller.
        if ((err as { code?: unknown }).code !== 'E_NO_RESPONDERS') return;
        this.nobodyServes = true;
        this.lastAny = this.o.clock.nowMs();
      },
    );
  }

  /** Wall ms this process's connection has been down (0 while it is up). */
  downForMs(): number {
    return this.downSince === undefined ? 0 : this.o.clock.nowMs() - this.downSince;
  }

  private check(): void {
    const now = this.o.clock.nowMs();
    // Checks come every CHECK_MS; a longer gap means this process did not run meanwhile (SIGSTOP: a pause
    // fault, a paused container; or a long synchronous stretch). Only time it ran counts: what the
    // controller sent meanwhile is still unread, so the silence starts again, as an outage's clock does.
    if (now - this.lastCheck > FROZEN_MS) {
      this.heardAt = now;
      this.lastAny = now;
      if (this.downSince !== undefined) this.downSince = now;
    }
    this.lastCheck = now;
    const received = this.o.transport.counters.received;
    if (received !== this.lastReceived) {
      this.lastReceived = received;
      this.lastAny = now;
    }
    const limit = this.o.outageLimitMs;
    if (this.downSince !== undefined) {
      if (now - this.downSince >= limit)
        this.resolveGone(`the NATS bus has been unreachable for ${Math.round((now - this.downSince) / 1000)} s (live.busOutageLimit)`);
      return;
    }
    const silence = this.o.silenceMs ?? CONTROLLER_SILENCE_MS;
    if (this.o.probeSubject !== undefined && !this.probing && now - this.heardAt >= silence / 2) this.probe(this.o.probeSubject);
    if (now - this.heardAt >= silence && now - this.lastAny < silence) {
      const evidence = this.nobodyServes ? 'and nobody serves its join subject' : 'while other messages arrive';
      this.resolveGone(`no heartbeat from the run's controller for ${Math.round((now - this.heardAt) / 1000)} s ${evidence}: it is gone`);
    } else if (now - this.lastAny >= limit) {
      this.resolveGone(
        `nothing has arrived on the NATS bus for ${Math.round((now - this.lastAny) / 1000)} s, not even the controller's heartbeat (live.busOutageLimit): the run is gone`,
      );
    }
  }

  close(): void {
    clearInterval(this.timer);
    for (const s of this.stops) s();
  }
}
