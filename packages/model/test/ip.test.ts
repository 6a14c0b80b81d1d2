// Tests for IPv4/IPv6 text ↔ bytes parsing and canonical formatting.
import test from 'ava';
import { isIP } from 'node:net';
import { SplitnetError, formatIpAddress, formatIpv4, formatIpv6, parseIpAddress, parseIpv4, parseIpv6 } from '../src/index.js';

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

test('ip - IPv4 dotted quad to network-order bytes', (t) => {
  t.deepEqual([...parseIpv4('66.9.149.187')], [66, 9, 149, 187]);
  t.deepEqual([...parseIpv4('0.0.0.0')], [0, 0, 0, 0]);
  t.deepEqual([...parseIpv4('255.255.255.255')], [255, 255, 255, 255]);
});

test('ip - IPv4 errors name the input, the expectation and what was wrong', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['1.2.3', /4 dot-separated|3 dot-separated parts, not 4/],
    ['1.2.3.4.5', /5 dot-separated parts/],
    ['1.2.3.256', /part 4 is 256, above 255/],
    ['1.2..4', /part 3 is empty/],
    ['01.2.3.4', /part 1 "01" has a leading zero/],
    ['1.2.3.x', /part 4 "x" is not a decimal number/],
    ['1.2.3.+4', /not a decimal number/],
    ['1.2.3. 4', /not a decimal number/],
    ['', /1 dot-separated part/],
  ];
  for (const [text, why] of cases) {
    const error = t.throws(() => parseIpv4(text, '<src>'), { instanceOf: SplitnetError }, text);
    t.is(error?.code, 'E_USAGE');
    t.true(error?.message.startsWith('<src>: expected an IPv4 address'), error?.message);
    t.true(error?.message.includes(JSON.stringify(text)), error?.message);
    t.regex(error?.message ?? '', why);
    t.false(error?.message.includes('\n'), 'one line');
  }
});

test('ip - IPv6 forms: full, compressed, all-zero, dotted tail', (t) => {
  t.is(hexOf(parseIpv6('2001:0db8:0000:0000:0000:0000:0000:0001')), '20010db8000000000000000000000001');
  t.is(hexOf(parseIpv6('2001:DB8::1')), '20010db8000000000000000000000001');
  t.is(hexOf(parseIpv6('::')), '0'.repeat(32));
  t.is(hexOf(parseIpv6('::1')), `${'0'.repeat(31)}1`);
  t.is(hexOf(parseIpv6('fe80::')), `fe80${'0'.repeat(28)}`);
  t.is(hexOf(parseIpv6('1:2:3:4:5:6:7::')), '00010002000300040005000600070000');
  t.is(hexOf(parseIpv6('::2:3:4:5:6:7:8')), '00000002000300040005000600070008');
  t.is(hexOf(parseIpv6('::ffff:192.0.2.1')), '00000000000000000000ffffc0000201');
  t.is(hexOf(parseIpv6('1:2:3:4:5:6:1.2.3.4')), '00010002000300040005000601020304');
  t.is(hexOf(parseIpv6('3ffe:501:8::260:97ff:fe40:efab')), '3ffe050100080000026097fffe40efab');
});

test('ip - IPv6 errors explain what is wrong', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['1::2::3', /"::" may appear only once/],
    ['1:2:3:4:5:6:7', /7 groups, not 8/],
    ['1:2:3:4:5:6:7:8:9', /9 groups, not 8/],
    ['1:2:3:4::5:6:7:8', /leaves no room: 8 groups/],
    ['12345::', /"12345" is not 1-4 hex digits/],
    ['g::1', /"g" is not 1-4 hex digits/],
    [':1:2:3:4:5:6:7', /empty group/],
    ['1:2:3:4:5:6:7:', /empty group/],
    [':::', /empty group/],
    ['1.2.3.4::', /dotted IPv4 part may only end/],
    ['::ffff:1.2.3.256', /dotted IPv4 tail is malformed: part 4 is 256/],
    ['fe80::1%eth0', /zone indices/],
    ['[::1]', /without brackets/],
  ];
  for (const [text, why] of cases) {
    const error = t.throws(() => parseIpv6(text, '<dst>'), { instanceOf: SplitnetError }, text);
    t.is(error?.code, 'E_USAGE');
    t.true(error?.message.startsWith('<dst>: expected an IPv6 address'), error?.message);
    t.regex(error?.message ?? '', why, text);
  }
});

test('ip - parser accepts exactly what Node accepts, on a mixed sample', (t) => {
  const samples = [
    '10.0.0.1',
    '1.2.3',
    '1.2.3.4.',
    '256.1.1.1',
    '::',
    '::1',
    '1::',
    'a:b:c:d:e:f:0:1',
    'a:b:c:d:e:f:0:1:2',
    '::ffff:1.2.3.4',
    '::1.2.3.4',
    '1::2::3',
    ':::1',
    'ffff::ffff:ffff',
    '12345::',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '1:2:3:4::5:6:7:8',
    'fe80::1:2.3.4.5',
    'x::1',
    '1:2:3:4:5:6:1.2.3.4',
  ];
  for (const text of samples) {
    let ours = true;
    try {
      parseIpAddress(text);
    } catch {
      ours = false;
    }
    t.is(ours, isIP(text) !== 0, text);
  }
});

test('ip - parseIpAddress picks the family', (t) => {
  t.is(parseIpAddress('192.0.2.1').family, 4);
  t.is(parseIpAddress('192.0.2.1').bytes.length, 4);
  t.is(parseIpAddress('2001:db8::1').family, 6);
  t.is(parseIpAddress('::ffff:192.0.2.1').family, 6, 'a mapped address is still IPv6 on the wire');
  t.throws(() => parseIpAddress('localhost', '<src>'), {
    instanceOf: SplitnetError,
    message: '<src>: expected an IPv4 or IPv6 address, found "localhost" (it has neither "." nor ":")',
  });
});

test('ip - IPv6 formatting is RFC 5952 canonical and matches the URL serializer', (t) => {
  const cases: Array<[string, string]> = [
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['fe80::200:f8ff:fe21:67cf', 'fe80::200:f8ff:fe21:67cf'],
  ];
  for (const [input, canonical] of cases) {
    const text = formatIpv6(parseIpv6(input));
    t.is(text, canonical, input);
    t.is(text, new URL(`http://[${input}]/`).hostname.slice(1, -1), `URL agrees on ${input}`);
  }
  t.is(formatIpv6(parseIpv6('::ffff:c000:201')), '::ffff:192.0.2.1', 'IPv4-mapped keeps its dotted tail');
});

test('ip - formatting round-trips and checks length', (t) => {
  t.is(formatIpv4(parseIpv4('161.142.100.80')), '161.142.100.80');
  t.is(formatIpAddress(parseIpv4('10.1.2.3')), '10.1.2.3');
  t.is(formatIpAddress(parseIpv6('ff02::1')), 'ff02::1');
  t.throws(() => formatIpv4([1, 2, 3]), { instanceOf: SplitnetError });
  t.throws(() => formatIpv6(new Uint8Array(4)), { instanceOf: SplitnetError });
});
