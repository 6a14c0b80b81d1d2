// Public API of @splitnet/runtime: the sim runtime (discrete-event loop in virtual time) and the pieces every runtime shares — the event queue, message-path faults and the livelock guard. The live runtime is @splitnet/live.
export { SimRuntime } from './sim-runtime.js';
export type { LogKey, PartitionOptions, SimOptions, RunHooks, RuntimeEvent } from './sim-runtime.js';
export { ArrivalOrderQueue, EventQueue, MAX_ACTORS, originOf, originSeq, originSource } from './event-queue.js';
export { LinkFaults, ROUTE_DELIVER, ROUTE_DROP, ROUTE_DUPLICATE } from './link-faults.js';
export type { LinkFaultWindow, LinkFaultCounts } from './link-faults.js';
export { MAX_EVENTS_AT_ONE_INSTANT, stuckError } from './stuck.js';
