// How long the controller of a live run waits for its actor processes to say they are ready: the scenario's live.readyTimeout, or scaled to the processes per core.
import type { CompiledScenario } from '@splitnet/scenario';

/** The least wait of `live.readyTimeout: auto` (the fixed wait before the setting existed). */
const AUTO_BASE_MS = 30_000;

/**
 * What `auto` adds per actor process per core: each process costs about a second of CPU to start here
 * (Node.js, the modules, the code warm-up: 16 processes were ready after 8.6 s on 2 cores, 32 after
 * 12.6 s), and a loaded machine may take three times as long.
 */
const AUTO_PER_PROCESS_PER_CORE_MS = 3_000;

/** The ready wait in ms for `processes` actor processes on a machine with `cores` cores. */
export function readyTimeoutMs(s: CompiledScenario, processes: number, cores: number): number {
  const set = s.live.readyTimeout;
  if (set !== 'auto') return set / 1e6;
  return AUTO_BASE_MS + Math.ceil((AUTO_PER_PROCESS_PER_CORE_MS * processes) / Math.max(1, cores));
}
