// Direct links between lockstep partitions of one machine: a partition's frames and promises to a neighbour on a loopback TCP connection of their own, set up over the bus, instead of through the NATS server (one wake-up per hop instead of two).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { DirectWaiting } from './direct-waiting.js';

/**
 * The first byte of an offer on a data subject: 0xc1, which msgpack never uses (a frame opens with a 4-element
 * array, 0x94; a promise with an 8-element one, 0x98). An offer: [0xc1, port (2 bytes, big-endian), token (32 bytes)].
 */
const OFFER = 0xc1;
const TOKEN_BYTES = 32;
const OFFER_BYTES = 3 + TOKEN_BYTES;
/** A message on a direct link: [length of what follows (4 bytes), to ref (2), from ref (2), payload]. */
const HEAD = 8;

export function isDirectOffer(bytes: Uint8Array): boolean {
  return bytes[0] === OFFER && bytes.byteLength === OFFER_BYTES;
}

/** What arrives on a direct link: a payload (a frame or a promise, as on the bus) from actor `from` to actor `to`. */
export type DirectArrival = (from: number, to: number, payload: Uint8Array) => void;

/**
 * One partition's direct links. As a sender it listens on 127.0.0.1 (a port of the system's choosing) and offers each
 * receiver partition, on their channel's data subject (which only the receiver's process may read, and only the
 * sender's may publish on: the bus's permissions vouch for both ends), the port and a token of its own; the receiver
 * connects and sends the token back, so the connection the sender accepts is that receiver's. As a receiver it
 * connects to what its senders offer and takes what they send. A partition is ready once every receiver has
 * connected: it says hello only then, so nothing it sends in the run goes by the bus (a pair's messages take one
 * path, in order).
 */
export class DirectLinks {
  private readonly server: Server;
  private port = 0;
  /** Per receiver partition: its token, and its connection once made. */
  private readonly tokens = new Map<number, Buffer>();
  private readonly out = new Map<number, Socket>();
  private readonly inbound: Socket[] = [];
  private readonly connecting = new Set<number>();
  /** Senders whose offer it took and reached (the token sent back); connections accepted whose token is not in yet. */
  private readonly connected = new Set<number>();
  private unproven = 0;
  private resolveReady: () => void = () => {};
  readonly ready: Promise<void>;
  isReady = false;
  private closed = false;

  constructor(
    receivers: readonly number[],
    /** Called on every failure while open (a link that breaks mid-run cannot be exact: counted as a refusal). */
    private readonly fail: (why: string) => void,
  ) {
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    for (const q of receivers) this.tokens.set(q, randomBytes(TOKEN_BYTES));
    this.server = createServer((s) => this.accept(s));
    this.server.on('error', (e) => this.fail(`direct links: listening failed: ${e.message}`));
    this.server.listen(0, '127.0.0.1', () => {
      this.port = (this.server.address() as { port: number }).port;
      this.checkReady();
    });
  }

  /** The offer to receiver partition `q` (null until listening). */
  offer(q: number): Uint8Array | null {
    const token = this.tokens.get(q);
    if (this.port === 0 || token === undefined) return null;
    const b = Buffer.alloc(OFFER_BYTES);
    b[0] = OFFER;
    b.writeUInt16BE(this.port, 1);
    token.copy(b, 3);
    return b;
  }

  /** Receivers that have not connected yet (their offers are published again until they do). */
  pending(): number[] {
    return [...this.tokens.keys()].filter((q) => !this.out.has(q));
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
      const q = [...this.tokens].find(([, t]) => timingSafeEqual(t, token))?.[0];
      if (q === undefined || this.out.has(q) || got.byteLength > TOKEN_BYTES) {
        s.destroy();
        return;
      }
      this.out.set(q, s);
      // Only a link once the token is in: a stranger's connection, dropped, is no failure of the run.
      s.on('close', () => this.broke('a direct link to a receiver closed before the end of the run'));
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

  /** An offer from sender partition `p` (the bus vouched for its subject): connect, send the token back, read what comes. */
  take(p: number, offer: Uint8Array, arrive: DirectArrival, arrived: () => void): void {
    if (this.connecting.has(p) || this.closed) return;
    this.connecting.add(p);
    // Copied now: the bus client may reuse the bytes it handed over once this call returns.
    const port = ((offer[1] as number) << 8) | (offer[2] as number);
    const token = Buffer.from(offer.subarray(3));
    const s = connect({ host: '127.0.0.1', port }, () => {
      this.connected.add(p);
      s.write(token);
    });
    s.setNoDelay(true);
    this.inbound.push(s);
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
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
    });
    s.on('error', (e) => this.broke(`a direct link from a sender failed: ${e.message}`));
    s.on('close', () => this.broke('a direct link from a sender closed before the end of the run'));
  }

  /** Where its links stand (direct-waiting.ts says it in words while the partition is not ready). */
  waiting(): DirectWaiting {
    return { listening: this.port !== 0, pending: this.pending(), unproven: this.unproven, taken: [...this.connecting], connected: [...this.connected] };
  }

  /** Whether receiver partition `q` takes this partition's messages on a direct link. */
  has(q: number): boolean {
    return this.out.has(q);
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
    (this.out.get(q) as Socket).write(b);
  }

  private broke(why: string): void {
    if (!this.closed) this.fail(why);
  }

  close(): void {
    this.closed = true;
    for (const s of [...this.out.values(), ...this.inbound]) s.destroy();
    this.server.close();
  }
}
