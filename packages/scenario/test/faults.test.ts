// The faults section: schedules, target selectors and parameters compile with defaults; mistakes give located one-line errors.
import test from 'ava';
import { SplitnetError } from '@splitnet/model';
import { checkFaultRequest, compileFaultItem, compileScenarioText, faultOccurrences, formatResolvedYaml } from '../src/index.js';
import { comparable, compile, errorOf } from './helpers.js';

const topo = 'duration: 50ms\ntopology: { vms: { count: 2, queues: 2 }, workers: 2, vrss: per-flow }\n';

test('faults - a schedule compiles with defaults, after is relative to the previous start, repeats expand', (t) => {
  const s = compile(`${topo}faults:
  - { at: 10ms, duration: 2ms, target: vm:1:queue:0, action: lose-notifications }
  - { after: 5ms, target: "link:worker:1>vm:*", action: delay-messages, repeat: { every: 10ms, count: 3 }, duration: 1ms }
  - { id: loop, at: 1ms, target: role:worker, action: crash-loop }
`);
  t.is(s.faults.length, 3);
  const [a, b, c] = s.faults;
  t.deepEqual(a?.params, { probability: 1 });
  t.is(a?.targetText, 'vm:1:queue:0');
  t.is(b?.start, 15_000_000);
  t.is(b?.targetText, 'link:worker:1>vm:*');
  t.deepEqual(b?.params, { probability: 1, delay: 50_000, kinds: ['dma', 'poll', 'rx', 'rsp', 'evt', 'req', 'reconnect', 'ring', 'connected'] });
  t.is(c?.targetText, 'worker:*');
  t.deepEqual([c?.every, c?.count], [2_000_000, 3]);
  const occ = faultOccurrences(s.faults, s.duration);
  t.deepEqual(
    occ.map((o) => [o.id, o.start / 1e6, o.end / 1e6]),
    [
      ['loop#1', 1, 1],
      ['loop#2', 3, 3],
      ['loop#3', 5, 5],
      ['f0', 10, 12],
      ['f1#1', 15, 16],
      ['f1#2', 25, 26],
      ['f1#3', 35, 36],
    ],
  );
});

test('faults - the resolved scenario lists faults only when used (netback always: its queue and qdisc shape every run), and compiles to the same faults', (t) => {
  const plain = compile(topo);
  t.false('faults' in plain.resolved);
  t.deepEqual(plain.resolved['netback'], { rxQueueBytes: 524_288, qdisc: 'fq-codel', rxStallTimeout: '2ms', stallKick: true, threading: 'kthread' });
  t.deepEqual(plain.faults, []);
  const s = compile(`${topo}faults:\n  - { after: 3ms, target: worker:0, action: slow-worker, factor: 2.5, duration: 1ms }\n`);
  const yaml = formatResolvedYaml(s);
  t.regex(yaml, /faults:\n {2}- id: f0\n {4}at: 3ms\n {4}duration: 1ms\n {4}target: worker:0\n {4}action: slow-worker\n {4}factor: 2.5\n/);
  t.regex(yaml, /netback:\n {2}rxQueueBytes: 524288\n {2}qdisc: fq-codel\n {2}rxStallTimeout: 2ms\n {2}stallKick: true\n {2}threading: kthread\n/);
  t.deepEqual(comparable(compileScenarioText(yaml, 'r.yaml')), comparable(s));
});

test("faults - a queue target is checked against its own VM's queues", (t) => {
  const f = (target: string) =>
    `duration: 50ms\ntopology: { vms: { count: 2, queues: [4, 1] } }\nfaults:\n  - { at: 1ms, target: ${target}, action: stop-polling }\n`;
  t.is(compile(f('vm:0:queue:3')).faults[0]?.targetText, 'vm:0:queue:3');
  t.regex(errorOf(t, f('vm:1:queue:1')), /faults\[0\]\.target: expected a queue from 0 to 0, found "vm:1:queue:1"/);
});

test('faults - mistakes are located and say what was expected', (t) => {
  const f = (item: string) => `${topo}faults:\n  - ${item}\n`;
  t.is(
    errorOf(t, f('{ at: 1ms, target: worker:0, action: kil }')),
    's.yaml:4:42: faults[0].action: expected one of "lose-notifications", "delay-notifications", "stop-polling", "slow-worker", "ring-full-storm", "link-flap", "corrupt-ring-index", "lose-tx-notifications", "delay-tx-notifications", "stop-tx-completion", "corrupt-tx-ring-index", "kill", "restart", "crash-loop", "pause", "drop-messages", "delay-messages", "duplicate-messages", "reorder-messages", "partition" or "nats-restart", found "kil" (did you mean "kill"?)',
  );
  t.regex(
    errorOf(t, f('{ at: 1ms, target: worker:2, action: kill }')),
    /^s\.yaml:4:24: faults\[0\]\.target: expected a worker from 0 to 1, found "worker:2" \(topology\.workers\)$/,
  );
  t.regex(errorOf(t, f('{ at: 1ms, target: vm:0:queue:2, action: stop-polling }')), /faults\[0\]\.target: expected a queue from 0 to 1, found "vm:0:queue:2"/);
  t.regex(
    errorOf(t, f('{ at: 1ms, target: wrker:1, action: kill }')),
    /faults\[0\]\.target: expected a target such as worker:2, vm:0, vm:\*:queue:1, role:frontend, nic, link:worker:1>vm:0, node:b or nats, found "wrker:1"/,
  );
  t.regex(
    errorOf(t, f('{ at: 1ms, target: worker:1, action: lose-notifications }')),
    /faults\[0\]\.target: expected a target for lose-notifications: vm:<v>\[:queue:<q>\], found "worker:1"/,
  );
  t.regex(errorOf(t, f('{ at: 1ms, target: "link:nic", action: drop-messages }')), /expected a link as link:<from>><to>/);
  t.regex(errorOf(t, f('{ at: 1ms, target: vm:0, action: stop-polling, factor: 2 }')), /faults\[0\]\.factor: stop-polling takes no factor$/);
  t.regex(
    errorOf(t, f('{ at: 1ms, target: worker:0, action: slow-worker, factor: 0.5 }')),
    /faults\[0\]\.factor: expected a number from 1 to 1000, found 0\.5/,
  );
  t.regex(
    errorOf(t, f('{ at: 1ms, target: vm:0, action: lose-notifications, probability: 0 }')),
    /faults\[0\]\.probability: expected a number > 0 and ≤ 1, found 0/,
  );
  t.regex(
    errorOf(t, f('{ at: 1ms, after: 2ms, target: nic, action: link-flap, duration: 1ms }')),
    /faults\[0\]\.after: expected either at or after, found both/,
  );
  t.regex(errorOf(t, f('{ target: nic, action: link-flap, duration: 1ms }')), /faults\[0\]\.at: expected a start time/);
  t.regex(
    errorOf(t, f('{ at: 60ms, target: nic, action: link-flap, duration: 1ms }')),
    /faults\[0\]\.at: expected a start before the end of the run \(50ms\), found "60ms"/,
  );
  t.regex(errorOf(t, f('{ at: 1ms, target: nic, action: link-flap }')), /faults\[0\]\.duration: expected a duration \(how long link-flap lasts\)/);
  t.regex(errorOf(t, f('{ at: 1ms, target: worker:0, action: kill, duration: 1ms }')), /faults\[0\]\.duration: expected no duration \(kill is instantaneous\)/);
  t.regex(
    errorOf(t, f('{ at: 1ms, target: nic, action: link-flap, duration: 2ms, repeat: { every: 1ms, count: 3 } }')),
    /faults\[0\]\.repeat\.every: expected an interval ≥ the duration \(2ms\)/,
  );
  t.regex(
    errorOf(t, f('{ at: 1ms, target: nic, action: link-flap, duration: 1ms, repeat: { every: 20ms, count: 4 } }')),
    /faults\[0\]\.repeat: expected a schedule whose last occurrence starts before the end of the run \(50ms\).*occurrence 4 would start at 61ms/,
  );
  t.regex(
    errorOf(t, f('{ at: 1ms, target: "link:worker:0>vm:0", action: duplicate-messages, kinds: [rsp] }')),
    /faults\[0\]\.kinds\[0\]: expected one of "evt", "req" or "poll", found "rsp"/,
  );
  t.regex(errorOf(t, f('{ at: 1ms, target: nic, action: link-flap, duration: 1ms, colour: red }')), /faults\[0\]: unknown key "colour"/);
  t.regex(
    errorOf(
      t,
      `${topo}faults:\n  - { id: a, at: 1ms, target: nic, action: link-flap, duration: 1ms }\n  - { id: a, at: 2ms, target: nic, action: link-flap, duration: 1ms }\n`,
    ),
    /faults\[1\]\.id: expected an id no other fault uses, found "a"/,
  );
  t.regex(
    errorOf(t, f('{ at: 1ms, target: nic, action: link-flap, duration: 1ms }'), { overrides: ['faults.0.target=vm:5'] }),
    /^--set faults\.0\.target=vm:5: faults\[0\]\.target: expected a VM from 0 to 1/,
  );
});

// `splitnet fault` checks what it can before it connects to the run (the controller checks the rest).
const faultRequests: [string, string, string, { params: string[]; duration: boolean }, string | null][] = [
  ['a known action on a target it takes', 'kill', 'worker:1', { params: [], duration: false }, null],
  ['an index the run may not have (checked by its controller)', 'kill', 'worker:99', { params: [], duration: false }, null],
  ['a link target', 'delay-messages', 'link:worker:1>vm:0', { params: ['delay'], duration: true }, null],
  [
    'an unknown action',
    'kil',
    'worker:1',
    { params: [], duration: false },
    'fault kil: unknown action (expected one of: lose-notifications, delay-notifications, stop-polling, slow-worker, ring-full-storm, link-flap, corrupt-ring-index, lose-tx-notifications, delay-tx-notifications, stop-tx-completion, corrupt-tx-ring-index, kill, restart, crash-loop, pause, drop-messages, delay-messages, duplicate-messages, reorder-messages, partition, nats-restart; did you mean "kill"?)',
  ],
  [
    'a target that is not one',
    'kill',
    'worker:x',
    { params: [], duration: false },
    'fault kill worker:x: expected a target such as worker:2, vm:0, vm:*:queue:1, role:frontend, nic, link:worker:1>vm:0, node:b or nats, found "worker:x"',
  ],
  ['a target of the wrong kind', 'link-flap', 'vm:0', { params: [], duration: true }, 'fault link-flap vm:0: expected a target for link-flap: nic'],
  [
    'a parameter the action does not take',
    'kill',
    'vm:0',
    { params: ['probability'], duration: false },
    'fault kill vm:0: --probability: kill takes no probability (its parameters: restartAfter)',
  ],
  [
    'a duration on an instantaneous action',
    'restart',
    'nic',
    { params: [], duration: true },
    'fault restart nic: --duration: restart is instantaneous and takes no duration',
  ],
  [
    'no duration where one is required',
    'pause',
    'vm:0',
    { params: [], duration: false },
    'fault pause vm:0: pause needs --duration (how long it lasts), such as 5ms',
  ],
];

for (const [what, action, target, given, message] of faultRequests) {
  test(`faults - a fault request with ${what} is ${message === null ? 'accepted' : 'refused with one line'} before connecting`, (t) => {
    if (message === null) {
      t.notThrows(() => checkFaultRequest(action, target, given));
      return;
    }
    const err = t.throws(() => checkFaultRequest(action, target, given), { instanceOf: SplitnetError });
    t.is(err?.code, 'E_USAGE');
    t.is(err?.message, message);
  });
}

test('faults - one faults item checked against a compiled scenario compiles as it would in its faults list', (t) => {
  const s = compile(topo);
  const f = compileFaultItem({ id: 'adhoc-1', at: '20ms', duration: '2ms', target: 'vm:1:queue:1', action: 'stop-polling' }, s);
  const inList = compile(`${topo}faults:\n  - { id: adhoc-1, at: 20ms, duration: 2ms, target: vm:1:queue:1, action: stop-polling }\n`).faults[0];
  t.deepEqual(f, inList);
});

const badItems: [string, Record<string, unknown>, RegExp][] = [
  ['a VM the scenario does not have', { at: '1ms', target: 'vm:3', action: 'kill' }, /^faults\[0\]\.target: expected a VM from 0 to 1, found "vm:3"/],
  [
    'a worker the scenario does not have',
    { at: '1ms', target: 'worker:2', action: 'slow-worker', duration: '1ms' },
    /^faults\[0\]\.target: expected a worker from 0 to 1, found "worker:2"/,
  ],
  [
    'a start after the end of the run',
    { at: '60ms', target: 'nic', action: 'link-flap', duration: '1ms' },
    /^faults\[0\]\.at: expected a start before the end of the run \(50ms\)/,
  ],
  ['a parameter the action does not take', { at: '1ms', target: 'nic', action: 'kill', factor: 2 }, /^faults\[0\]\.factor: kill takes no factor/],
  ['an unknown key', { at: '1ms', target: 'nic', action: 'kill', when: 'now' }, /^faults\[0\]: unknown key "when"/],
];

for (const [what, item, message] of badItems) {
  test(`faults - one faults item with ${what} is refused with the item's key and no file position`, (t) => {
    const err = t.throws(() => compileFaultItem(item, compile(topo)), { instanceOf: SplitnetError });
    t.is(err?.code, 'E_SCENARIO');
    t.regex(err?.message ?? '', message);
  });
}
