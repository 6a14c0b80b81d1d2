// The event queue's ordering key: time, then destination, then source, then the source's sequence on that link.
import test from 'ava';
import { EventQueue, originOf, originSeq, originSource } from '../src/index.js';

/** Events as [time, destination, source, seq], pushed in the order given; popped as destination/source/seq strings. */
function popOrder(events: readonly (readonly [number, number, number, number])[]): string[] {
  const q = new EventQueue();
  for (const [t, dst, src, seq] of events) q.push(t, dst, null, 0, originOf(src, seq));
  const out: string[] = [];
  while (q.size > 0) {
    const slot = q.pop();
    const o = q.slotOrigin(slot);
    out.push(`${q.slotTime(slot)}:${q.slotTarget(slot)}<${originSource(o)}#${originSeq(o)}`);
    q.release(slot);
  }
  return out;
}

const cases: { name: string; events: (readonly [number, number, number, number])[]; order: string[] }[] = [
  {
    name: 'earlier time first, whatever was pushed first',
    events: [
      [5, 0, 0, 1],
      [3, 9, 9, 1],
    ],
    order: ['3:9<9#1', '5:0<0#1'],
  },
  {
    name: 'at one time, the lower destination first',
    events: [
      [5, 7, 0, 1],
      [5, 2, 8, 1],
    ],
    order: ['5:2<8#1', '5:7<0#1'],
  },
  {
    name: 'at one time and destination, the lower source first',
    events: [
      [5, 2, 6, 1],
      [5, 2, 1, 9],
    ],
    order: ['5:2<1#9', '5:2<6#1'],
  },
  {
    name: 'on one link, in the order sent',
    events: [
      [5, 2, 1, 3],
      [5, 2, 1, 2],
      [5, 2, 1, 1],
    ],
    order: ['5:2<1#1', '5:2<1#2', '5:2<1#3'],
  },
  {
    name: 'a timer (source = the actor) among messages to it',
    events: [
      [5, 4, 4, 1],
      [5, 4, 9, 1],
      [5, 4, 0, 7],
    ],
    order: ['5:4<0#7', '5:4<4#1', '5:4<9#1'],
  },
];

for (const c of cases) {
  test(`event queue - ${c.name}`, (t) => {
    t.deepEqual(popOrder(c.events), c.order);
  });
}

test('event queue - the pop order of equal-time events does not depend on the order they were pushed in', (t) => {
  const events: [number, number, number, number][] = [];
  for (let dst = 0; dst < 4; dst++) for (let src = 0; src < 4; src++) for (let seq = 1; seq <= 3; seq++) events.push([100, dst, src, seq]);
  const forward = popOrder(events);
  const reversed = popOrder([...events].reverse());
  const shuffled = popOrder(
    events
      .map((e, i) => [e, (i * 7919) % events.length] as const)
      .sort((a, b) => a[1] - b[1])
      .map(([e]) => e),
  );
  t.deepEqual(reversed, forward);
  t.deepEqual(shuffled, forward);
});
