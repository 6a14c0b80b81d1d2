// Public API of @splitnet/transport ("."): the Transport port, subjects, the wire codec, the in-memory bus and NATS authorization blocks. Nothing
// reachable from here loads the NATS client: the NATS adapter is "@splitnet/transport/nats", the server launcher
// "@splitnet/transport/nats-server".
export { isValidActorId, isValidRunId, newRunId, RUN_ID_MAX_LENGTH, SUBJECT_ROOT, Subjects } from './subjects.js';
export {
  decodeLockstepPromise,
  encodeEnvelope,
  encodeEnvelopeBody,
  encodeLockstepPromise,
  isLockstepPromise,
  encodeFrameHeader,
  EnvelopeDecoder,
  PROTOCOL_VERSION,
  MAX_SEQ_JUMP,
  REJECT_KINDS,
  WIRE_BYTES_PER_PACKET,
} from './codec.js';
export type { DecoderLimits, Envelope, EnvelopeDecoderOptions, LockstepPromise, RejectKind } from './codec.js';
export { renderAuthorization } from './nats-authorization.js';
export type { NatsUser } from './nats-authorization.js';
export { TransportError } from './transport.js';
export type {
  MessageHandler,
  RequestHandler,
  Subscription,
  Transport,
  TransportCounters,
  TransportErrorCode,
  TransportStatus,
  TransportStatusKind,
} from './transport.js';
export { DEFAULT_MAX_PAYLOAD, MemoryBus, MemoryTransport, subjectMatches } from './memory-transport.js';
export type { MemoryBusOptions } from './memory-transport.js';
