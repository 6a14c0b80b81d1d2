// Test helpers: compile inline YAML and capture the one-line SplitnetError it raises.
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { SplitnetError, type ErrorCode } from '@splitnet/model';
import { compileScenarioText, type CompileOptions, type CompiledScenario } from '../src/index.js';

/** The repository's examples/ directory, from dist/test/. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../../../examples/', import.meta.url));

export function compile(text: string, opts: CompileOptions = {}): CompiledScenario {
  return compileScenarioText(text, 's.yaml', opts);
}

/** Compile `text`, expect a SplitnetError with `code`, and return its message (checked to be one line). */
export function errorOf(t: ExecutionContext, text: string, opts: CompileOptions = {}, code: ErrorCode = 'E_SCENARIO'): string {
  const err = t.throws(() => compile(text, opts));
  if (!(err instanceof SplitnetError)) {
    t.fail(`expected a SplitnetError, got ${String(err)}`);
    return '';
  }
  t.is(err.code, code);
  t.false(err.message.includes('\n'), 'the message is one line');
  return err.message;
}

/** The scenario without the fields that name where it came from. */
export function comparable(s: CompiledScenario): Omit<CompiledScenario, 'source'> {
  const { source, ...rest } = s;
  void source;
  // A multi-host scenario's host views name their source too.
  return rest.cluster === undefined ? rest : { ...rest, cluster: { ...rest.cluster, hosts: rest.cluster.hosts.map(comparable) as CompiledScenario[] } };
}

/** The compiled `live` section of a scenario that sets none of it (durations in ns). */
export const LIVE_DEFAULTS = {
  tdf: 1,
  maxLag: 'auto',
  placement: 'processes',
  processes: 'per-actor',
  nats: '',
  startDelay: 500_000_000,
  drainTime: 300_000_000,
  batchWindow: 0,
  codeWarmup: 20_000_000,
  readyTimeout: 'auto',
  busOutageLimit: 30_000_000_000,
};
