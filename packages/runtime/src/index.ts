// Public API of @splitnet/runtime.
export { SimRuntime } from './sim-runtime.js';
export type { SimOptions, RunHooks, RuntimeEvent } from './sim-runtime.js';
export { EventQueue } from './event-queue.js';
export { LiveHost, systemWallClock } from './live-host.js';
export type { LiveHostOptions, HostFinal, WallClock } from './live-host.js';
export { LinkFaults, ROUTE_DELIVER, ROUTE_DROP, ROUTE_DUPLICATE } from './link-faults.js';
export type { LinkFaultWindow, LinkFaultCounts } from './link-faults.js';
