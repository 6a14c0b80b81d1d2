// The transmit path's faults (lose-/delay-tx-notifications, stop-tx-completion, corrupt-tx-ring-index), restarts and partitions beside a guest that sends, and the actions refused with one: one-line errors and compiled parameters.
import test from 'ava';
import { compileFaultItem, compileScenarioText } from '../src/index.js';
import { errorOf } from './helpers.js';

const SENDS = 'topology: { vms: { count: 2 } }\ntraffic:\n  - from: vm.0\n';
/** A closed-loop TCP stream into guest 1: its ACKs take guest 1's transmit path, so guest 1 sends too. */
const TCP_INTO_1 = 'topology: { vms: { count: 2 } }\ntraffic:\n  - { vms: [1], tcp: { cc: reno } }\n';
const RX_ONLY = 'topology: { vms: { count: 2 } }\ntraffic:\n  - name: in\n';

const cases: readonly (readonly [what: string, text: string, expected: string])[] = [
  [
    'a TX fault in a receive-only scenario',
    `${RX_ONLY}faults: [{ at: 1ms, target: vm:0, action: lose-tx-notifications }]\n`,
    's.yaml:4:29: faults[0].target: expected a guest that sends (lose-tx-notifications acts on the transmit path; no traffic has from: vm.<index>), found "vm:0"',
  ],
  [
    'a TX fault on a guest that does not send',
    `${SENDS}faults: [{ at: 1ms, target: vm:1, action: stop-tx-completion }]\n`,
    's.yaml:4:29: faults[0].target: expected a guest that sends (stop-tx-completion acts on the transmit path): vm:0, found "vm:1" (no traffic has from: vm.1)',
  ],
  [
    'a TX fault on a worker',
    `${SENDS}faults: [{ at: 1ms, target: worker:0, action: delay-tx-notifications }]\n`,
    's.yaml:4:29: faults[0].target: expected a target for delay-tx-notifications: vm:<v>[:queue:<q>], found "worker:0"',
  ],
  [
    'a duration on a corrupt TX ring index',
    `${SENDS}faults: [{ at: 1ms, duration: 2ms, target: vm:0, action: corrupt-tx-ring-index }]\n`,
    's.yaml:4:31: faults[0].duration: expected no duration (corrupt-tx-ring-index is instantaneous), found "2ms"',
  ],
  [
    'a probability above 1',
    `${SENDS}faults: [{ at: 1ms, target: vm:0, action: lose-tx-notifications, probability: 2 }]\n`,
    's.yaml:4:79: faults[0].probability: expected a number > 0 and ≤ 1, found 2',
  ],
  [
    'a parameter the action does not take',
    `${SENDS}faults: [{ at: 1ms, target: vm:0, action: stop-tx-completion, delay: 5us }]\n`,
    's.yaml:4:70: faults[0].delay: stop-tx-completion takes no delay',
  ],
  [
    "a TX fault on the guest that is not a TCP stream's end",
    `${TCP_INTO_1}faults: [{ at: 1ms, target: vm:0, action: stop-tx-completion }]\n`,
    's.yaml:4:29: faults[0].target: expected a guest that sends (stop-tx-completion acts on the transmit path): vm:1, found "vm:0" (no traffic has from: vm.0)',
  ],
];

for (const [what, text, expected] of cases) {
  test(`tx faults - ${what} is one line naming where`, (t) => {
    t.is(errorOf(t, text), expected);
  });
}

test('tx faults - a kill, restart or crash-loop of a guest that does not send compiles beside a guest that sends', (t) => {
  for (const action of ['kill', 'restart', 'crash-loop']) {
    const s = compileScenarioText(`${SENDS}faults: [{ at: 1ms, target: vm:1, action: ${action} }]\n`, 's.yaml');
    t.deepEqual(
      s.faults.map((f) => [f.action, f.targetText]),
      [[action, 'vm:1']],
    );
  }
});

test('tx faults - a kill, restart or crash-loop of the guest that sends, a worker, the NIC or the back end compiles beside it', (t) => {
  for (const action of ['kill', 'restart', 'crash-loop']) {
    for (const target of ['vm:0', 'vm:*', 'worker:0', 'nic', 'backend']) {
      const s = compileScenarioText(`${SENDS}faults: [{ at: 1ms, target: "${target}", action: ${action} }]\n`, 's.yaml');
      t.deepEqual(
        s.faults.map((f) => [f.action, f.targetText]),
        [[action, target]],
      );
    }
  }
});

test("tx faults - live, a kill, restart or crash-loop of the NIC or the back end compiles beside a guest that sends, and of a worker with one process per Xen domain (the driver domain's)", (t) => {
  for (const action of ['kill', 'restart', 'crash-loop']) {
    for (const [live, target] of [
      ['', 'nic'],
      ['', 'backend'],
      ['', 'worker:0'],
      ['live: { processes: per-domain }\n', 'worker:0'],
      ['live: { processes: per-domain }\n', 'nic'],
    ] as const) {
      const s = compileScenarioText(`runtime: live\n${live}${SENDS}faults: [{ at: 1ms, target: "${target}", action: ${action} }]\n`, 's.yaml');
      t.deepEqual(
        s.faults.map((f) => [f.action, f.targetText]),
        [[action, target]],
        `${live}${target}`,
      );
    }
  }
});

test('tx faults - a kill, restart or crash-loop of a worker, the NIC, the back end or the guest hosting a TCP end compiles beside closed-loop traffic (sim, lockstep)', (t) => {
  for (const action of ['kill', 'restart', 'crash-loop']) {
    for (const target of ['worker:0', 'nic', 'backend', 'vm:1', 'vm:*']) {
      for (const runtime of ['sim', 'lockstep']) {
        const s = compileScenarioText(`runtime: ${runtime}\n${TCP_INTO_1}faults: [{ at: 1ms, target: "${target}", action: ${action} }]\n`, 's.yaml');
        t.deepEqual(
          s.faults.map((f) => [f.action, f.targetText]),
          [[action, target]],
        );
      }
    }
  }
});

test('tx faults - live, a restart of the driver domain beside traffic from one guest to another compiles with one process per actor or per Xen domain, with a worker restarted too, scheduled or by hand', (t) => {
  const g2g = 'topology: { vms: { count: 2 } }\ntraffic:\n  - { from: vm.0, to: vm.1 }\n';
  for (const processes of ['per-actor', 'per-domain']) {
    const live = `runtime: live\nlive: { processes: ${processes} }\n${g2g}`;
    for (const action of ['kill', 'restart', 'crash-loop']) {
      for (const target of ['nic', 'backend', 'worker:0']) {
        t.is(compileScenarioText(`${live}faults: [{ at: 1ms, target: ${target}, action: ${action} }]\n`, 's.yaml').faults[0]?.targetText, target);
      }
    }
    // Both a worker and the driver domain: the handoffs to the restarted worker are inferred (live/src/tx-bus-accounting.ts).
    const both = compileScenarioText(`${live}faults:\n  - { at: 1ms, target: worker:0, action: kill }\n  - { at: 2ms, target: nic, action: kill }\n`, 's.yaml');
    t.deepEqual(
      both.faults.map((f) => f.targetText),
      ['worker:0', 'nic'],
    );
    // By hand (splitnet fault), against a run that schedules the other.
    const withNicKill = compileScenarioText(`${live}faults: [{ at: 1ms, target: nic, action: kill }]\n`, 's.yaml');
    const withWorkerKill = compileScenarioText(`${live}faults: [{ at: 1ms, target: worker:0, action: kill }]\n`, 's.yaml');
    t.is(compileFaultItem({ at: '2ms', target: 'worker:0', action: 'restart' }, withNicKill).targetText, 'worker:0');
    t.is(compileFaultItem({ at: '2ms', target: 'backend', action: 'crash-loop' }, withWorkerKill).targetText, 'backend');
  }
});

test('tx faults - live, a kill, restart or crash-loop of a worker, the NIC or the back end (either process layout) or of a guest hosting any TCP or rr end compiles beside closed-loop traffic', (t) => {
  for (const action of ['kill', 'restart', 'crash-loop']) {
    for (const [live, target] of [
      ['', 'worker:0'],
      ['', 'worker:*'],
      ['', 'role:worker'],
      ['', 'nic'],
      ['', 'backend'],
      ['live: { processes: per-domain }\n', 'worker:0'],
      ['live: { processes: per-domain }\n', 'nic'],
      ['', 'vm:1'],
      ['', 'vm:*'],
      ['live: { processes: per-domain }\n', 'vm:1'],
    ] as const) {
      const s = compileScenarioText(`runtime: live\n${live}${TCP_INTO_1}faults: [{ at: 1ms, target: "${target}", action: ${action} }]\n`, 's.yaml');
      t.deepEqual(
        s.faults.map((f) => f.action),
        [action],
      );
    }
    // The guest hosting the bulk sender; both guests of a flow between two guests (one process per actor or per domain).
    for (const [traffic, target, live] of [
      ['{ from: vm.1, to: wire, tcp: { cc: reno } }', 'vm:1', ''],
      ['{ from: vm.1, to: wire, tcp: { cc: reno } }', 'vm:*', 'live: { processes: per-domain }\n'],
      ['{ from: vm.0, to: vm.1, tcp: { cc: reno } }', 'vm:0', ''],
      ['{ from: vm.0, to: vm.1, rr: { request: 64, response: 64 } }', 'vm:1', 'live: { processes: per-domain }\n'],
    ] as const) {
      const yaml = `runtime: live\n${live}topology: { vms: { count: 2 } }\ntraffic:\n  - ${traffic}\nfaults: [{ at: 1ms, target: "${target}", action: ${action} }]\n`;
      t.deepEqual(
        compileScenarioText(yaml, 's.yaml').faults.map((f) => [f.action, f.targetText]),
        [[action, target]],
      );
    }
  }
});

test('tx faults - a link flap compiles with a guest that sends (the NIC flushes its TX queues as the link goes down)', (t) => {
  const s = compileScenarioText(`${SENDS}faults: [{ at: 1ms, duration: 1ms, target: nic, action: link-flap }]\n`, 's.yaml');
  t.deepEqual(
    s.faults.map((f) => [f.action, f.targetText, f.duration]),
    [['link-flap', 'nic', 1_000_000]],
  );
});

test('tx faults - a NATS server restart compiles with a guest that sends (what the bus loses of the TX ring is resynced and counted)', (t) => {
  const s = compileScenarioText(`${SENDS}faults: [{ at: 1ms, duration: 1ms, target: nats, action: nats-restart }]\n`, 's.yaml');
  t.deepEqual(
    s.faults.map((f) => [f.action, f.targetText, f.duration]),
    [['nats-restart', 'nats', 1_000_000]],
  );
});

test("tx faults - a partition of the guest that sends, a worker, the NIC, the back end, another guest or a node (docker placement's network cut) compiles beside it (the TX ring resyncs at its end)", (t) => {
  for (const target of ['vm:0', 'worker:0', 'nic', 'backend', 'vm:1', 'vm:*', 'node:1']) {
    const s = compileScenarioText(`${SENDS}faults: [{ at: 1ms, duration: 1ms, target: '${target}', action: partition }]\n`, 's.yaml');
    t.deepEqual(
      s.faults.map((f) => [f.action, f.targetText, f.duration]),
      [['partition', target, 1_000_000]],
    );
  }
});

test('tx faults - a partition of a worker, the NIC, the back end or a guest compiles beside closed-loop traffic (sim, lockstep, live)', (t) => {
  for (const target of ['worker:0', 'nic', 'backend', 'vm:0', 'vm:1', 'vm:*']) {
    for (const runtime of ['sim', 'lockstep', 'live']) {
      const s = compileScenarioText(
        `runtime: ${runtime}\n${TCP_INTO_1}faults: [{ at: 1ms, duration: 1ms, target: '${target}', action: partition }]\n`,
        's.yaml',
      );
      t.deepEqual(
        s.faults.map((f) => [f.action, f.targetText, f.duration]),
        [['partition', target, 1_000_000]],
      );
    }
  }
});

test("tx faults - dropped messages compile with a guest that sends (a dropped batch gives its frames' grant slots back)", (t) => {
  const s = compileScenarioText(`${SENDS}faults: [{ at: 1ms, target: "link:backend>worker:0", action: drop-messages, kinds: [rx] }]\n`, 's.yaml');
  t.deepEqual(
    s.faults.map((f) => [f.action, f.params.kinds]),
    [['drop-messages', ['rx']]],
  );
});

test('tx faults - the TX actions compile with their defaults: probability 1, delay 100us, offset 1, and corrupt-tx-ring-index takes no duration', (t) => {
  const s = compileScenarioText(
    `${SENDS}faults:\n  - { at: 1ms, target: vm:0, action: lose-tx-notifications }\n  - { at: 2ms, target: 'vm:0:queue:0', action: delay-tx-notifications }\n  - { at: 3ms, duration: 1ms, target: vm:0, action: stop-tx-completion }\n  - { at: 4ms, target: vm:0, action: corrupt-tx-ring-index }\n`,
    's.yaml',
  );
  t.deepEqual(
    s.faults.map((f) => [f.action, f.params, f.duration]),
    [
      ['lose-tx-notifications', { probability: 1 }, 0],
      ['delay-tx-notifications', { probability: 1, delay: 100_000 }, 0],
      ['stop-tx-completion', {}, 1_000_000],
      ['corrupt-tx-ring-index', { offset: 1 }, 0],
    ],
  );
});

test('tx faults - with a guest that sends, pause and the receive-path datapath actions still compile', (t) => {
  const s = compileScenarioText(
    `${SENDS}faults:\n  - { at: 1ms, duration: 1ms, target: worker:0, action: pause }\n  - { at: 2ms, target: vm:1, action: lose-notifications }\n`,
    's.yaml',
  );
  t.deepEqual(
    s.faults.map((f) => f.action),
    ['pause', 'lose-notifications'],
  );
});
