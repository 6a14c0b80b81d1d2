// How two lockstep partitions set up a direct link over the bus: the sender's offer (where it listens, and two tokens) and the receiver's decline (it could not connect: the pair stays on the bus).
import { networkInterfaces } from 'node:os';

/**
 * The first byte of a set-up message on a data subject: 0xc1, which msgpack never uses (a frame opens with a
 * 4-element array, 0x94; a promise with an 8-element one, 0x98). The second says which.
 */
const SETUP = 0xc1;
const OFFER = 1;
const DECLINE = 2;
export const TOKEN_BYTES = 32;
/** An offer: [0xc1, 1, port (2 bytes, big-endian), token in (32), token out (32), n, n IPv4 addresses (4 bytes each)]. */
const OFFER_HEAD = 4 + 2 * TOKEN_BYTES + 1;
/** The most addresses an offer carries (a container on a few networks; one machine's loopback). */
export const MAX_ADDRESSES = 8;
/** A decline: [0xc1, 2, the offer's token in (32), why (UTF-8, at most WHY_BYTES)]. */
const DECLINE_HEAD = 2 + TOKEN_BYTES;
const WHY_BYTES = 400;

/** Where a partition listens for its receivers, and the addresses it offers them (in the order they try them). */
export interface DirectPlace {
  /** '127.0.0.1' (the processes of one machine), or '0.0.0.0' (a container: every interface of its own). */
  readonly listen: string;
  /** IPv4 addresses. */
  readonly addresses: readonly string[];
}

/** The processes placement's: loopback only. */
export const LOOPBACK: DirectPlace = { listen: '127.0.0.1', addresses: ['127.0.0.1'] };

/**
 * A container's: it listens on its every interface and offers its addresses on the networks it is on (IPv4, not
 * loopback, which is each container's own), e.g. its address on the run's Docker network.
 */
export function containerPlace(): DirectPlace {
  const addresses = Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => a.family === 'IPv4' && !a.internal)
    .map((a) => a.address)
    .slice(0, MAX_ADDRESSES);
  return { listen: '0.0.0.0', addresses };
}

export interface DirectOffer {
  readonly kind: 'offer';
  readonly port: number;
  /** What the receiver sends as it connects (the sender then knows the connection is the receiver's). */
  readonly tokenIn: Buffer;
  /** What the sender answers (the receiver then knows it reached the sender, not whoever has that address where it is). */
  readonly tokenOut: Buffer;
  readonly addresses: readonly string[];
}

export interface DirectDecline {
  readonly kind: 'decline';
  readonly tokenIn: Buffer;
  readonly why: string;
}

/** Whether a message on a data subject is a direct link's set-up (not a frame or a promise). */
export function isDirectSetup(bytes: Uint8Array): boolean {
  return bytes[0] === SETUP;
}

export function encodeOffer(port: number, tokenIn: Buffer, tokenOut: Buffer, addresses: readonly string[]): Uint8Array {
  const b = Buffer.alloc(OFFER_HEAD + 4 * addresses.length);
  b[0] = SETUP;
  b[1] = OFFER;
  b.writeUInt16BE(port, 2);
  tokenIn.copy(b, 4);
  tokenOut.copy(b, 4 + TOKEN_BYTES);
  b[OFFER_HEAD - 1] = addresses.length;
  addresses.forEach((a, i) => a.split('.').forEach((octet, k) => (b[OFFER_HEAD + 4 * i + k] = Number(octet))));
  return b;
}

export function encodeDecline(tokenIn: Buffer, why: string): Uint8Array {
  const text = Buffer.from(why, 'utf8').subarray(0, WHY_BYTES);
  const b = Buffer.alloc(DECLINE_HEAD + text.byteLength);
  b[0] = SETUP;
  b[1] = DECLINE;
  tokenIn.copy(b, 2);
  text.copy(b, DECLINE_HEAD);
  return b;
}

/** A set-up message, its bytes copied (the bus client may reuse them); or why it is none. */
export function decodeSetup(bytes: Uint8Array): DirectOffer | DirectDecline | string {
  const b = Buffer.from(bytes);
  if (b[0] !== SETUP) return 'not a direct link set-up message';
  if (b[1] === OFFER) {
    const n = b[OFFER_HEAD - 1] ?? 0;
    if (b.byteLength !== OFFER_HEAD + 4 * n || n > MAX_ADDRESSES) return `a direct link's offer of ${b.byteLength} bytes for ${n} address(es)`;
    const addresses = Array.from({ length: n }, (_, i) => [...b.subarray(OFFER_HEAD + 4 * i, OFFER_HEAD + 4 * i + 4)].join('.'));
    return {
      kind: 'offer',
      port: b.readUInt16BE(2),
      tokenIn: b.subarray(4, 4 + TOKEN_BYTES),
      tokenOut: b.subarray(4 + TOKEN_BYTES, 4 + 2 * TOKEN_BYTES),
      addresses,
    };
  }
  if (b[1] === DECLINE) {
    if (b.byteLength < DECLINE_HEAD || b.byteLength > DECLINE_HEAD + WHY_BYTES) return `a direct link's decline of ${b.byteLength} bytes`;
    return { kind: 'decline', tokenIn: b.subarray(2, DECLINE_HEAD), why: b.subarray(DECLINE_HEAD).toString('utf8') };
  }
  return `a direct link set-up message of kind ${b[1] ?? '?'}`;
}
