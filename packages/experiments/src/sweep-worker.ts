// Worker-thread entry of a sweep: compiles and runs one run at a time in sim, writes its results dir under a .partial name and renames it when complete.
import { renameSync, rmSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { runSim } from '@splitnet/controller';
import { metricsText, runIdentity, simRunLabel, writeResults } from '@splitnet/results';
import { SplitnetError } from '@splitnet/model';
import { formatResolvedYaml } from '@splitnet/scenario';
import { compileRun } from './plan.js';
import type { ToWorker, FromWorker } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('sweep-worker.js runs as a worker thread');

function post(m: FromWorker): void {
  port?.postMessage(m);
}

port.on('message', (m: ToWorker) => void runOne(m));

/** One run of the sweep: compile, run in sim, write its results under the .partial name, rename. */
async function runOne(m: ToWorker): Promise<void> {
  const { spec, dir, partial } = m;
  try {
    // A .partial directory is a run that did not finish (the sweep was stopped): start it afresh.
    rmSync(partial, { recursive: true, force: true });
    const scenario = compileRun(spec);
    const started = new Date();
    const t0 = process.hrtime.bigint();
    const result = runSim(scenario, { onProgress: (done, total) => post({ kind: 'progress', run: spec.run, done, total }) });
    const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    // The same fields, in the same order, as `splitnet run` writes, plus where in the sweep the run is.
    const { command, ...host } = m.environment;
    const environment = {
      ...host,
      runtime: scenario.runtime,
      seed: scenario.seed,
      scenarioFile: scenario.source,
      command,
      sweep: { file: spec.file, run: spec.run, point: spec.point, rep: spec.rep },
      startedAt: started.toISOString(),
      wallSeconds: Number(wallSeconds.toFixed(3)),
      eventsProcessed: result.eventsProcessed,
      emulatedPacketsPerHostSecond: Math.round(result.accounting.emitted / wallSeconds),
    };
    const metrics = await metricsText(result, runIdentity(simRunLabel(result.summary, undefined), result.summary));
    writeResults(partial, formatResolvedYaml(scenario), environment, result, metrics);
    // The rename is the moment the run counts as finished: a directory under its final name is complete.
    renameSync(partial, dir);
    post({ kind: 'done', run: spec.run, balanced: result.accounting.balanced, wallSeconds });
  } catch (err) {
    const code = err instanceof SplitnetError ? err.code : 'E_INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    post({ kind: 'failed', run: spec.run, code, message, ...(err instanceof Error && err.stack !== undefined ? { stack: err.stack } : {}) });
  }
}
