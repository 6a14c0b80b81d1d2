// Test helpers: compile a small inline scenario and run it in sim.
import { compileScenarioText } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';
import { runSim } from '../src/run-sim.js';
import type { RunResult, TcpFlowSummary } from '@splitnet/results';

export function scenario(yaml: string, overrides: readonly string[] = []): CompiledScenario {
  return compileScenarioText(yaml, '<test>', { overrides });
}

export function run(yaml: string, overrides: readonly string[] = []): RunResult {
  return runSim(scenario(yaml, overrides));
}

/** The Microsoft RSS sample key, the NIC's default (topology.rss.key). */
const SAMPLE_KEY = '6d5a56da 255b0ec2 4167253d 43a38fb0 d0ca2bcb ae7b30b4 77cb2da3 8030f20c 6a42b73b beac01fa';

/**
 * Topology keys (inside a flow map) for the paper's vRSS: per-flow Toeplitz steering in netback with no
 * hash slot for the guest, under the NIC's own key. That is the queue choice splitnet made before
 * `topology.steering` existed, so tests that were written against particular flows on particular queues
 * keep them.
 */
export const PAPER_VRSS_NIC_KEY = `steering: toeplitz, toeplitz: { key: '${SAMPLE_KEY}', hashSlot: false }`;

/**
 * Guest 0 sends 3 Gbit/s of UDP to the wire on worker 0; guest 1 receives 1 Gbit/s from the wire on worker 1 (the
 * transmit path's fault tests run their faults beside it).
 */
export function txOutScenario(name: string): string {
  return `
name: ${name}
duration: 10ms
warmup: 1ms
topology: { link: 10Gbps, nicQueues: 1, vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }
traffic:
  - { name: out, from: vm.0, to: wire, protocol: udp, rate: 3Gbps, flows: 4 }
  - { name: in, vms: [1], protocol: udp, rate: 1Gbps, flows: 2 }
`;
}

/** A run's bulk TCP stream and its TCP_RR flow (the closed-loop fault tests' pair), from summary.json's tcp.flows. */
export function flows(r: RunResult): { bulk: TcpFlowSummary; rr: TcpFlowSummary } {
  const fs = r.summary.tcp?.flows ?? [];
  const bulk = fs.find((f) => f.workload === 'bulk');
  const rr = fs.find((f) => f.workload === 'rr');
  if (bulk === undefined || rr === undefined) throw new Error(`no bulk and rr flows in ${JSON.stringify(r.summary.tcp)}`);
  return { bulk, rr };
}

/** A run's TCP_RR transactions per second (its first rr workload). */
export function tps(r: RunResult): number {
  return r.summary.tcp?.rr[0]?.transactionsPerSec ?? 0;
}

/** What the checks below need of ava's ExecutionContext. */
type Asserts = { true(v: boolean, m?: string): void };

/** The same figure within 3 % of the fault-free run's. */
export function near(t: Asserts, what: string, got: number, want: number): void {
  t.true(Math.abs(got - want) <= 0.03 * want, `${what}: ${got} against ${want} without the fault`);
}

/** Every accounting of a multi-host run balances: the whole run's RX and TX, the fabric's, and each host's RX and TX. */
export function allBalanced(t: Asserts, r: RunResult): void {
  t.true(r.accounting.balanced, JSON.stringify(r.accounting));
  t.true(r.accounting.tx?.balanced ?? false, JSON.stringify(r.accounting.tx));
  t.true(r.accounting.fabric?.balanced ?? false, JSON.stringify(r.accounting.fabric));
  for (const h of r.summary.hosts ?? []) {
    t.true(h.accounting.balanced, `${h.host}: ${JSON.stringify(h.accounting)}`);
    if (h.accounting.tx !== undefined) t.true(h.accounting.tx.balanced, `${h.host} tx: ${JSON.stringify(h.accounting.tx)}`);
  }
}
