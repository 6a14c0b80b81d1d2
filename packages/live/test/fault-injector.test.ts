// The live fault injector's node faults: Docker's steps on a node's containers, and the resync every process is told to do at a partition's end.
import test from 'ava';
import { buildActors } from '@splitnet/controller';
import type { Logger } from '@splitnet/model';
import { MemoryBus, Subjects } from '@splitnet/transport';
import { decodeControl, encodeControl } from '../src/control.js';
import type { ControlMessage } from '../src/control.js';
import { DilatedClock } from '../src/dilated-clock.js';
import { LiveFaultInjector } from '../src/fault-injector.js';
import { scenario, testClock } from './helpers.js';

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A node partition (1 ms to 3 ms) injected on a clock started `agoMs` before the injector: the steps in the order done, and what every process was sent. */
async function nodePartition(agoMs: number): Promise<{ order: string[]; sent: ControlMessage[] }> {
  const s = scenario(`
duration: 10ms
topology: { vms: { count: 2, queues: 1 }, workers: 2 }
traffic: [ { name: out, from: vm.1, to: wire, flows: 2, rate: 100Mbps, size: 1518, protocol: udp } ]
live: { tdf: 1 }
faults: [ { id: cut, at: 1ms, duration: 2ms, target: node:1, action: partition } ]
`);
  const order: string[] = [];
  const sent: ControlMessage[] = [];
  const clock = new DilatedClock(testClock, 1);
  const faults = new LiveFaultInjector({
    scenario: s,
    graph: buildActors(s),
    transport: new MemoryBus().connect('controller'),
    subjects: new Subjects('fi1'),
    logger: quiet,
    clock,
    processOf: () => undefined,
    sendFault: () => {},
    sendAll: (m) => {
      order.push(`sendAll ${m.kind}`);
      sent.push(m);
    },
    nodes: {
      pauseNode: async () => 'pause',
      unpauseNode: async () => 'unpause',
      disconnectNode: async (n) => (order.push(`disconnect ${n}`), 'docker network disconnect'),
      // Docker takes a while to connect the containers again: the resync waits for it.
      reconnectNode: async (n) => {
        await new Promise((r) => setTimeout(r, 20));
        order.push(`reconnect ${n}`);
        return 'docker network connect';
      },
    },
    record: () => {},
  });
  clock.start(testClock.nowMs() - agoMs);
  faults.start();
  await new Promise((r) => setTimeout(r, 100));
  faults.stop();
  return { order, sent };
}

test('fault injector - a node partition beside a guest that sends: Docker cuts the node and connects it again, then every actor process is told to resync, once, after the connect', async (t) => {
  const { order, sent } = await nodePartition(0);
  t.deepEqual(order, ['disconnect 1', 'reconnect 1', 'sendAll resync']);
  t.deepEqual(sent, [{ kind: 'resync', id: 'cut' }]);
});

test('fault injector - a step already due when the injector starts (a loaded machine) is done at once, not dropped', async (t) => {
  // The cut's start (1 ms) is 1 ms past; before the fix the injector skipped it and only connected the node again.
  const { order } = await nodePartition(2);
  t.deepEqual(order, ['disconnect 1', 'reconnect 1', 'sendAll resync']);
});

test("fault injector - the resync control message goes through the codec; one without its fault's id is refused", (t) => {
  const back = (m: unknown) => decodeControl(new TextEncoder().encode(JSON.stringify(m)));
  t.deepEqual(decodeControl(encodeControl({ kind: 'resync', id: 'cut' })), { kind: 'resync', id: 'cut' });
  t.is(back({ kind: 'resync' }), null);
  t.is(back({ kind: 'resync', id: 7 }), null);
});
