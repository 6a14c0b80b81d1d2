// The Transport port over a NATS connection (@nats-io/transport-node): the only place splitnet touches the NATS client.

import { SplitnetError } from '@splitnet/model';
import {
  AuthorizationError,
  ClosedConnectionError,
  DrainingConnectionError,
  InvalidArgumentError,
  InvalidSubjectError,
  RequestError,
  TimeoutError,
  connect,
} from '@nats-io/transport-node';
import type { Msg, NatsConnection, Subscription as NatsSubscription, NodeConnectionOptions, Status } from '@nats-io/transport-node';
import {
  TransportError,
  assertPublishSubject,
  assertRequestTimeout,
  assertSubscribeSubject,
  emitTransportStatus,
  newTransportCounters,
  subjectProblem,
  transportErrorDetail,
} from './transport.js';
import type { MessageHandler, RequestHandler, Subscription, Transport, TransportCounters, TransportStatus } from './transport.js';

export interface NatsTransportOptions {
  /**
   * One URL or several (a cluster; also as one comma-separated string): `nats://host:port`,
   * `tls://host:port` (TLS required: a server without TLS is refused, never used in plaintext) or `host:port`.
   */
  servers: string | readonly string[];
  /** Client name shown by the server's monitoring (use the actor id). */
  name: string;
  user?: string;
  pass?: string;
  token?: string;
  /** Reconnect attempts per server before giving up and closing; -1 (default) never gives up. */
  maxReconnectAttempts?: number;
  /** Wait between reconnect attempts to one server (client default 2000 ms, plus up to 100 ms jitter). */
  reconnectTimeWaitMs?: number;
  /** Client PING period; two unanswered PINGs mark the connection stale (client default 2 min). */
  pingIntervalMs?: number;
  /** Time allowed for the initial TCP connect and NATS handshake (client default 20 s). */
  connectTimeoutMs?: number;
  /**
   * Payload bytes kept while disconnected and sent after the reconnect (default 8 MiB, as the Go
   * client's ReconnectBufSize); beyond it publishes are dropped and counted. 0: drop and count all.
   */
  reconnectBufferBytes?: number;
  /**
   * PEM file of the certificate authority that signed the servers' certificates (a private CA), trusted in
   * addition to the system's. Implies TLS, like a `tls://` URL.
   */
  caFile?: string;
  /**
   * Where this client's request replies arrive (default `_INBOX`): a server that gives each user its own reply
   * prefix (`_INBOX.<user>`) lets no one else read them.
   */
  inboxPrefix?: string;
}

/** Options after validation: every value checked, defaults applied, frozen. */
export interface CompiledNatsOptions {
  readonly servers: readonly string[];
  readonly name: string;
  readonly user: string | undefined;
  readonly pass: string | undefined;
  readonly token: string | undefined;
  readonly maxReconnectAttempts: number;
  readonly reconnectTimeWaitMs: number | undefined;
  readonly pingIntervalMs: number | undefined;
  readonly connectTimeoutMs: number | undefined;
  readonly reconnectBufferBytes: number;
  /** TLS is required (a `tls://` URL or a CA given); the server's certificate is verified. */
  readonly tls: boolean;
  readonly caFile: string | undefined;
  readonly inboxPrefix: string | undefined;
}

export const DEFAULT_RECONNECT_BUFFER_BYTES = 8 * 1024 * 1024;

function usage(message: string): SplitnetError {
  return new SplitnetError('E_USAGE', `NATS transport: ${message}`);
}

function optionalMs(value: number | undefined, what: string, allowZero: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw usage(`${what} must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds, got ${String(value)}`);
  }
  return value;
}

/** Validate and complete the options before any I/O; throws `SplitnetError('E_USAGE')`. */
export function compileNatsOptions(opts: NatsTransportOptions): CompiledNatsOptions {
  // A comma-separated string is a list, as written in a scenario's live.nats or given to --nats.
  const servers = (typeof opts.servers === 'string' ? [opts.servers] : [...opts.servers]).flatMap((s) =>
    typeof s === 'string' && s.includes(',') ? s.split(',').map((x) => x.trim()) : [s],
  );
  if (servers.length === 0) throw usage('servers must name at least one NATS server URL');
  for (const s of servers) {
    if (typeof s !== 'string' || s.trim() === '' || /\s/.test(s)) {
      throw usage(`servers must be URLs like nats://127.0.0.1:4222, got '${String(s)}'`);
    }
  }
  if (typeof opts.name !== 'string' || opts.name.trim() === '') throw usage('name must be a non-empty string (the client name, e.g. the actor id)');
  if ((opts.user === undefined) !== (opts.pass === undefined)) throw usage('user and pass must be given together');
  if (opts.token !== undefined && opts.user !== undefined) throw usage('token and user/pass are mutually exclusive');
  const reconnectBufferBytes = opts.reconnectBufferBytes ?? DEFAULT_RECONNECT_BUFFER_BYTES;
  if (!Number.isInteger(reconnectBufferBytes) || reconnectBufferBytes < 0) {
    throw usage(`reconnectBufferBytes must be a non-negative integer, got ${String(opts.reconnectBufferBytes)}`);
  }
  const maxReconnectAttempts = opts.maxReconnectAttempts ?? -1;
  if (!Number.isInteger(maxReconnectAttempts) || maxReconnectAttempts < -1) {
    throw usage(`maxReconnectAttempts must be an integer >= -1 (-1: unlimited), got ${String(opts.maxReconnectAttempts)}`);
  }
  if (opts.caFile !== undefined && (typeof opts.caFile !== 'string' || opts.caFile.trim() === '')) throw usage('caFile must name a PEM file');
  if (opts.inboxPrefix !== undefined && (typeof opts.inboxPrefix !== 'string' || subjectProblem(opts.inboxPrefix, false) !== undefined)) {
    throw usage(`inboxPrefix must be a subject without wildcards, got '${String(opts.inboxPrefix)}'`);
  }
  // One tls:// URL requires TLS of every server in the list: the client never falls back to plaintext.
  const tlsUrls = servers.filter((s) => /^tls:\/\//i.test(s)).length;
  return Object.freeze({
    servers: Object.freeze(servers),
    name: opts.name,
    user: opts.user,
    pass: opts.pass,
    token: opts.token,
    maxReconnectAttempts,
    reconnectTimeWaitMs: optionalMs(opts.reconnectTimeWaitMs, 'reconnectTimeWaitMs', true),
    pingIntervalMs: optionalMs(opts.pingIntervalMs, 'pingIntervalMs', false),
    connectTimeoutMs: optionalMs(opts.connectTimeoutMs, 'connectTimeoutMs', false),
    reconnectBufferBytes,
    tls: tlsUrls > 0 || opts.caFile !== undefined,
    caFile: opts.caFile,
    inboxPrefix: opts.inboxPrefix,
  });
}

/** `host:port` → `nats://host:port`, for messages. */
function displayUrl(server: string): string {
  return server.includes('://') ? server : `nats://${server}`;
}

function toClientOptions(o: CompiledNatsOptions): NodeConnectionOptions {
  const c: NodeConnectionOptions = {
    servers: [...o.servers],
    name: o.name,
    maxReconnectAttempts: o.maxReconnectAttempts,
  };
  if (o.user !== undefined) c.user = o.user;
  if (o.pass !== undefined) c.pass = o.pass;
  if (o.token !== undefined) c.token = o.token;
  if (o.reconnectTimeWaitMs !== undefined) c.reconnectTimeWait = o.reconnectTimeWaitMs;
  if (o.pingIntervalMs !== undefined) c.pingInterval = o.pingIntervalMs;
  if (o.connectTimeoutMs !== undefined) c.timeout = o.connectTimeoutMs;
  if (o.inboxPrefix !== undefined) c.inboxPrefix = o.inboxPrefix;
  // An object (even empty) makes the client require TLS and verify the server's certificate; the client
  // reads the CA file itself (a missing file is a connect error naming it).
  if (o.tls) c.tls = o.caFile !== undefined ? { caFile: o.caFile } : {};
  return c;
}

/**
 * Connect to NATS. Rejects with `SplitnetError('E_USAGE')` for bad options (before any I/O) and
 * `TransportError('E_CONNECT')` when no server can be reached or the credentials are refused.
 */
export async function connectNats(opts: NatsTransportOptions): Promise<NatsTransport> {
  const compiled = compileNatsOptions(opts);
  const where = compiled.servers.map(displayUrl).join(', ');
  let nc: NatsConnection;
  try {
    nc = await connect(toClientOptions(compiled));
  } catch (err) {
    if (err instanceof AuthorizationError) {
      throw new TransportError('E_CONNECT', `NATS at ${where} refused the credentials: ${transportErrorDetail(err)}`, { cause: err });
    }
    const reason = connectReason(err);
    // Reachable, but TLS failed: a certificate the client does not trust, or no TLS where it was required.
    if (/certificate/i.test(reason)) {
      throw new TransportError(
        'E_CONNECT',
        `TLS with NATS at ${where} failed: ${reason}${compiled.caFile === undefined ? ' (for a private CA, give its certificate file)' : ''}`,
        { cause: err },
      );
    }
    if (/support 'tls'/.test(reason)) {
      throw new TransportError('E_CONNECT', `TLS with NATS at ${where} failed: the server does not offer TLS (required by a tls:// URL or a CA file)`, {
        cause: err,
      });
    }
    throw new TransportError('E_CONNECT', `cannot reach NATS at ${where}: ${reason}`, { cause: err });
  }
  return new NatsTransport(nc, compiled);
}

function connectReason(err: unknown): string {
  // The client's own message is terse ("connection refused"); the socket error says where.
  if (err instanceof Error && err.cause instanceof Error) return err.cause.message;
  return transportErrorDetail(err);
}

function isClosedOrDraining(err: unknown): boolean {
  return err instanceof ClosedConnectionError || err instanceof DrainingConnectionError;
}

/**
 * A Transport over one NATS connection. Subscriptions use callbacks, not async iterators (PERF.md:
 * 14 % faster, ~60 % less subscriber CPU). Every client status event that matters is turned into a
 * `TransportStatus` and a counter; none is swallowed.
 *
 * Publishing while disconnected: nats.js v3 does NOT keep what is published during an outage (its
 * outbound buffer is reset when it dials again), so this class keeps its own reconnect buffer, from
 * the 'disconnect' status to the 'reconnect' status, and sends it, in order, once the client has
 * re-subscribed. Messages handed to the client in the instant between the socket closing and the
 * status arriving, or written but not yet read by a dying server, are lost: NATS is at-most-once.
 *
 * Slow consumers: with callback subscriptions the client never queues messages, so it cannot detect
 * one; the server does, and closes the connection without telling the client why. Here that shows
 * as a 'disconnect' (then 'reconnect'); the server's log names it (`NatsServerHandle.slowConsumers`).
 */
export class NatsTransport implements Transport {
  readonly name = 'nats';
  readonly counters: TransportCounters = newTransportCounters();
  private readonly listeners = new Set<(s: TransportStatus) => void>();
  private closed = false;
  private draining: Promise<void> | undefined;
  private readonly where: string;
  // The reconnect buffer (see the class doc): parallel arrays, payload bytes, one overflow report per outage.
  private disconnected = false;
  private backlogSubjects: string[] = [];
  private backlogData: Uint8Array[] = [];
  private backlogBytes = 0;
  private overflowReported = false;

  /** Use `connectNats()`. */
  constructor(
    private readonly nc: NatsConnection,
    readonly options: CompiledNatsOptions,
  ) {
    this.where = options.servers.map(displayUrl).join(', ');
    this.watchStatus().catch((err: unknown) => {
      this.emit({ kind: 'error', detail: `status watcher failed: ${transportErrorDetail(err)}` });
    });
    void nc.closed().then(
      (err) => this.markClosed(err instanceof Error ? `connection closed: ${transportErrorDetail(err)}` : 'connection closed'),
      (err: unknown) => this.markClosed(`connection closed: ${transportErrorDetail(err)}`),
    );
  }

  /** The server currently connected to (`host:port`), for logs. */
  get server(): string {
    return this.nc.getServer();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  publish(subject: string, data: Uint8Array): void {
    // Own flag first: after close, counting is cheaper than letting the client build an exception per message.
    if (this.closed) {
      this.counters.publishFailed++;
      return;
    }
    if (subjectProblem(subject, false) !== undefined) assertPublishSubject(subject);
    if (this.disconnected) {
      this.hold(subject, data);
      return;
    }
    try {
      this.nc.publish(subject, data);
    } catch (err) {
      if (isClosedOrDraining(err)) {
        this.counters.publishFailed++;
        return;
      }
      throw this.usageError(`cannot publish on '${subject}'`, err);
    }
    this.counters.published++;
  }

  subscribe(subject: string, handler: MessageHandler): Subscription {
    assertSubscribeSubject(subject);
    // A subject without wildcards is the subject of every message: skip decoding it per message.
    const literal = !subject.includes('*') && !subject.includes('>');
    const counters = this.counters;
    return this.addSubscription(subject, 'subscribe', (err, msg) => {
      if (err !== null) {
        this.emit({ kind: 'error', detail: `subscription '${subject}' failed: ${transportErrorDetail(err)}` });
        return;
      }
      counters.received++;
      try {
        handler(msg.data, literal ? subject : msg.subject);
      } catch (e) {
        // Throwing into the client's parser would stop it reading the socket: report instead.
        this.emit({ kind: 'error', detail: `handler for '${subject}' threw: ${transportErrorDetail(e)}` });
      }
    });
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    assertPublishSubject(subject);
    assertRequestTimeout(timeoutMs);
    if (this.closed) throw new TransportError('E_CLOSED', `cannot request on '${subject}': NATS connection to ${this.where} is closed`);
    try {
      const reply = await this.nc.request(subject, data, { timeout: timeoutMs });
      return reply.data;
    } catch (err) {
      throw this.requestError(subject, timeoutMs, err);
    }
  }

  respond(subject: string, handler: RequestHandler): Subscription {
    assertSubscribeSubject(subject);
    return this.addSubscription(subject, 'respond', (err, msg) => {
      if (err !== null) {
        this.emit({ kind: 'error', detail: `responder on '${subject}' failed: ${transportErrorDetail(err)}` });
        return;
      }
      let result: Uint8Array | Promise<Uint8Array>;
      try {
        result = handler(msg.data);
      } catch (e) {
        this.emit({ kind: 'error', detail: `responder on '${subject}' threw: ${transportErrorDetail(e)}` });
        return;
      }
      if (result instanceof Uint8Array) {
        this.reply(subject, msg, result);
      } else {
        void result.then(
          (bytes) => this.reply(subject, msg, bytes),
          (e: unknown) => this.emit({ kind: 'error', detail: `responder on '${subject}' failed: ${transportErrorDetail(e)}` }),
        );
      }
    });
  }

  async flush(): Promise<void> {
    if (this.closed) throw new TransportError('E_CLOSED', `cannot flush: NATS connection to ${this.where} is closed`);
    try {
      await this.nc.flush();
    } catch (err) {
      throw new TransportError('E_CLOSED', `flush failed: ${transportErrorDetail(err)}`, { cause: err });
    }
  }

  drain(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.draining === undefined) {
      this.draining = this.nc.drain().then(
        () => this.markClosed('connection drained and closed'),
        (err: unknown) => {
          // Already closed underneath us (server gone and reconnects exhausted): nothing left to drain.
          if (this.nc.isClosed()) return this.markClosed('connection closed');
          throw new TransportError('E_CLOSED', `drain failed: ${transportErrorDetail(err)}`, { cause: err });
        },
      );
    }
    return this.draining;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.nc.close();
    this.markClosed('connection closed');
  }

  onStatus(listener: (s: TransportStatus) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private hold(subject: string, data: Uint8Array): void {
    if (this.backlogBytes + data.length > this.options.reconnectBufferBytes) {
      this.counters.publishFailed++;
      if (!this.overflowReported) {
        this.overflowReported = true;
        this.emit({
          kind: 'error',
          detail: `reconnect buffer full (${this.options.reconnectBufferBytes} bytes): dropping publishes until reconnected`,
        });
      }
      return;
    }
    this.backlogSubjects.push(subject);
    this.backlogData.push(data);
    this.backlogBytes += data.length;
    this.counters.published++;
  }

  /** Send what was held during the outage, in publish order. */
  private replay(): void {
    const subjects = this.backlogSubjects;
    const data = this.backlogData;
    this.clearBacklog();
    for (let i = 0; i < subjects.length; i++) {
      try {
        this.nc.publish(subjects[i] ?? '', data[i] ?? new Uint8Array(0));
      } catch {
        this.counters.publishFailed++; // closed again meanwhile
      }
    }
  }

  private clearBacklog(): void {
    this.backlogSubjects = [];
    this.backlogData = [];
    this.backlogBytes = 0;
  }

  private addSubscription(subject: string, what: string, callback: (err: Error | null, msg: Msg) => void): Subscription {
    if (this.closed) throw new TransportError('E_CLOSED', `cannot ${what} on '${subject}': NATS connection to ${this.where} is closed`);
    let sub: NatsSubscription;
    try {
      sub = this.nc.subscribe(subject, { callback });
    } catch (err) {
      if (isClosedOrDraining(err)) {
        throw new TransportError('E_CLOSED', `cannot ${what} on '${subject}': ${transportErrorDetail(err)}`, { cause: err });
      }
      throw this.usageError(`cannot ${what} on '${subject}'`, err);
    }
    return {
      unsubscribe: () => {
        if (sub.isClosed() || this.nc.isClosed()) return;
        sub.unsubscribe();
      },
    };
  }

  private reply(subject: string, msg: Msg, bytes: Uint8Array): void {
    if (msg.reply === undefined || msg.reply === '' || this.closed) return;
    try {
      msg.respond(bytes);
    } catch (err) {
      if (isClosedOrDraining(err)) return; // the requester will time out, as it would if we had crashed
      this.emit({ kind: 'error', detail: `responder on '${subject}' could not reply: ${transportErrorDetail(err)}` });
    }
  }

  private requestError(subject: string, timeoutMs: number, err: unknown): Error {
    if (err instanceof TimeoutError) {
      return new TransportError('E_TIMEOUT', `request on '${subject}' got no reply within ${timeoutMs} ms`, { cause: err });
    }
    if (err instanceof RequestError && err.isNoResponders()) {
      return new TransportError('E_NO_RESPONDERS', `no responders on '${subject}'`, { cause: err });
    }
    if (err instanceof InvalidSubjectError || err instanceof InvalidArgumentError) {
      return this.usageError(`cannot request on '${subject}'`, err);
    }
    if (isClosedOrDraining(err) || this.nc.isClosed()) {
      return new TransportError('E_CLOSED', `request on '${subject}' aborted: ${transportErrorDetail(err)}`, { cause: err });
    }
    return new TransportError('E_CONNECT', `request on '${subject}' failed: ${transportErrorDetail(err)}`, { cause: err });
  }

  private usageError(what: string, err: unknown): SplitnetError {
    return new SplitnetError('E_USAGE', `${what}: ${transportErrorDetail(err)}`, { cause: err });
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) this.onClientStatus(s);
  }

  private onClientStatus(s: Status): void {
    switch (s.type) {
      case 'disconnect':
        this.disconnected = true;
        this.overflowReported = false;
        this.counters.disconnects++;
        this.emit({ kind: 'disconnect', detail: `lost the connection to ${displayUrl(s.server)}; reconnecting` });
        break;
      case 'reconnect': {
        this.disconnected = false;
        this.counters.reconnects++;
        const held = this.backlogSubjects.length;
        this.replay();
        this.emit({ kind: 'reconnect', detail: `reconnected to ${displayUrl(s.server)}; sent ${held} messages held while disconnected` });
        break;
      }
      case 'slowConsumer':
        this.counters.slowConsumer++;
        this.emit({ kind: 'slow-consumer', detail: `subscription '${s.sub.getSubject()}' has ${s.pending} messages pending` });
        break;
      case 'error':
        this.emit({ kind: 'error', detail: `server error: ${transportErrorDetail(s.error)}` });
        break;
      case 'staleConnection':
        this.emit({ kind: 'error', detail: 'stale connection: the server stopped answering pings; reconnecting' });
        break;
      case 'ldm':
        this.emit({ kind: 'error', detail: `server ${displayUrl(s.server)} entered lame duck mode and will shut down; move to another server` });
        break;
      default:
        // reconnecting attempts, pings, cluster updates, forced reconnects, close (reported from closed()).
        break;
    }
  }

  private markClosed(detail: string): void {
    if (this.closed) return;
    this.closed = true;
    const lost = this.backlogSubjects.length;
    if (lost > 0) {
      this.counters.publishFailed += lost;
      this.clearBacklog();
      this.emit({ kind: 'error', detail: `${lost} messages held while disconnected were lost at close` });
    }
    this.emit({ kind: 'closed', detail });
  }

  private emit(status: TransportStatus): void {
    emitTransportStatus(this.listeners, status);
  }
}
