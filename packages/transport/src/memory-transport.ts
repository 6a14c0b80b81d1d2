// An in-process message bus with NATS subject semantics (MemoryBus) and its clients (MemoryTransport).

import { SplitnetError } from '@splitnet/model';
import {
  TransportError,
  assertPublishSubject,
  assertRequestTimeout,
  assertSubscribeSubject,
  emitTransportStatus,
  newTransportCounters,
  transportErrorDetail,
} from './transport.js';
import type { MessageHandler, RequestHandler, Subscription, Transport, TransportCounters, TransportStatus } from './transport.js';

/** NATS's default max_payload; the bus enforces the same limit so a batch that fits here fits there. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Distinct subjects whose subscriber lists are memoised before the memo is reset. */
const MATCH_CACHE_LIMIT = 4096;

/**
 * True if `subject` (no wildcards) matches the subscription `pattern`: tokens split on '.', `*`
 * matches exactly one token, a final `>` matches one or more remaining tokens.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  return tokensMatch(pattern.split('.'), subject.split('.'));
}

function tokensMatch(pattern: readonly string[], subject: readonly string[]): boolean {
  const n = pattern.length;
  for (let i = 0; i < n; i++) {
    const p = pattern[i];
    if (p === '>') return subject.length > i; // one or more tail tokens
    const s = subject[i];
    if (s === undefined) return false;
    if (p !== '*' && p !== s) return false;
  }
  return subject.length === n;
}

/** A subscription as the bus sees it. `reply` is set for requests; `noResponders` only on inboxes. */
interface BusSubscription {
  readonly tokens: readonly string[];
  readonly client: MemoryTransport;
  readonly deliver: (data: Uint8Array, subject: string, reply: string | undefined) => void;
  readonly noResponders: ((replySubject: string) => void) | undefined;
  active: boolean;
}

const NO_TARGETS: readonly BusSubscription[] = Object.freeze([]);

export interface MemoryBusOptions {
  /** Largest payload accepted by publish, in bytes (default 1 MiB, as NATS). */
  maxPayload?: number;
}

/**
 * A broker inside one process. Delivery is asynchronous and FIFO over the whole bus, so it keeps
 * each publisher's order. Messages are routed when published (as a NATS server routes on receipt)
 * and handed to handlers from a `setImmediate` batch: a batch delivers only what was queued when it
 * started, so actors that answer each other in a loop still let timers and I/O run between batches.
 * `queueMicrotask` was rejected because such a ping-pong would starve timers (request timeouts, the
 * live runtime's clock) forever; one setImmediate per batch, not per message, keeps it cheap.
 */
export class MemoryBus {
  readonly maxPayload: number;
  private readonly subs = new Set<BusSubscription>();
  /** subject → subscriptions matching it. Entries are never mutated, so queued messages can keep them. */
  private readonly matchCache = new Map<string, readonly BusSubscription[]>();
  private nextClientId = 0;

  // The delivery queue: a growable ring of parallel arrays, so steady-state queueing allocates nothing.
  private capacity = 1024;
  private qSubject: string[] = new Array<string>(this.capacity).fill('');
  private qData: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(this.capacity).fill(undefined);
  private qReply: (string | undefined)[] = new Array<string | undefined>(this.capacity).fill(undefined);
  private qTargets: (readonly BusSubscription[])[] = new Array<readonly BusSubscription[]>(this.capacity).fill(NO_TARGETS);
  private qMarker: ((() => void) | undefined)[] = new Array<(() => void) | undefined>(this.capacity).fill(undefined);
  private qHead = 0;
  private qLength = 0;
  private scheduled = false;

  constructor(options: MemoryBusOptions = {}) {
    const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (!Number.isInteger(maxPayload) || maxPayload <= 0) {
      throw new SplitnetError('E_USAGE', `MemoryBus maxPayload must be a positive integer number of bytes, got ${String(maxPayload)}`);
    }
    this.maxPayload = maxPayload;
  }

  /** A new client of this bus. */
  connect(clientName = 'memory'): MemoryTransport {
    return new MemoryTransport(this, clientName, ++this.nextClientId);
  }

  /** Live subscriptions on the bus (including request inboxes), for tests and diagnostics. */
  get subscriptionCount(): number {
    return this.subs.size;
  }

  /** Messages routed but not yet handed to their handlers. */
  get pendingCount(): number {
    return this.qLength;
  }

  /** @internal */
  addSubscription(sub: BusSubscription): void {
    this.subs.add(sub);
    this.matchCache.clear();
  }

  /** @internal */
  removeSubscription(sub: BusSubscription): void {
    sub.active = false;
    if (this.subs.delete(sub)) this.matchCache.clear();
  }

  /** @internal Throws E_USAGE for an oversized payload, as the NATS client does. */
  checkPayload(subject: string, length: number): void {
    if (length > this.maxPayload) {
      throw new SplitnetError('E_USAGE', `payload of ${length} bytes on '${subject}' exceeds max_payload (${this.maxPayload} bytes)`);
    }
  }

  /** @internal Route a message now; deliver it later. */
  route(subject: string, data: Uint8Array, reply: string | undefined): void {
    this.enqueue(subject, data, reply, this.matching(subject), undefined);
  }

  /** @internal Run `done` once every message routed before this call has been handed out. */
  mark(done: () => void): void {
    this.enqueue('', undefined, undefined, NO_TARGETS, done);
  }

  private matching(subject: string): readonly BusSubscription[] {
    let targets = this.matchCache.get(subject);
    if (targets === undefined) {
      const tokens = subject.split('.');
      const found: BusSubscription[] = [];
      for (const sub of this.subs) if (tokensMatch(sub.tokens, tokens)) found.push(sub);
      targets = found.length === 0 ? NO_TARGETS : found;
      if (this.matchCache.size >= MATCH_CACHE_LIMIT) this.matchCache.clear();
      this.matchCache.set(subject, targets);
    }
    return targets;
  }

  private enqueue(
    subject: string,
    data: Uint8Array | undefined,
    reply: string | undefined,
    targets: readonly BusSubscription[],
    marker: (() => void) | undefined,
  ): void {
    if (this.qLength === this.capacity) this.grow();
    const i = (this.qHead + this.qLength) & (this.capacity - 1);
    this.qSubject[i] = subject;
    this.qData[i] = data;
    this.qReply[i] = reply;
    this.qTargets[i] = targets;
    this.qMarker[i] = marker;
    this.qLength++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.deliverBatch);
    }
  }

  private grow(): void {
    const old = this.capacity;
    const next = old * 2;
    const reorder = <T>(a: T[], fill: T): T[] => {
      const b = new Array<T>(next).fill(fill);
      for (let k = 0; k < old; k++) b[k] = a[(this.qHead + k) & (old - 1)] as T;
      return b;
    };
    this.qSubject = reorder(this.qSubject, '');
    this.qData = reorder(this.qData, undefined);
    this.qReply = reorder(this.qReply, undefined);
    this.qTargets = reorder(this.qTargets, NO_TARGETS);
    this.qMarker = reorder(this.qMarker, undefined);
    this.qHead = 0;
    this.capacity = next;
  }

  private readonly deliverBatch = (): void => {
    // Only what is queued now: messages published by handlers go to the next batch (see class doc).
    let remaining = this.qLength;
    while (remaining-- > 0) {
      const i = this.qHead;
      const subject = this.qSubject[i] ?? '';
      const data = this.qData[i];
      const reply = this.qReply[i];
      const targets = this.qTargets[i] ?? NO_TARGETS;
      const marker = this.qMarker[i];
      // Release references before running handlers, so a slot never pins a delivered payload.
      this.qData[i] = undefined;
      this.qTargets[i] = NO_TARGETS;
      this.qMarker[i] = undefined;
      this.qReply[i] = undefined;
      this.qHead = (i + 1) & (this.capacity - 1);
      this.qLength--;
      if (marker !== undefined) {
        marker();
        continue;
      }
      if (data === undefined) continue;
      if (targets.length === 0) {
        if (reply !== undefined) this.signalNoResponders(reply);
        continue;
      }
      for (let k = 0; k < targets.length; k++) {
        const sub = targets[k];
        // A subscriber that left, or whose client is disconnected, is not delivered to (as on NATS).
        if (sub !== undefined && sub.active && sub.client.isConnected) sub.deliver(data, subject, reply);
      }
    }
    if (this.qLength > 0) setImmediate(this.deliverBatch);
    else this.scheduled = false;
  };

  private signalNoResponders(reply: string): void {
    for (const sub of this.matching(reply)) {
      if (sub.active && sub.noResponders !== undefined && sub.client.isConnected) sub.noResponders(reply);
    }
  }
}

interface PendingRequest {
  readonly subject: string;
  readonly resolve: (data: Uint8Array) => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * A client of a MemoryBus, behaving like a NATS connection. Payloads are not copied: every handler of
 * a message gets the very bytes the publisher passed, so a publisher that modifies a buffer after
 * publishing it, or a handler that writes into what it received, corrupts the data visibly here
 * (as it could on NATS) instead of being hidden by a defensive copy. A handler that throws raises an
 * 'error' status instead of breaking delivery.
 *
 * `simulateDisconnect()` / `simulateReconnect()` reproduce broker loss for tests of the runtime:
 * while disconnected, publishes are buffered and sent on reconnect (as the NATS client does) and
 * messages for this client's subscriptions are lost (as the server has no connection to send to).
 */
export class MemoryTransport implements Transport {
  readonly name = 'memory';
  readonly counters: TransportCounters = newTransportCounters();
  private readonly subs = new Set<BusSubscription>();
  private readonly listeners = new Set<(s: TransportStatus) => void>();
  private readonly pending = new Map<string, PendingRequest>();
  private readonly inboxPrefix: string;
  private inbox: BusSubscription | undefined;
  private nextRequestId = 0;
  private connected = true;
  private closed = false;
  private draining: Promise<void> | undefined;
  /** Publishes made while disconnected, in order: subject, data, reply. */
  private outbox: { subject: string; data: Uint8Array; reply: string | undefined }[] = [];
  /** flush() calls made while disconnected; they complete after the reconnect's backlog is delivered. */
  private flushWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  /** Use `MemoryBus.connect()`. */
  constructor(
    private readonly bus: MemoryBus,
    readonly clientName: string,
    clientId: number,
  ) {
    this.inboxPrefix = `_INBOX.m${clientId}`;
  }

  /** @internal Read by the bus on every delivery. */
  get isConnected(): boolean {
    return this.connected;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  publish(subject: string, data: Uint8Array): void {
    // Publishing stays allowed while draining (handlers finishing their work), as on NATS.
    if (this.closed) {
      this.counters.publishFailed++;
      return;
    }
    assertPublishSubject(subject);
    this.bus.checkPayload(subject, data.length);
    this.counters.published++;
    this.send(subject, data, undefined);
  }

  subscribe(subject: string, handler: MessageHandler): Subscription {
    assertSubscribeSubject(subject);
    this.assertUsable('subscribe');
    const deliver = (data: Uint8Array, actual: string): void => {
      this.counters.received++;
      try {
        handler(data, actual);
      } catch (err) {
        this.emit({ kind: 'error', detail: `handler for '${subject}' threw: ${transportErrorDetail(err)}` });
      }
    };
    return this.addSub(subject, deliver);
  }

  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    try {
      assertPublishSubject(subject);
      assertRequestTimeout(timeoutMs);
      this.assertUsable('request');
      this.bus.checkPayload(subject, data.length);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.ensureInbox();
    const id = String(++this.nextRequestId);
    const reply = `${this.inboxPrefix}.${id}`;
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TransportError('E_TIMEOUT', `request on '${subject}' got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { subject, resolve, reject, timer });
      this.send(subject, data, reply);
    });
  }

  respond(subject: string, handler: RequestHandler): Subscription {
    assertSubscribeSubject(subject);
    this.assertUsable('respond');
    const deliver = (data: Uint8Array, _actual: string, reply: string | undefined): void => {
      let result: Uint8Array | Promise<Uint8Array>;
      try {
        result = handler(data);
      } catch (err) {
        this.emit({ kind: 'error', detail: `responder on '${subject}' threw: ${transportErrorDetail(err)}` });
        return;
      }
      if (result instanceof Uint8Array) {
        this.sendReply(subject, reply, result);
      } else {
        void result.then(
          (bytes) => this.sendReply(subject, reply, bytes),
          (err: unknown) => this.emit({ kind: 'error', detail: `responder on '${subject}' failed: ${transportErrorDetail(err)}` }),
        );
      }
    };
    return this.addSub(subject, deliver);
  }

  flush(): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('E_CLOSED', `memory transport '${this.clientName}' is closed`));
    return new Promise<void>((resolve, reject) => {
      if (this.connected) this.bus.mark(resolve);
      else this.flushWaiters.push({ resolve, reject });
    });
  }

  drain(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.draining === undefined) {
      this.draining = (async () => {
        // Everything routed so far (to our subscriptions and from our publishes) is delivered first.
        if (this.connected) await new Promise<void>((resolve) => this.bus.mark(resolve));
        await this.close();
      })();
    }
    return this.draining;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.connected = false;
    for (const sub of this.subs) this.bus.removeSubscription(sub);
    this.subs.clear();
    this.inbox = undefined;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new TransportError('E_CLOSED', `request on '${p.subject}' aborted: the transport was closed`));
    }
    this.pending.clear();
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w.reject(new TransportError('E_CLOSED', `memory transport '${this.clientName}' closed before flush completed`));
    if (this.outbox.length > 0) {
      this.emit({ kind: 'error', detail: `${this.outbox.length} messages buffered while disconnected were lost at close` });
      this.outbox = [];
    }
    this.emit({ kind: 'closed', detail: `memory transport '${this.clientName}' closed` });
    return Promise.resolve();
  }

  onStatus(listener: (s: TransportStatus) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Act as if the broker connection dropped (see the class doc). */
  simulateDisconnect(reason = 'simulated disconnect'): void {
    if (this.closed || !this.connected) return;
    this.connected = false;
    this.counters.disconnects++;
    this.emit({ kind: 'disconnect', detail: reason });
  }

  /** Act as if the connection came back: send what was buffered, in order, then complete waiting flushes. */
  simulateReconnect(): void {
    if (this.closed || this.connected) return;
    this.connected = true;
    this.counters.reconnects++;
    const backlog = this.outbox;
    this.outbox = [];
    for (const m of backlog) this.bus.route(m.subject, m.data, m.reply);
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) this.bus.mark(w.resolve);
    this.emit({ kind: 'reconnect', detail: 'simulated reconnect' });
  }

  private send(subject: string, data: Uint8Array, reply: string | undefined): void {
    if (this.connected) this.bus.route(subject, data, reply);
    else this.outbox.push({ subject, data, reply });
  }

  private sendReply(subject: string, reply: string | undefined, bytes: Uint8Array): void {
    // Published without a reply subject (a plain publish to a service subject): nobody to answer.
    if (reply === undefined || this.closed) return;
    try {
      this.bus.checkPayload(reply, bytes.length);
    } catch (err) {
      this.emit({ kind: 'error', detail: `responder on '${subject}' produced a bad reply: ${transportErrorDetail(err)}` });
      return;
    }
    this.send(reply, bytes, undefined);
  }

  private ensureInbox(): void {
    if (this.inbox === undefined) {
      const prefixLength = this.inboxPrefix.length + 1;
      const take = (replySubject: string): PendingRequest | undefined => {
        const id = replySubject.slice(prefixLength);
        const p = this.pending.get(id);
        if (p !== undefined) {
          this.pending.delete(id);
          clearTimeout(p.timer);
        }
        return p;
      };
      const deliver = (data: Uint8Array, replySubject: string): void => {
        take(replySubject)?.resolve(data); // late or duplicate replies are ignored: first reply wins
      };
      const noResponders = (replySubject: string): void => {
        const p = take(replySubject);
        p?.reject(new TransportError('E_NO_RESPONDERS', `no responders on '${p.subject}'`));
      };
      const sub: BusSubscription = {
        tokens: [...this.inboxPrefix.split('.'), '*'],
        client: this,
        deliver,
        noResponders,
        active: true,
      };
      this.subs.add(sub);
      this.bus.addSubscription(sub);
      this.inbox = sub;
    }
  }

  private addSub(subject: string, deliver: BusSubscription['deliver']): Subscription {
    const sub: BusSubscription = { tokens: subject.split('.'), client: this, deliver, noResponders: undefined, active: true };
    this.subs.add(sub);
    this.bus.addSubscription(sub);
    return {
      unsubscribe: () => {
        if (!sub.active) return;
        this.subs.delete(sub);
        this.bus.removeSubscription(sub);
      },
    };
  }

  private assertUsable(what: string): void {
    if (this.closed) throw new TransportError('E_CLOSED', `cannot ${what}: memory transport '${this.clientName}' is closed`);
    if (this.draining !== undefined) throw new TransportError('E_CLOSED', `cannot ${what}: memory transport '${this.clientName}' is draining`);
  }

  private emit(status: TransportStatus): void {
    emitTransportStatus(this.listeners, status);
  }
}
