// The whole scenario language as data: the top-level keys with each section's spec, the one source of the readers' keys and of `splitnet schema`.
import { COALESCING_SPEC } from './coalescing.js';
import { COSTS_SPEC } from './cost-profile.js';
import { FAULTS_SPEC } from './faults.js';
import { FABRIC_SPEC, HOSTS_SPEC } from './hosts-spec.js';
import { LIVE_SPEC } from './live.js';
import { NETBACK_SPEC } from './netback.js';
import { duration, int, map, string, words } from './spec.js';
import { TOPOLOGY_SPEC } from './topology.js';
import { TRAFFIC_SPEC } from './traffic-spec.js';
import { TX_SPEC } from './tx.js';

/** Longest run a scenario may ask for; beyond an emulated hour a typo (s for ms) is likelier. */
const MAX_DURATION = 3_600_000_000_000;

export const RUNTIMES = ['sim', 'live', 'lockstep'] as const;
/** The largest seed: a u32, like the seeds a sweep derives per run (`--seed`, `--set seed=` and `seed:` follow this one rule). */
export const MAX_SEED = 0xffff_ffff;

export const SCENARIO_SPEC = map(
  {
    name: string({ nonEmpty: true, description: 'Names the run and its results (default: the file name without extension).' }),
    description: string({ default: '', description: 'Free text, copied into the report.' }),
    seed: int({ min: 0, max: MAX_SEED, default: 1, description: 'Seeds every random choice; the same seed and scenario give identical results in sim.' }),
    duration: duration({ min: 1, max: MAX_DURATION, default: 100_000_000, description: 'Emulated time to run (at most 3600s).' }),
    warmup: duration({
      min: 0,
      description: 'Left out of the summary: rings filling, adaptive policies settling (shorter than duration; default a tenth of it).',
    }),
    sampleInterval: duration({
      min: 1,
      description: 'Interval of the metrics time series (at most duration, at most 100000 samples; default about duration / 100).',
    }),
    runtime: words({
      values: RUNTIMES,
      default: 'sim',
      description:
        'sim: one process, virtual time, deterministic; live: actors over NATS against a dilated wall clock; lockstep: one process per Xen domain over NATS in emulated time, the same result files as sim (docs/lockstep.md).',
    }),
    live: LIVE_SPEC,
    hosts: HOSTS_SPEC,
    fabric: FABRIC_SPEC,
    topology: TOPOLOGY_SPEC,
    traffic: TRAFFIC_SPEC,
    coalescing: COALESCING_SPEC,
    napi: map(
      { budget: int({ min: 1, max: 4096, unit: 'packets', default: 64, description: "Packets per NAPI poll (Linux's weight)." }) },
      { description: 'Guest NAPI.' },
    ),
    costs: COSTS_SPEC,
    netback: NETBACK_SPEC,
    tx: TX_SPEC,
    faults: FAULTS_SPEC,
  },
  { description: 'A splitnet scenario (docs/scenario-reference.md).' },
);
