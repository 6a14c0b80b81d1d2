// How long a waiting partition process polls before it sleeps (partition-process.ts spinUs, docs/lockstep.md#the-synchronisation).
import test from 'ava';
import { availableParallelism, loadavg } from 'node:os';
import { SPIN_ENV, spinUs } from '../src/partition-process.js';

/** spinUs with SPLITNET_LOCKSTEP_SPIN_US set to `value` (undefined: unset), the environment restored after. */
function withEnv<T>(value: string | undefined, f: () => T): T {
  const before = process.env[SPIN_ENV];
  if (value === undefined) delete process.env[SPIN_ENV];
  else process.env[SPIN_ENV] = value;
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env[SPIN_ENV];
    else process.env[SPIN_ENV] = before;
  }
}

test.serial('lockstep polling - SPLITNET_LOCKSTEP_SPIN_US sets it whatever the partitions (0: never)', (t) => {
  t.is(
    withEnv('250', () => spinUs(64)),
    250,
  );
  t.is(
    withEnv('0', () => spinUs(1)),
    0,
  );
});

test.serial('lockstep polling - a value that is not a number of µs ≥ 0 is refused, naming the variable and the value', (t) => {
  for (const bad of ['abc', '-5', 'Infinity']) {
    const e = t.throws(() => withEnv(bad, () => spinUs(2)));
    t.is(e?.message, `${SPIN_ENV}: expected a number of µs ≥ 0, found ${JSON.stringify(bad)}`);
  }
});

test.serial('lockstep polling - by default only where every partition can have a core: no more partitions than cores, the load average below them', (t) => {
  const cores = availableParallelism();
  t.is(
    withEnv(undefined, () => spinUs(cores + 1)),
    0,
  );
  const idle = (): boolean => (loadavg()[0] ?? 0) < cores;
  const before = idle();
  const us = withEnv(undefined, () => spinUs(1));
  // (the load average may cross the line between two readings: then either answer is right)
  if (before === idle()) t.is(us, before ? 500 : 0);
  else t.true(us === 500 || us === 0);
});
