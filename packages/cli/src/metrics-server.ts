// `run --metrics-port`: the controller's /metrics endpoint that Prometheus scrapes while a live run goes, fed by the run's snapshots, serving the final values until they were scraped.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Option } from 'commander';
import { SplitnetError } from '@splitnet/model';
import { lagBound } from '@splitnet/controller';
import type { SnapshotFeed } from '@splitnet/live';
import { combine, finalView, RunMetrics } from '@splitnet/results';
import type { RunIdentity, RunResult } from '@splitnet/results';
import { parseDuration } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';

export interface MetricsFlags {
  readonly metricsPort?: string | undefined;
  readonly metricsHost?: string | undefined;
  readonly metricsLinger?: string | undefined;
}

/** Where to serve and for how long after the run: the flags checked, before anything is started. */
export interface MetricsOptions {
  readonly port: number;
  readonly host: string;
  readonly lingerMs: number;
}

/**
 * Loopback by default: the endpoint has no authentication and shows the run's topology and figures, so it
 * is reachable from elsewhere only when asked (--metrics-host 0.0.0.0, as the compose file's controller does
 * for its Prometheus container).
 */
export const DEFAULT_METRICS_HOST = '127.0.0.1';
/** How long the final values are served, at most, for a scrape that has not come yet (Prometheus' default interval is 15 s). */
export const DEFAULT_METRICS_LINGER = '30s';

/** The --metrics-* options of `splitnet run` and their help (docs/cli.md). */
export const METRICS_COMMAND_OPTIONS = {
  port: new Option(
    '--metrics-port <port>',
    "live: serve the run's metrics for Prometheus at http://<host>:<port>/metrics while it runs (0: any free port, printed); final values once the results are written (docs/results.md)",
  ),
  host: new Option('--metrics-host <addr>', `live, with --metrics-port: the address to listen on (default ${DEFAULT_METRICS_HOST}; 0.0.0.0: every interface)`),
  linger: new Option(
    '--metrics-linger <time>',
    `live, with --metrics-port: after the results are written, serve the final values until they were scraped once, at most this long, if anything scraped during the run (default ${DEFAULT_METRICS_LINGER})`,
  ),
};

/** The --metrics-* flags, or undefined without --metrics-port; a bad value is one line naming the flag. */
export function metricsOptions(flags: MetricsFlags): MetricsOptions | undefined {
  if (flags.metricsPort === undefined) {
    const lone = flags.metricsHost !== undefined ? '--metrics-host' : flags.metricsLinger !== undefined ? '--metrics-linger' : undefined;
    if (lone !== undefined) throw new SplitnetError('E_USAGE', `${lone}: only with --metrics-port <port>, which turns the metrics endpoint on`);
    return undefined;
  }
  const p = flags.metricsPort;
  if (!/^\d{1,5}$/.test(p) || Number(p) > 65535) {
    throw new SplitnetError('E_USAGE', `--metrics-port: expected a port number from 0 to 65535 (0: any free port), found "${p}"`);
  }
  const host = flags.metricsHost ?? DEFAULT_METRICS_HOST;
  if (host === '') throw new SplitnetError('E_USAGE', '--metrics-host: expected an address to listen on, e.g. 127.0.0.1 or 0.0.0.0, found ""');
  const linger = flags.metricsLinger ?? DEFAULT_METRICS_LINGER;
  const ns = parseDuration(linger);
  if (ns === undefined || ns < 0) throw new SplitnetError('E_USAGE', `--metrics-linger: expected a duration such as 30s or 0s, found "${linger}"`);
  return { port: Number(p), host, lingerMs: ns / 1e6 };
}

/** A live run's metrics endpoint: open before the run, updated at each snapshot, final after the results are written. */
export class MetricsEndpoint {
  private final = false;
  /** Someone scraped while the run went: they will want the final values too. */
  private scrapedBefore = false;
  private finalScraped: () => void = () => {};
  private readonly scraped = new Promise<void>((resolve) => (this.finalScraped = resolve));

  private constructor(
    private readonly server: Server,
    private readonly metrics: RunMetrics,
    s: CompiledScenario,
    readonly url: string,
  ) {
    this.metrics.update({ snapshot: combine([], 0), occurrences: [], complete: false, live: { tdf: s.live.tdf, lagBoundUs: lagBound(s).us } });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.answer(req, res));
  }

  /** Listen on the flags' address; a port in use or an address not of this machine is bad input (exit 2). */
  static async open(o: MetricsOptions, id: RunIdentity, s: CompiledScenario): Promise<MetricsEndpoint> {
    const metrics = await RunMetrics.create(id);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      const code = (err as { code?: unknown }).code;
      if (code === 'EADDRINUSE')
        throw new SplitnetError('E_USAGE', `--metrics-port ${o.port}: the port is in use on ${o.host}; give another, or 0 for any free one`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
        throw new SplitnetError('E_USAGE', `--metrics-host ${o.host}: not an address of this machine to listen on (${String(code)})`);
      }
      if (code === 'EACCES')
        throw new SplitnetError('E_USAGE', `--metrics-port ${o.port}: not allowed to listen there (ports below 1024 need privileges); give another`);
      throw err;
    });
    const a = server.address() as AddressInfo;
    const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return new MetricsEndpoint(server, metrics, s, `http://${shown}:${a.port}/metrics`);
  }

  /** Every snapshot the live run publishes sets the values. */
  follow(feed: SnapshotFeed): void {
    feed.onSnapshot((x) => {
      if (this.final) return;
      this.metrics.update({
        snapshot: x.snapshot,
        occurrences: x.occurrences,
        complete: false,
        live: { tdf: x.scenario.live.tdf, lagBoundUs: lagBound(x.scenario).us, sampleDelayNs: Math.max(0, x.completeAt - x.snapshot.t) },
      });
    });
  }

  /** The run's final values (the results are written): from now on every scrape shows them. */
  finish(result: RunResult): void {
    this.final = true;
    this.metrics.update(finalView(result));
  }

  /**
   * Close: after a scrape of the final values, or `lingerMs` after finish, so that a Prometheus scraping every
   * few seconds gets the run's end. At once if nobody scraped during the run (nobody is waiting for them), the
   * run never finished, or `signal` aborts.
   */
  async close(lingerMs: number, signal?: AbortSignal): Promise<void> {
    if (this.final && this.scrapedBefore && lingerMs > 0 && signal?.aborted !== true) {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => this.finalScraped();
      signal?.addEventListener('abort', onAbort, { once: true });
      await Promise.race([this.scraped, new Promise<void>((r) => (timer = setTimeout(r, lingerMs)))]);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('splitnet: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('splitnet: GET /metrics\n');
      return;
    }
    const wasFinal = this.final;
    if (!wasFinal) this.scrapedBefore = true;
    const text = await this.metrics.text();
    res.writeHead(200, { 'content-type': this.metrics.contentType });
    res.end(req.method === 'HEAD' ? undefined : text, () => {
      if (wasFinal) this.finalScraped();
    });
  }
}
