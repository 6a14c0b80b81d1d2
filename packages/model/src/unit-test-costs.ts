// The cost profile the single-actor unit tests share: round numbers, so a test can reckon its timings by hand.
import type { CostProfile } from './cost-profile.js';

/**
 * Not the tuned default (that is packages/scenario/profiles/default.yaml): 1 µs for most work items,
 * 2 µs for a virtual interrupt, nothing per byte, so that "connect notify (1 µs) + virq (2 µs)" in a
 * test's comment is the whole story. Frozen: a test that needs other numbers spreads this into its own.
 */
export const UNIT_TEST_COSTS: CostProfile = Object.freeze({
  name: 'unit-test',
  nic: Object.freeze({ irq: 1000 }),
  backend: Object.freeze({ perBatch: 100, perPacket: 100, toeplitz: 0 }),
  // A pass of up to 64 one-op frames has one flush: perPass + perFlush = 1 µs of fixed work.
  worker: Object.freeze({ perPass: 500, perFlush: 500, perPacket: 1000, perCopyOp: 500, perByte: 0, notify: 1000, timer: 500 }),
  frontend: Object.freeze({ virq: 2000, pollOverhead: 500, perPacket: 500, perByte: 0, refillPerPacket: 100, timerTick: 800, notify: 1000, wakeup: 5000 }),
  dom0: Object.freeze({ contextSwitch: 2000, wakeup: 5000 }),
  link: 0,
  tx: Object.freeze({
    guestPerPacket: 1000,
    guestPerByte: 0,
    guestPerSlot: 0,
    guestGcPerSlot: 100,
    netbackPerPoll: 500,
    netbackPerPacket: 1000,
    netbackPerMappedSlot: 0,
    deallocPerBatch: 500,
    deallocPerSlot: 100,
    nicCleanPerPacket: 100,
    nicDma: 0,
  }),
});
