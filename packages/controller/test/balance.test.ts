// The accounting invariant and the drops a summary shows: every reason with packets is in the balance; a negative count breaks it.
import test from 'ava';
import { balance, DROP_REASONS, shownDrops } from '@splitnet/results';
import type { DropReason } from '@splitnet/results';

const none = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
const held = { nicRings: 0, links: 0, workerBacklogs: 0, guestRings: 0 };

test('balance - a drop reason with packets is shown and balanced with or without faults; the fault-only ones show as zeros only with faults', (t) => {
  const drops = { ...none, 'vif-disabled': 7, rejected: 3 };
  const shown = shownDrops(drops, false);
  t.deepEqual(Object.keys(shown), ['nic-ring-full', 'netback-queue-full', 'qdisc-overlimit', 'qdisc-congested', 'lost-in-crash', 'vif-disabled', 'rejected']);
  t.true(balance(110, 100, shown, held).balanced, 'vif-disabled and rejected drops are in the balance without faults');
  t.deepEqual(
    Object.keys(shownDrops(none, true)),
    DROP_REASONS.filter((r) => r !== 'rejected'),
  );
  t.deepEqual(Object.keys(shownDrops(none, false)), ['nic-ring-full', 'netback-queue-full', 'qdisc-overlimit', 'qdisc-congested', 'lost-in-crash']);
});

test('balance - a negative count breaks the invariant even when the sum comes out', (t) => {
  // 813 emitted = 1812 delivered + 0 dropped - 999 "in flight": forged packets, not a balance.
  const forged = balance(813, 1812, none, { ...held, links: -999 });
  t.is(forged.unaccounted, 0);
  t.false(forged.balanced);
  t.false(balance(10, 12, { ...none, rejected: -2 }, held).balanced);
  t.true(balance(10, 8, { ...none, rejected: 2 }, held).balanced);
});
