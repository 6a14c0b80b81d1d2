// Public API of @splitnet/worker.
export { WorkerActor } from './worker-actor.js';
export type { PassRule, QdiscKind, WorkerConfig, WorkerQueueStats, WorkerSched, ServedQueue } from './worker-actor.js';
export type { TxOrigin } from '@splitnet/model';
export { FqCodel, FQ_CODEL, PfifoFast, XENVIF_QUEUE_LENGTH } from './qdisc.js';
export type { Qdisc, QdiscDrops, QueuedPacket } from './qdisc.js';
export type { NetbackTxConfig, NetbackTxQueue, NetbackTxSched, TxCredit } from './netback-tx.js';
