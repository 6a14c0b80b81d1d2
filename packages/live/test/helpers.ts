// Test helpers of the live package: an inline scenario, compiled, and its sim run (what live results are checked against).
import { runSim } from '@splitnet/controller';
import type { RunResult } from '@splitnet/results';
import { compileScenarioText } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';

export const scenario = (yaml: string, overrides: readonly string[] = []): CompiledScenario => compileScenarioText(yaml, '<test>', { overrides });

export const run = (yaml: string, overrides: readonly string[] = []): RunResult => runSim(scenario(yaml, overrides));

/** The Microsoft RSS sample key, the NIC's default (topology.rss.key). */
const SAMPLE_KEY = '6d5a56da 255b0ec2 4167253d 43a38fb0 d0ca2bcb ae7b30b4 77cb2da3 8030f20c 6a42b73b beac01fa';

/** Topology keys (inside a flow map) for the paper's vRSS under the NIC's own key: the flows the tests expect on each queue. */
export const PAPER_VRSS_NIC_KEY = `steering: toeplitz, toeplitz: { key: '${SAMPLE_KEY}', hashSlot: false }`;
