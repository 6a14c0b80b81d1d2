// Lockstep with every partition in one process over an in-memory bus: the result files are sim's, byte for byte.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSim } from '@splitnet/controller';
import { writeResults } from '@splitnet/results';
import type { RunResult } from '@splitnet/results';
import { loadScenarioFile } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';
import { MemoryBus } from '@splitnet/transport';
import { mergeEvents, runLockstepInProcess } from '../src/index.js';

const root = new URL('../../../../', import.meta.url).pathname;
const FILES = ['summary.json', 'metrics.jsonl', 'events.jsonl', 'latency.json'];

function files(r: RunResult): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-lockstep-'));
  writeResults(dir, '', {}, r);
  return Object.fromEntries(FILES.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
}

async function lockstep(s: CompiledScenario): Promise<RunResult> {
  const bus = new MemoryBus();
  return runLockstepInProcess(s, 'lockstep-test', (i) => bus.connect(`partition ${i}`));
}

const scenarios: { name: string; scenario: () => CompiledScenario }[] = [
  {
    name: 'the quickstart (one guest, 4 queues, 4 vRSS workers), 8 ms',
    scenario: () => loadScenarioFile(join(root, 'examples/quickstart.yaml'), { duration: '8ms', overrides: ['warmup=2ms'] }),
  },
  {
    name: 'three guests with 2 queues of 8 slots each, 3 vRSS workers, Poisson 64-byte frames, netback stalls, 2 ms',
    scenario: () => loadScenarioFile(join(root, 'packages/lockstep/test/fixtures/several-guests.yaml')),
  },
  {
    name: 'three hosts on one switch (one partition per host): TCP across hosts and an incast filling a switch port, 2 ms',
    scenario: () => loadScenarioFile(join(root, 'packages/lockstep/test/fixtures/three-hosts.yaml')),
  },
  {
    name: 'three hosts with host 2 paused (frames waiting in its partition), a lossy, a delayed and a flapping switch port, a worker stall and lost notifications on hosts 1 and 0 (each fault in the partition of its actor or port), an external source on a port of its own whose port is delayed, lossy and down in turn, 2 ms',
    scenario: () => loadScenarioFile(join(root, 'packages/lockstep/test/fixtures/three-hosts-faults.yaml')),
  },
  {
    name: "three hosts with faults on their actors: messages dropped, delayed, duplicated and reordered on links inside hosts 0 and 1, a guest that only receives killed beside guests that send, host 2's workers and guest killed, restarted and crash-looped, then host 2 killed and restarted (each in its host's partition), 2 ms",
    scenario: () => loadScenarioFile(join(root, 'packages/lockstep/test/fixtures/three-hosts-actor-faults.yaml')),
  },
  {
    name: "three hosts with restarts beside guests that send: a sender across the switch killed, a sender's worker restarted, a sender crash-looped, a worker killed, then a host whose guest sends killed and restarted (its NIC's flushed frames voided at the switch) and another killed for good (each in its host's partition), 2 ms",
    scenario: () => loadScenarioFile(join(root, 'packages/lockstep/test/fixtures/three-hosts-sender-faults.yaml')),
  },
  {
    name: "three hosts with restarts and host kills beside TCP and request/response connections across the switch: a stream's receiving guest restarted (its RSTs cross the fabric, the sender reconnects), the sender's worker crash-looped, an rr client killed and restarted (a new connection), a host holding the stream's receiver and an rr client killed and restarted, the sender's host killed for good (each in its host's partition), 2 ms",
    scenario: () => loadScenarioFile(join(root, 'packages/lockstep/test/fixtures/three-hosts-tcp-faults.yaml')),
  },
  {
    name: "three hosts with a host's driver domain killed beside TCP and request/response connections whose far ends are guests on another host: the stream's receiving NIC killed and restarted, an rr client's back end restarted, the stream's sending NIC crash-looped, a NIC that also holds a far end behind its wire killed and restarted (that one taken over, the crossing ones not; each in its host's partition), 2 ms",
    scenario: () => loadScenarioFile(join(root, 'packages/lockstep/test/fixtures/three-hosts-tcp-driver-domain-faults.yaml')),
  },
  {
    name: "three hosts with a host's driver domain killed alone: a sending host's NIC killed and restarted (its queued frames voided at the switch), a receiving host's back end restarted, a NIC receiving from the switch and an external source crash-looped (its port without carrier while it is dead), a NIC killed to the end (each in its host's partition, the port's side in the switch's), 2 ms",
    scenario: () => loadScenarioFile(join(root, 'packages/lockstep/test/fixtures/three-hosts-driver-domain-faults.yaml')),
  },
  {
    name: "three hosts with a host's actor cut off from its host's others (partition, then the resync): a guest sending across the switch, a worker serving senders, a driver domain receiving from the switch and an external source, a guest receiving across the switch (each in its host's partition), 2 ms",
    scenario: () => loadScenarioFile(join(root, 'packages/lockstep/test/fixtures/three-hosts-partitions.yaml')),
  },
  {
    name: 'a guest sending 4 Gbit/s to the wire through a 2 Gbit/s vif beside a stream it receives (guest-tx), 4 ms',
    scenario: () => loadScenarioFile(join(root, 'examples/guest-tx.yaml'), { duration: '4ms', overrides: ['warmup=1ms'] }),
  },
  {
    name: 'the datapath faults example (a lost event channel, a worker killed and restarted, a link flap, a corrupt ring index), its whole 60 ms',
    scenario: () => loadScenarioFile(join(root, 'examples/faults-datapath.yaml')),
  },
  {
    name: 'every fault sim takes but the message faults of the next case, on actors of every partition and links between them, 6 ms',
    scenario: () => loadScenarioFile(join(root, 'packages/lockstep/test/fixtures/faults-every-kind.yaml')),
  },
  {
    name: 'messages reordered, dropped and duplicated on links between partitions, and a guest cut off, 3 ms',
    scenario: () => loadScenarioFile(join(root, 'packages/lockstep/test/fixtures/faults-messages.yaml')),
  },
  {
    name: 'restarts beside a guest that sends (guest-tx): the sender killed, its worker restarted, the driver domain killed, 6 ms',
    scenario: () =>
      loadScenarioFile(join(root, 'examples/guest-tx.yaml'), {
        duration: '6ms',
        overrides: [
          'warmup=1ms',
          'faults=[{at: 1500us, target: vm:0, action: kill, restartAfter: 500us}, {at: 3ms, target: worker:0, action: restart}, {at: 4500us, target: nic, action: kill, restartAfter: 300us}]',
        ],
      }),
  },
  {
    name: 'partitions beside a guest that sends (guest-tx): the sender, its worker and the driver domain cut in turn, each followed by the resync, 6 ms',
    scenario: () =>
      loadScenarioFile(join(root, 'examples/guest-tx.yaml'), {
        duration: '6ms',
        overrides: [
          'warmup=1ms',
          'faults=[{at: 1500us, duration: 500us, target: vm:0, action: partition}, {at: 3ms, duration: 500us, target: worker:0, action: partition}, {at: 4500us, duration: 500us, target: nic, action: partition}]',
        ],
      }),
  },
  {
    name: "partitions guest to guest (vm-to-vm): the receiving guest, the sender's worker and the receiver's worker cut in turn, 6 ms",
    scenario: () =>
      loadScenarioFile(join(root, 'examples/vm-to-vm.yaml'), {
        duration: '6ms',
        overrides: [
          'warmup=1ms',
          'faults=[{at: 1500us, duration: 500us, target: vm:1, action: partition}, {at: 3007us, duration: 500us, target: worker:0, action: partition}, {at: 4500us, duration: 500us, target: worker:1, action: partition}]',
        ],
      }),
  },
  {
    name: 'restarts beside closed-loop traffic (tcp-bulk): its worker and the driver domain restarted at once (segments lost, fast retransmit), then the driver domain killed (the far host handed to the restarted NIC), 8 ms',
    scenario: () =>
      loadScenarioFile(join(root, 'examples/tcp-bulk.yaml'), {
        duration: '8ms',
        overrides: [
          'warmup=1ms',
          'faults=[{at: 2ms, target: worker:0, action: restart}, {at: 4ms, target: nic, action: restart}, {at: 6ms, target: backend, action: kill, restartAfter: 300us}]',
        ],
      }),
  },
  {
    name: 'restarts beside closed-loop traffic (tcp-rr): its worker crash-looped, the driver domain killed, 5 ms',
    scenario: () =>
      loadScenarioFile(join(root, 'examples/tcp-rr.yaml'), {
        duration: '5ms',
        overrides: [
          'warmup=1ms',
          'faults=[{at: 1ms, target: worker:0, action: crash-loop, restartAfter: 200us, repeat: { every: 1ms, count: 2 }}, {at: 3500us, target: nic, action: kill, restartAfter: 300us}]',
        ],
      }),
  },
  {
    name: 'a guest restart beside closed-loop traffic (tcp-bulk): the receiving guest restarted at once (RSTs, the far host reconnects), 6 ms',
    scenario: () =>
      loadScenarioFile(join(root, 'examples/tcp-bulk.yaml'), {
        duration: '6ms',
        overrides: ['warmup=1ms', 'faults=[{at: 2ms, target: vm:0, action: restart}]'],
      }),
  },
  {
    name: 'both guests of a TCP connection between guests crash-looped (tcp-vm-to-vm), 6 ms',
    scenario: () =>
      loadScenarioFile(join(root, 'examples/tcp-vm-to-vm.yaml'), {
        duration: '6ms',
        overrides: ['warmup=1ms', "faults=[{at: 2ms, target: 'vm:*', action: crash-loop, restartAfter: 200us, repeat: { every: 1500us, count: 2 }}]"],
      }),
  },
  {
    name: 'partitions beside closed-loop traffic (tcp-vm-to-vm): the receiving guest cut (its segments repaired by fast retransmit and NewReno), then its worker, 6 ms',
    scenario: () =>
      loadScenarioFile(join(root, 'examples/tcp-vm-to-vm.yaml'), {
        duration: '6ms',
        overrides: [
          'warmup=1ms',
          'faults=[{at: 1500us, duration: 300us, target: vm:1, action: partition}, {at: 3500us, duration: 300us, target: worker:1, action: partition}]',
        ],
      }),
  },
  {
    name: 'a partition beside closed-loop traffic (tcp-rr): the driver domain cut, the request and the response it took lost until the RTO, 5 ms',
    scenario: () =>
      loadScenarioFile(join(root, 'examples/tcp-rr.yaml'), {
        duration: '5ms',
        overrides: ['warmup=1ms', 'faults=[{at: 2ms, duration: 500us, target: nic, action: partition}]'],
      }),
  },
  {
    name: 'a guest sending to another guest through the bridge (vm-to-vm), 4 ms',
    scenario: () => loadScenarioFile(join(root, 'examples/vm-to-vm.yaml'), { duration: '4ms', overrides: ['warmup=1ms'] }),
  },
];

for (const c of scenarios) {
  test(`lockstep in process - ${c.name}: summary, metrics, events and latency files are byte-identical to sim's`, async (t) => {
    const s = c.scenario();
    const sim = files(runSim(s));
    const ls = files(await lockstep(s));
    for (const f of FILES) t.is(ls[f], sim[f], f);
  });
}

test('lockstep in process - the netback stalls of the three-guest scenario are in the event log, around the warm-up line as in sim', async (t) => {
  const s = (scenarios[1] as (typeof scenarios)[number]).scenario();
  const events = (await lockstep(s)).events;
  const warm = events.findIndex((e) => e.kind === 'warmup-end');
  t.true(events.slice(0, warm).some((e) => e.kind === 'netback-stall-detected'));
  t.true(events.slice(warm).some((e) => e.kind === 'netback-stall-detected'));
});

const key = (t: number, dst: number, origin: number) => ({ t, dst, origin });
const entry = (actor: string, k: ReturnType<typeof key>) => ({ t: k.t, actor, kind: 'x', detail: {}, key: k });

test('lockstep merge - entries keyed by the running maximum interleave as sim ran them, not by the key of the event that wrote them', (t) => {
  // Partition A ran (5,dst 4) then (5,dst 1), writing only in the second; B ran (5,dst 3) and wrote. Sim ran
  // A's (5,4) after B's (5,3) — so A's entry, written after that, comes after B's though its own event's key is lower.
  const merged = mergeEvents([[entry('a', key(5, 4, 0))], [entry('b', key(5, 3, 0))]]);
  t.deepEqual(
    merged.map((e) => e.actor),
    ['b', 'a'],
  );
});

test('lockstep merge - entries of one partition keep their order, and earlier times come first', (t) => {
  const merged = mergeEvents([
    [entry('a1', key(1, 0, 0)), entry('a2', key(1, 0, 0)), entry('a3', key(9, 0, 0))],
    [entry('b1', key(0, -1, 5)), entry('b2', key(4, 2, 0))],
  ]);
  t.deepEqual(
    merged.map((e) => e.actor),
    ['b1', 'a1', 'a2', 'b2', 'a3'],
  );
});
