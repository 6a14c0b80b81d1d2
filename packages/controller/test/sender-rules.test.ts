// The datapath's sender rules a live receiver applies: the role x kind matrix and the per-queue steering, case by case.
import test from 'ava';
import { takeBatch } from '@splitnet/model';
import type { Message } from '@splitnet/model';
import { buildActors } from '../src/build.js';
import { senderRulesFor } from '../src/links.js';
import { scenario } from './helpers.js';

// 2 VMs x 2 queues over 2 workers, vRSS per flow: guest queue gq = 2·vm + queue is served by worker gq mod 2, so
// worker.0 serves queue 0 of each VM and worker.1 queue 1.
const rules = senderRulesFor(
  buildActors(scenario('name: r\ntopology: { vms: { count: 2, queues: 2 }, workers: 2, vrss: per-flow }\ntraffic: [ { flows: 4, rate: 1Gbps } ]\n')),
);
const batch = takeBatch(0);

test('sender rules - what the datapath sends is taken', (t) => {
  const ok: [string, string, Message][] = [
    ['backend', 'worker.0', { kind: 'rx', vm: 1, queue: 0, batch }],
    ['backend', 'worker.1', { kind: 'rx', vm: 0, queue: 1, batch }],
    ['worker.1', 'vm.0', { kind: 'rsp', vm: 0, queue: 1, rspProd: 5, reqEvent: 1, batch }],
    ['worker.0', 'vm.1', { kind: 'evt', vm: 1, port: 0 }],
    ['worker.0', 'vm.0', { kind: 'reconnect', vm: 0, queue: 0 }],
    ['worker.1', 'vm.1', { kind: 'connected', vm: 1, queue: 1, ringAt: 0 }],
    ['vm.1', 'worker.1', { kind: 'req', vm: 1, queue: 1, reqProd: 1, rspEvent: 1, rspProdSeen: 0, notify: true }],
    ['vm.0', 'worker.0', { kind: 'ring', vm: 0, queue: 0, reqProd: 1, rspEvent: 1, rspProdSeen: 0, newRing: true, ringAt: 0 }],
    // A frame's grants go back to the sending vif queue's worker: from the driver after the NIC sent it, or guest
    // to guest from the receiving vif's worker.
    ['backend', 'worker.1', { kind: 'dealloc', vm: 0, queue: 1, frames: 1, slots: 1 }],
    ['worker.1', 'worker.0', { kind: 'dealloc', vm: 1, queue: 0, frames: 1, slots: 1 }],
  ];
  for (const [from, to, m] of ok) t.is(rules(from, to, m), undefined, `${m.kind} ${from} → ${to}`);
});

test('sender rules - what the datapath never sends is refused, with the reason', (t) => {
  const refused: [string, string, Message, RegExp][] = [
    ['nic', 'backend', { kind: 'dma', nicQueue: 0, irq: true, issuedAt: 0, batch }, /a dma never crosses the bus/],
    ['backend', 'nic', { kind: 'poll', nicQueue: 0, issuedAt: 0 }, /a poll never crosses the bus/],
    ['vm.0', 'worker.0', { kind: 'rx', vm: 0, queue: 0, batch }, /a rx goes from a backend to a worker, not from vm\.0 to worker\.0/],
    ['backend', 'worker.1', { kind: 'rx', vm: 0, queue: 0, batch }, /rx for vm\.0 queue 0 to worker\.1, which does not serve it/],
    ['worker.0', 'vm.0', { kind: 'rsp', vm: 0, queue: 1, rspProd: 5, reqEvent: 1, batch }, /a rsp of vm\.0 queue 1 from worker\.0, which does not serve it/],
    ['worker.0', 'vm.1', { kind: 'rsp', vm: 0, queue: 0, rspProd: 5, reqEvent: 1, batch }, /a rsp of vm\.0 sent to vm\.1/],
    ['worker.1', 'vm.0', { kind: 'evt', vm: 0, port: 0 }, /a evt of vm\.0 queue 0 from worker\.1/],
    ['backend', 'vm.0', { kind: 'evt', vm: 0, port: 0 }, /a evt goes from a worker to a frontend, not from backend to vm\.0/],
    ['vm.1', 'worker.0', { kind: 'req', vm: 0, queue: 0, reqProd: 1, rspEvent: 1, rspProdSeen: 0, notify: true }, /a req of vm\.0 from vm\.1/],
    [
      'vm.0',
      'worker.1',
      { kind: 'ring', vm: 0, queue: 0, reqProd: 1, rspEvent: 1, rspProdSeen: 0, newRing: false, ringAt: 0 },
      /a ring of vm\.0 queue 0 to worker\.1, which does not serve it/,
    ],
    [
      'worker.0',
      'worker.1',
      { kind: 'req', vm: 0, queue: 1, reqProd: 1, rspEvent: 1, rspProdSeen: 0, notify: true },
      /a req goes from a frontend to a worker, not from worker\.0 to worker\.1/,
    ],
    ['controller', 'vm.0', { kind: 'evt', vm: 0, port: 0 }, /not from controller to vm\.0/],
    ['worker.1', 'worker.1', { kind: 'dealloc', vm: 1, queue: 0, frames: 1, slots: 1 }, /a dealloc for vm\.1 queue 0 to worker\.1, which does not serve it/],
    [
      'vm.0',
      'worker.0',
      { kind: 'dealloc', vm: 0, queue: 0, frames: 1, slots: 1 },
      /a dealloc goes from a backend or a worker to a worker, not from vm\.0 to worker\.0/,
    ],
  ];
  for (const [from, to, m, why] of refused) t.regex(rules(from, to, m) ?? '(taken)', why, `${m.kind} ${from} → ${to}`);
});
