// A request/response workload like netperf TCP_RR: one transaction outstanding, given request and response sizes.
import { SplitnetError } from './errors.js';
import { LatencyHistogram } from './histogram.js';
import type { Nanos } from './time.js';
import { SEC } from './time.js';

export interface RrConfig {
  /** Request size in bytes (netperf -r's first value; default 1). */
  readonly requestBytes?: number;
  /** Response size in bytes (netperf -r's second value; default 1). */
  readonly responseBytes?: number;
}

function checkSize(what: string, v: number | undefined): number {
  const bytes = v ?? 1;
  if (!Number.isInteger(bytes) || bytes < 1) {
    throw new SplitnetError('E_USAGE', `RR workload: expected a ${what} size ≥ 1 byte, found ${String(v)}`);
  }
  return bytes;
}

/** What a run reports for one RR flow. */
export interface RrSummary {
  readonly transactions: number;
  readonly transactionsPerSec: number;
  readonly latencyMinNs: Nanos;
  readonly latencyMeanNs: Nanos;
  readonly latencyP50Ns: Nanos;
  readonly latencyP99Ns: Nanos;
}

/**
 * The client of netperf's TCP_RR loop (send_tcp_rr in src/nettest_bsd.c): write a request, wait until the
 * whole response has arrived, record the transaction's latency (request written → last response byte
 * delivered), write the next request at once. Exactly one transaction is outstanding, so the rate is
 * 1 / latency. The byte stream underneath is the caller's (a TCP sender and receiver pair); this class
 * only counts bytes and times.
 */
export class RrClient {
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly latency = new LatencyHistogram();
  private outstandingSince: Nanos = -1;
  private responseSoFar = 0;
  private startedAt: Nanos = -1;
  private stopAt: Nanos = Infinity;

  constructor(config: RrConfig = {}) {
    this.requestBytes = checkSize('request', config.requestBytes);
    this.responseBytes = checkSize('response', config.responseBytes);
  }

  get transactions(): number {
    return this.latency.count;
  }

  /** Start the loop at `now`, issuing requests until `stopAt`: returns the bytes of the first request to write. */
  start(now: Nanos, stopAt: Nanos = Infinity): number {
    this.startedAt = now;
    this.stopAt = stopAt;
    this.outstandingSince = now;
    return this.requestBytes;
  }

  /**
   * A client that never started — its guest restarted before the loop's start, or, live, a restarted guest's fresh
   * client — takes the loop's schedule at the restart: it counts from `startAt` and issues requests until `stopAt`.
   * A started client keeps its own.
   */
  schedule(startAt: Nanos, stopAt: Nanos): void {
    if (this.startedAt >= 0) return;
    this.startedAt = startAt;
    this.stopAt = stopAt;
  }

  /**
   * The connection was reset and a new one is open at `now` (docs/model.md §12 "Restarts"): the transaction
   * outstanding is abandoned (no latency recorded) and the next starts now. Returns the bytes of its request (0 once
   * the loop has stopped).
   */
  reconnect(now: Nanos): number {
    this.responseSoFar = 0;
    if (now >= this.stopAt) {
      this.outstandingSince = -1;
      return 0;
    }
    this.outstandingSince = now;
    return this.requestBytes;
  }

  /**
   * `bytes` of response arrived in order at `now`. Returns the bytes of the next request to write now (0
   * while the response is incomplete, or when the loop has stopped).
   */
  onResponseData(bytes: number, now: Nanos): number {
    if (this.outstandingSince < 0) throw new SplitnetError('E_INTERNAL', 'RrClient: response data with no request outstanding');
    this.responseSoFar += bytes;
    if (this.responseSoFar < this.responseBytes) return 0;
    if (this.responseSoFar > this.responseBytes) {
      throw new SplitnetError('E_INTERNAL', `RrClient: ${this.responseSoFar} response bytes for a ${this.responseBytes}-byte response`);
    }
    this.latency.record(now - this.outstandingSince);
    this.responseSoFar = 0;
    if (now >= this.stopAt) {
      this.outstandingSince = -1;
      return 0;
    }
    this.outstandingSince = now;
    return this.requestBytes;
  }

  /** Transactions completed per second of emulated time from the start to `now`. */
  transactionsPerSec(now: Nanos): number {
    const span = now - this.startedAt;
    return this.startedAt < 0 || span <= 0 ? 0 : (this.transactions * SEC) / span;
  }

  summary(now: Nanos): RrSummary {
    return {
      transactions: this.transactions,
      transactionsPerSec: this.transactionsPerSec(now),
      latencyMinNs: this.latency.min,
      latencyMeanNs: this.latency.mean,
      latencyP50Ns: this.latency.percentile(50),
      latencyP99Ns: this.latency.percentile(99),
    };
  }
}

/** The server of the TCP_RR loop (recv_tcp_rr): once a whole request is in, write the response. */
export class RrServer {
  private requestSoFar = 0;
  served = 0;

  constructor(
    readonly requestBytes: number,
    readonly responseBytes: number,
  ) {}

  /** `bytes` of request arrived in order; returns the response bytes to write now (0 until a request is complete). */
  onRequestData(bytes: number): number {
    this.requestSoFar += bytes;
    let respond = 0;
    while (this.requestSoFar >= this.requestBytes) {
      this.requestSoFar -= this.requestBytes;
      this.served += 1;
      respond += this.responseBytes;
    }
    return respond;
  }
}
