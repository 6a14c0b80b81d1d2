// Test helpers of the live package: an inline scenario, compiled, and its sim run (what live results are checked against).
import { runSim } from '@splitnet/controller';
import type { RunResult } from '@splitnet/results';
import { compileScenarioText } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';

export const scenario = (yaml: string, overrides: readonly string[] = []): CompiledScenario => compileScenarioText(yaml, '<test>', { overrides });

export const run = (yaml: string, overrides: readonly string[] = []): RunResult => runSim(scenario(yaml, overrides));
