// IPv4/IPv6 addresses as text ↔ network-byte-order bytes, for RSS hash inputs and flow tables.
import { SplitnetError } from './errors.js';

export type IpFamily = 4 | 6;

/** A parsed address: 4 bytes for IPv4, 16 for IPv6, in network byte order. */
export interface IpAddress {
  readonly family: IpFamily;
  readonly bytes: Uint8Array;
}

export const IPV4_BYTES = 4;
export const IPV6_BYTES = 16;

const IPV6_GROUPS = 8;
const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function usage(what: string, expected: string, text: string, why: string): SplitnetError {
  return new SplitnetError('E_USAGE', `${what}: expected ${expected}, found ${JSON.stringify(text)} (${why})`);
}

const EXPECT_V4 = 'an IPv4 address like 192.0.2.1';
const EXPECT_V6 = 'an IPv6 address like 2001:db8::1';

/**
 * Parse dotted-quad IPv4 text into 4 bytes.
 * `what` names the input in error messages (a flag, an argument, a path in a scenario file).
 * Leading zeros are rejected because inet_aton reads them as octal ("010" = 8) while others read
 * decimal; refusing them avoids hashing a different address from the one the user meant.
 */
export function parseIpv4(text: string, what = 'address'): Uint8Array {
  const parsed = ipv4OrReason(text);
  if (typeof parsed === 'string') return fail(usage(what, EXPECT_V4, text, parsed));
  return parsed;
}

/** The 4 bytes of dotted-quad text, or why it is not one. */
function ipv4OrReason(text: string): Uint8Array | string {
  const parts = text.split('.');
  if (parts.length !== IPV4_BYTES) return `it has ${parts.length} dot-separated parts, not 4`;
  const bytes = new Uint8Array(IPV4_BYTES);
  for (let i = 0; i < IPV4_BYTES; i++) {
    const part = parts[i] ?? '';
    if (part === '') return `part ${i + 1} is empty`;
    if (!DECIMAL_OCTET.test(part)) {
      return /^[0-9]+$/.test(part) ? `part ${i + 1} "${part}" has a leading zero or too many digits` : `part ${i + 1} "${part}" is not a decimal number`;
    }
    const octet = Number(part);
    if (octet > 255) return `part ${i + 1} is ${octet}, above 255`;
    bytes[i] = octet;
  }
  return bytes;
}

/**
 * Parse IPv6 text (RFC 4291 §2.2: hex groups, one optional "::", optional dotted IPv4 tail)
 * into 16 bytes. Zone indices ("%eth0") and brackets are refused: they are not part of the
 * address that goes on the wire, so they cannot feed a hash.
 */
export function parseIpv6(text: string, what = 'address'): Uint8Array {
  const bad = (why: string): never => fail(usage(what, EXPECT_V6, text, why));
  if (text.includes('%')) bad('zone indices are not part of the address');
  if (text.startsWith('[') || text.endsWith(']')) bad('write the address without brackets');

  const halves = text.split('::');
  if (halves.length > 2) bad('"::" may appear only once');
  const compressed = halves.length === 2;
  const head = groupsOf(halves[0] ?? '', bad);
  const tail = compressed ? groupsOf(halves[1] ?? '', bad) : [];

  // A dotted IPv4 tail ("::ffff:192.0.2.1") fills the last two groups; it must come last.
  const all = [...head, ...tail];
  const dotted = all.findIndex((g) => g.includes('.'));
  const endsAddress = dotted === all.length - 1 && (!compressed || dotted >= head.length);
  if (dotted !== -1 && !endsAddress) bad('a dotted IPv4 part may only end the address');

  const words: number[] = [];
  const toWords = (groups: string[]): number[] => {
    const out: number[] = [];
    for (const g of groups) {
      if (g.includes('.')) {
        const v4 = ipv4OrReason(g);
        if (typeof v4 === 'string') return bad(`its dotted IPv4 tail is malformed: ${v4}`);
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (HEX_GROUP.test(g)) {
        out.push(parseInt(g, 16));
      } else {
        bad(`group "${g}" is not 1-4 hex digits`);
      }
    }
    return out;
  };
  const headWords = toWords(head);
  const tailWords = toWords(tail);
  const given = headWords.length + tailWords.length;
  if (compressed) {
    // "::" stands for at least one zero group (RFC 4291), so at most 7 may be written around it.
    if (given > IPV6_GROUPS - 1) bad(`"::" leaves no room: ${given} groups are already written`);
    words.push(...headWords, ...new Array<number>(IPV6_GROUPS - given).fill(0), ...tailWords);
  } else {
    if (given !== IPV6_GROUPS) bad(`it has ${given} groups, not 8, and no "::"`);
    words.push(...headWords);
  }

  const bytes = new Uint8Array(IPV6_BYTES);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}

/** Split one side of "::" into its colon-separated groups; an empty side has none. */
function groupsOf(side: string, bad: (why: string) => never): string[] {
  if (side === '') return [];
  const groups = side.split(':');
  if (groups.some((g) => g === '')) bad('it has an empty group (a lone ":" at an end, or ":::")');
  return groups;
}

/** Parse either family: text with a ':' is IPv6, otherwise IPv4. */
export function parseIpAddress(text: string, what = 'address'): IpAddress {
  if (text.includes(':')) return { family: 6, bytes: parseIpv6(text, what) };
  if (text.includes('.')) return { family: 4, bytes: parseIpv4(text, what) };
  return fail(usage(what, 'an IPv4 or IPv6 address', text, 'it has neither "." nor ":"'));
}

/** Dotted-quad text of 4 bytes. */
export function formatIpv4(bytes: ArrayLike<number>): string {
  checkLength(bytes, IPV4_BYTES);
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * RFC 5952 canonical text of 16 bytes: lower-case hex without leading zeros, the longest run of
 * two or more zero groups (the first, on a tie) written as "::", and IPv4-mapped addresses
 * (::ffff:0:0/96) with a dotted tail — so echoed addresses read the way `ip addr` prints them.
 */
export function formatIpv6(bytes: ArrayLike<number>): string {
  checkLength(bytes, IPV6_BYTES);
  const words: number[] = [];
  for (let i = 0; i < IPV6_GROUPS; i++) words.push(((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));

  const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
  if (mapped) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }

  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let i = 0; i < IPV6_GROUPS;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < IPV6_GROUPS && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart === -1) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLength))}`;
}

/** Canonical text of a 4- or 16-byte address. */
export function formatIpAddress(bytes: ArrayLike<number>): string {
  return bytes.length === IPV4_BYTES ? formatIpv4(bytes) : formatIpv6(bytes);
}

function checkLength(bytes: ArrayLike<number>, expected: number): void {
  if (bytes.length !== expected) {
    throw new SplitnetError('E_USAGE', `address: expected ${expected} bytes, found ${bytes.length}`);
  }
}

function fail(error: SplitnetError): never {
  throw error;
}
