// The controller's watch on its own NATS connection: each outage is an event with its duration, and one that lasts longer than live.busOutageLimit ends the run.
import { SplitnetError } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';
import type { BusOutage } from '@splitnet/results';
import type { Transport } from '@splitnet/transport';
import type { DilatedClock } from './dilated-clock.js';
import type { RunLog } from './run-log.js';

export interface BusWatchOptions {
  readonly transport: Transport;
  readonly clock: DilatedClock;
  readonly log: RunLog;
  /** Wall ms an outage may last before the run ends (live.busOutageLimit). */
  readonly limitMs: number;
  /** Where the run's NATS is, for the message. */
  readonly url: string;
}

interface Outage {
  readonly fromMs: number;
  readonly at: Nanos;
  toMs?: number;
}

/**
 * While the controller's connection is down, the run's control messages and reports are held or lost:
 * the controller records `nats-disconnected` when it goes and `nats-reconnected` (with `outageMs`, wall
 * time, and `outageEmulatedMs`) when it is back; `lost` rejects (E_NATS_UNREACHABLE) when an outage
 * outlasts the limit, or the client gives up and closes. The collect step counts what the bus lost
 * meanwhile as `lost-in-transport` and tells the outage from CPU lag in the verdict.
 */
export class BusWatch {
  /** Rejects when the bus is lost for good (the run must end). */
  readonly lost: Promise<never>;
  private readonly list: Outage[] = [];
  private fail: (err: Error) => void = () => {};
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(private readonly o: BusWatchOptions) {
    this.lost = new Promise<never>((_, reject) => {
      this.fail = reject;
    });
    this.lost.catch(() => {}); // observed by whoever races it
    this.unsubscribe = o.transport.onStatus((st) => {
      if (st.kind === 'disconnect') this.down(st.detail);
      else if (st.kind === 'reconnect') this.back();
      else if (st.kind === 'closed')
        this.fail(new SplitnetError('E_NATS_UNREACHABLE', `live: the controller's NATS connection (${o.url}) closed: ${st.detail}; the run ends here`));
    });
  }

  /** Whether the controller's connection is up. */
  get up(): boolean {
    return this.list.at(-1)?.toMs !== undefined || this.list.length === 0;
  }

  /** Wall ms the bus has been down in all, the current outage up to now included. */
  downMs(): number {
    const now = this.o.clock.wall.nowMs();
    return this.list.reduce((sum, x) => sum + ((x.toMs ?? now) - x.fromMs), 0);
  }

  /** Each outage: when (emulated ms) and how long (wall ms; null while it lasts). */
  outages(): BusOutage[] {
    return this.list.map((x) => ({ atMs: Number((x.at / 1e6).toPrecision(6)), wallMs: x.toMs === undefined ? null : Math.round(x.toMs - x.fromMs) }));
  }

  private down(detail: string): void {
    if (!this.up) return;
    const { clock, log, limitMs, url } = this.o;
    const outage: Outage = { fromMs: clock.wall.nowMs(), at: clock.stamp() };
    this.list.push(outage);
    log.log('nats-disconnected', 'controller', { url, detail });
    this.timer = setTimeout(() => {
      const since = clock.started ? ` (since ${Number((outage.at / 1e6).toPrecision(4))} ms emulated)` : '';
      this.fail(
        new SplitnetError(
          'E_NATS_UNREACHABLE',
          `live: the NATS server at ${url} has been unreachable for ${limitMs / 1000} s${since} and the run ends here (live.busOutageLimit); is it still running?`,
        ),
      );
    }, limitMs);
  }

  private back(): void {
    const outage = this.list.at(-1);
    if (outage === undefined || outage.toMs !== undefined) return;
    clearTimeout(this.timer);
    const { clock, log } = this.o;
    outage.toMs = clock.wall.nowMs();
    const wallMs = outage.toMs - outage.fromMs;
    log.log('nats-reconnected', 'controller', { outageMs: Math.round(wallMs), outageEmulatedMs: Number((wallMs / clock.tdf).toPrecision(4)) });
  }

  /** Stop watching (the run is over): an outage still going on stays open in `outages`, and the log says how long it had lasted. */
  close(): void {
    clearTimeout(this.timer);
    this.unsubscribe();
    const open = this.list.at(-1);
    if (open !== undefined && open.toMs === undefined)
      this.o.log.log('nats-not-reconnected', 'controller', { outageMs: Math.round(this.o.clock.wall.nowMs() - open.fromMs) });
  }
}
