// The scenario JSON Schema agrees with the validator: examples pass both, bad scenarios fail both, and each map's keys and defaults are the readers'.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { stringify } from 'yaml';
import { SplitnetError } from '@splitnet/model';
import {
  compileScenarioText,
  FAULT_RULES,
  formatResolvedYaml,
  formatScenarioSchema,
  loadScenarioFile,
  parseDuration,
  parseRate,
  scenarioJsonSchema,
} from '../src/index.js';
import { defaultsAt, keysAt, locationOf, mapLocations, REPO, schemaValidator, yamlData, yamlFile, type Json } from './schema-helpers.js';

const schema = scenarioJsonSchema();
const validate = schemaValidator(schema);

/** Does the validator accept it? (The message when not, for the assertion's text.) */
function validatorVerdict(text: string): true | string {
  try {
    compileScenarioText(text, 's.yaml');
    return true;
  } catch (err) {
    if (err instanceof SplitnetError && err.code === 'E_SCENARIO') return err.message;
    throw err;
  }
}

function schemaVerdict(data: unknown): true | string {
  return validate(data) ? true : JSON.stringify(validate.errors?.slice(0, 2));
}

test('schema - docs/scenario.schema.json is what `splitnet schema` prints (regenerate: npx splitnet schema --out docs/scenario.schema.json)', (t) => {
  t.is(readFileSync(join(REPO, 'docs/scenario.schema.json'), 'utf8'), formatScenarioSchema());
});

test('schema - it is valid draft-07 for a strict validator, with yaml-language-server message keywords', (t) => {
  t.is(schema['$schema'], 'http://json-schema.org/draft-07/schema#');
  t.notThrows(() => schemaValidator(schema));
});

const scenarioFiles = [
  ...readdirSync(join(REPO, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => `examples/${f}`),
  ...readdirSync(join(REPO, 'experiments/paper/scenarios'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => `experiments/paper/scenarios/${f}`),
  'deploy/scenario.yaml',
].sort();

test("schema - the scenario files checked below include every example, the paper's base scenarios and the compose scenario", (t) => {
  t.true(scenarioFiles.filter((f) => f.startsWith('examples/')).length >= 12);
  t.true(scenarioFiles.includes('experiments/paper/scenarios/coalescing.yaml'));
  t.true(scenarioFiles.includes('deploy/scenario.yaml'));
});

for (const file of scenarioFiles) {
  test(`schema - ${file} and its resolved form (every default written out) validate against the schema`, (t) => {
    const path = join(REPO, file);
    t.is(schemaVerdict(yamlFile(path)), true);
    t.is(schemaVerdict(yamlData(formatResolvedYaml(loadScenarioFile(path)))), true);
  });
}

test('schema - every example names the schema on its first line, relative to itself', (t) => {
  for (const file of scenarioFiles.filter((f) => f.startsWith('examples/'))) {
    t.is(readFileSync(join(REPO, file), 'utf8').split('\n')[0], '# yaml-language-server: $schema=../docs/scenario.schema.json', file);
  }
});

/** Scenarios both must reject: one mistake each. */
const BAD: readonly (readonly [string, string])[] = [
  ['unknown top-level key', 'nmae: x\n'],
  ['unknown key in a section', 'topology: { wrokers: 2 }\n'],
  ['unknown key in a nested map', 'topology: { vms: { ring_size: 64 } }\n'],
  ['unknown key in a generator', 'traffic: [{ colour: red }]\n'],
  ['unknown parameter of a policy', 'coalescing: { frontend: { policy: static, usec: 50 } }\n'],
  ['unknown key in a cost override', 'costs: { override: { wrker: { perPacket: 3 } } }\n'],
  ['integer below its range', 'seed: -1\n'],
  ['integer above its range', 'topology: { workers: 65 }\n'],
  ['fraction where an integer belongs', 'topology: { nicQueues: 1.5 }\n'],
  ['ring size not a power of two', 'topology: { vms: { ringSize: 100 } }\n'],
  ['RETA size above 128', 'topology: { rss: { retaSize: 256 } }\n'],
  ['budget 0', 'napi: { budget: 0 }\n'],
  ['VM queues 0', 'topology: { vms: { queues: 0 } }\n'],
  ['VM queues as a word', 'topology: { vms: { queues: two } }\n'],
  ['VM queues list with 0', 'topology: { vms: { count: 2, queues: [1, 0] } }\n'],
  ['wrong vrss word', 'topology: { vrss: perflow }\n'],
  ['runtime not one of the three', 'runtime: fast\n'],
  ['wrong protocol', 'traffic: [{ protocol: sctp }]\n'],
  ['IP version 5', 'traffic: [{ ipVersion: 5 }]\n'],
  ['wrong pattern word', 'traffic: [{ pattern: bursty }]\n'],
  ['onoff without durations', 'traffic: [{ pattern: onoff }]\n'],
  ['onoff without off', 'traffic: [{ pattern: { onoff: { on: 1ms } } }]\n'],
  ['onoff with a zero period', 'traffic: [{ pattern: { onoff: { on: 0ms, off: 1ms } } }]\n'],
  ['duration in words', 'duration: 50 msec\n'],
  ['duration without unit', 'duration: 50\n'],
  ['negative duration', 'duration: -5ms\n'],
  ['zero duration where positive', 'duration: 0ms\n'],
  ['duration below a nanosecond', 'duration: 0.5ns\n'],
  ['duration finer than a nanosecond', 'warmup: 1.0000001ms\n'],
  ['duration in hours', 'duration: 2h\n'],
  ['rate in bytes', 'traffic: [{ rate: 10GB/s }]\n'],
  ['rate without unit', 'traffic: [{ rate: 1000 }]\n'],
  ['negative rate', 'traffic: [{ rate: -2Gbps }]\n'],
  ['zero rate', 'traffic: [{ rate: 0pps }]\n'],
  ['packet rate as link speed', 'topology: { link: 1Mpps }\n'],
  ['zero link speed', 'topology: { link: 0Gbps }\n'],
  ['frame below 64 bytes', 'traffic: [{ size: 60 }]\n'],
  ['frame above jumbo', 'traffic: [{ size: 9100 }]\n'],
  ['uniform range below 64', 'traffic: [{ size: { uniform: [40, 1518] } }]\n'],
  ['uniform with three sizes', 'traffic: [{ size: { uniform: [64, 128, 256] } }]\n'],
  ['uniform and choice at once', 'traffic: [{ size: { uniform: [64, 128], choice: { values: [64] } } }]\n'],
  ['choice without values', 'traffic: [{ size: { choice: { weights: [1] } } }]\n'],
  ['zero weight', 'traffic: [{ size: { choice: { values: [64, 1518], weights: [1, 0] } } }]\n'],
  ['no generators', 'traffic: []\n'],
  ['traffic as a map', 'traffic: { rate: 1Gbps }\n'],
  ['VM list empty', 'traffic: [{ vms: [] }]\n'],
  ['VM listed twice', 'topology: { vms: { count: 4 } }\ntraffic: [{ vms: [1, 1] }]\n'],
  ['VMs as a word', 'traffic: [{ vms: some }]\n'],
  ['RSS key too short', 'topology: { rss: { key: "6d5a:56da" } }\n'],
  ['RSS key not hex', 'topology: { rss: { key: "zz" } }\n'],
  ['policy misspelt', 'coalescing: { nic: adaptive }\n'],
  ['static without its map', 'coalescing: { frontend: static }\n'],
  ['policy map without policy', 'coalescing: { nic: { usecs: 5 } }\n'],
  ['parameter of another policy', 'coalescing: { nic: { policy: aic, usecs: 5 } }\n'],
  ['fraction above 1', 'coalescing: { backend: { policy: aic, bufferFraction: 1.5 } }\n'],
  ['negative usecs', 'coalescing: { backend: { policy: static, usecs: -1 } }\n'],
  ['tdf below 1', 'live: { tdf: 0.5 }\n'],
  ['zero maxLag', 'live: { maxLag: 0ms }\n'],
  ['unknown placement', 'live: { placement: k8s }\n'],
  ['stallKick as a word', 'netback: { stallKick: yes please }\n'],
  ['negative cost', 'costs: { override: { worker: { perPacket: -3 } } }\n'],
  ['empty costs map', 'costs: {}\n'],
  ['fault with at and after', 'faults: [{ at: 1ms, after: 1ms, target: vm:0, action: stop-polling }]\n'],
  ['fault with neither at nor after', 'faults: [{ target: vm:0, action: stop-polling }]\n'],
  ['fault without target', 'faults: [{ at: 1ms, action: stop-polling }]\n'],
  ['fault without action', 'faults: [{ at: 1ms, target: vm:0 }]\n'],
  ['unknown fault action', 'faults: [{ at: 1ms, target: vm:0, action: explode }]\n'],
  ['instantaneous fault with a duration', 'faults: [{ at: 1ms, target: vm:0, action: kill, duration: 1ms }]\n'],
  ['lasting fault without its duration', 'faults: [{ at: 1ms, target: nic, action: link-flap }]\n'],
  ['target of the wrong kind', 'faults: [{ at: 1ms, target: worker:0, action: lose-notifications }]\n'],
  ['target that is none', 'faults: [{ at: 1ms, target: vm:01, action: stop-polling }]\n'],
  ['node out of range', 'faults: [{ at: 1ms, target: node:q, action: pause, duration: 1ms }]\n'],
  ['parameter the action does not take', 'faults: [{ at: 1ms, target: vm:0, action: lose-notifications, delay: 5us }]\n'],
  ['zero probability', 'faults: [{ at: 1ms, target: vm:0, action: lose-notifications, probability: 0 }]\n'],
  ['message kind the action may not touch', 'faults: [{ at: 1ms, target: "link:worker:0>vm:0", action: drop-messages, kinds: [rsp] }]\n'],
  ['no message kinds', 'faults: [{ at: 1ms, target: "link:worker:0>vm:0", action: drop-messages, kinds: [] }]\n'],
  ['fault id with a space', 'faults: [{ id: my fault, at: 1ms, target: vm:0, action: stop-polling }]\n'],
  ['repeat without every', 'faults: [{ at: 1ms, target: vm:0, action: kill, repeat: { count: 2 } }]\n'],
  ['repeat count 0', 'faults: [{ at: 1ms, target: vm:0, action: kill, repeat: { every: 1ms, count: 0 } }]\n'],
  ['a short Toeplitz key', 'topology: { steering: toeplitz, toeplitz: { key: "6d5a56da" } }\n'],
  ['an unknown qdisc', 'netback: { qdisc: noqueue }\n'],
];

for (const [what, text] of BAD) {
  test(`schema - rejected by both the validator and the schema: ${what}`, (t) => {
    t.not(validatorVerdict(text), true, 'the validator accepts it');
    t.not(schemaVerdict(yamlData(text)), true, 'the schema accepts it');
  });
}

/** Scenarios both must accept: the less common forms each value may take. */
const GOOD: readonly (readonly [string, string])[] = [
  ['an empty file', ''],
  ['keys given with no value (defaults)', 'warmup:\ntopology:\nlive:\n  tdf:\ncoalescing:\n  nic:\n'],
  ['durations in every unit and spacing', 'duration: 0.1s\nwarmup: 1.5µs\nsampleInterval: " 250 us "\nnetback: { rxStallTimeout: 1.5μs }\n'],
  ['a bare 0 and a "0" as durations', 'warmup: 0\nlive: { batchWindow: "0" }\n'],
  ['bit and packet rates', 'topology: { link: 40Gbps }\ntraffic: [{ rate: 1.5Mpps }, { rate: 500 Mbps }, { rate: 800Kpps }]\n'],
  ['an RSS key with colons and spaces', `topology: { rss: { key: "${'6d:5a:56:da '.repeat(10).trim()}" } }\n`],
  ['per-VM queue counts', 'topology: { vms: { count: 2, queues: [4, 1] }, workers: 4 }\n'],
  ['Toeplitz steering, seeded or keyed', `topology: { steering: toeplitz, toeplitz: { key: seeded, mappingSize: 3, hashSlot: false } }\n`],
  ['netback queue and qdisc', 'topology: { steering: flow-hash }\nnetback: { rxQueueBytes: 65536, qdisc: pfifo-fast }\n'],
  ['a VM index, a list, all', 'topology: { vms: { count: 3 } }\ntraffic: [{ vms: 1 }, { vms: [0, 2] }, { vms: all }]\n'],
  [
    'onoff, uniform and weighted sizes',
    'traffic: [{ pattern: { onoff: { on: 1ms, off: 2ms } }, size: { uniform: [64, 1518] } }, { size: { choice: { values: [64, 1518], weights: [7, 3.5] } } }]\n',
  ],
  [
    'every policy as a word or a map',
    'coalescing: { nic: { policy: static, mode: timer, frames: 8 }, backend: { policy: vic, maxRatio: 8 }, frontend: aic }\n',
  ],
  ['a policy map with none', 'coalescing: { backend: { policy: none } }\n'],
  ['costs by reference with overrides', 'costs: { profile: default, override: { worker: { perPacket: 900 }, link: 0 } }\n'],
  ['costs by name', 'costs: default\n'],
  [
    'fault targets of every form',
    'topology: { vms: { count: 2, queues: 2 }, workers: 2 }\nfaults:\n  - { at: 1ms, target: "vm:1:queue:1", action: stop-polling, duration: 1ms }\n  - { after: 1ms, target: role:frontend, action: delay-notifications }\n  - { at: 5ms, target: " link: worker:* > vm:0 ", action: reorder-messages, kinds: [evt, rx] }\n  - { at: 6ms, target: node:b, action: pause, duration: 1ms }\n  - { at: 7ms, target: worker:1, action: crash-loop }\n  - { at: 8ms, target: nats, action: nats-restart, duration: 1ms, id: nats_1 }\n',
  ],
  ['a repeated fault', 'faults: [{ at: 1ms, target: vm:0, action: kill, restartAfter: 0, repeat: { every: 10ms } }]\n'],
];

for (const [what, text] of GOOD) {
  test(`schema - accepted by both the validator and the schema: ${what}`, (t) => {
    t.is(validatorVerdict(text), true);
    t.is(schemaVerdict(yamlData(text) ?? {}), true);
  });
}

/**
 * One scenario per place where the schema has a map, and the path of that map: an unknown key put
 * there makes the readers list the keys they accept, which must be the schema's keys there.
 */
function probes(): { doc: Json; path: (string | number)[] }[] {
  const resolvedCosts = compileScenarioText('', 'p.yaml').resolved['costs'] as Json;
  const out: { doc: Json; path: (string | number)[] }[] = [
    { doc: {}, path: [] },
    ...['live', 'topology', 'coalescing', 'napi', 'netback'].map((k) => ({ doc: {}, path: [k] })),
    { doc: {}, path: ['topology', 'vms'] },
    { doc: {}, path: ['topology', 'rss'] },
    { doc: {}, path: ['topology', 'dom0'] },
    { doc: { topology: { dom0: { vcpus: 2 } } }, path: ['topology', 'dom0', 'softirq'] },
    { doc: { topology: { steering: 'toeplitz' } }, path: ['topology', 'toeplitz'] },
    { doc: { traffic: [{}] }, path: ['traffic', 0] },
    { doc: { traffic: [{ pattern: { onoff: { on: '1ms', off: '1ms' } } }] }, path: ['traffic', 0, 'pattern'] },
    { doc: { traffic: [{ pattern: { onoff: {} } }] }, path: ['traffic', 0, 'pattern', 'onoff'] },
    { doc: { traffic: [{ size: { uniform: [64, 128] } }] }, path: ['traffic', 0, 'size'] },
    { doc: { traffic: [{ size: { choice: { values: [64] } } }] }, path: ['traffic', 0, 'size', 'choice'] },
    // A closed-loop generator's tcp and rr maps.
    { doc: { traffic: [{ tcp: {} }] }, path: ['traffic', 0, 'tcp'] },
    { doc: { traffic: [{ rr: {} }] }, path: ['traffic', 0, 'rr'] },
    { doc: { costs: {} }, path: ['costs'] },
    { doc: { costs: { override: {} } }, path: ['costs', 'override'] },
    { doc: { faults: [{}] }, path: ['faults', 0] },
    { doc: { faults: [{ at: '1ms', target: 'vm:0', action: 'kill', repeat: { every: '1ms' } }] }, path: ['faults', 0, 'repeat'] },
    // The transmit path's section is read only when a guest sends.
    { doc: { traffic: [{ from: 'vm.0' }] }, path: ['tx'] },
  ];
  for (const section of ['nic', 'backend', 'worker', 'frontend', 'dom0']) {
    out.push({ doc: { costs: { override: { [section]: {} } } }, path: ['costs', 'override', section] });
    out.push({ doc: { costs: structuredClone(resolvedCosts) }, path: ['costs', section] });
  }
  // A guest that sends resolves its costs with the transmit section.
  const sending = compileScenarioText('traffic: [{ from: vm.0 }]\n', 'p.yaml').resolved['costs'] as Json;
  out.push({ doc: { costs: { override: { tx: {} } } }, path: ['costs', 'override', 'tx'] });
  out.push({ doc: { traffic: [{ from: 'vm.0' }], costs: structuredClone(sending) }, path: ['costs', 'tx'] });
  for (const placement of ['nic', 'backend', 'frontend']) {
    out.push({ doc: { coalescing: { [placement]: {} } }, path: ['coalescing', placement] });
    for (const policy of ['none', 'static', 'adaptive-itr', 'aic', 'vic']) {
      out.push({ doc: { coalescing: { [placement]: { policy } } }, path: ['coalescing', placement] });
    }
  }
  // A host of a multi-host scenario takes the same host sections (with traffic naming its guests h<i>.vm.<j>).
  const HOST_SECTIONS = ['topology', 'coalescing', 'napi', 'costs', 'netback', 'tx'];
  for (const p of [...out]) {
    const section = p.path[0];
    if (typeof section !== 'string' || !HOST_SECTIONS.includes(section)) continue;
    const { traffic, ...host } = p.doc as { traffic?: { from?: string }[] };
    const from = traffic?.[0]?.from;
    const ends = from === undefined ? { to: 'h0.vm.0' } : { from: `h0.${from}` };
    out.push({ doc: { hosts: [host], traffic: [ends] }, path: ['hosts', 0, ...p.path] });
  }
  out.push({ doc: { hosts: [{}], traffic: [{ to: 'h0.vm.0' }] }, path: ['hosts', 0] });
  out.push({ doc: { hosts: 1, traffic: [{ to: 'h0.vm.0' }] }, path: ['fabric'] });
  out.push({ doc: { hosts: 1, traffic: [{ to: 'h0.vm.0' }], fabric: { ports: [{}] } }, path: ['fabric', 'ports', 0] });
  return out;
}

function withKey(doc: Json, path: readonly (string | number)[], key: string): Json {
  const copy = structuredClone(doc);
  let node: Record<string | number, unknown> = copy;
  for (const s of path) {
    node[s] ??= {};
    node = node[s] as Record<string | number, unknown>;
  }
  node[key] = 1;
  return copy;
}

/** `unknown key "zzz" (expected one of: a, b; did you mean …?)` → ['a', 'b']. */
function listedKeys(message: string): string[] {
  const m = /unknown key "zzz" \(expected one of: ([^;)]*)/.exec(message);
  return m === null ? [] : (m[1] as string).split(', ').sort();
}

test('schema - at every map it describes, the schema allows exactly the keys the validator accepts', (t) => {
  const all = probes();
  const probed = new Set(all.map((p) => locationOf(p.path)));
  t.deepEqual(
    mapLocations(schema).filter((l) => !probed.has(l)),
    [],
    'every map of the schema is probed',
  );
  for (const { doc, path } of all) {
    const message = validatorVerdict(stringify(withKey(doc, path, 'zzz')));
    const where = `${locationOf(path)} in ${JSON.stringify(doc)}`;
    const listed = listedKeys(typeof message === 'string' ? message : '');
    t.true(listed.length > 0, `${where}: the validator names the keys it accepts (${String(message)})`);
    t.deepEqual(keysAt(schema, doc, path), listed, where);
  }
});

/** A target of the first kind an action takes. */
function targetOf(kinds: readonly string[]): string {
  return (
    { vm: 'vm:0', worker: 'worker:0', nic: 'nic', backend: 'backend', link: 'link:worker:0>vm:0', node: 'node:0', nats: 'nats' } as Record<string, string>
  )[kinds[0] as string] as string;
}

test('schema - each fault action allows the parameters the validator accepts for it', (t) => {
  const params = ['probability', 'delay', 'factor', 'packets', 'size', 'offset', 'restartAfter', 'kinds'];
  for (const [action, rule] of Object.entries(FAULT_RULES)) {
    const fault = { at: '1ms', target: targetOf(rule.targets), action };
    const missing = params.find((p) => !rule.params.includes(p as never)) as string;
    const message = validatorVerdict(stringify({ faults: [{ ...fault, [missing]: 1 }] }));
    const listed = /its parameters: ([^)]*)\)/.exec(typeof message === 'string' ? message : '')?.[1]?.split(', ') ?? [];
    const allowed = keysAt(schema, { faults: [fault] }, ['faults', 0]).filter((k) => params.includes(k));
    t.deepEqual(allowed, [...listed].sort(), action);
    t.deepEqual([...rule.params].sort(), allowed, action);
  }
});

/** A schema default and a resolved value are the same setting: durations and rates compared by value. */
function sameSetting(schemaDefault: unknown, resolved: unknown): boolean {
  if (typeof schemaDefault === 'string' && typeof resolved === 'string') {
    const d = parseDuration(schemaDefault);
    if (d !== undefined) return d === parseDuration(resolved);
    const r = parseRate(schemaDefault);
    if (r !== undefined) return JSON.stringify(r) === JSON.stringify(parseRate(resolved));
  }
  // A policy's default is its name; the resolved form writes non-trivial ones as maps.
  if (typeof resolved === 'object' && resolved !== null && 'policy' in resolved) return (resolved as Json)['policy'] === schemaDefault;
  // The default cost profile resolves to the profile written out.
  if (typeof resolved === 'object' && resolved !== null && 'name' in resolved) return (resolved as Json)['name'] === schemaDefault;
  return JSON.stringify(schemaDefault) === JSON.stringify(resolved);
}

test('schema - every default the schema shows is the value the validator fills in', (t) => {
  const docs: { doc: Json; path: (string | number)[] }[] = [
    ...probes(),
    ...Object.entries(FAULT_RULES).map(([action, rule]) => ({
      doc: {
        faults: [
          {
            at: '1ms',
            target: targetOf(rule.targets),
            action,
            ...(rule.duration === 'required' ? { duration: '1ms' } : {}),
            ...(rule.duration === 'none' ? { repeat: { every: '1ms' } } : {}),
          },
        ],
      },
      path: ['faults', 0],
    })),
  ];
  docs.push({ doc: { coalescing: { nic: { policy: 'static', usecs: 50 } } }, path: ['coalescing', 'nic'] });
  docs.push({ doc: { coalescing: { backend: { policy: 'static', usecs: 50 } } }, path: ['coalescing', 'backend'] });
  let compared = 0;
  for (const { doc, path } of docs) {
    const text = stringify({ netback: {}, ...doc });
    // Some probes above are incomplete on purpose (a key list is all they ask for).
    if (validatorVerdict(text) !== true) continue;
    const resolved = compileScenarioText(text, 'p.yaml').resolved as Json;
    let here: unknown = resolved;
    let given: unknown = doc;
    for (const s of path) {
      here = (here as Record<string | number, unknown> | undefined)?.[s];
      given = (given as Record<string | number, unknown> | undefined)?.[s];
    }
    // A form the resolved scenario writes differently (a cost override is folded into the profile).
    if (here === undefined) continue;
    for (const [key, dflt] of defaultsAt(schema, doc, path)) {
      if (typeof given === 'object' && given !== null && key in given) continue;
      const value = (here as Json)[key];
      // Keys a resolved fault leaves out when they do not apply (a one-off's repeat).
      if (value === undefined && path[0] === 'faults') continue;
      t.true(sameSetting(dflt, value), `${locationOf(path)}.${key}: schema default ${JSON.stringify(dflt)}, validator ${JSON.stringify(value)}`);
      compared++;
    }
  }
  t.true(compared > 80, `${compared} defaults compared`);
});
