// Every kind of scenario mistake gives one line: file:line:col: path: expected …, found … (or the YAML reason).
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import { loadScenarioFile } from '../src/index.js';
import type { CompileOptions } from '../src/index.js';
import { errorOf } from './helpers.js';

/** A scenario text, the one line its error must be, and the compile options when the case needs them. */
type Case = readonly [text: string, expected: string, options?: CompileOptions];

/** What is wrong (the test's title), then its cases. */
const tables: readonly (readonly [what: string, cases: readonly Case[]])[] = [
  [
    'invalid YAML names the line, column and yaml reason',
    [
      ['topology:\n  workers: [1, 2\n', 's.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
      ['seed: 1\nseed: 2\n', 's.yaml:2:1: invalid YAML: Map keys must be unique'],
      ['topology:\n\tworkers: 2\n', 's.yaml:2:1: invalid YAML: Tabs are not allowed as indentation'],
    ],
  ],
  [
    'YAML that parses but cannot be a scenario',
    [
      ['seed: 1\n---\nseed: 2\n', 's.yaml:2:1: invalid YAML: a scenario is one YAML document, but a second one starts here (---)'],
      ['seed: 1\n? [a]\n: 2\n', 's.yaml:2:3: invalid YAML: expected a plain key, found a list used as a key'],
      ['a: &a [*a]\n', 's.yaml:1:8: invalid YAML: alias *a refers to a node that contains it'],
    ],
  ],
  ['an alias without an anchor is located', [['seed: 1\nduration: *d\n', 's.yaml:2:11: invalid YAML: alias *d has no anchor &d before it']]],
  [
    'aliases to anchors are followed',
    [['duration: &d 5ms\nwarmup: *d\n', 's.yaml:2:9: warmup: expected a warm-up shorter than the duration (5ms), found "5ms"']],
  ],
  [
    'unknown key at the top level suggests the closest',
    [
      [
        'seed: 1\nnmae: x\n',
        's.yaml:2:1: unknown key "nmae" (expected one of: name, description, seed, duration, warmup, sampleInterval, runtime, live, hosts, fabric, topology, traffic, coalescing, napi, costs, netback, tx, faults; did you mean "name"?)',
      ],
    ],
  ],
  [
    'unknown key in topology points at the key',
    [
      [
        'topology:\n  wrokers: 2\n',
        's.yaml:2:3: topology: unknown key "wrokers" (expected one of: link, nicQueues, nicRingSize, vms, workers, vrss, steering, toeplitz, rss, dom0; did you mean "workers"?)',
      ],
    ],
  ],
  [
    'unknown key deep inside a flow map',
    [
      [
        'topology:\n  vms: { count: 2, ring_size: 64 }\n',
        's.yaml:2:20: topology.vms: unknown key "ring_size" (expected one of: count, queues, ringSize, blockAfter; did you mean "ringSize"?)',
      ],
    ],
  ],
  [
    'unknown key in a generator and without a close match',
    [
      [
        'traffic:\n  - rate: 1Gbps\n    colour: red\n',
        's.yaml:3:5: traffic[0]: unknown key "colour" (expected one of: name, vms, from, to, flows, rate, pattern, phase, size, protocol, ipVersion, srcPort, tcp, rr, start, stop)',
      ],
    ],
  ],
  [
    'a closed-loop generator refuses open-loop keys, udp, a guest as its own peer and a peer guest that does not exist',
    [
      [
        'traffic:\n  - tcp: {}\n    rate: 1Gbps\n',
        's.yaml:3:11: traffic[0].rate: expected no rate: (a closed-loop generator\'s rate comes from its windows), found "1Gbps"',
      ],
      [
        'traffic:\n  - rr: { request: 64 }\n    protocol: udp\n',
        's.yaml:3:15: traffic[0].protocol: expected "tcp" (a closed-loop generator runs TCP), found "udp"',
      ],
      [
        'topology: { vms: { count: 2 } }\ntraffic:\n  - tcp: {}\n    from: vm.1\n    to: vm.1\n',
        's.yaml:5:9: traffic[0].to: expected wire or another guest than vm.1, found "vm.1" (a guest does not send to itself through the bridge)',
      ],
      [
        'topology: { vms: { count: 2 } }\ntraffic:\n  - rr: {}\n    from: vm.0\n    to: vm.2\n',
        's.yaml:5:9: traffic[0].to: expected wire or vm.0 to vm.1 (topology.vms.count is 2), found "vm.2"',
      ],
      [
        'topology: { vms: { count: 2 } }\ntraffic:\n  - tcp: {}\n    from: vm.0\n    to: vm.1\n    vms: [1]\n',
        "s.yaml:6:10: traffic[0].vms: expected no vms: (a guest's frames go to `to`, not to guests), found a list of 1",
      ],
      [
        'topology: { vms: { count: 2 } }\ntraffic:\n  - tcp: {}\n    to: vm.1\n',
        's.yaml:4:9: traffic[0].to: expected no to: (frames from the wire go to the guests in vms), found "vm.1"',
      ],
      [
        'traffic:\n  - tcp: { rcvbuf: 1000 }\n',
        's.yaml:2:20: traffic[0].tcp.rcvbuf: expected at least 5792 bytes (a window of rcvbuf/2 must hold two segments of mss 1448), found 1000',
      ],
    ],
  ],
  [
    "unknown parameter of a known policy lists that policy's parameters",
    [
      [
        'coalescing:\n  frontend: { policy: static, usec: 50 }\n',
        's.yaml:2:31: coalescing.frontend: unknown key "usec" (expected one of: policy, usecs, frames, mode; did you mean "usecs"?)',
      ],
    ],
  ],
  [
    'wrong type',
    [
      ['seed: one\n', 's.yaml:1:7: seed: expected an integer from 0 to 4294967295, found "one"'],
      ['topology: 4\n', 's.yaml:1:11: topology: expected a map, found 4'],
      ['traffic: { rate: 1Gbps }\n', 's.yaml:1:10: traffic: expected a list of generators, found a map'],
      ['name: [a]\n', 's.yaml:1:7: name: expected a string, found a list of 1'],
      ['- 1\n', 's.yaml:1:1: expected a map of scenario settings (name, duration, topology, traffic, …), found a list of 1'],
    ],
  ],
  [
    'negative and zero rates',
    [
      ['traffic:\n  - rate: -2Gbps\n', 's.yaml:2:11: traffic[0].rate: expected a positive rate such as 5Gbps or 1Mpps, found "-2Gbps"'],
      ['traffic:\n  - rate: 0pps\n', 's.yaml:2:11: traffic[0].rate: expected a positive rate such as 5Gbps or 1Mpps, found "0pps"'],
      ['topology: { link: 0Gbps }\n', 's.yaml:1:19: topology.link: expected a bit rate above 0 and up to 1Tbps, such as 10Gbps, found "0Gbps"'],
    ],
  ],
  [
    'bad rate strings',
    [
      ['traffic:\n  - rate: 10GB/s\n', 's.yaml:2:11: traffic[0].rate: expected a rate such as 10Gbps, 500Mbps or 1.5Mpps, found "10GB/s"'],
      [
        'traffic:\n  - rate: 1000\n',
        's.yaml:2:11: traffic[0].rate: expected a rate such as 10Gbps, 500Mbps or 1.5Mpps, found 1000 (a bare number has no unit)',
      ],
      ['topology: { link: 1Mpps }\n', 's.yaml:1:19: topology.link: expected a bit rate such as 10Gbps or 500Mbps, found "1Mpps"'],
    ],
  ],
  [
    'bad duration strings',
    [
      ['duration: 50\n', 's.yaml:1:11: duration: expected a duration with a unit (ns, us, ms, s) such as 50ms, found 50 (a bare number has no unit)'],
      ['duration: 50 msec\n', 's.yaml:1:11: duration: expected a duration with a unit (ns, us, ms, s) such as 50ms, found "50 msec"'],
      ['duration: -5ms\n', 's.yaml:1:11: duration: expected a duration with a unit (ns, us, ms, s) such as 50ms, found "-5ms"'],
      ['duration: 0ms\n', 's.yaml:1:11: duration: expected a positive duration such as 50ms, found "0ms"'],
      ['duration: 0.5ns\n', 's.yaml:1:11: duration: expected a duration with a unit (ns, us, ms, s) such as 50ms, found "0.5ns"'],
      ['duration: 2h\n', 's.yaml:1:11: duration: expected a duration with a unit (ns, us, ms, s) such as 50ms, found "2h"'],
      ['duration: 3601s\n', 's.yaml:1:11: duration: expected a duration up to 3600s, found "3601s"'],
    ],
  ],
  [
    'warm-up must end before the run does',
    [
      ['duration: 50ms\nwarmup: 50ms\n', 's.yaml:2:9: warmup: expected a warm-up shorter than the duration (50ms), found "50ms"'],
      ['duration: 50ms\nwarmup: 1s\n', 's.yaml:2:9: warmup: expected a warm-up shorter than the duration (50ms), found "1s"'],
    ],
  ],
  [
    'sample interval bounds',
    [
      ['duration: 1ms\nsampleInterval: 2ms\n', 's.yaml:2:17: sampleInterval: expected at most the duration (1ms), found "2ms"'],
      ['duration: 1s\nsampleInterval: 1us\n', 's.yaml:2:17: sampleInterval: expected at least 10us (at most 100000 samples per run), found "1us"'],
    ],
  ],
  [
    'ring size must be a power of two',
    [
      ['topology:\n  vms:\n    ringSize: 100\n', 's.yaml:3:15: topology.vms.ringSize: expected a power of two from 4 to 32768, found 100'],
      ['topology:\n  vms: { ringSize: 65536 }\n', 's.yaml:2:20: topology.vms.ringSize: expected a power of two from 4 to 32768, found 65536'],
    ],
  ],
  [
    'out-of-range values',
    [
      ['seed: -1\n', 's.yaml:1:7: seed: expected an integer from 0 to 4294967295, found -1'],
      // One rule with --seed: a u32, like the seeds a sweep derives.
      ['seed: 4294967296\n', 's.yaml:1:7: seed: expected an integer from 0 to 4294967295, found 4294967296'],
      ['name: x\n', '--set seed=99999999999: seed: expected an integer from 0 to 4294967295, found 99999999999', { overrides: ['seed=99999999999'] }],
      ['topology: { vms: { count: 0 } }\n', 's.yaml:1:27: topology.vms.count: expected an integer from 1 to 256, found 0'],
      ['topology: { workers: 65 }\n', 's.yaml:1:22: topology.workers: expected an integer from 1 to 64, found 65'],
      ['topology: { nicQueues: 1.5 }\n', 's.yaml:1:24: topology.nicQueues: expected an integer from 1 to 64, found 1.5'],
      ['netback: { rxQueueBytes: 0 }\n', 's.yaml:1:26: netback.rxQueueBytes: expected an integer from 1 to 1073741824 bytes, found 0'],
      [
        'topology: { steering: toeplitz, toeplitz: { mappingSize: 129 } }\n',
        's.yaml:1:58: topology.toeplitz.mappingSize: expected an integer from 1 to 128, found 129',
      ],
      ['napi: { budget: 0 }\n', 's.yaml:1:17: napi.budget: expected an integer from 1 to 4096 packets, found 0'],
      ['traffic:\n  - flows: 0\n', 's.yaml:2:12: traffic[0].flows: expected an integer from 1 to 65535, found 0'],
      [
        'coalescing: { backend: { policy: aic, bufferFraction: 1.5 } }\n',
        's.yaml:1:55: coalescing.backend.bufferFraction: expected a number > 0 and ≤ 1, found 1.5',
      ],
      ['coalescing: { backend: { policy: static, usecs: -1 } }\n', 's.yaml:1:49: coalescing.backend.usecs: expected a number from 0 to 1000000 (µs), found -1'],
    ],
  ],
  [
    'bad enum values list the allowed ones',
    [
      [
        'topology: { vrss: perflow }\n',
        's.yaml:1:19: topology.vrss: expected one of "single", "per-vif" or "per-flow", found "perflow" (did you mean "per-flow"?)',
      ],
      [
        'topology: { steering: toeplits }\n',
        's.yaml:1:23: topology.steering: expected one of "rx-queue", "flow-hash" or "toeplitz", found "toeplits" (did you mean "toeplitz"?)',
      ],
      ['netback: { qdisc: fq_codel }\n', 's.yaml:1:19: netback.qdisc: expected one of "fq-codel" or "pfifo-fast", found "fq_codel" (did you mean "fq-codel"?)'],
      ['traffic:\n  - protocol: sctp\n', 's.yaml:2:15: traffic[0].protocol: expected one of "tcp" or "udp", found "sctp"'],
      ['traffic:\n  - ipVersion: 5\n', 's.yaml:2:16: traffic[0].ipVersion: expected 4 or 6, found 5'],
      ['traffic:\n  - pattern: bursty\n', 's.yaml:2:14: traffic[0].pattern: expected one of "constant" or "poisson", found "bursty"'],
      ['coalescing: { nic: adaptive }\n', 's.yaml:1:20: coalescing.nic: expected one of "none", "static", "adaptive-itr", "aic" or "vic", found "adaptive"'],
      [
        'coalescing:\n  nic: { usecs: 5 }\n',
        's.yaml:2:8: coalescing.nic.policy: expected one of "none", "static", "adaptive-itr", "aic" or "vic", found nothing',
      ],
    ],
  ],
  [
    'runtimes other than sim, live and lockstep',
    [
      ['runtime: fast\n', 's.yaml:1:10: runtime: expected one of "sim", "live" or "lockstep", found "fast"'],
      ['runtime: Live\n', 's.yaml:1:10: runtime: expected one of "sim", "live" or "lockstep", found "Live" (did you mean "live"?)'],
      ['runtime: lock-step\n', 's.yaml:1:10: runtime: expected one of "sim", "live" or "lockstep", found "lock-step" (did you mean "lockstep"?)'],
    ],
  ],
  [
    'traffic VM index out of range',
    [
      [
        'topology: { vms: { count: 4 } }\ntraffic:\n  - vms: [0, 2, 4]\n',
        's.yaml:3:17: traffic[0].vms[2]: expected a VM index from 0 to 3 (topology.vms.count is 4), found 4',
      ],
      ['traffic:\n  - vms: 1\n', 's.yaml:2:10: traffic[0].vms: expected a VM index from 0 to 0 (topology.vms.count is 1), found 1'],
      ['topology: { vms: { count: 4 } }\ntraffic:\n  - vms: [1, 1]\n', 's.yaml:3:14: traffic[0].vms[1]: expected each VM once, found 1 (VM 1 is listed twice)'],
      ['traffic:\n  - vms: some\n', 's.yaml:2:10: traffic[0].vms: expected "all", a VM index or a list of VM indexes, found "some"'],
      ['traffic:\n  - vms: []\n', 's.yaml:2:10: traffic[0].vms: expected "all" or a non-empty list of VM indexes, found an empty list'],
    ],
  ],
  [
    'vrss single needs one worker and one queue per VM',
    [
      [
        'topology:\n  vrss: single\n  workers: 2\n',
        's.yaml:3:12: topology.workers: expected 1 when topology.vrss is "single" (one netback thread serves every queue), found 2',
      ],
      [
        'topology:\n  vrss: single\n  vms: { queues: 2 }\n',
        's.yaml:3:18: topology.vms.queues: expected 1 when topology.vrss is "single" (a single-threaded netback serves one queue per VIF; use "per-flow" for multi-queue VMs), found 2',
      ],
    ],
  ],
  [
    'vrss per-vif needs single-queue VMs',
    [
      [
        'topology:\n  vrss: per-vif\n  vms: { count: 4, queues: 4 }\n',
        's.yaml:3:28: topology.vms.queues: expected 1 when topology.vrss is "per-vif" (per-VIF threads predate multi-queue netfront; use "per-flow" for multi-queue VMs), found 4',
      ],
    ],
  ],
  [
    'RETA size must be a power of two up to 128 and cover the queues',
    [
      ['topology: { rss: { retaSize: 256 } }\n', 's.yaml:1:30: topology.rss.retaSize: expected a power of two from 1 to 128, found 256'],
      ['topology: { rss: { retaSize: 96 } }\n', 's.yaml:1:30: topology.rss.retaSize: expected a power of two from 1 to 128, found 96'],
      [
        'topology: { rss: { retaSize: 4 }, vms: { queues: 8 } }\n',
        's.yaml:1:50: topology.vms.queues: expected at most 4 queues (the RETA has 4 entries), found 8',
      ],
    ],
  ],
  [
    'vms.queues as a list: one entry per VM, each entry checked and named',
    [
      ['topology:\n  vms: { count: 2, queues: [1, 2, 3] }\n', 's.yaml:2:28: topology.vms.queues: expected one entry per VM, found 3 entries for vms.count 2'],
      [
        'topology:\n  vms: { count: 2, queues: [1, 2] }\n',
        's.yaml:2:28: topology.vms.queues: expected one entry per VM, found 2 entries for vms.count 3 (with --set topology.vms.count=3)',
        { overrides: ['topology.vms.count=3'] },
      ],
      [
        'topology:\n  vms: { count: 2, queues: [1, 0] }\n',
        's.yaml:2:32: topology.vms.queues[1]: expected an integer from 1 to 64 (the queues of VM 1), found 0',
      ],
      [
        'topology:\n  vms: { count: 2, queues: [1, ~] }\n',
        's.yaml:2:32: topology.vms.queues[1]: expected an integer from 1 to 64 (the queues of VM 1), found nothing',
      ],
      [
        'topology:\n  vms: { queues: two }\n',
        's.yaml:2:18: topology.vms.queues: expected an integer from 1 to 64, or a list of them (one per VM), found "two"',
      ],
      [
        'topology:\n  vrss: per-vif\n  vms: { count: 2, queues: [1, 2] }\n',
        's.yaml:3:32: topology.vms.queues[1]: expected 1 when topology.vrss is "per-vif" (per-VIF threads predate multi-queue netfront; use "per-flow" for multi-queue VMs), found 2',
      ],
      [
        'topology: { rss: { retaSize: 4 }, vms: { count: 2, queues: [8, 1] } }\n',
        's.yaml:1:61: topology.vms.queues[0]: expected at most 4 queues (the RETA has 4 entries), found 8',
      ],
    ],
  ],
  [
    'RSS key must be 40 bytes of hex',
    [
      [
        'topology: { rss: { key: "6d5a:56da" } }\n',
        's.yaml:1:25: topology.rss.key: expected a 40-byte key as 80 hex digits (colons and spaces allowed), found "6d5a:56da" (8 hex digits)',
      ],
      [
        'topology: { rss: { key: "zz" } }\n',
        's.yaml:1:25: topology.rss.key: expected a 40-byte key as 80 hex digits (colons and spaces allowed), found "zz" (not hex)',
      ],
    ],
  ],
  [
    'toeplitz settings only with steering: toeplitz, and its key is 40 bytes of hex or seeded',
    [
      [
        'topology: { toeplitz: { hashSlot: false } }\n',
        's.yaml:1:23: topology.toeplitz: expected no toeplitz settings unless topology.steering is "toeplitz", found steering "rx-queue" (drop them, or --set topology.toeplitz=null)',
      ],
      [
        'topology: { steering: flow-hash, toeplitz: { mappingSize: 64 } }\n',
        's.yaml:1:44: topology.toeplitz: expected no toeplitz settings unless topology.steering is "toeplitz", found steering "flow-hash" (drop them, or --set topology.toeplitz=null)',
      ],
      [
        'topology: { steering: toeplitz, toeplitz: { hashSlot: false } }\n',
        's.yaml:1:43: topology.toeplitz: expected no toeplitz settings unless topology.steering is "toeplitz", found steering "flow-hash" (drop them, or --set topology.toeplitz=null) (with --set topology.steering=flow-hash)',
        { overrides: ['topology.steering=flow-hash'] },
      ],
      [
        'topology: { steering: toeplitz, toeplitz: { key: "6d5a56da" } }\n',
        's.yaml:1:50: topology.toeplitz.key: expected a 40-byte key as 80 hex digits (colons and spaces allowed), found "6d5a56da" (8 hex digits)',
      ],
      ['topology: { steering: toeplitz, toeplitz: { hashSlot: 1 } }\n', 's.yaml:1:55: topology.toeplitz.hashSlot: expected true or false, found 1'],
    ],
  ],
  [
    'dom0 vCPUs: a count or dedicated, placements one per NIC queue and worker on existing vCPUs, nothing scheduled on dedicated cores, one process in a live run',
    [
      ['topology: { dom0: { vcpus: many } }\n', 's.yaml:1:28: topology.dom0.vcpus: expected "dedicated" or an integer from 1 to 256, found "many"'],
      ['topology: { dom0: { vcpus: 0 } }\n', 's.yaml:1:28: topology.dom0.vcpus: expected "dedicated" or an integer from 1 to 256, found 0'],
      [
        'topology: { dom0: { nic: [0] } }\n',
        's.yaml:1:26: topology.dom0.nic: expected no nic setting with dedicated dom0 cores (nothing is scheduled on them), found one; set topology.dom0.vcpus to a number of vCPUs',
      ],
      [
        'topology: { dom0: { vcpus: 2, workers: [0, 1] } }\n',
        's.yaml:1:40: topology.dom0.workers: expected one vCPU per worker (topology.workers: 1), found 2',
      ],
      [
        'topology: { dom0: { vcpus: 2, nic: [2] } }\n',
        's.yaml:1:37: topology.dom0.nic[0]: expected a vCPU index from 0 to 1 (topology.dom0.vcpus: 2), found 2',
      ],
      ['topology: { dom0: { vcpus: 2, softirq: { ksoftirqd: no } } }\n', 's.yaml:1:53: topology.dom0.softirq.ksoftirqd: expected true or false, found "no"'],
      [
        'netback: { threading: tasklet }\n',
        's.yaml:1:23: netback.threading: expected kthread with dedicated dom0 cores (nothing is scheduled on them), found tasklet; set topology.dom0.vcpus to a number of vCPUs',
      ],
      [
        'netback: { threading: tasklets }\n',
        's.yaml:1:23: netback.threading: expected one of "kthread", "kthread-rt" or "tasklet", found "tasklets" (did you mean "tasklet"?)',
      ],
      [
        'runtime: live\ntopology: { dom0: { vcpus: 2 } }\n',
        's.yaml:2:28: topology.dom0.vcpus: expected "dedicated" in a live run with one process per actor (live.processes: per-actor): shared dom0 vCPUs need the driver domain\'s actors in one process, found 2 vCPUs; set live.processes: per-domain (--processes per-domain)',
      ],
      [
        'topology: { dom0: { vcpus: 2 } }\n',
        's.yaml:1:28: topology.dom0.vcpus: expected "dedicated" in a live run with one process per actor (live.processes: per-actor): shared dom0 vCPUs need the driver domain\'s actors in one process, found 2 vCPUs; set live.processes: per-domain (--processes per-domain) (with --set runtime=live)',
        { overrides: ['runtime=live'] },
      ],
      [
        'topology: { vms: { blockAfter: sometimes } }\n',
        's.yaml:1:32: topology.vms.blockAfter: expected "never" or a duration such as 0 or 20us, found "sometimes"',
      ],
    ],
  ],
  [
    'frames shorter than 64 bytes or longer than jumbo',
    [
      [
        'traffic:\n  - size: 60\n',
        's.yaml:2:11: traffic[0].size: expected a frame size from 64 to 9018 bytes, found 60 (Ethernet frames are at least 64 bytes, FCS included)',
      ],
      [
        'traffic:\n  - size: { uniform: [40, 1518] }\n',
        's.yaml:2:23: traffic[0].size.uniform[0]: expected a frame size from 64 to 9018 bytes, found 40 (Ethernet frames are at least 64 bytes, FCS included)',
      ],
      [
        'traffic:\n  - size: 9100\n',
        's.yaml:2:11: traffic[0].size: expected a frame size from 64 to 9018 bytes, found 9100 (9018 is a 9000-byte jumbo MTU plus header and FCS)',
      ],
      ['traffic:\n  - size: { uniform: [1518, 64] }\n', 's.yaml:2:29: traffic[0].size.uniform[1]: expected a maximum ≥ the minimum (1518), found 64'],
    ],
  ],
  [
    'choice weights match the values and are positive',
    [
      [
        'traffic:\n  - size: { choice: { values: [64, 1518], weights: [1] } }\n',
        's.yaml:2:52: traffic[0].size.choice.weights: expected 2 weights (one per value), found a list of 1',
      ],
      [
        'traffic:\n  - size: { choice: { values: [64, 1518], weights: [1, 0] } }\n',
        's.yaml:2:56: traffic[0].size.choice.weights[1]: expected a positive weight, found 0',
      ],
    ],
  ],
  [
    'generator stop after start, start within the run',
    [
      ['traffic:\n  - start: 10ms\n    stop: 5ms\n', 's.yaml:3:11: traffic[0].stop: expected a stop after start (10ms), found "5ms"'],
      [
        'duration: 10ms\ntraffic:\n  - start: 10ms\n',
        's.yaml:3:12: traffic[0].start: expected a start before the end of the run (duration 10ms), found "10ms"',
      ],
    ],
  ],
  [
    'on/off periods must be positive',
    [
      [
        'traffic:\n  - pattern: { onoff: { on: 0ms, off: 1ms } }\n',
        's.yaml:2:29: traffic[0].pattern.onoff.on: expected a positive duration such as 50ms, found "0ms"',
      ],
      ['traffic:\n  - pattern: { onoff: { on: 1ms } }\n', 's.yaml:2:23: traffic[0].pattern.onoff.off: expected a positive duration such as 1ms, found nothing'],
      [
        'traffic:\n  - pattern: onoff\n',
        's.yaml:2:14: traffic[0].pattern: expected constant, poisson or { onoff: { on: <duration>, off: <duration> } }, found "onoff" (onoff needs its on and off durations)',
      ],
    ],
  ],
  [
    'duplicate generator names',
    [['traffic:\n  - name: a\n  - name: a\n', 's.yaml:3:11: traffic[1].name: expected a name no other generator uses, found "a" (traffic[0] has it)']],
  ],
  [
    'static coalescing needs a bound',
    [
      [
        'coalescing:\n  frontend: static\n',
        's.yaml:2:13: coalescing.frontend: expected a map for "static", which needs its limits, e.g. { policy: static, usecs: 50, frames: 32 }, found "static"',
      ],
      [
        'coalescing:\n  frontend: { policy: static }\n',
        's.yaml:2:13: coalescing.frontend: expected usecs > 0 and/or frames > 0 for a static policy, e.g. { policy: static, usecs: 50, frames: 32 }, found neither',
      ],
      [
        'coalescing:\n  frontend: { policy: static, usecs: 0 }\n',
        's.yaml:2:38: coalescing.frontend.usecs: expected usecs > 0 and/or frames > 0 for a static policy, e.g. { policy: static, usecs: 50, frames: 32 }, found 0 (with no bound at all it would never interrupt)',
      ],
    ],
  ],
  [
    "a static policy's mode: a throttle on the NIC by default, a timer elsewhere",
    [
      [
        'coalescing:\n  nic: { policy: static, usecs: 50, frames: 8 }\n',
        "s.yaml:2:45: coalescing.nic.frames: expected no frames with mode throttle, found 8 (a static policy on the NIC is a throttle unless it says mode: timer, and Intel's EITR has no frame count: ixgbe ignores rx-frames; write mode: timer for a frame bound)",
      ],
      [
        'coalescing:\n  nic: { policy: static, mode: throttle, frames: 8 }\n',
        "s.yaml:2:50: coalescing.nic.frames: expected no frames with mode throttle, found 8 (Intel's EITR has no frame count: ixgbe ignores rx-frames; write mode: timer for a frame bound)",
      ],
      [
        'coalescing:\n  nic: { policy: static, usecs: 0 }\n',
        's.yaml:2:33: coalescing.nic.usecs: expected usecs > 0 for a throttle, e.g. { policy: static, usecs: 50 }, found 0 (a throttle without a gap is no moderation: write nic: none)',
      ],
      [
        'coalescing:\n  backend: { policy: static, usecs: 50, mode: throttle }\n',
        's.yaml:2:47: coalescing.backend.mode: expected "timer", found "throttle" (a throttle, a minimum gap between interrupts, is the NIC\'s Intel EITR; backend coalescing counts from the first pending completion)',
      ],
      [
        'coalescing:\n  nic: { policy: static, usecs: 50, mode: throttled }\n',
        's.yaml:2:43: coalescing.nic.mode: expected one of "throttle" or "timer", found "throttled" (did you mean "throttle"?)',
      ],
    ],
  ],
  [
    'policy parameters in the wrong order of magnitude',
    [
      [
        'coalescing:\n  nic: { policy: adaptive-itr, bulkRate: 50000 }\n',
        's.yaml:2:42: coalescing.nic.bulkRate: expected at most lowLatencyRate (20000), found 50000',
      ],
      [
        'coalescing:\n  nic: { policy: aic, minUsecs: 100, maxUsecs: 50 }\n',
        's.yaml:2:48: coalescing.nic.maxUsecs: expected at least minUsecs (100), found 50',
      ],
    ],
  ],
  [
    'cost overrides are validated like profiles',
    [
      [
        'costs:\n  override: { worker: { perPacket: -3 } }\n',
        's.yaml:2:36: costs.override.worker.perPacket: expected a number from 0 to 1000000000 (ns), found -3',
      ],
      [
        'costs:\n  override: { wrker: { perPacket: 3 } }\n',
        's.yaml:2:15: costs.override: unknown key "wrker" (expected one of: nic, backend, worker, frontend, dom0, tx, link; did you mean "worker"?)',
      ],
      ['costs: fast\n', 's.yaml:1:8: costs: expected a built-in profile (default) or a path to a .yaml file, found "fast" (no such profile)'],
      [
        'costs: defualt\n',
        's.yaml:1:8: costs: expected a built-in profile (default) or a path to a .yaml file, found "defualt" (no such profile; did you mean "default"?)',
      ],
      [
        'costs: { profil: default }\n',
        's.yaml:1:10: costs: unknown key "profil" (expected one of: name, description, nic, backend, worker, frontend, dom0, tx, link, profile, override; did you mean "profile"?)',
      ],
    ],
  ],
];

for (const [what, cases] of tables) {
  test(`errors - ${what}`, (t) => {
    for (const [text, expected, options] of cases) t.is(errorOf(t, text, options), expected, text);
  });
}

const emptyFiles: [string, string][] = [
  ['a 0-byte file', ''],
  ['only whitespace', '  \n\n\t\n'],
  ['only comments', '# the topology, later\n\n# and the traffic\n'],
];

for (const [what, text] of emptyFiles) {
  test(`errors - a scenario file with ${what} is refused as empty, naming the file`, (t) => {
    const file = join(mkdtempSync(join(tmpdir(), 'splitnet-empty-')), 'empty.yaml');
    writeFileSync(file, text);
    const err = t.throws(() => loadScenarioFile(file), { instanceOf: SplitnetError });
    t.is(err?.code, 'E_SCENARIO');
    t.is(
      err?.message,
      `${file}: the scenario file is empty (no settings, only whitespace or comments); write at least one setting such as "name: my-run", or "{}" to run with every default (docs/scenario-reference.md)`,
    );
  });
}

test('errors - a scenario file of "{}" is every default, not empty', (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'splitnet-empty-')), 'defaults.yaml');
  writeFileSync(file, '{}\n');
  t.is(loadScenarioFile(file).name, 'defaults');
});
