// `splitnet rss`: which queue a flow's Toeplitz hash selects — pure option checking, lookup and text output.
import {
  DEFAULT_RSS_KEY,
  IndirectionTable,
  RETA_MAX_SIZE,
  RSS_KEY_MAX_BYTES,
  SplitnetError,
  formatIpAddress,
  isValidRetaSize,
  parseIpAddress,
  rssInput,
  rssKeyBytesNeeded,
  toeplitzHash,
} from '@splitnet/model';
import type { RssInputKind } from '@splitnet/model';

/** Options as they arrive from the command line (strings) or from a program (numbers). */
export interface RssLookupOptions {
  readonly src: string;
  readonly dst: string;
  readonly sport?: string | number;
  readonly dport?: string | number;
  /** Hash key as hex: plain (`6d5a56da…`, optional `0x`, spaces ignored) or ethtool's `6d:5a:56:…`. */
  readonly key?: string;
  readonly queues?: string | number;
  readonly retaSize?: string | number;
}

export interface RssLookupResult {
  readonly inputKind: RssInputKind;
  /** Canonical text of the source address (IPv6 compressed per RFC 5952). */
  readonly src: string;
  readonly dst: string;
  readonly srcPort?: number;
  readonly dstPort?: number;
  /** The hash input bytes as lower-case hex, for comparing with other tools. */
  readonly inputHex: string;
  /** The whole key used, lower-case hex without separators. */
  readonly keyHex: string;
  readonly hash: number;
  /** `0x%08x` */
  readonly hashHex: string;
  readonly retaSize: number;
  readonly retaIndex: number;
  readonly queues: number;
  readonly queue: number;
}

/** Queues when `--queues` is not given: a small multi-queue VIF, so the RETA spread is visible. */
export const RSS_DEFAULT_QUEUES = 4;
/** Upper bound on `--queues`: RETA entries are u16 queue numbers. */
const MAX_QUEUES = 0x10000;

const INPUT_LABEL: Readonly<Record<RssInputKind, string>> = {
  ipv4: 'IPv4',
  'ipv4-tcp': 'IPv4+TCP',
  ipv6: 'IPv6',
  'ipv6-tcp': 'IPv6+TCP',
};

/**
 * Hash a flow the way netback's vRSS steering does and report the queue it lands on:
 * Toeplitz over (src, dst[, sport, dport]), then `RETA[hash & (retaSize - 1)]`, with the RETA
 * filled round-robin over the queues.
 *
 * Defaults: the Microsoft sample key (DEFAULT_RSS_KEY), a 128-entry RETA, and 4 queues
 * (RSS_DEFAULT_QUEUES) — one queue would send every flow to queue 0 and show nothing.
 * Give both ports for a TCP/UDP 4-tuple hash, or neither for an address-only hash.
 * Every bad option throws SplitnetError('E_USAGE') with a one-line message naming the option,
 * what was expected and what was found; nothing is computed until all options are valid.
 */
export function rssLookup(opts: RssLookupOptions): RssLookupResult {
  const src = parseIpAddress(opts.src, '<src>');
  const dst = parseIpAddress(opts.dst, '<dst>');
  if (src.family !== dst.family) {
    throw usage('<dst>', `an IPv${src.family} address like <src>`, `IPv${dst.family} ${JSON.stringify(opts.dst)} (both addresses must be the same family)`);
  }

  const srcPort = opts.sport === undefined ? undefined : parsePort(opts.sport, '--sport');
  const dstPort = opts.dport === undefined ? undefined : parsePort(opts.dport, '--dport');
  if (srcPort === undefined && dstPort !== undefined) {
    throw usage('--sport', `a source port to go with --dport ${dstPort} (give both ports or neither)`, 'none');
  }
  if (srcPort !== undefined && dstPort === undefined) {
    throw usage('--dport', `a destination port to go with --sport ${srcPort} (give both ports or neither)`, 'none');
  }

  const withPorts = srcPort !== undefined;
  const inputKind: RssInputKind = src.family === 4 ? (withPorts ? 'ipv4-tcp' : 'ipv4') : withPorts ? 'ipv6-tcp' : 'ipv6';
  const input = rssInput(src.bytes, dst.bytes, srcPort, dstPort);
  const key = opts.key === undefined ? DEFAULT_RSS_KEY : parseKey(opts.key, input.length, INPUT_LABEL[inputKind]);

  const queues = opts.queues === undefined ? RSS_DEFAULT_QUEUES : parseQueues(opts.queues);
  const retaSize = opts.retaSize === undefined ? RETA_MAX_SIZE : parseRetaSize(opts.retaSize);

  const hash = toeplitzHash(key, input);
  const reta = new IndirectionTable(retaSize, queues);
  return {
    inputKind,
    src: formatIpAddress(src.bytes),
    dst: formatIpAddress(dst.bytes),
    ...(srcPort === undefined ? {} : { srcPort }),
    ...(dstPort === undefined ? {} : { dstPort }),
    inputHex: toHex(input),
    keyHex: toHex(key),
    hash,
    hashHex: `0x${hash.toString(16).padStart(8, '0')}`,
    retaSize,
    retaIndex: reta.indexFor(hash),
    queues,
    queue: reta.queueFor(hash),
  };
}

/**
 * An `ethtool -x`-like table:
 *
 *   input       IPv4+TCP 66.9.149.187:2794 -> 161.142.100.80:1766
 *   input bytes 420995bb a18e6450 0aea06e6
 *   key         6d5a56da 255b0ec2 … (40 bytes)
 *   hash        0x51ccc178
 *   RETA        128 entries, round-robin over 4 queues
 *   RETA index  120 (hash & 127) -> queue 0
 */
export function formatRssLookup(r: RssLookupResult): string {
  const endpoint = (address: string, port: number | undefined): string => {
    if (port === undefined) return address;
    // Brackets keep the port from reading as one more IPv6 group (RFC 5952 §6).
    return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  };
  const rows: Array<[string, string]> = [
    ['input', `${INPUT_LABEL[r.inputKind]} ${endpoint(r.src, r.srcPort)} -> ${endpoint(r.dst, r.dstPort)}`],
    ['input bytes', words(r.inputHex)],
    ['key', `${words(r.keyHex)} (${r.keyHex.length / 2} bytes)`],
    ['hash', r.hashHex],
    ['RETA', `${r.retaSize} ${r.retaSize === 1 ? 'entry' : 'entries'}, round-robin over ${r.queues} ${r.queues === 1 ? 'queue' : 'queues'}`],
    ['RETA index', `${r.retaIndex} (hash & ${r.retaSize - 1}) -> queue ${r.queue}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

function usage(flag: string, expected: string, found: string): SplitnetError {
  return new SplitnetError('E_USAGE', `${flag}: expected ${expected}, found ${found}`);
}

/** A whole decimal number; commander hands options over as strings, programs as numbers. */
function parseInteger(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  return /^[0-9]+$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

function shown(value: string | number): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

function parsePort(value: string | number, flag: string): number {
  const port = parseInteger(value);
  if (port === undefined || port < 0 || port > 0xffff) throw usage(flag, 'a port number 0-65535', shown(value));
  return port;
}

function parseQueues(value: string | number): number {
  const queues = parseInteger(value);
  if (queues === undefined || queues < 1 || queues > MAX_QUEUES) {
    throw usage('--queues', `a whole number of queues 1-${MAX_QUEUES}`, shown(value));
  }
  return queues;
}

function parseRetaSize(value: string | number): number {
  const size = parseInteger(value);
  if (size === undefined || !isValidRetaSize(size)) {
    throw usage('--reta-size', `a power of two 1-${RETA_MAX_SIZE}`, shown(value));
  }
  return size;
}

/**
 * Key text → bytes. Colon form (ethtool's `-X hkey` and `-x` output) needs two hex digits per
 * byte; plain form may carry `0x` and spaces (so the spec's grouped words can be pasted).
 * Length: at least input + 4 bytes, which the hash needs, and at most 40, the longest key the RSS
 * spec and Xen's control ring allow.
 */
function parseKey(text: string, inputLength: number, inputLabel: string): Uint8Array {
  const colon = text.includes(':');
  let digits: string;
  if (colon) {
    const parts = text.trim().split(':');
    const bad = parts.findIndex((p) => !/^[0-9a-fA-F]{2}$/.test(p));
    if (bad !== -1) {
      throw usage('--key', 'hex bytes like 6d:5a:56:da (two hex digits between colons)', `${JSON.stringify(parts[bad])} at byte ${bad + 1}`);
    }
    digits = parts.join('');
  } else {
    digits = text.replace(/\s+/g, '').replace(/^0x/i, '');
    const bad = digits.search(/[^0-9a-fA-F]/);
    if (bad !== -1 || digits === '') {
      throw usage('--key', 'hex like 6d5a56da255b… or 6d:5a:56:da:…', digits === '' ? 'an empty key' : `${JSON.stringify(digits[bad])} in ${shown(text)}`);
    }
    if (digits.length % 2 !== 0) {
      throw usage('--key', 'a whole number of bytes (an even number of hex digits)', `${digits.length} hex digits`);
    }
  }
  const length = digits.length / 2;
  const needed = rssKeyBytesNeeded(inputLength);
  if (length < needed || length > RSS_KEY_MAX_BYTES) {
    const range = needed === RSS_KEY_MAX_BYTES ? `${needed}` : `${needed}-${RSS_KEY_MAX_BYTES}`;
    throw usage('--key', `${range} bytes (an ${inputLabel} hash needs ${needed})`, `${length} bytes`);
  }
  return Uint8Array.from(Buffer.from(digits, 'hex'));
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** Hex in 4-byte words separated by spaces, as the RSS spec prints keys. */
function words(hex: string): string {
  return hex.match(/.{1,8}/g)?.join(' ') ?? '';
}
