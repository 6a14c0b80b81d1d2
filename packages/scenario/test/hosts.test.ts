// Multi-host scenarios (hosts:, fabric:): each host's view, the switch's routes, and one located line per mistake.
import test from 'ava';
import { compile, errorOf } from './helpers.js';

/** Two hosts with traffic, before a faults list. */
const FAULTS = 'hosts: 2\ntraffic:\n  - { to: h0.vm.0 }\nfaults:\n';

/** A scenario text and the one line its error must be. */
type Case = readonly [text: string, expected: string];

const BAD: readonly (readonly [what: string, cases: readonly Case[]])[] = [
  [
    'a guest without its host, or on a host that does not exist',
    [
      [
        'hosts: 2\ntraffic:\n  - { from: vm.0, to: h1.vm.1 }\n',
        `s.yaml:3:13: traffic[0].from: expected h<host>.vm.0 (this scenario has hosts: write h0.vm.0 for host 0's guest, h1.vm.0 for host 1's, …), found "vm.0"`,
      ],
      ['hosts: 2\ntraffic:\n  - { from: h0.vm.0, to: h2.vm.1 }\n', 's.yaml:3:26: traffic[0].to: expected a host from h0 to h1 (hosts: 2), found "h2.vm.1"'],
      [
        'hosts: 2\ntopology: { vms: { count: 1 } }\ntraffic:\n  - { to: h1.vm.0 }\n  - { from: h0.vm.0, to: h1.vm.3 }\n',
        's.yaml:5:26: traffic[1].to: expected a VM index from 0 to 0 (topology.vms.count is 1), found 3',
      ],
      [
        'traffic:\n  - { from: h0.vm.0 }\n',
        's.yaml:2:13: traffic[0].from: expected wire or vm.0, found "h0.vm.0" (h0.vm.0 names a host, and this scenario has no hosts: section)',
      ],
    ],
  ],
  [
    'an external source on the switch that is not open loop, or goes nowhere',
    [
      [
        'hosts: 2\ntraffic:\n  - { from: external, to: h1.vm.0, tcp: {} }\n',
        's.yaml:3:41: traffic[0].tcp: expected no tcp (an external source on the switch sends open-loop traffic; for a connection, put its far end on a host or take from: wire), found an empty map',
      ],
      [
        'hosts: 2\ntraffic:\n  - { from: external, to: wire }\n',
        's.yaml:3:27: traffic[0].to: expected h<host>.vm.<index>: the guest that the external source on the switch sends to, found "wire"',
      ],
      [
        'hosts: 2\ntraffic:\n  - { from: outside, to: h0.vm.0 }\n',
        `s.yaml:3:13: traffic[0].from: expected h<host>.vm.<index> (a guest of one of the hosts, such as h1.vm.3; h*.vm.<index> for every host's), wire or external (a source on a switch port), found "outside"`,
      ],
    ],
  ],
  [
    'a generator for every host written wrongly',
    [
      [
        'hosts: 2\ntraffic:\n  - { from: h0.vm.0, to: h+1.vm.1 }\n',
        `s.yaml:3:26: traffic[0].to: expected h<host>.vm.<index> (h+1.vm.1, the host after the sender's, needs from: h*.vm.<index>), found "h+1.vm.1"`,
      ],
      [
        'hosts: 2\ntraffic:\n  - { from: h*.vm.0, to: h*.vm.1 }\n',
        `s.yaml:3:26: traffic[0].to: expected h+0.vm.1 (the sender's own host), h+<k>.vm.1 (the host k after it) or a fixed h<host>.vm.<index>, beside from: h*.vm.<index>, found "h*.vm.1"`,
      ],
      [
        'hosts: 2\ntopology: { vms: { count: 1 } }\ntraffic:\n  - { from: h*.vm.0, to: h+1.vm.1 }\n',
        's.yaml:4:26: traffic[0].to: expected a VM index from 0 to 0 (topology.vms.count is 1), found 1',
      ],
      [
        'hosts: 2\ntraffic:\n  - { name: ring, from: h*.vm.0, to: h+1.vm.1 }\n  - { name: ring-h1, to: h0.vm.0 }\n',
        's.yaml:4:13: traffic[1].name: expected a name no other generator uses, found "ring-h1" (traffic[0] has it)',
      ],
    ],
  ],
  [
    'bad hosts sections',
    [
      ['hosts: 0\ntraffic:\n  - { to: h0.vm.0 }\n', 's.yaml:1:8: hosts: expected an integer from 1 to 64, found 0'],
      [
        'hosts: [{ topology: { vms: { count: 0 } } }, {}]\ntraffic:\n  - { to: h0.vm.0 }\n',
        's.yaml:1:37: hosts[0].topology.vms.count: expected an integer from 1 to 256, found 0',
      ],
      [
        'hosts: [{ topolgy: {} }]\ntraffic:\n  - { to: h0.vm.0 }\n',
        's.yaml:1:11: hosts[0]: unknown key "topolgy" (expected one of: topology, coalescing, napi, costs, netback, tx; did you mean "topology"?)',
      ],
      [
        'hosts: 2\n',
        's.yaml:1:1: traffic: expected a list of generators naming their guests h<host>.vm.<index> (a multi-host scenario has no default traffic), found nothing',
      ],
      [
        'hosts: 2\ntraffic:\n  - { vms: [0], to: h0.vm.0 }\n',
        's.yaml:3:12: traffic[0].vms: expected no vms: (with hosts, a generator names its guests: to: h<host>.vm.<index>), found a list of 1',
      ],
      [
        'hosts: 2\ntraffic:\n  - { to: h1.vm.0, name: a }\n  - { to: h0.vm.0, name: a }\n',
        's.yaml:4:26: traffic[1].name: expected a name no other generator uses, found "a" (traffic[0] has it)',
      ],
    ],
  ],
  [
    'bad fabric sections',
    [
      ['fabric: { delay: 1us }\n', 's.yaml:1:1: hosts: expected hosts: (a count or a list of hosts) beside fabric:, found nothing'],
      [
        'hosts: 2\nfabric: { delay: 0ns }\ntraffic:\n  - { to: h0.vm.0 }\n',
        's.yaml:2:18: fabric.delay: expected a positive duration such as 50ms, found "0ns"',
      ],
      [
        'hosts: 2\nfabric: { ports: [{}, {}, {}] }\ntraffic:\n  - { to: h0.vm.0 }\n',
        's.yaml:2:27: fabric.ports[2]: expected at most 2 ports (one per host), found an empty map',
      ],
      [
        'hosts: 2\nfabric: { ports: [{}, {}, {}, {}] }\ntraffic:\n  - { from: external, to: h1.vm.0 }\n',
        's.yaml:2:31: fabric.ports[3]: expected at most 3 ports (one per host, then one per external source), found an empty map',
      ],
      [
        'hosts: 2\nfabric: { ports: [{}, {}, { queueBytes: 4096 }] }\ntraffic:\n  - { from: external, to: h1.vm.0 }\n',
        "s.yaml:2:41: fabric.ports[2].queueBytes: expected no queueBytes on port 2, an external source's (nothing goes toward the source; its frames queue at the port toward h1), found 4096",
      ],
      [
        'hosts: 2\nfabric: { queueBytes: 10 }\ntraffic:\n  - { to: h0.vm.0 }\n',
        's.yaml:2:23: fabric.queueBytes: expected an integer from 64 to 1073741824 bytes, found 10',
      ],
    ],
  ],
  [
    'faults a multi-host scenario does not take',
    [
      [
        FAULTS + '  - { at: 1ms, target: vm:0, action: kill }\n',
        's.yaml:5:24: faults[0].target: expected h<host> (or host:<host>), switch:port:<port>, or h<host>.<a one-host target> such as h1.worker:0 or h1.vm:3 (a multi-host scenario takes host, switch-port and one host\'s actor faults), found "vm:0"',
      ],
      [
        FAULTS + '  - { at: 1ms, target: h1.vm.0, action: nats-restart, duration: 1ms }\n',
        's.yaml:5:41: faults[0].action: expected a datapath, message or process fault (on one host\'s actors a multi-host run takes lose-notifications, delay-notifications, stop-polling, slow-worker, ring-full-storm, link-flap, corrupt-ring-index, lose-tx-notifications, delay-tx-notifications, stop-tx-completion, corrupt-tx-ring-index, drop-messages, delay-messages, duplicate-messages, reorder-messages, partition, pause, kill, restart, crash-loop today), found "nats-restart"',
      ],
      [
        FAULTS + "  - { at: 1ms, target: 'h1.link:worker:0>vm:3', action: drop-messages, duration: 1ms }\n",
        's.yaml:5:24: faults[0].target: expected a VM from 0 to 0, found "link:worker:0>vm:3" (topology.vms) (on host h1)',
      ],
      [
        FAULTS + '  - { at: 1ms, target: h3.worker.0, action: pause, duration: 1ms }\n',
        's.yaml:5:24: faults[0].target: expected a host from h0 to h1 (hosts: 2), found "h3.worker.0"',
      ],
      [
        FAULTS + '  - { at: 1ms, target: h1.worker.5, action: pause, duration: 1ms }\n',
        's.yaml:5:24: faults[0].target: expected a worker from 0 to 0, found "worker:5" (topology.workers) (on host h1)',
      ],
      [
        FAULTS + '  - { at: 1ms, target: h2, action: pause, duration: 1ms }\n',
        's.yaml:5:24: faults[0].target: expected a host from 0 to 1 (hosts: 2), found "h2"',
      ],
      [
        FAULTS + '  - { at: 1ms, target: switch:port:2, action: link-flap, duration: 1ms }\n',
        's.yaml:5:24: faults[0].target: expected a port from 0 to 1 (hosts: 2; an external source, from: external, would have a port after them), found "switch:port:2"',
      ],
      [
        'hosts: 2\ntraffic:\n  - { from: external, to: h0.vm.0 }\nfaults:\n  - { at: 1ms, target: switch:port:3, action: link-flap, duration: 1ms }\n',
        's.yaml:5:24: faults[0].target: expected a port from 0 to 2 (hosts: 2, then the external source on port 2), found "switch:port:3"',
      ],
      [
        FAULTS + '  - { at: 1ms, target: h1, action: stop-polling, duration: 1ms }\n',
        's.yaml:5:36: faults[0].action: expected pause (a host fault pauses all its actors and takes its switch port down) or kill (the host crashes), found "stop-polling"',
      ],
      [
        FAULTS + '  - { at: 1ms, target: h1, action: kill, duration: 1ms }\n',
        's.yaml:5:52: faults[0].duration: expected no duration (a killed host stays down until restartAfter, or to the end of the run without it), found "1ms"',
      ],
      [
        FAULTS + '  - { at: 1ms, target: h1, action: pause, duration: 1ms, restartAfter: 1ms }\n',
        's.yaml:5:72: faults[0].restartAfter: expected no restartAfter (pause of h1 takes none: a host kill does), found "1ms"',
      ],
      [
        FAULTS + '  - { at: 1ms, target: switch:port:0, action: pause, duration: 1ms }\n',
        's.yaml:5:47: faults[0].action: expected link-flap (the port goes down), drop-messages (it loses frames) or delay-messages (it delays them), found "pause"',
      ],
      [
        FAULTS + '  - { at: 1ms, target: switch:port:0, action: drop-messages, duration: 1ms, probability: 0 }\n',
        's.yaml:5:90: faults[0].probability: expected a probability above 0 and at most 1, found 0',
      ],
      [
        FAULTS + '  - { at: 1ms, target: switch:port:0, action: delay-messages, duration: 1ms }\n',
        's.yaml:5:5: faults[0].delay: expected a duration: how much longer each frame takes on the port, found nothing',
      ],
      [FAULTS + '  - { at: 1ms, target: h1, action: pause }\n', 's.yaml:5:5: faults[0].duration: expected a duration: how long the fault lasts, found nothing'],
    ],
  ],
];

for (const [what, cases] of BAD) {
  test(`hosts - ${what}`, (t) => {
    for (const [text, expected] of cases) t.is(errorOf(t, text), expected, text);
  });
}

const TWO =
  'hosts: [{}, { topology: { vms: { count: 3 } } }]\nfabric: { delay: 2us, ports: [{ queueBytes: 4096 }] }\ntraffic:\n  - { name: across, from: h0.vm.0, to: h1.vm.2, flows: 2, protocol: udp }\n  - { name: outside, to: h1.vm.1 }\n';

test('hosts - each host is the top level with its own settings, and a generator across hosts sits in both views', (t) => {
  const s = compile(TWO);
  const c = s.cluster;
  if (c === undefined) return t.fail('no cluster');
  t.is(c.hosts.length, 2);
  t.is(c.hosts[0]?.topology.vms.length, 1);
  t.is(c.hosts[1]?.topology.vms.length, 3);
  // Host 0 sends the crossing generator's 2 flows; host 1 receives them (remote: from the switch) and the outside one.
  t.deepEqual(c.hosts[0]?.host?.remoteGenerators, []);
  t.deepEqual(c.hosts[1]?.host?.remoteGenerators, [0]);
  t.deepEqual(Array.from(c.hosts[0]?.host?.fabricFlows ?? []), [1, 1]);
  t.deepEqual(Array.from(c.hosts[1]?.host?.fabricFlows ?? []).slice(0, 2), [1, 1]);
});

test('hosts - the switch routes a crossing flow to the other host, under that host flow id, and back', (t) => {
  const c = compile(TWO).cluster;
  if (c === undefined) return t.fail('no cluster');
  const [r0, r1] = c.fabric.routes;
  t.deepEqual(Array.from(r0?.port ?? []), [1, 1]);
  t.deepEqual(Array.from(r0?.flow ?? []), [0, 1]);
  t.deepEqual(Array.from(r1?.port ?? []).slice(0, 2), [0, 0]);
  t.deepEqual(Array.from(r1?.flow ?? []).slice(0, 2), [0, 1]);
});

test('hosts - fabric ports take their own settings, else the fabric-wide ones, else the host NIC line rate and the defaults', (t) => {
  const c = compile(TWO).cluster;
  if (c === undefined) return t.fail('no cluster');
  t.deepEqual(c.fabric.ports, [
    { linkGbps: 10, queueBytes: 4096, delay: 2000 },
    { linkGbps: 10, queueBytes: 524288, delay: 2000 },
  ]);
});

test('hosts - h*.vm.<i> writes a generator out once per host, h+<k> naming the host k after the sender round the ring', (t) => {
  const every = compile(
    'hosts: 3\ntopology: { vms: { count: 2 } }\ntraffic:\n  - { name: ring, from: h*.vm.0, to: h+1.vm.1, flows: 1, protocol: udp }\n  - { name: in, to: h*.vm.0, flows: 2 }\n',
  );
  const written = compile(
    'hosts: 3\ntopology: { vms: { count: 2 } }\ntraffic:\n' +
      '  - { name: ring-h0, from: h0.vm.0, to: h1.vm.1, flows: 1, protocol: udp }\n' +
      '  - { name: ring-h1, from: h1.vm.0, to: h2.vm.1, flows: 1, protocol: udp }\n' +
      '  - { name: ring-h2, from: h2.vm.0, to: h0.vm.1, flows: 1, protocol: udp }\n' +
      '  - { name: in-h0, to: h0.vm.0, flows: 2 }\n  - { name: in-h1, to: h1.vm.0, flows: 2 }\n  - { name: in-h2, to: h2.vm.0, flows: 2 }\n',
  );
  t.deepEqual(every.resolved['traffic'], written.resolved['traffic']);
  t.deepEqual(
    (every.resolved['traffic'] as Record<string, unknown>[]).map((g) => `${String(g['name'])}: ${String(g['from'] ?? 'wire')} -> ${String(g['to'])}`),
    [
      'ring-h0: h0.vm.0 -> h1.vm.1',
      'ring-h1: h1.vm.0 -> h2.vm.1',
      'ring-h2: h2.vm.0 -> h0.vm.1',
      'in-h0: wire -> h0.vm.0',
      'in-h1: wire -> h1.vm.0',
      'in-h2: wire -> h2.vm.0',
    ],
  );
  t.deepEqual(every.cluster?.fabric.routes, written.cluster?.fabric.routes);
  t.deepEqual(
    every.cluster?.hosts.map((h) => h.traffic.generators.map((g) => g.name)),
    written.cluster?.hosts.map((h) => h.traffic.generators.map((g) => g.name)),
  );
});

test("hosts - an external source's port takes the switch-port faults: switch:port:<its port>, after the hosts'", (t) => {
  const s = compile(
    'hosts: 2\ntraffic:\n  - { name: ext, from: external, to: h1.vm.0 }\nfaults:\n' +
      '  - { id: flap, at: 1ms, target: switch:port:2, action: link-flap, duration: 1ms }\n' +
      '  - { id: lossy, at: 3ms, target: switch:port:2, action: drop-messages, duration: 1ms, probability: 0.5 }\n' +
      '  - { id: slow, at: 5ms, target: switch:port:2, action: delay-messages, duration: 1ms, delay: 20us }\n',
  );
  const c = s.cluster;
  if (c === undefined) return t.fail('no cluster');
  t.deepEqual(
    c.fabric.sources?.map((x) => [x.name, x.port]),
    [['ext', 2]],
  );
  t.deepEqual(
    c.faults.map((f) => [f.id, f.kind, f.index, f.probability ?? f.delay ?? null]),
    [
      ['flap', 'port-down', 2, null],
      ['lossy', 'port-loss', 2, 0.5],
      ['slow', 'port-delay', 2, 20000],
    ],
  );
  t.deepEqual(
    (s.resolved['faults'] as Record<string, unknown>[]).map((f) => f['target']),
    ['switch:port:2', 'switch:port:2', 'switch:port:2'],
  );
});

test('hosts - restarts and host kills beside TCP and request/response connections whose ends are on two hosts compile: a guest end, its worker, crash loops, and a host holding an end (restarted or not), a far end behind its wire included', (t) => {
  const s = compile(
    'hosts: 2\ntraffic:\n  - { name: bulk, from: h1.vm.0, to: h0.vm.0, tcp: {} }\n  - { name: rr, from: h0.vm.0, to: h1.vm.0, rr: {} }\n' +
      '  - { name: far, to: h1.vm.0, tcp: {} }\nfaults:\n' +
      '  - { id: sender, at: 1ms, target: h1.vm.0, action: kill, restartAfter: 1ms }\n' +
      '  - { id: receiver, at: 2ms, target: h0.vm.0, action: restart }\n' +
      "  - { id: worker, at: 3ms, target: 'h0.worker:*', action: crash-loop, restartAfter: 100us, repeat: { every: 1ms, count: 2 } }\n" +
      '  - { id: back, at: 6ms, target: h1, action: kill, restartAfter: 1ms }\n' +
      '  - { id: gone, at: 8ms, target: h0, action: kill }\n',
  );
  const c = s.cluster;
  if (c === undefined) return t.fail('no cluster');
  t.deepEqual(
    c.faults.map((f) => [f.id, f.kind, f.index, f.restartAfter ?? null]),
    [
      ['back', 'host-kill', 1, 1_000_000],
      ['gone', 'host-kill', 0, null],
    ],
  );
  t.deepEqual(
    c.hosts.map((h) => h.faults.map((f) => f.id)),
    [['receiver', 'worker'], ['sender']],
  );
});

test("hosts - a host's driver domain, its NIC or its back end, takes kill, restart and crash-loop beside guests that send across the switch and open-loop traffic: each compiles into its host's view", (t) => {
  const base =
    'hosts: 2\ntraffic:\n  - { from: h0.vm.0, to: h1.vm.0, protocol: udp }\n  - { to: h1.vm.0 }\n  - { name: ext, from: external, to: h0.vm.0 }\nfaults:\n';
  for (const [target, action] of [
    ['h0.nic', 'kill, restartAfter: 1ms'],
    ['h1.nic', 'restart'],
    ['h0.backend', 'crash-loop'],
    ['h1.backend', 'kill'],
  ] as const) {
    const s = compile(`${base}  - { id: dd, at: 1ms, target: ${target}, action: ${action} }\n`);
    const host = Number(target[1]);
    t.deepEqual(
      s.cluster?.hosts[host]?.faults.map((f) => [f.id, f.action, f.targetText]),
      [['dd', action.split(',')[0], `h${host}.${target.slice(3)}`]],
      target,
    );
    t.is(s.cluster?.hosts[1 - host]?.faults.length, 0);
  }
});

test("hosts - a host's actor cut off from its host's others (partition) compiles into its host's view, the NIC's and back end's included", (t) => {
  const base = 'hosts: 2\ntraffic:\n  - { from: h0.vm.0, to: h1.vm.0, protocol: udp }\nfaults:\n';
  for (const target of ['h0.vm.0', 'h0.worker.0', 'h1.nic', 'h1.backend']) {
    const s = compile(`${base}  - { id: cut, at: 1ms, target: ${target}, action: partition, duration: 200us }\n`);
    const host = Number(target[1]);
    t.deepEqual(
      s.cluster?.hosts[host]?.faults.map((f) => [f.id, f.action, f.targetText, f.duration]),
      [['cut', 'partition', `h${host}.${target.slice(3).replace('.', ':')}`, 200_000]],
      target,
    );
  }
});
