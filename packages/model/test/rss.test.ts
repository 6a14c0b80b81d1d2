// Tests for the Toeplitz RSS hash against the RSS verification suite, its inputs, and the RETA.
import test from 'ava';
import {
  DEFAULT_RSS_KEY,
  IndirectionTable,
  RSS_INPUT_BYTES,
  SplitnetError,
  isValidRetaSize,
  parseIpAddress,
  rssInput,
  rssInputKind,
  rssKeyBytesNeeded,
  toeplitzHash,
} from '../src/index.js';

interface Vector {
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
  readonly ipOnly: number;
  readonly withPorts: number;
}

// The RSS verification suite (Microsoft RSS spec / Intel 82599 datasheet; DPDK's test_thash uses it too).
const IPV4_VECTORS: readonly Vector[] = [
  { src: '66.9.149.187', sport: 2794, dst: '161.142.100.80', dport: 1766, ipOnly: 0x323e8fc2, withPorts: 0x51ccc178 },
  { src: '199.92.111.2', sport: 14230, dst: '65.69.140.83', dport: 4739, ipOnly: 0xd718262a, withPorts: 0xc626b0ea },
  { src: '24.19.198.95', sport: 12898, dst: '12.22.207.184', dport: 38024, ipOnly: 0xd2d0a5de, withPorts: 0x5c2b394a },
  { src: '38.27.205.30', sport: 48228, dst: '209.142.163.6', dport: 2217, ipOnly: 0x82989176, withPorts: 0xafc7327f },
  { src: '153.39.163.191', sport: 44251, dst: '202.188.127.2', dport: 1303, ipOnly: 0x5d1809c5, withPorts: 0x10e828a2 },
];

const IPV6_VECTORS: readonly Vector[] = [
  {
    src: '3ffe:2501:200:1fff::7',
    sport: 2794,
    dst: '3ffe:2501:200:3::1',
    dport: 1766,
    ipOnly: 0x2cc18cd5,
    withPorts: 0x40207d3d,
  },
  {
    src: '3ffe:501:8::260:97ff:fe40:efab',
    sport: 14230,
    dst: 'ff02::1',
    dport: 4739,
    ipOnly: 0x0f0c461c,
    withPorts: 0xdde51bbf,
  },
  {
    src: '3ffe:1900:4545:3:200:f8ff:fe21:67cf',
    sport: 44251,
    dst: 'fe80::200:f8ff:fe21:67cf',
    dport: 38024,
    ipOnly: 0x4b61e985,
    withPorts: 0x02d1feef,
  },
];

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

function hashOf(v: Vector, withPorts: boolean): number {
  const src = parseIpAddress(v.src).bytes;
  const dst = parseIpAddress(v.dst).bytes;
  const input = withPorts ? rssInput(src, dst, v.sport, v.dport) : rssInput(src, dst);
  return toeplitzHash(DEFAULT_RSS_KEY, input);
}

/** The spec read literally: the whole key as one big number, shifted left one bit per input bit. */
function referenceToeplitz(key: ArrayLike<number>, input: ArrayLike<number>): number {
  const keyBits = BigInt(key.length * 8);
  let k = 0n;
  for (let i = 0; i < key.length; i++) k = (k << 8n) | BigInt(key[i] ?? 0);
  let result = 0n;
  for (let i = 0; i < input.length * 8; i++) {
    const bit = ((input[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
    if (bit) result ^= k >> (keyBits - 32n);
    k = (k << 1n) & ((1n << keyBits) - 1n);
  }
  return Number(result);
}

/** Deterministic bytes (xorshift32) so the cross-check is reproducible. */
function bytesFrom(seed: number, length: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

for (const v of IPV4_VECTORS) {
  test(`rss - IPv4 vector ${v.src}:${v.sport} -> ${v.dst}:${v.dport}`, (t) => {
    t.is(hex(hashOf(v, false)), hex(v.ipOnly), 'IPv4 only');
    t.is(hex(hashOf(v, true)), hex(v.withPorts), 'IPv4+TCP');
  });
}

for (const v of IPV6_VECTORS) {
  test(`rss - IPv6 vector ${v.src} port ${v.sport} -> ${v.dst} port ${v.dport}`, (t) => {
    t.is(hex(hashOf(v, false)), hex(v.ipOnly), 'IPv6 only');
    t.is(hex(hashOf(v, true)), hex(v.withPorts), 'IPv6+TCP');
  });
}

test('rss - default key is the RSS spec sample key', (t) => {
  const words = Array.from({ length: 10 }, (_, i) => Buffer.from(DEFAULT_RSS_KEY.subarray(4 * i, 4 * i + 4)).toString('hex'));
  t.is(words.join(' '), '6d5a56da 255b0ec2 4167253d 43a38fb0 d0ca2bcb ae7b30b4 77cb2da3 8030f20c 6a42b73b beac01fa');
});

test('rss - 32-bit window agrees with the literal whole-key shift on deterministic random inputs', (t) => {
  for (let seed = 1; seed <= 200; seed++) {
    const inputLength = [8, 12, 32, 36][seed % 4] ?? 12;
    const key = bytesFrom(seed * 7919, 40);
    const input = bytesFrom(seed, inputLength);
    t.is(toeplitzHash(key, input), referenceToeplitz(key, input), `seed ${seed}`);
  }
});

test('rss - hash is an unsigned 32-bit number', (t) => {
  const h = toeplitzHash(DEFAULT_RSS_KEY, new Uint8Array(36).fill(0xff));
  t.true(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
  t.is(toeplitzHash(DEFAULT_RSS_KEY, new Uint8Array(12)), 0, 'all-zero input hashes to 0');
});

test('rss - a single input bit selects the key window at its position', (t) => {
  // Input bit 0 (MSB of byte 0) XORs key bits 0..31; bit 1 XORs key bits 1..32, etc.
  t.is(toeplitzHash(DEFAULT_RSS_KEY, [0x80, 0, 0, 0, 0, 0, 0, 0]), 0x6d5a56da);
  t.is(toeplitzHash(DEFAULT_RSS_KEY, [0, 0x80, 0, 0, 0, 0, 0, 0]), 0x5a56da25);
  t.is(toeplitzHash(DEFAULT_RSS_KEY, [0x40, 0, 0, 0, 0, 0, 0, 0]), ((0x6d5a56da << 1) | 0) >>> 0);
});

test('rss - only the first input length + 4 key bytes matter', (t) => {
  const input = rssInput([66, 9, 149, 187], [161, 142, 100, 80], 2794, 1766);
  const shortKey = DEFAULT_RSS_KEY.slice(0, rssKeyBytesNeeded(input.length));
  t.is(shortKey.length, 16);
  t.is(toeplitzHash(shortKey, input), 0x51ccc178);
});

test('rss - a key shorter than input length + 4 is rejected', (t) => {
  const input = new Uint8Array(36);
  const error = t.throws(() => toeplitzHash(DEFAULT_RSS_KEY.slice(0, 39), input), { instanceOf: SplitnetError });
  t.is(error?.code, 'E_USAGE');
  t.regex(error?.message ?? '', /at least 40 bytes .* 36-byte input, found 39/);
  t.notThrows(() => toeplitzHash(DEFAULT_RSS_KEY, input), '40 bytes covers IPv6+TCP');
});

test('rss - rssInput lays out addresses then ports in network byte order', (t) => {
  const input = rssInput([66, 9, 149, 187], [161, 142, 100, 80], 2794, 1766);
  t.deepEqual([...input], [66, 9, 149, 187, 161, 142, 100, 80, 0x0a, 0xea, 0x06, 0xe6]);
  t.is(rssInput(new Uint8Array(16), new Uint8Array(16)).length, 32);
  t.is(rssInput(new Uint8Array(16), new Uint8Array(16), 0, 65535).length, 36);
});

test('rss - rssInput rejects mixed families, one port, and out-of-range values', (t) => {
  const v4 = [10, 0, 0, 1];
  const v6 = new Uint8Array(16);
  const usage = { instanceOf: SplitnetError };
  t.regex(t.throws(() => rssInput(v4, v6), usage)?.message ?? '', /found 4 and 16 bytes/);
  t.throws(() => rssInput([1, 2, 3], [1, 2, 3]), usage);
  t.regex(t.throws(() => rssInput(v4, v4, 80), usage)?.message ?? '', /both ports or neither, found only the source/);
  t.regex(t.throws(() => rssInput(v4, v4, undefined, 80), usage)?.message ?? '', /only the destination/);
  t.regex(t.throws(() => rssInput(v4, v4, 65536, 1), usage)?.message ?? '', /source port 0-65535, found 65536/);
  t.throws(() => rssInput(v4, v4, 1, -1), usage);
  t.throws(() => rssInput(v4, v4, 1.5, 1), usage);
  t.throws(() => rssInput([256, 0, 0, 1], v4), usage);
});

test('rss - input kinds and lengths', (t) => {
  t.deepEqual({ ...RSS_INPUT_BYTES }, { ipv4: 8, 'ipv4-tcp': 12, ipv6: 32, 'ipv6-tcp': 36 });
  t.is(rssInputKind(12), 'ipv4-tcp');
  t.is(rssInputKind(32), 'ipv6');
  t.is(rssInputKind(13), undefined);
});

test('rss - RETA defaults to 128 entries filled round-robin', (t) => {
  const reta = new IndirectionTable(undefined, 4);
  t.is(reta.size, 128);
  t.is(reta.entries.length, 128);
  t.deepEqual([...reta.entries.subarray(0, 6)], [0, 1, 2, 3, 0, 1]);
  t.is(reta.entries[127], 3);
});

test('rss - queueFor uses the hash low bits like hash % size', (t) => {
  const reta = new IndirectionTable(64, 3);
  for (const hash of [0, 1, 63, 64, 0x51ccc178, 0xffffffff, 0x80000000, 0x7fffffff]) {
    t.is(reta.indexFor(hash), hash % 64, hex(hash));
    t.is(reta.queueFor(hash), (hash % 64) % 3, hex(hash));
  }
  const single = new IndirectionTable(1, 8);
  t.is(single.queueFor(0xdeadbeef), 0);
});

test('rss - verification vector steers through the default RETA', (t) => {
  // 0x51ccc178 & 127 = 120, and 120 % 4 = 0.
  t.is(new IndirectionTable(128, 4).queueFor(0x51ccc178), 0);
  t.is(new IndirectionTable(128, 3).queueFor(0x51ccc178), 0);
  t.is(new IndirectionTable(128, 7).queueFor(0x51ccc178), 120 % 7);
});

test('rss - RETA size must be a power of two from 1 to 128', (t) => {
  for (const size of [1, 2, 4, 8, 16, 32, 64, 128]) t.true(isValidRetaSize(size), String(size));
  for (const size of [0, 3, 96, 256, -4, 2.5, Number.NaN]) {
    t.false(isValidRetaSize(size), String(size));
    const error = t.throws(() => new IndirectionTable(size, 2), { instanceOf: SplitnetError });
    t.is(error?.code, 'E_USAGE');
  }
  t.regex(t.throws(() => new IndirectionTable(100, 2))?.message ?? '', /power of two 1-128, found 100/);
});

test('rss - RETA rejects a queue count below 1', (t) => {
  t.throws(() => new IndirectionTable(128, 0), { instanceOf: SplitnetError, message: /queues, found 0/ });
  t.throws(() => new IndirectionTable(128, 1.5), { instanceOf: SplitnetError });
});

test('rss - RETA set and fromEntries', (t) => {
  const reta = new IndirectionTable(8, 2);
  reta.set(3, 7);
  t.is(reta.queueFor(3), 7);
  t.is(reta.queueFor(11), 7, 'index 11 & 7 = 3');
  t.throws(() => reta.set(8, 0), { instanceOf: SplitnetError, message: /index 0-7, found 8/ });
  t.throws(() => reta.set(0, -1), { instanceOf: SplitnetError });
  t.throws(() => reta.set(0, 65536), { instanceOf: SplitnetError });

  const custom = IndirectionTable.fromEntries([3, 2, 1, 0]);
  t.deepEqual([...custom.entries], [3, 2, 1, 0]);
  t.is(custom.queueFor(5), 2);
  t.throws(() => IndirectionTable.fromEntries([0, 1, 2]), { instanceOf: SplitnetError });
  t.throws(() => IndirectionTable.fromEntries([]), { instanceOf: SplitnetError });
  t.throws(() => IndirectionTable.fromEntries([0, 1.5]), { instanceOf: SplitnetError });
});
