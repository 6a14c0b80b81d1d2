// The Transport port: what the live runtime needs from a message bus, its error type and subject rules.

import { SplitnetError } from '@splitnet/model';

/**
 * A connection to a subject-addressed message bus with NATS semantics: tokens separated by '.',
 * `*` matches one token, `>` matches one or more trailing tokens. Implementations: `MemoryTransport`
 * (one process, no broker) and `NatsTransport`.
 *
 * Bytes are passed by reference, never copied, because copying every batch twice would cost more
 * than the encoding: `publish` takes the bytes over (the NATS client keeps a reference until it
 * writes them to the socket, possibly after a reconnect), so the caller must not modify `data` after
 * the call. Bytes handed to a handler are read-only: they may be shared with other handlers of the
 * same message (memory) or be a view into a larger socket buffer (NATS); copy them to modify them.
 */
export interface Transport {
  /** Which implementation this is: 'memory' or 'nats'. */
  readonly name: string;
  /**
   * Fire and forget. Never throws because the connection is closed, draining or disconnected: while
   * disconnected messages are held and sent after the reconnect (NATS: up to a bounded buffer);
   * what cannot be sent is counted in `counters.publishFailed`.
   * Throws `SplitnetError('E_USAGE')` only for a caller bug (invalid subject, oversized payload).
   */
  publish(subject: string, data: Uint8Array): void;
  /** Deliver every message whose subject matches `subject` (wildcards `*` and `>` allowed). */
  subscribe(subject: string, handler: MessageHandler): Subscription;
  /** Control plane only (one round trip per call): first reply wins. Rejects with `TransportError`. */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** Answer requests on `subject`. A handler that throws sends no reply (the requester times out) and raises an 'error' status. */
  respond(subject: string, handler: RequestHandler): Subscription;
  /** Resolves once everything published so far has been processed by the bus. */
  flush(): Promise<void>;
  /** Graceful close: deliver what is pending to the subscriptions and send what is buffered, then close. */
  drain(): Promise<void>;
  /** Immediate close: pending requests reject with E_CLOSED, buffered outbound data may be lost. */
  close(): Promise<void>;
  /** Listen to connection events; returns the function that removes the listener. */
  onStatus(listener: (s: TransportStatus) => void): () => void;
  readonly counters: TransportCounters;
}

export type MessageHandler = (data: Uint8Array, subject: string) => void;
export type RequestHandler = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export interface Subscription {
  /** Idempotent; no message is delivered to the handler after this returns. */
  unsubscribe(): void;
}

export type TransportStatusKind = 'disconnect' | 'reconnect' | 'slow-consumer' | 'error' | 'closed';
export type TransportStatus = { kind: TransportStatusKind; detail: string };

/** Monotonic counters, mutated in place by the transport (read them, don't write them). */
export interface TransportCounters {
  /** Messages accepted by `publish` (including those buffered while disconnected). */
  published: number;
  /**
   * Messages `publish` could not accept (connection closed or draining, reconnect buffer full), plus
   * messages it held while disconnected that were lost because the connection closed first.
   */
  publishFailed: number;
  /** Messages delivered to `subscribe` handlers (not request replies). */
  received: number;
  slowConsumer: number;
  disconnects: number;
  reconnects: number;
}

export function newTransportCounters(): TransportCounters {
  return { published: 0, publishFailed: 0, received: 0, slowConsumer: 0, disconnects: 0, reconnects: 0 };
}

export type TransportErrorCode =
  /** A request got no reply in time. */
  | 'E_TIMEOUT'
  /** A request was published to a subject nobody subscribes to. */
  | 'E_NO_RESPONDERS'
  /** The operation needs an open connection and this one is closed (or closed while waiting). */
  | 'E_CLOSED'
  /** The broker could not be reached or refused the connection. */
  | 'E_CONNECT'
  /** A private nats-server could not be started (see the message for its log tail). */
  | 'E_SERVER';

/**
 * A failure of the bus itself, as opposed to a usage error (`SplitnetError('E_USAGE')`).
 * Across processes it travels as `{ code, message }` and is rebuilt from `code`.
 */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// Subject rules, shared by both implementations so a subject that works in memory works on NATS.
// Checked by scanning characters, without splitting, because publish-side checks run per message.

const DOT = 0x2e;
const STAR = 0x2a;
const GT = 0x3e;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x0b;
}

/**
 * Why `subject` is not a valid subject, or `undefined` if it is. Rules: non-empty tokens separated
 * by '.', no whitespace; with `wildcards`, a token may be exactly `*`, and the last token may be `>`.
 */
export function subjectProblem(subject: string, wildcards: boolean): string | undefined {
  const n = subject.length;
  if (n === 0) return 'is empty';
  let tokenStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? DOT : subject.charCodeAt(i);
    if (isSpace(c)) return 'contains whitespace';
    if (c !== DOT) continue;
    const len = i - tokenStart;
    if (len === 0) return 'has an empty token';
    if (len === 1) {
      const t = subject.charCodeAt(tokenStart);
      if (t === STAR && !wildcards) return "contains the wildcard '*' (only allowed when subscribing)";
      if (t === GT) {
        if (!wildcards) return "contains the wildcard '>' (only allowed when subscribing)";
        if (i !== n) return "has '>' before its last token";
      }
    }
    tokenStart = i + 1;
  }
  return undefined;
}

/** Throws `SplitnetError('E_USAGE')` unless `subject` is a valid publish subject (no wildcards). */
export function assertPublishSubject(subject: string): void {
  const problem = subjectProblem(subject, false);
  if (problem !== undefined) throw new SplitnetError('E_USAGE', `invalid publish subject '${subject}': it ${problem}`);
}

/** Throws `SplitnetError('E_USAGE')` unless `subject` is a valid subscription subject (wildcards allowed). */
export function assertSubscribeSubject(subject: string): void {
  const problem = subjectProblem(subject, true);
  if (problem !== undefined) throw new SplitnetError('E_USAGE', `invalid subscription subject '${subject}': it ${problem}`);
}

/** Throws `SplitnetError('E_USAGE')` unless `timeoutMs` is a positive finite number. */
export function assertRequestTimeout(timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new SplitnetError('E_USAGE', `request timeout must be a positive number of milliseconds, got ${String(timeoutMs)}`);
  }
}

/** A one-line description of an unknown thrown value, for status details and messages. */
export function transportErrorDetail(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error && err.cause.message !== err.message ? ` (${err.cause.message})` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

/**
 * Calls every listener with `status`. A listener that throws does not stop the others or the
 * transport; its error is rethrown from a microtask so the bug surfaces as an uncaught exception.
 */
export function emitTransportStatus(listeners: ReadonlySet<(s: TransportStatus) => void>, status: TransportStatus): void {
  for (const listener of listeners) {
    try {
      listener(status);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
