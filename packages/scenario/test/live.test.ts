// `runtime: live` and the `live` section: defaults, resolved round trip, --set, and one located error per rule.
import test from 'ava';
import { compileScenarioText, formatResolvedYaml } from '../src/index.js';
import { compile, comparable, errorOf, LIVE_DEFAULTS } from './helpers.js';

const NATS_HINT = 'expected a NATS URL such as nats://127.0.0.1:4222, tls://host:4222 or host:4222 (or a comma-separated list of them)';

test('live - runtime live is accepted and gets every live default', (t) => {
  const s = compile('runtime: live\n');
  t.is(s.runtime, 'live');
  t.deepEqual(s.live, LIVE_DEFAULTS);
  t.true(Object.isFrozen(s.live));
});

test('live - a live section is allowed and compiled under runtime sim', (t) => {
  const s = compile('live: { tdf: 4, placement: inprocess }\n');
  t.is(s.runtime, 'sim');
  t.is(s.live.tdf, 4);
  t.is(s.live.placement, 'inprocess');
  t.is(s.live.drainTime, 300_000_000);
});

test('live - every key is read', (t) => {
  const s = compile(
    'runtime: live\nlive:\n  tdf: 2.5\n  maxLag: 500us\n  placement: inprocess\n  nats: nats://127.0.0.1:4222\n  startDelay: 0\n  drainTime: 1s\n  batchWindow: 500us\n  codeWarmup: 3ms\n',
  );
  t.deepEqual(s.live, {
    tdf: 2.5,
    maxLag: 500_000,
    placement: 'inprocess',
    processes: 'per-actor',
    nats: 'nats://127.0.0.1:4222',
    startDelay: 0,
    drainTime: 1_000_000_000,
    batchWindow: 500_000,
    codeWarmup: 3_000_000,
    readyTimeout: 'auto',
    busOutageLimit: 30_000_000_000,
  });
});

test('live - NATS URLs are kept as written', (t) => {
  for (const nats of [
    'nats://127.0.0.1:4222',
    'tls://nats.example.com:4443',
    'localhost:4222',
    'tls://[::1]:4222',
    'nats://a:4222,nats://b:4222',
    'nats://a:4222, tls://b:4222, 10.0.0.3:4222',
  ]) {
    t.is(compile(`live: { nats: "${nats}" }\n`).live.nats, nats, nats);
  }
  t.is(compile('live: { nats: "" }\n').live.nats, '');
});

test('live - resolved holds the live section and round-trips', (t) => {
  const s = compile('runtime: live\nlive:\n  tdf: 1.5\n  maxLag: 1.5ms\n  nats: "nats://a:4222, b:4222"\n  startDelay: 0\n');
  t.is(s.resolved['runtime'], 'live');
  t.deepEqual(s.resolved['live'], {
    tdf: 1.5,
    maxLag: '1.5ms',
    placement: 'processes',
    processes: 'per-actor',
    nats: 'nats://a:4222, b:4222',
    startDelay: '0ms',
    drainTime: '300ms',
    batchWindow: '0ms',
    codeWarmup: '20ms',
    readyTimeout: 'auto',
    busOutageLimit: '30s',
  });
  const again = compileScenarioText(formatResolvedYaml(s), 'again.yaml');
  t.deepEqual(comparable(again), comparable(s));
});

test('live - --set switches the runtime and sets live keys', (t) => {
  const s = compile('duration: 10ms\n', {
    overrides: ['runtime=live', 'live.tdf=10', 'live.maxLag=5ms', 'live.placement=inprocess', 'live.nats=nats://127.0.0.1:4222'],
  });
  t.is(s.runtime, 'live');
  t.deepEqual(s.live, {
    tdf: 10,
    maxLag: 5_000_000,
    placement: 'inprocess',
    processes: 'per-actor',
    nats: 'nats://127.0.0.1:4222',
    startDelay: 500_000_000,
    drainTime: 300_000_000,
    batchWindow: 0,
    codeWarmup: 20_000_000,
    readyTimeout: 'auto',
    busOutageLimit: 30_000_000_000,
  });
  t.like(s.resolved['live'], { tdf: 10, maxLag: '5ms', placement: 'inprocess' });
  t.is(compile('live: { tdf: 3 }\n', { overrides: ['live.tdf=7'] }).live.tdf, 7);
  t.is(compile('live: { nats: "a:4222" }\n', { overrides: ['live.nats=""'] }).live.nats, '');
});

test('live - a bad --set value names the override', (t) => {
  t.is(
    errorOf(t, '', { overrides: ['live.tdf=0.5'] }),
    '--set live.tdf=0.5: live.tdf: expected a number ≥ 1, found 0.5 (a time dilation factor below 1 would run emulated time faster than the wall clock)',
  );
  t.is(
    errorOf(t, '', { overrides: ['live.placement=kubernetes'] }),
    '--set live.placement=kubernetes: live.placement: expected one of "processes", "inprocess", "external" or "docker", found "kubernetes"',
  );
  t.is(
    errorOf(t, '', { overrides: ['runtime=lve'] }),
    '--set runtime=lve: runtime: expected one of "sim", "live" or "lockstep", found "lve" (did you mean "live"?)',
  );
});

test('live - the section must be a map of known keys', (t) => {
  t.is(errorOf(t, 'live: 3\n'), 's.yaml:1:7: live: expected a map, found 3');
  t.is(
    errorOf(t, 'live:\n  tfd: 2\n'),
    's.yaml:2:3: live: unknown key "tfd" (expected one of: tdf, maxLag, placement, processes, nats, startDelay, drainTime, batchWindow, codeWarmup, readyTimeout, busOutageLimit; did you mean "tdf"?)',
  );
});

test('live - tdf is a finite number ≥ 1', (t) => {
  t.is(
    errorOf(t, 'live:\n  tdf: 0.5\n'),
    's.yaml:2:8: live.tdf: expected a number ≥ 1, found 0.5 (a time dilation factor below 1 would run emulated time faster than the wall clock)',
  );
  t.is(errorOf(t, 'live:\n  tdf: fast\n'), 's.yaml:2:8: live.tdf: expected a number ≥ 1, found "fast"');
  t.is(errorOf(t, 'live:\n  tdf: .inf\n'), 's.yaml:2:8: live.tdf: expected a number ≥ 1, found Infinity');
});

test('live - maxLag is auto by default, auto when written so, and a duration kept as written', (t) => {
  t.is(compile('runtime: live\n').live.maxLag, 'auto');
  t.is(compile('live: { maxLag: auto }\n').live.maxLag, 'auto');
  t.is(compile('live: { maxLag: 50us }\n').live.maxLag, 50_000);
  t.is(compile('live: { maxLag: 2ms }\n', { overrides: ['live.maxLag=auto'] }).live.maxLag, 'auto');
  t.like(compile('live: { maxLag: 2ms }\n').resolved['live'], { maxLag: '2ms' });
  t.like(compile('{}\n').resolved['live'], { maxLag: 'auto' });
});

test('live - a bad maxLag is one located line', (t) => {
  const cases: [string, string][] = [
    ['live:\n  maxLag: 0ms\n', 's.yaml:2:11: live.maxLag: expected "auto" or a positive duration with a unit (ns, us, ms, s) such as 50us, found "0ms"'],
    [
      'live:\n  maxLag: 2\n',
      's.yaml:2:11: live.maxLag: expected "auto" or a positive duration with a unit (ns, us, ms, s) such as 50us, found 2 (a bare number has no unit)',
    ],
    [
      'live:\n  maxLag: automatic\n',
      's.yaml:2:11: live.maxLag: expected "auto" or a positive duration with a unit (ns, us, ms, s) such as 50us, found "automatic"',
    ],
    ['live:\n  maxLag: -5us\n', 's.yaml:2:11: live.maxLag: expected "auto" or a positive duration with a unit (ns, us, ms, s) such as 50us, found "-5us"'],
    [
      'live: { tdf: 10,\n        maxLag: [1ms] }\n',
      's.yaml:2:17: live.maxLag: expected "auto" or a positive duration with a unit (ns, us, ms, s) such as 50us, found a list of 1',
    ],
  ];
  for (const [text, message] of cases) t.is(errorOf(t, text), message, text);
  t.is(
    errorOf(t, '', { overrides: ['live.maxLag=fast'] }),
    '--set live.maxLag=fast: live.maxLag: expected "auto" or a positive duration with a unit (ns, us, ms, s) such as 50us, found "fast"',
  );
});

test('live - startDelay and drainTime are durations ≥ 0', (t) => {
  t.is(errorOf(t, 'live:\n  startDelay: -1ms\n'), 's.yaml:2:15: live.startDelay: expected a duration with a unit (ns, us, ms, s) such as 50ms, found "-1ms"');
  t.is(errorOf(t, 'live:\n  drainTime: 1h\n'), 's.yaml:2:14: live.drainTime: expected a duration with a unit (ns, us, ms, s) such as 50ms, found "1h"');
});

test('live - readyTimeout is auto (the default) or a positive duration, and busOutageLimit a positive duration', (t) => {
  t.is(compile('runtime: live\n').live.readyTimeout, 'auto');
  t.is(compile('live: { readyTimeout: auto }\n').live.readyTimeout, 'auto');
  t.is(compile('live: { readyTimeout: 90s, busOutageLimit: 5s }\n').live.readyTimeout, 90_000_000_000);
  t.is(compile('live: { busOutageLimit: 5s }\n').live.busOutageLimit, 5_000_000_000);
  t.like(compile('live: { readyTimeout: 120s }\n', { overrides: ['live.readyTimeout=90s'] }).resolved['live'], { readyTimeout: '90s' });
  const cases: [string, string][] = [
    ['readyTimeout: 0s', 's.yaml:2:17: live.readyTimeout: expected "auto" or a positive duration with a unit (ms, s) such as 90s, found "0s"'],
    [
      'readyTimeout: 30',
      's.yaml:2:17: live.readyTimeout: expected "auto" or a positive duration with a unit (ms, s) such as 90s, found 30 (a bare number has no unit)',
    ],
    ['readyTimeout: soon', 's.yaml:2:17: live.readyTimeout: expected "auto" or a positive duration with a unit (ms, s) such as 90s, found "soon"'],
    ['busOutageLimit: 0s', 's.yaml:2:19: live.busOutageLimit: expected a positive duration such as 50ms, found "0s"'],
  ];
  for (const [line, message] of cases) t.is(errorOf(t, `live:\n  ${line}\n`), message, line);
});

test('live - placement is processes, inprocess, external or docker', (t) => {
  t.is(
    errorOf(t, 'live:\n  placement: process\n'),
    's.yaml:2:14: live.placement: expected one of "processes", "inprocess", "external" or "docker", found "process" (did you mean "processes"?)',
  );
});

test('live - nats must be host:port, nats:// or tls:// URLs', (t) => {
  const cases: [string, string][] = [
    ['4222', `${NATS_HINT}, found 4222`],
    ['localhost', `${NATS_HINT}, found "localhost" (no port)`],
    ['http://localhost:4222', `${NATS_HINT}, found "http://localhost:4222" (scheme "http://" is neither nats:// nor tls://)`],
    ['"a:4222,,b:4222"', `${NATS_HINT}, found "a:4222,,b:4222" (server 2: an empty entry in the list)`],
    ['"a:4222,"', `${NATS_HINT}, found "a:4222," (server 2: an empty entry in the list)`],
    ['"a:70000"', `${NATS_HINT}, found "a:70000" (port 70000 is not 1 … 65535)`],
    ['"a:0"', `${NATS_HINT}, found "a:0" (port 0 is not 1 … 65535)`],
    ['"a:x"', `${NATS_HINT}, found "a:x" (the port is not a number)`],
    ['"::1:4222"', `${NATS_HINT}, found "::1:4222" (not a host name or address)`],
    ['"a_b:4222"', `${NATS_HINT}, found "a_b:4222" (not a host name or address)`],
    ['"nats://u:p@a:4222"', `${NATS_HINT}, found "nats://u:p@a:4222" (user names and passwords do not belong in a scenario, which is saved with the results)`],
  ];
  for (const [nats, detail] of cases) {
    t.is(errorOf(t, `live:\n  nats: ${nats}\n`), `s.yaml:2:9: live.nats: ${detail}`, nats);
  }
});

test('live - processes is per-actor (default) or per-domain, with every placement', (t) => {
  t.is(compile('runtime: live\n').live.processes, 'per-actor');
  t.is(compile('live: { processes: per-domain }\n').live.processes, 'per-domain');
  t.is(compile('live: { processes: per-domain, placement: inprocess }\n').live.processes, 'per-domain');
  t.is(compile('duration: 1ms\n', { overrides: ['live.processes=per-domain'] }).live.processes, 'per-domain');
  t.like(compile('live: { processes: per-domain }\n').resolved['live'], { placement: 'processes', processes: 'per-domain' });
  t.is(errorOf(t, 'live:\n  processes: per-vm\n'), 's.yaml:2:14: live.processes: expected one of "per-actor" or "per-domain", found "per-vm"');
  // Actors that join (external, docker): per domain, the driver process hosts the workers.
  for (const placement of ['external', 'docker']) {
    t.like(compile(`live:\n  placement: ${placement}\n  processes: per-domain\n`).live, { placement, processes: 'per-domain' });
  }
});
