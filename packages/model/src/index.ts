// Public API of @splitnet/model: the shared pieces of the split-driver datapath model.
export * from './time.js';
export * from './u32.js';
export * from './messages.js';
export * from './actor.js';
export * from './cpu.js';
export type * from './cost-profile.js';
export * from './coalescing-types.js';
export * from './coalescing.js';
export * from './rss.js';
export * from './ip.js';
export * from './ring.js';
export * from './evtchn.js';
export * from './histogram.js';
export * from './prng.js';
export * from './traffic-types.js';
export * from './traffic.js';
export * from './errors.js';
export * from './packet-fifo.js';
