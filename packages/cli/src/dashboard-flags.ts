// The dashboard's flags (--dashboard [port], --dashboard-host, dashboard --port): their defaults and checks, without loading the dashboard itself.
import type { Command } from 'commander';
import { SplitnetError } from '@splitnet/model';

/**
 * The port when --dashboard is given without one. Away from the ports of what a testbed usually runs beside it
 * (NATS 4222/8222, Prometheus 9090, Grafana 3000, the common 8080s).
 */
export const DEFAULT_DASHBOARD_PORT = 8470;

/**
 * Where the dashboard listens unless --dashboard-host says otherwise: this machine only. The page has no login and
 * shows the run's scenario and figures; on a shared or reachable host it should not be open to the network unasked.
 */
export const DEFAULT_DASHBOARD_HOST = '127.0.0.1';

export interface DashboardFlags {
  /** `--dashboard` alone (true) or with a port. */
  readonly dashboard?: string | true;
  readonly dashboardHost?: string;
}

/** --dashboard [port] / --port: a port 0–65535 (0: a free one). */
export function parseDashboardPort(flag: string, v: string | true | undefined): number {
  if (v === undefined || v === true) return DEFAULT_DASHBOARD_PORT;
  if (!/^\d+$/.test(v) || Number(v) > 65535)
    throw new SplitnetError('E_USAGE', `${flag}: expected a port number from 0 to 65535 (0: a free one), found "${v}"`);
  return Number(v);
}

/** `splitnet run`'s dashboard flags (docs/cli.md). */
export function addDashboardOptions(run: Command): Command {
  return run
    .option(
      '--dashboard [port]',
      `serve a web page of the run at http://${DEFAULT_DASHBOARD_HOST}:<port>/ (default ${DEFAULT_DASHBOARD_PORT}; 0: a free one; the address is printed on stderr): live, updated as the run goes; then its results, until Ctrl-C (docs/results.md, "Live dashboard")`,
    )
    .option(
      '--dashboard-host <addr>',
      `with --dashboard: the address to listen on (default ${DEFAULT_DASHBOARD_HOST}, this machine only; 0.0.0.0: every interface)`,
    );
}
