// Toeplitz RSS hash (Microsoft RSS spec), its IPv4/IPv6 inputs, and the RETA (indirection table).
import { SplitnetError } from './errors.js';
import { IPV4_BYTES, IPV6_BYTES } from './ip.js';

/**
 * The Microsoft RSS spec's sample key, which most NIC drivers and DPDK use as their default.
 * 40 bytes is the longest key the spec (and Xen's netif control ring) allows, and enough for the
 * longest input, IPv6+TCP. Shared: never write into it; `.slice()` it to derive a key.
 */
export const DEFAULT_RSS_KEY: Uint8Array = Uint8Array.from([
  0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb,
  0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
]);

/** Longest hash key: the RSS spec's 40 bytes, also netback's XEN_NETBK_MAX_HASH_KEY_SIZE. */
export const RSS_KEY_MAX_BYTES = 40;

/** Which header fields feed the hash; the names follow the RSS spec's hash types. */
export type RssInputKind = 'ipv4' | 'ipv4-tcp' | 'ipv6' | 'ipv6-tcp';

/** Input length per kind: two addresses, then (for TCP) two 16-bit ports, in network byte order. */
export const RSS_INPUT_BYTES: Readonly<Record<RssInputKind, number>> = {
  ipv4: 2 * IPV4_BYTES,
  'ipv4-tcp': 2 * IPV4_BYTES + 4,
  ipv6: 2 * IPV6_BYTES,
  'ipv6-tcp': 2 * IPV6_BYTES + 4,
};

/** The kind of a hash input, from its length; undefined for a length no kind has. */
export function rssInputKind(inputLength: number): RssInputKind | undefined {
  for (const kind of Object.keys(RSS_INPUT_BYTES) as RssInputKind[]) {
    if (RSS_INPUT_BYTES[kind] === inputLength) return kind;
  }
  return undefined;
}

/**
 * Key bytes needed to hash `inputLength` bytes: the 32-bit window slides one bit per input bit,
 * so the last input bit still needs 32 key bits starting at its own position.
 */
export function rssKeyBytesNeeded(inputLength: number): number {
  return inputLength + 4;
}

/**
 * The Toeplitz hash of `input` under `key` (both byte sequences, network order), as a u32.
 *
 * For each input bit, most significant first: if it is 1, XOR the key's leftmost 32 bits into
 * the result; then shift the key left one bit. Rather than shifting the whole key, this keeps a
 * 32-bit window on it and feeds in the next key bit per input bit — linear in the input.
 * Runs once per flow at set-up (the hash is cached per flow), so it allocates nothing but is not
 * table-driven.
 */
export function toeplitzHash(key: ArrayLike<number>, input: ArrayLike<number>): number {
  const needed = rssKeyBytesNeeded(input.length);
  if (key.length < needed) {
    throw new SplitnetError('E_USAGE', `RSS key: expected at least ${needed} bytes to hash a ${input.length}-byte input, found ${key.length}`);
  }
  let window = (((key[0] ?? 0) << 24) | ((key[1] ?? 0) << 16) | ((key[2] ?? 0) << 8) | (key[3] ?? 0)) >>> 0;
  let result = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i] ?? 0;
    // The key byte whose bits slide into the window while this input byte is consumed.
    const incoming = key[i + 4] ?? 0;
    for (let bit = 7; bit >= 0; bit--) {
      if ((byte >> bit) & 1) result ^= window;
      window = ((window << 1) | ((incoming >> bit) & 1)) >>> 0;
    }
  }
  return result >>> 0;
}

/**
 * The hash input for a flow: src address, dst address, then src port and dst port when given
 * (the TCP/UDP 4-tuple), all in network byte order. Addresses are 4 or 16 bytes, both the same
 * family; ports come both or neither.
 */
export function rssInput(src: Uint8Array | readonly number[], dst: Uint8Array | readonly number[], srcPort?: number, dstPort?: number): Uint8Array {
  if ((src.length !== IPV4_BYTES && src.length !== IPV6_BYTES) || dst.length !== src.length) {
    throw new SplitnetError('E_USAGE', `RSS input: expected two IPv4 (4-byte) or two IPv6 (16-byte) addresses, found ${src.length} and ${dst.length} bytes`);
  }
  if ((srcPort === undefined) !== (dstPort === undefined)) {
    throw new SplitnetError('E_USAGE', `RSS input: expected both ports or neither, found only the ${srcPort === undefined ? 'destination' : 'source'} port`);
  }
  const withPorts = srcPort !== undefined && dstPort !== undefined;
  const out = new Uint8Array(2 * src.length + (withPorts ? 4 : 0));
  for (let i = 0; i < src.length; i++) {
    out[i] = checkByte(src[i], 'source address');
    out[src.length + i] = checkByte(dst[i], 'destination address');
  }
  if (withPorts) {
    const at = 2 * src.length;
    const view = new DataView(out.buffer);
    view.setUint16(at, checkPort(srcPort, 'source'));
    view.setUint16(at + 2, checkPort(dstPort, 'destination'));
  }
  return out;
}

function checkByte(value: number | undefined, what: string): number {
  if (value === undefined || !Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new SplitnetError('E_USAGE', `RSS input: expected ${what} bytes 0-255, found ${String(value)}`);
  }
  return value;
}

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new SplitnetError('E_USAGE', `RSS input: expected a ${what} port 0-65535, found ${port}`);
  }
  return port;
}

/** Largest RETA netback accepts (XEN_NETBK_MAX_HASH_MAPPING_SIZE) and the RSS spec's 128. */
export const RETA_MAX_SIZE = 128;
/** RETA entries are u16 queue numbers. */
const RETA_MAX_QUEUE = 0xffff;

/**
 * The RSS indirection table (RETA; netback's "mapping"): the hash's low bits pick an entry, the
 * entry names the queue. A power-of-two size makes `hash & (size - 1)` equal netback's
 * `hash % size`, so the lookup is a mask.
 */
export class IndirectionTable {
  /** Queue number per entry. Mutate only through `set` so entries stay valid queue numbers. */
  readonly entries: Uint16Array;
  private readonly mask: number;

  /**
   * A table of `size` entries filled round-robin (entry i → queue i % queues), the default every
   * NIC driver and netback start from. `queues` has no default on purpose: `new
   * IndirectionTable(4)` would otherwise read as "4 queues" and silently mean a 4-entry table.
   */
  constructor(size: number = RETA_MAX_SIZE, queues: number) {
    checkRetaSize(size);
    if (!Number.isInteger(queues) || queues < 1 || queues > RETA_MAX_QUEUE + 1) {
      throw new SplitnetError('E_USAGE', `RETA: expected 1-${RETA_MAX_QUEUE + 1} queues, found ${queues}`);
    }
    this.entries = new Uint16Array(size);
    for (let i = 0; i < size; i++) this.entries[i] = i % queues;
    this.mask = size - 1;
  }

  /** A table holding exactly `list` (its length must be a power of two, 1…128). */
  static fromEntries(list: ArrayLike<number>): IndirectionTable {
    checkRetaSize(list.length);
    const table = new IndirectionTable(list.length, 1);
    for (let i = 0; i < list.length; i++) table.set(i, list[i] ?? Number.NaN);
    return table;
  }

  get size(): number {
    return this.entries.length;
  }

  /** The RETA index a hash selects. */
  indexFor(hash: number): number {
    return hash & this.mask;
  }

  /** The queue a hash is steered to. Called per flow or per packet: no allocation, one mask. */
  queueFor(hash: number): number {
    return this.entries[hash & this.mask] as number;
  }

  /** Point entry `index` at `queue`. */
  set(index: number, queue: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.entries.length) {
      throw new SplitnetError('E_USAGE', `RETA: expected an index 0-${this.entries.length - 1}, found ${index}`);
    }
    if (!Number.isInteger(queue) || queue < 0 || queue > RETA_MAX_QUEUE) {
      throw new SplitnetError('E_USAGE', `RETA entry ${index}: expected a queue 0-${RETA_MAX_QUEUE}, found ${queue}`);
    }
    this.entries[index] = queue;
  }
}

/** Throw unless `size` is a valid RETA size: a power of two from 1 to 128. */
export function checkRetaSize(size: number): void {
  if (!isValidRetaSize(size)) {
    throw new SplitnetError('E_USAGE', `RETA: expected a size that is a power of two 1-${RETA_MAX_SIZE}, found ${size}`);
  }
}

/** True for a power of two from 1 to 128. */
export function isValidRetaSize(size: number): boolean {
  return Number.isInteger(size) && size >= 1 && size <= RETA_MAX_SIZE && (size & (size - 1)) === 0;
}
