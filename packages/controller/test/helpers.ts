// Test helpers: compile a small inline scenario and run it in sim.
import { compileScenarioText } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';
import { runSim } from '../src/run-sim.js';
import type { RunResult } from '@splitnet/results';

export function scenario(yaml: string, overrides: readonly string[] = []): CompiledScenario {
  return compileScenarioText(yaml, '<test>', { overrides });
}

export function run(yaml: string, overrides: readonly string[] = []): RunResult {
  return runSim(scenario(yaml, overrides));
}
