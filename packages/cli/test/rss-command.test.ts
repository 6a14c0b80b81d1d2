// Tests for the `splitnet rss` lookup: option checking, hash and queue, and the text table.
import test from 'ava';
import { SplitnetError } from '@splitnet/model';
import { RSS_DEFAULT_QUEUES, formatRssLookup, rssLookup } from '../src/rss-command.js';
import type { RssLookupOptions } from '../src/rss-command.js';

const SPEC_KEY = '6d5a56da 255b0ec2 4167253d 43a38fb0 d0ca2bcb ae7b30b4 77cb2da3 8030f20c 6a42b73b beac01fa';
const SPEC_KEY_COLON = SPEC_KEY.replace(/ /g, '').match(/../g)?.join(':') ?? '';

function usageError(t: import('ava').ExecutionContext, opts: RssLookupOptions, message: RegExp): void {
  const error = t.throws(() => rssLookup(opts), { instanceOf: SplitnetError }, JSON.stringify(opts));
  t.is(error?.code, 'E_USAGE');
  t.regex(error?.message ?? '', message);
  t.false(error?.message.includes('\n'), 'one line');
}

test('rss command - IPv4+TCP verification vector with defaults', (t) => {
  const r = rssLookup({ src: '66.9.149.187', dst: '161.142.100.80', sport: '2794', dport: '1766' });
  t.like(r, {
    inputKind: 'ipv4-tcp',
    src: '66.9.149.187',
    dst: '161.142.100.80',
    srcPort: 2794,
    dstPort: 1766,
    inputHex: '420995bba18e64500aea06e6',
    keyHex: SPEC_KEY.replace(/ /g, ''),
    hash: 0x51ccc178,
    hashHex: '0x51ccc178',
    retaSize: 128,
    retaIndex: 120,
    queues: RSS_DEFAULT_QUEUES,
    queue: 0,
  });
  t.is(RSS_DEFAULT_QUEUES, 4);
});

test('rss command - address-only hash leaves the ports out of the result', (t) => {
  const r = rssLookup({ src: '66.9.149.187', dst: '161.142.100.80' });
  t.is(r.inputKind, 'ipv4');
  t.is(r.hashHex, '0x323e8fc2');
  t.false('srcPort' in r);
  t.false('dstPort' in r);
  t.is(r.retaIndex, 0x323e8fc2 & 127);
  t.is(r.queue, (0x323e8fc2 & 127) % 4);
});

test('rss command - IPv6 vectors, canonical addresses echoed', (t) => {
  const tcp = rssLookup({ src: '3ffe:2501:200:1fff:0:0:0:7', dst: '3FFE:2501:200:3::1', sport: 2794, dport: 1766 });
  t.is(tcp.inputKind, 'ipv6-tcp');
  t.is(tcp.hashHex, '0x40207d3d');
  t.is(tcp.src, '3ffe:2501:200:1fff::7');
  t.is(tcp.dst, '3ffe:2501:200:3::1');
  const ipOnly = rssLookup({ src: '3ffe:1900:4545:3:200:f8ff:fe21:67cf', dst: 'fe80::200:f8ff:fe21:67cf' });
  t.is(ipOnly.inputKind, 'ipv6');
  t.is(ipOnly.hashHex, '0x4b61e985');
});

test('rss command - key in plain hex, 0x-prefixed, or ethtool colon form gives the same hash', (t) => {
  const base = { src: '199.92.111.2', dst: '65.69.140.83', sport: 14230, dport: 4739 };
  for (const key of [SPEC_KEY, SPEC_KEY.replace(/ /g, ''), `0x${SPEC_KEY.replace(/ /g, '').toUpperCase()}`, SPEC_KEY_COLON]) {
    t.is(rssLookup({ ...base, key }).hashHex, '0xc626b0ea', key);
  }
  // The shortest key an IPv4+TCP hash can use: 16 bytes.
  const short = rssLookup({ ...base, key: SPEC_KEY_COLON.slice(0, 16 * 3 - 1) });
  t.is(short.hashHex, '0xc626b0ea');
  t.is(short.keyHex.length, 32);
});

test('rss command - queues and RETA size change the index and queue', (t) => {
  const r = rssLookup({ src: '66.9.149.187', dst: '161.142.100.80', sport: 2794, dport: 1766, queues: '7', retaSize: '64' });
  t.is(r.retaSize, 64);
  t.is(r.retaIndex, 0x51ccc178 & 63);
  t.is(r.queues, 7);
  t.is(r.queue, (0x51ccc178 & 63) % 7);
  t.is(rssLookup({ src: '10.0.0.1', dst: '10.0.0.2', retaSize: 1 }).retaIndex, 0);
});

test('rss command - bad addresses and mixed families', (t) => {
  usageError(t, { src: '300.1.1.1', dst: '10.0.0.1' }, /^<src>: expected an IPv4 address .*found "300.1.1.1"/);
  usageError(t, { src: '10.0.0.1', dst: 'gateway' }, /^<dst>: expected an IPv4 or IPv6 address, found "gateway"/);
  usageError(t, { src: '10.0.0.1', dst: '::1' }, /^<dst>: expected an IPv4 address like <src>, found IPv6 "::1"/);
  usageError(t, { src: '::1', dst: '10.0.0.1' }, /^<dst>: expected an IPv6 address like <src>, found IPv4/);
});

test('rss command - ports must be 0-65535 and come in pairs', (t) => {
  const addrs = { src: '10.0.0.1', dst: '10.0.0.2' };
  usageError(t, { ...addrs, sport: '65536', dport: 1 }, /^--sport: expected a port number 0-65535, found "65536"$/);
  usageError(t, { ...addrs, sport: 1, dport: -1 }, /^--dport: expected a port number 0-65535, found -1$/);
  usageError(t, { ...addrs, sport: 'http', dport: 1 }, /^--sport: .*found "http"$/);
  usageError(t, { ...addrs, sport: '1.5', dport: 1 }, /^--sport: /);
  usageError(t, { ...addrs, sport: 80 }, /^--dport: expected a destination port to go with --sport 80 .*found none$/);
  usageError(t, { ...addrs, dport: '443' }, /^--sport: expected a source port to go with --dport 443 .*found none$/);
  t.is(rssLookup({ ...addrs, sport: '0', dport: '65535' }).dstPort, 65535);
});

test('rss command - key must be hex of the right length', (t) => {
  const v4tcp = { src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2 };
  usageError(t, { ...v4tcp, key: 'xyz' }, /^--key: expected hex .*found "x" in "xyz"$/);
  usageError(t, { ...v4tcp, key: '' }, /^--key: .*found an empty key$/);
  usageError(t, { ...v4tcp, key: 'abc' }, /^--key: expected a whole number of bytes .*found 3 hex digits$/);
  usageError(t, { ...v4tcp, key: '6d:5a:5' }, /^--key: expected hex bytes like 6d:5a:56:da .*found "5" at byte 3$/);
  usageError(t, { ...v4tcp, key: '6d:5a::56' }, /found "" at byte 3/);
  usageError(t, { ...v4tcp, key: '6d5a56da' }, /^--key: expected 16-40 bytes \(an IPv4\+TCP hash needs 16\), found 4 bytes$/);
  usageError(t, { ...v4tcp, key: `${SPEC_KEY}00` }, /found 41 bytes$/);
  // 16 bytes is enough for IPv4+TCP but not for IPv6+TCP.
  const key16 = SPEC_KEY.replace(/ /g, '').slice(0, 32);
  t.notThrows(() => rssLookup({ ...v4tcp, key: key16 }));
  usageError(t, { src: '::1', dst: '::2', sport: 1, dport: 2, key: key16 }, /expected 40 bytes \(an IPv6\+TCP hash needs 40\), found 16 bytes/);
});

test('rss command - queues and RETA size are checked', (t) => {
  const addrs = { src: '10.0.0.1', dst: '10.0.0.2' };
  usageError(t, { ...addrs, queues: 0 }, /^--queues: expected a whole number of queues 1-65536, found 0$/);
  usageError(t, { ...addrs, queues: 'four' }, /^--queues: .*found "four"$/);
  usageError(t, { ...addrs, retaSize: '100' }, /^--reta-size: expected a power of two 1-128, found "100"$/);
  usageError(t, { ...addrs, retaSize: 256 }, /^--reta-size: .*found 256$/);
  usageError(t, { ...addrs, retaSize: 0 }, /^--reta-size: /);
});

test('rss command - text table is aligned and names input, key, hash, RETA index and queue', (t) => {
  const text = formatRssLookup(rssLookup({ src: '66.9.149.187', dst: '161.142.100.80', sport: 2794, dport: 1766 }));
  t.is(
    text,
    [
      'input        IPv4+TCP 66.9.149.187:2794 -> 161.142.100.80:1766',
      'input bytes  420995bb a18e6450 0aea06e6',
      `key          ${SPEC_KEY} (40 bytes)`,
      'hash         0x51ccc178',
      'RETA         128 entries, round-robin over 4 queues',
      'RETA index   120 (hash & 127) -> queue 0',
    ].join('\n'),
  );
});

test('rss command - IPv6 endpoints are bracketed when a port follows', (t) => {
  const text = formatRssLookup(rssLookup({ src: '3ffe:501:8::260:97ff:fe40:efab', dst: 'ff02::1', sport: 14230, dport: 4739 }));
  t.regex(text, /^input {8}IPv6\+TCP \[3ffe:501:8:0:260:97ff:fe40:efab\]:14230 -> \[ff02::1\]:4739$/m);
  t.regex(text, /^hash {9}0xdde51bbf$/m);
  const ipOnly = formatRssLookup(rssLookup({ src: '::1', dst: '::2', queues: 1, retaSize: 1 }));
  t.regex(ipOnly, /^input {8}IPv6 ::1 -> ::2$/m);
  t.regex(ipOnly, /^RETA {9}1 entry, round-robin over 1 queue$/m);
});
