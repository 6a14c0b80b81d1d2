// Direct links between lockstep partitions: a partition's frames and promises to a neighbour on a TCP connection of their own (loopback between one machine's processes; the run's Docker network between its containers), set up over the bus, instead of through the NATS server (one wake-up per hop instead of two); a pair that cannot connect stays on the bus.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { encodeOffer, TOKEN_BYTES } from './direct-setup.js';
import type { DirectDecline, DirectOffer, DirectPlace } from './direct-setup.js';
import type { DirectWaiting } from './direct-waiting.js';

/** A message on a direct link: [length of what follows (4 bytes), to ref (2), from ref (2), payload]. */
const HEAD = 8;

/**
 * Wall time a receiver gives each offered address to connect and answer with the sender's token (ms): an address
 * of another machine, or of a network that does not route to it, never answers (its packets are dropped).
 */
export const CONNECT_MS = 2000;

/** What arrives on a direct link: a payload (a frame or a promise, as on the bus) from actor `from` to actor `to`. */
export type DirectArrival = (from: number, to: number, payload: Uint8Array) => void;

/** A receiver partition as the sender sees it: the tokens of its offer, then its connection or why it is on the bus. */
interface Receiver {
  readonly tokenIn: Buffer;
  readonly tokenOut: Buffer;
  socket?: Socket;
  bus?: string;
}

/** A sender partition as the receiver sees it: connecting to its offer, on its direct link, or on the bus and why. */
interface Sender {
  readonly tokenIn: Buffer;
  state: 'connecting' | 'direct' | 'bus';
  why: string;
}

/**
 * One partition's direct links. As a sender it listens (on `place.listen`, a port of the system's choosing) and
 * offers each receiver partition, on their channel's data subject (which only the receiver's process may read, and
 * only the sender's may publish on: the bus's permissions vouch for both ends), its addresses, the port and two
 * tokens of its own; the receiver connects and sends the first back, so the connection the sender accepts is that
 * receiver's, and the sender answers with the second, so the receiver knows it reached the sender. A receiver that
 * cannot connect to any address within CONNECT_MS each declines over the bus: that pair stays on the bus. A
 * partition is ready once every receiver has connected or declined: it says hello only then, so a pair's messages
 * take one path from the start, in order.
 */
export class DirectLinks {
  private readonly server: Server;
  private port = 0;
  private readonly receivers = new Map<number, Receiver>();
  private readonly senders = new Map<number, Sender>();
  private readonly inbound: Socket[] = [];
  /** Connections accepted whose token is not in yet (whose they are, only the token tells). */
  private unproven = 0;
  private resolveReady: () => void = () => {};
  readonly ready: Promise<void>;
  isReady = false;
  private closed = false;
  /** Set at the start of the run: from then on a link cannot be given up for the bus. */
  private started = false;

  constructor(
    receivers: readonly number[],
    private readonly place: DirectPlace,
    /** Called on every failure while open (a link that breaks mid-run cannot be exact: counted as a refusal). */
    private readonly fail: (why: string) => void,
    /** Receivers it offers nothing, and why: on the bus from the start. */
    onBus: ReadonlyMap<number, string> = new Map(),
  ) {
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    const none = place.addresses.length === 0 ? 'no address of its own to offer (no IPv4 interface but loopback)' : undefined;
    for (const q of receivers) {
      const bus = onBus.get(q) ?? none;
      this.receivers.set(q, { tokenIn: randomBytes(TOKEN_BYTES), tokenOut: randomBytes(TOKEN_BYTES), ...(bus === undefined ? {} : { bus }) });
    }
    this.server = createServer((s) => this.accept(s));
    this.server.on('error', (e) => this.fail(`direct links: listening failed: ${e.message}`));
    this.server.listen(0, place.listen, () => {
      this.port = (this.server.address() as { port: number }).port;
      this.checkReady();
    });
  }

  /** The offer to receiver partition `q` (null until listening, or once it has connected or declined). */
  offer(q: number): Uint8Array | null {
    const r = this.receivers.get(q);
    if (this.port === 0 || r === undefined || r.socket !== undefined || r.bus !== undefined) return null;
    return encodeOffer(this.port, r.tokenIn, r.tokenOut, this.place.addresses);
  }

  /** Receivers that have neither connected nor declined yet (their offers are published again until they do). */
  pending(): number[] {
    return [...this.receivers].flatMap(([q, r]) => (r.socket === undefined && r.bus === undefined ? [q] : []));
  }

  private accept(s: Socket): void {
    s.setNoDelay(true);
    let got = Buffer.alloc(0);
    this.unproven++;
    const unproven = (): void => {
      this.unproven--;
      s.off('close', unproven);
    };
    s.on('close', unproven);
    const onData = (c: Buffer): void => {
      got = Buffer.concat([got, c]);
      if (got.byteLength < TOKEN_BYTES) return;
      s.off('data', onData);
      unproven();
      const token = got.subarray(0, TOKEN_BYTES);
      const found = [...this.receivers].find(([, r]) => timingSafeEqual(r.tokenIn, token));
      const r = found?.[1];
      if (r === undefined || r.socket !== undefined || r.bus !== undefined || got.byteLength > TOKEN_BYTES) {
        s.destroy();
        return;
      }
      r.socket = s;
      s.write(r.tokenOut);
      // Only a link once the token is in: a stranger's connection, dropped, is no failure of the run.
      s.on('close', () => {
        if (r.socket === s) this.broke('a direct link to a receiver closed before the end of the run');
      });
      this.checkReady();
    };
    s.on('data', onData);
    // Its close (after an error too) counts once it is a link (above).
    s.on('error', () => {});
  }

  private checkReady(): void {
    if (this.isReady || this.port === 0 || this.pending().length > 0) return;
    this.isReady = true;
    this.resolveReady();
  }

  /** The run starts: from now on a receiver that declines a link it made fails the run (it would have taken one path at the start). */
  start(): void {
    this.started = true;
  }

  /**
   * Receiver partition `q` declined the offer (the bus vouched for its subject): it stays on the bus. Returns why the
   * decline is refused (a token that is not the offer's), or undefined.
   */
  declined(q: number, d: DirectDecline): string | undefined {
    const r = this.receivers.get(q);
    if (r === undefined || !timingSafeEqual(r.tokenIn, d.tokenIn)) return `partition ${q} declined a direct link it was not offered`;
    if (r.bus !== undefined) return undefined;
    const s = r.socket;
    if (s !== undefined) {
      if (this.started) return `partition ${q} declined a direct link it had made, once the run had started`;
      // It gave up waiting for the answer just as it came: it is on the bus.
      delete r.socket;
      s.destroy();
    }
    r.bus = `it could not connect: ${d.why}`;
    this.checkReady();
    return undefined;
  }

  /**
   * An offer from sender partition `p` (the bus vouched for its subject): connect to its addresses in turn, send the
   * token back, check its answer, read what comes. None answering in time: `decline` (the pair stays on the bus).
   */
  take(p: number, offer: DirectOffer, arrive: DirectArrival, arrived: () => void, decline: (why: string) => void): void {
    if (this.closed) return;
    const known = this.senders.get(p);
    if (known !== undefined) {
      // Its offer again: it has not seen the decline yet (or the bus lost it).
      if (known.state === 'bus' && timingSafeEqual(known.tokenIn, offer.tokenIn)) decline(known.why);
      return;
    }
    const sender: Sender = { tokenIn: offer.tokenIn, state: 'connecting', why: '' };
    this.senders.set(p, sender);
    const errors: string[] = [];
    const next = (i: number): void => {
      if (this.closed) return;
      const address = offer.addresses[i];
      if (address === undefined) {
        sender.state = 'bus';
        sender.why = errors.length > 0 ? errors.join('; ') : 'its offer had no address';
        return decline(sender.why);
      }
      this.dial(address, offer, sender, reader(arrive, arrived), (why) => {
        errors.push(`${address}:${offer.port}: ${why}`);
        next(i + 1);
      });
    };
    next(0);
  }

  /** One address of an offer: connected and answered within CONNECT_MS, it is the sender's link; else `failed`. */
  private dial(address: string, offer: DirectOffer, sender: Sender, read: (c: Buffer) => void, failed: (why: string) => void): void {
    const s = connect({ host: address, port: offer.port }, () => s.write(offer.tokenIn));
    s.setNoDelay(true);
    // Closed with the links, however far it got.
    this.inbound.push(s);
    let state: 'trying' | 'failed' | 'linked' = 'trying';
    let answer: Buffer = Buffer.alloc(0);
    const give = (why: string): void => {
      if (state !== 'trying') return;
      state = 'failed';
      clearTimeout(timer);
      s.destroy();
      failed(why);
    };
    const timer = setTimeout(() => give(`no connection and answer within ${CONNECT_MS} ms`), CONNECT_MS);
    s.on('data', (c: Buffer) => {
      if (state !== 'trying') return state === 'linked' ? read(c) : undefined;
      answer = Buffer.concat([answer, c]);
      if (answer.byteLength < TOKEN_BYTES) return;
      if (!timingSafeEqual(answer.subarray(0, TOKEN_BYTES), offer.tokenOut)) return give('what answered there did not send the offered token');
      state = 'linked';
      clearTimeout(timer);
      sender.state = 'direct';
      sender.why = `${address}:${offer.port}`;
      if (answer.byteLength > TOKEN_BYTES) read(answer.subarray(TOKEN_BYTES));
    });
    s.on('error', (e) => (state === 'linked' ? this.broke(`a direct link from a sender failed: ${e.message}`) : give(e.message)));
    s.on('close', () => (state === 'linked' ? this.broke('a direct link from a sender closed before the end of the run') : give('closed')));
  }

  /** Whether receiver partition `q` takes this partition's messages on a direct link. */
  has(q: number): boolean {
    return this.receivers.get(q)?.socket !== undefined;
  }

  /** Where its links stand (direct-waiting.ts says it in words while the partition is not ready); a sender whose pair went to the bus is settled. */
  waiting(): DirectWaiting {
    const taken = [...this.senders.keys()];
    const settled = [...this.senders].flatMap(([p, x]) => (x.state === 'connecting' ? [] : [p]));
    return { listening: this.port !== 0, pending: this.pending(), unproven: this.unproven, taken, connected: settled };
  }

  /** Per receiver partition: 'direct', or why it is on the bus; per sender partition that offered: the same ('connecting' until it is either). */
  paths(): { readonly to: ReadonlyMap<number, string>; readonly from: ReadonlyMap<number, string> } {
    const to = new Map([...this.receivers].map(([q, r]) => [q, r.socket !== undefined ? 'direct' : (r.bus ?? 'connecting')] as const));
    const from = new Map([...this.senders].map(([p, s]) => [p, s.state === 'bus' ? s.why : s.state] as const));
    return { to, from };
  }

  /** One write to receiver partition `q`: each payload with its ends, in order. */
  send(q: number, parts: readonly { readonly to: number; readonly from: number; readonly payload: Uint8Array }[]): void {
    let n = 0;
    for (const p of parts) n += HEAD + p.payload.byteLength;
    const b = Buffer.allocUnsafe(n);
    let at = 0;
    for (const p of parts) {
      b.writeUInt32LE(p.payload.byteLength + 4, at);
      b.writeUInt16LE(p.to, at + 4);
      b.writeUInt16LE(p.from, at + 6);
      b.set(p.payload, at + HEAD);
      at += HEAD + p.payload.byteLength;
    }
    (this.receivers.get(q)?.socket as Socket).write(b);
  }

  private broke(why: string): void {
    if (!this.closed) this.fail(why);
  }

  close(): void {
    this.closed = true;
    for (const r of this.receivers.values()) r.socket?.destroy();
    for (const s of this.inbound) s.destroy();
    this.server.close();
  }
}

/** A link's reader: each whole message handed to `arrive` as it completes, then `arrived` once per read that completed any. */
function reader(arrive: DirectArrival, arrived: () => void): (c: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (c) => {
    buf = buf.byteLength === 0 ? c : Buffer.concat([buf, c]);
    let at = 0;
    while (buf.byteLength - at >= HEAD) {
      const len = buf.readUInt32LE(at);
      if (buf.byteLength - at - 4 < len) break;
      arrive(buf.readUInt16LE(at + 6), buf.readUInt16LE(at + 4), buf.subarray(at + HEAD, at + 4 + len));
      at += 4 + len;
    }
    buf = at === buf.byteLength ? Buffer.alloc(0) : buf.subarray(at);
    if (at > 0) arrived();
  };
}
