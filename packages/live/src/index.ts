// Public API of @splitnet/live: the live runtime (hosts in dilated wall-clock time over a Transport), the controller of a live run and its Placement port, the actor-process host and the join protocol.
export { DilatedClock, systemWallClock } from './dilated-clock.js';
export type { WallClock } from './dilated-clock.js';
export { LiveHost } from './live-host.js';
export type { HostFinal, LiveHostOptions } from './live-host.js';
export { LiveDiagnostics } from './live-diagnostics.js';
export type { DiagnosticsReport, Spread } from './live-diagnostics.js';
export { runLive, scenarioProcessGroups } from './run-live.js';
export { checkLiveScenario, liveGraphOf, processIdsOf } from './live-graph.js';
export type { LiveGraph } from './live-graph.js';
export { readyTimeoutMs } from './ready-timeout.js';
export { SnapshotFeed } from './live-snapshots.js';
export type { LiveSnapshot, SnapshotSubscriber } from './live-snapshots.js';
export type { LiveOutcome, LiveRunOptions } from './run-live.js';
export { judgeLag, lagGrowing } from './collect.js';
export type { ExitGuard, NatsAccess, NatsLogin, Placement, ProcessAccess, ProcessGroup, RegistrationPolicy } from './placement.js';
export { ExternalPlacement, InProcessPlacement, ProcessesPlacement } from './local-placements.js';
export type { ExternalOptions, InProcessOptions, ProcessesOptions } from './local-placements.js';
export { privateServerAuthorization } from './run-nats.js';
export type { RunNatsOptions } from './run-nats.js';
export { connectPatiently, drainOrClose } from './nats-connect.js';
export { ControlPlane } from './control-plane.js';
export type { NatsCredentials } from './nats-connect.js';
export type { ActorHandle } from './actor-handle.js';
export { runActorProcess } from './actor-process.js';
export type { ActorProcessOptions } from './actor-process.js';
export { perActorHostsOnMemoryBus, ProcessWarmup } from './code-warmup.js';
export { continueReport, continueReports, Incarnations } from './incarnations.js';
export { awaitControllerGone, backendMaxQueues, JOIN_ROLES, joinRun, negotiateQueues, registerExternalActors, rejoinRun, sizedToJoined } from './join.js';
export type { JoinerRole, JoinEvent, JoinReply, JoinRequest, JoinRole, QueueNegotiation, Registration } from './join.js';
export { isBoxKey, sealTo } from './sealed-box.js';
export { decodeControl, encodeControl } from './control.js';
export { ActorControl, ControllerControl, formatControlSecret, newNonce, parseControlSecret } from './control-seal.js';
export type { ControlSecret } from './control-seal.js';
export {
  busUsers,
  controllerPermissions,
  deploymentConfig,
  derivedPassword,
  DEV_PASSWORDS,
  loginOf,
  joinPermissions,
  natsUserOf,
  processPermissions,
  processSlots,
  hostPartitionSlots,
  randomPassword,
} from './bus-permissions.js';
export type { BusPermissions, BusUsers, DeploymentPasswords } from './bus-permissions.js';
export type { ControlMessage, HeldFault } from './control.js';
export type { NatsServerControl, NodeFaultControl } from './fault-injector.js';
