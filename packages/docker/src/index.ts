// Public API of @splitnet/docker.
export { DockerPlacement, removeByLabel, cleanupAll, LABEL_MANAGED, LABEL_RUN } from './docker-placement.js';
export type { DockerPlacementOptions, StartedPlacement, ActorRole, ContainerProcess } from './docker-placement.js';
export { DockerFaults } from './docker-faults.js';
export { PauseHolds } from './pause-holds.js';
