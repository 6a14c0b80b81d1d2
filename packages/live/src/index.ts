// Public API of @splitnet/live: the live runtime (hosts in dilated wall-clock time over a Transport), the controller of a live run, the actor-process host and the join protocol.
export { LiveHost, systemWallClock } from './live-host.js';
export type { HostFinal, LiveHostOptions, WallClock } from './live-host.js';
export { lagGrowing, runLive } from './run-live.js';
export type { LiveRunOptions } from './run-live.js';
export type { ActorHandle } from './actor-handle.js';
export { runActorProcess } from './actor-process.js';
export type { ActorProcessOptions } from './actor-process.js';
export { continueReport, continueReports, Incarnations } from './incarnations.js';
export { awaitControllerGone, backendMaxQueues, JOIN_ROLES, joinRun, negotiateQueues, registerExternalActors, rejoinRun } from './join.js';
export type { JoinEvent, JoinRole, QueueNegotiation, Registration } from './join.js';
export { decodeControl, encodeControl } from './control.js';
export type { ControlMessage, HeldFault } from './control.js';
export type { NatsServerControl, NodeFaultControl } from './fault-injector.js';
