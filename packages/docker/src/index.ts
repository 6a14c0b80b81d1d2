// Public API of @splitnet/docker: the docker placement of a live run (the live Placement port over dockerode) and of a lockstep run's partitions, its node faults, and cleanup by label.
export { DockerPlacement } from './docker-placement.js';
export type { DockerPlacementOptions } from './docker-placement.js';
export { DockerContainers, removeByLabel, cleanupAll, LABEL_MANAGED, LABEL_RUN } from './docker-containers.js';
export type { DockerContainersOptions, StartedContainers, ActorRole, ContainerProcess } from './docker-containers.js';
export { DockerFaults } from './docker-faults.js';
export { PauseHolds } from './pause-holds.js';
export { DockerPartitionPlacement } from './docker-partitions.js';
export type { DockerPartitionsOptions } from './docker-partitions.js';
