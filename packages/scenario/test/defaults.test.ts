// An empty or partial scenario gets the documented defaults, and the compiled scenario is frozen.
import test from 'ava';
import { DEFAULT_RSS_KEY } from '@splitnet/model';
import { compileScenarioText, formatResolvedYaml } from '../src/index.js';
import { compile, comparable, LIVE_DEFAULTS } from './helpers.js';

test('defaults - an empty file is a complete scenario', (t) => {
  const s = compileScenarioText('', 'runs/empty.yaml');
  t.is(s.source, 'runs/empty.yaml');
  t.is(s.name, 'empty');
  t.is(s.description, '');
  t.is(s.seed, 1);
  t.is(s.duration, 100_000_000);
  t.is(s.warmup, 10_000_000);
  t.is(s.sampleInterval, 1_000_000);
  t.is(s.runtime, 'sim');
  t.deepEqual(s.live, LIVE_DEFAULTS);
  t.deepEqual(s.topology, {
    linkGbps: 10,
    nicQueues: 1,
    nicRingSize: 512,
    vms: [{ id: 0, queues: 1, ringSize: 256, blockAfter: null }],
    workers: 1,
    dom0: { vcpus: null, nicVcpu: [], workerVcpu: [], timeslice: 0, softirq: null },
    vrss: 'per-flow',
    steering: 'rx-queue',
    toeplitz: null,
    rssKey: Array.from(DEFAULT_RSS_KEY),
    retaSize: 128,
  });
  t.deepEqual(s.netback, { rxQueueBytes: 512 * 1024, qdisc: 'fq-codel', rxStallTimeout: 2_000_000, stallKick: true, threading: 'kthread' });
  t.deepEqual(s.coalescing, {
    nic: {
      kind: 'adaptive-itr',
      lowestLatencyRate: 100_000,
      lowLatencyRate: 20_000,
      bulkRate: 8_000,
      lowestLatencyMaxBytesPerUs: 10,
      lowLatencyMaxBytesPerUs: 20,
    },
    backend: { kind: 'none' },
    frontend: { kind: 'none' },
  });
  t.deepEqual(s.napi, { budget: 64 });
  t.is(s.costs.name, 'default');
});

test('defaults - the default traffic is one line-rate generator of 1518-byte frames, 8 TCP flows to every VM', (t) => {
  const s = compile('topology: { vms: { count: 2 } }');
  t.is(s.traffic.generators.length, 1);
  const g = s.traffic.generators[0];
  t.like(g, {
    name: 'gen0',
    pattern: { kind: 'constant' },
    size: { kind: 'fixed', bytes: 1518 },
    firstFlow: 0,
    flows: 8,
    start: 0,
    stop: 100_000_000,
  });
  // 10 Gbit/s over 1518 + 20 wire bytes per frame: 812,744 frames/s (1e10 / (8 · 1538)).
  t.is(Math.round(g?.pps ?? 0), 812_744);
  t.deepEqual(
    s.traffic.flows.map((f) => f.vm),
    [0, 1, 0, 1, 0, 1, 0, 1],
  );
  t.true(s.traffic.flows.every((f) => f.protocol === 'tcp' && f.ipVersion === 4));
});

test('defaults - the default rate follows the link', (t) => {
  const s = compile('topology: { link: 1Gbps }');
  t.is(Math.round(s.traffic.generators[0]?.pps ?? 0), 81_274);
});

test('defaults - a generator gets a name, all VMs, and the run as its window', (t) => {
  const s = compile('duration: 20ms\ntraffic:\n  - rate: 1Mpps\n  - rate: 2Mpps\n    flows: 3\n');
  t.deepEqual(
    s.traffic.generators.map((g) => g.name),
    ['gen0', 'gen1'],
  );
  t.deepEqual(
    s.traffic.generators.map((g) => [g.start, g.stop]),
    [
      [0, 20_000_000],
      [0, 20_000_000],
    ],
  );
  t.deepEqual(
    s.traffic.generators.map((g) => g.pps),
    [1e6, 2e6],
  );
  t.deepEqual(
    s.traffic.generators.map((g) => g.firstFlow),
    [0, 8],
  );
});

test('defaults - warm-up is a tenth of the duration and the sample interval a readable hundredth', (t) => {
  const cases: [string, number, number][] = [
    ['50ms', 5_000_000, 500_000],
    ['100ms', 10_000_000, 1_000_000],
    ['30ms', 3_000_000, 200_000],
    ['1s', 100_000_000, 10_000_000],
    ['7us', 700, 50],
  ];
  for (const [duration, warmup, sample] of cases) {
    const s = compile(`duration: ${duration}`);
    t.is(s.warmup, warmup, duration);
    t.is(s.sampleInterval, sample, duration);
  }
});

test('defaults - workers follow the vRSS mode', (t) => {
  t.is(compile('topology: { vrss: single, vms: { count: 3 } }').topology.workers, 1);
  t.is(compile('topology: { vrss: per-vif, vms: { count: 3 } }').topology.workers, 3);
  t.is(compile('topology: { vrss: per-flow, vms: { count: 3, queues: 4 } }').topology.workers, 4);
});

test('defaults - vms.queues as a list gives each VM its own count; per-flow workers default to the largest', (t) => {
  const s = compile('topology: { vms: { count: 3, queues: [4, 1, 2] } }');
  t.deepEqual(
    s.topology.vms.map((vm) => vm.queues),
    [4, 1, 2],
  );
  t.is(s.topology.workers, 4);
  // The resolved scenario shows the list as used, and compiles to the same scenario.
  t.regex(formatResolvedYaml(s), /vms:\n {4}count: 3\n {4}queues:\n {6}- 4\n {6}- 1\n {6}- 2\n/);
  t.deepEqual(comparable(compileScenarioText(formatResolvedYaml(s), 'again.yaml')), comparable(s));
  // One integer stays one integer in the resolved form.
  t.regex(formatResolvedYaml(compile('topology: { vms: { count: 2, queues: 3 } }')), /vms:\n {4}count: 2\n {4}queues: 3\n/);
  t.deepEqual(
    compile('topology: { vms: { count: 2, queues: [2, 1] } }', { overrides: ['topology.vms.queues.1=3'] }).topology.vms.map((vm) => vm.queues),
    [2, 3],
  );
});

test('defaults - policy names stand for their default parameters', (t) => {
  const s = compile('coalescing: { nic: none, backend: aic, frontend: vic }');
  t.deepEqual(s.coalescing.nic, { kind: 'none' });
  t.deepEqual(s.coalescing.backend, { kind: 'aic', minUsecs: 10, maxUsecs: 200, bufferFraction: 0.5 });
  t.deepEqual(s.coalescing.frontend, { kind: 'vic', lowRate: 20_000, targetRate: 20_000, maxRatio: 32, maxUsecs: 200 });
});

test('defaults - a static policy with one bound leaves the other unbounded', (t) => {
  const s = compile('coalescing: { frontend: { policy: static, frames: 16 } }');
  t.deepEqual(s.coalescing.frontend, { kind: 'static', usecs: 0, frames: 16 });
});

test('defaults - packet sizes: uniform and choice have the right mean on the wire', (t) => {
  const s = compile(
    'traffic:\n  - size: { uniform: [64, 1518] }\n    rate: 1Gbps\n  - size: { choice: { values: [64, 1518], weights: [7, 3] } }\n    rate: 1Gbps\n  - size: { choice: { values: [64, 1518] } }\n    rate: 1Gbps\n',
  );
  const [uniform, weighted, even] = s.traffic.generators;
  t.deepEqual(uniform?.size, { kind: 'uniform', min: 64, max: 1518 });
  t.is(uniform?.pps, 1e9 / ((791 + 20) * 8));
  t.deepEqual(weighted?.size, { kind: 'choice', values: [64, 1518], weights: [7, 3] });
  t.is(weighted?.pps, 1e9 / (((64 * 7 + 1518 * 3) / 10 + 20) * 8));
  t.deepEqual(even?.size, { kind: 'choice', values: [64, 1518], weights: [1, 1] });
});

test('defaults - on/off pattern durations compile to ns', (t) => {
  const s = compile('traffic:\n  - pattern: { onoff: { on: 1ms, off: 500us } }\n');
  t.deepEqual(s.traffic.generators[0]?.pattern, { kind: 'onoff', on: 1_000_000, off: 500_000 });
});

test('defaults - the compiled scenario is deeply frozen', (t) => {
  const s = compile('');
  t.true(Object.isFrozen(s));
  t.true(Object.isFrozen(s.topology.vms));
  t.true(Object.isFrozen(s.traffic.flows[0]));
  t.true(Object.isFrozen(s.traffic.flows[0]?.src));
  t.true(Object.isFrozen(s.costs.worker));
  t.true(Object.isFrozen(s.resolved));
});

test('defaults - resolved fills in every default and round-trips', (t) => {
  const s = compile(
    'name: rt\ntopology: { vms: { count: 2, queues: 2 } }\ntraffic:\n  - vms: [1]\n    size: { uniform: [64, 128] }\n    pattern: { onoff: { on: 1.5ms, off: 250us } }\n    ipVersion: 6\n',
  );
  t.like(s.resolved, {
    name: 'rt',
    seed: 1,
    duration: '100ms',
    warmup: '10ms',
    sampleInterval: '1ms',
    runtime: 'sim',
    live: {
      tdf: 1,
      maxLag: 'auto',
      placement: 'processes',
      processes: 'per-actor',
      nats: '',
      startDelay: '500ms',
      drainTime: '300ms',
      batchWindow: '0ms',
      codeWarmup: '20ms',
      readyTimeout: 'auto',
      busOutageLimit: '30s',
    },
    topology: { link: '10Gbps', workers: 2, vrss: 'per-flow', vms: { count: 2, queues: 2, ringSize: 256 } },
    traffic: [
      {
        name: 'gen0',
        vms: [1],
        flows: 8,
        rate: '10Gbps',
        pattern: { onoff: { on: '1.5ms', off: '250us' } },
        size: { uniform: [64, 128] },
        protocol: 'tcp',
        ipVersion: 6,
        start: '0ms',
        stop: '100ms',
      },
    ],
    coalescing: { backend: 'none', frontend: 'none', nic: { policy: 'adaptive-itr' } },
    napi: { budget: 64 },
    costs: { name: 'default', worker: { perPacket: 1000 } },
  });
  const again = compileScenarioText(formatResolvedYaml(s), 'again.yaml');
  t.deepEqual(comparable(again), comparable(s));
});

test("defaults - netback's queue bound is half the ring's pages (XENVIF_RX_QUEUE_BYTES), the qdisc fq_codel", (t) => {
  t.like(compile('').netback, { rxQueueBytes: 128 * 4096, qdisc: 'fq-codel' });
  t.like(compile('topology: { vms: { ringSize: 1024 } }').netback, { rxQueueBytes: 512 * 4096 });
  t.like(compile('netback: { rxQueueBytes: 65536, qdisc: pfifo-fast }').netback, { rxQueueBytes: 65536, qdisc: 'pfifo-fast' });
});

test('defaults - Toeplitz steering: a seeded key (another seed, another key), the largest mapping, the hash slot', (t) => {
  const a = compile('topology: { steering: toeplitz }');
  t.like(a.topology.toeplitz, { mappingSize: 128, hashSlot: true });
  t.is(a.topology.toeplitz?.key.length, 40);
  t.deepEqual(compile('topology: { steering: toeplitz }').topology.toeplitz?.key, a.topology.toeplitz?.key);
  t.notDeepEqual(compile('seed: 2\ntopology: { steering: toeplitz }').topology.toeplitz?.key, a.topology.toeplitz?.key);
  t.deepEqual((a.resolved['topology'] as Record<string, unknown>)['toeplitz'], { key: 'seeded', mappingSize: 128, hashSlot: true });
  t.deepEqual(comparable(compileScenarioText(formatResolvedYaml(a), 'again.yaml')), comparable(a));
  const fixed = compile(`topology: { steering: toeplitz, toeplitz: { key: '${'ab'.repeat(40)}', mappingSize: 3, hashSlot: false } }`);
  t.deepEqual(fixed.topology.toeplitz, { key: Array.from({ length: 40 }, () => 0xab), mappingSize: 3, hashSlot: false });
});

test('defaults - resolved keeps a packet rate as a packet rate', (t) => {
  const s = compile('traffic:\n  - rate: 1.5Mpps\n');
  t.is((s.resolved['traffic'] as { rate: string }[])[0]?.rate, '1.5Mpps');
});

test("defaults - dom0 vCPUs: NIC queue q on vCPU q mod n, worker k on (nicQueues + k) mod n, EEVDF's base slice for n, Linux's softirq limits; shared vCPUs are accepted in a live run with one process per domain", (t) => {
  const s = compile('topology: { nicQueues: 2, vms: { queues: 4 }, workers: 4, dom0: { vcpus: 3 } }\nlive: { processes: per-domain }\nruntime: live\n');
  t.deepEqual(s.topology.dom0, {
    vcpus: 3,
    nicVcpu: [0, 1],
    workerVcpu: [2, 0, 1, 2],
    // 0.7 ms × (1 + ilog2(3)) (kernel/sched/fair.c: sysctl_sched_base_slice, update_sysctl's scaling).
    timeslice: 1_400_000,
    softirq: { netdevBudget: 300, netdevBudgetTime: 2_000_000, maxTime: 2_000_000, maxRestart: 10, ksoftirqd: true },
  });
  t.is(s.netback.threading, 'kthread');
  t.deepEqual(compile('topology: { dom0: { vcpus: 8 } }\n').topology.dom0.timeslice, 2_800_000);
  t.deepEqual(compile('topology: { dom0: { vcpus: 64 } }\n').topology.dom0.timeslice, 2_800_000, 'the scaling counts at most 8 CPUs');
  // n = nicQueues + workers is today's layout, scheduled: every NIC queue and worker on its own vCPU.
  t.deepEqual(compile('topology: { vms: { queues: 4 }, workers: 4, dom0: { vcpus: 5 } }\n').topology.dom0.workerVcpu, [1, 2, 3, 4]);
  t.is(compile('topology: { vms: { blockAfter: 20us } }\n').topology.vms[0]?.blockAfter, 20_000);
});
