// The packet capture without a run: its pcapng framing, its time order, its size bound, the synthetic headers' checksums, and the flags it refuses.
import test from 'ava';
import { SplitnetError } from '@splitnet/model';
import { compileScenarioText } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';
import { compileCaptureSpec, FrameHeaders, PacketCapture } from '../src/index.js';
import type { CaptureFlags } from '../src/index.js';
import { readPcapng } from './pcapng-reader.js';

/** Two VMs, IPv4/TCP flows of one size and IPv6/UDP flows of mixed sizes. */
const MIX = `
name: capture-unit
duration: 4ms
topology: { nicQueues: 2, vms: { count: 2, queues: 2 }, workers: 2, vrss: per-flow }
traffic:
  - { flows: 4, rate: 2Gbps, size: 1518 }
  - { flows: 3, rate: 1Gbps, size: { uniform: [128, 1518] }, protocol: udp, ipVersion: 6 }
`;

function scenario(yaml = MIX): CompiledScenario {
  return compileScenarioText(yaml, '<test>', {});
}

/** Queue tables for the capture: NIC queue f mod 2, guest queue f mod 2. */
const PLACEMENT = { nicQueue: [0, 1, 0, 1, 0, 1, 0], guestQueue: [0, 1, 0, 1, 0, 1, 0] };

/** A capture of `flags` over MIX that writes into memory; `file()` is what it wrote. */
function capture(flags: CaptureFlags, s = scenario()) {
  const pieces: Uint8Array[] = [];
  const c = new PacketCapture(s, compileCaptureSpec(flags, s), (b) => pieces.push(b.slice()));
  c.begin(PLACEMENT);
  const file = () => Buffer.concat(pieces);
  return { c, file };
}

/** The one's complement sum of big-endian 16-bit words, folded: 0xffff over a header whose checksum is right. */
function onesSum(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

test('packet capture - the file is one section of whole blocks: one interface per --pcap, named and in nanoseconds', (t) => {
  const { c, file } = capture({ pcap: ['nic-rx', 'guest-rx:vm:1:queue:0'] });
  c.nicArrival(1000, 0, 0, 1518, null);
  c.guestDelivery(5000, 1, 0, 1518);
  c.finish();
  const f = readPcapng(file());
  t.is(f.interfaces.length, 2);
  t.deepEqual(f.interfaces.map((i) => new TextDecoder().decode(i.options.get(2))), ['nic-rx', 'guest-rx:vm:1:queue:0']);
  t.deepEqual(f.interfaces.map((i) => [i.linkType, (i.options.get(9) as Uint8Array)[0]]), [[1, 9], [1, 9]]);
  // Flow 1 goes to VM 1 (round-robin over the two VMs) and guest queue 1 here: not kept by vm:1:queue:0.
  t.deepEqual(f.packets.map((p) => [p.iface, p.ts]), [[0, 1000n]]);
});

test('packet capture - packets seen out of time order are written in time order, ties in the order seen', (t) => {
  const { c, file } = capture({ pcap: ['nic-rx', 'guest-rx'] });
  c.nicArrival(300, 2, 0, 1518, null);
  c.nicArrival(100, 0, 0, 1518, null);
  c.guestDelivery(200, 1, 0, 1518);
  c.nicArrival(200, 3, 0, 1518, 'nic-ring-full');
  c.flush(250); // 100, 200 (guest), 200 (nic); 300 waits
  c.nicArrival(260, 0, 1, 1518, null); // after the flush, but before the held 300
  c.finish();
  const f = readPcapng(file());
  t.deepEqual(f.packets.map((p) => [Number(p.ts), p.iface]), [[100, 0], [200, 1], [200, 0], [260, 0], [300, 0]]);
  t.is(new TextDecoder().decode(f.packets[2]?.options.get(1)), 'dropped: nic-ring-full');
});

test('packet capture - the window keeps packets whose time lies in [from, to)', (t) => {
  const { c, file } = capture({ pcap: ['nic-rx'], window: '1us-2us' });
  for (const at of [999, 1000, 1999, 2000]) c.nicArrival(at, 0, at, 1518, null);
  const sum = c.finish();
  t.deepEqual(readPcapng(file()).packets.map((p) => Number(p.ts)), [1000, 1999]);
  t.deepEqual(sum.windowMs, [0.001, 0.002]);
});

test('packet capture - under a size bound the file is the first bytes of the unbounded one, and the rest is counted as left out', (t) => {
  // More packets than the capture holds before it cuts its buffer down, seen out of order and flushed now and then.
  const seen: [number, number][] = [];
  for (let k = 0; k < 150_000; k++) seen.push([((k * 7919) % 150_000) * 10, k % 7]);
  const run = (max: string) => {
    const { c, file } = capture({ pcap: ['nic-rx', 'guest-rx'], max });
    seen.forEach(([at, flow], k) => {
      if (flow < 4) c.nicArrival(at, flow, k, 1518, null);
      else c.guestDelivery(at, flow, k, 200);
      if (k === 100_000) c.flush(10_000); // most of what is held is later than this
    });
    return { sum: c.finish(), bytes: file() };
  };
  const all = run('1GB');
  const some = run('500kB');
  t.true(some.bytes.length <= 500_000 && some.bytes.length > 499_000);
  t.deepEqual(some.bytes, all.bytes.subarray(0, some.bytes.length));
  t.is(some.sum.frames + some.sum.framesLeftOut, all.sum.frames);
  t.is(all.sum.framesLeftOut, 0);
  t.is(all.sum.stoppedAtMs, null);
  const firstLeftOut = readPcapng(all.bytes).packets[some.sum.frames];
  t.is(some.sum.stoppedAtMs, Number(firstLeftOut?.ts) / 1e6);
});

test('frame headers - IPv4 header, TCP and UDP checksums are right for a zero payload, IPv4 and IPv6', (t) => {
  const s = scenario();
  const h = new FrameHeaders(s.traffic.flows, s.traffic.generators, s.seed);
  for (const f of s.traffic.flows) {
    for (const [seq, len] of [[0, 1518], [77, 128], [4_000_000_000, 700]] as const) {
      const bytes = new Uint8Array(h.headerLength(f.id));
      const shown = h.write(new DataView(bytes.buffer), bytes, 0, f.id, seq, len);
      t.is(shown, len - 4);
      const v4 = f.ipVersion === 4;
      const ip = bytes.subarray(14, v4 ? 34 : 54);
      const l4 = bytes.subarray(v4 ? 34 : 54);
      const l4len = shown - 14 - ip.length;
      if (v4) t.is(onesSum(ip), 0xffff, `flow ${f.id} IPv4 header`);
      const pseudo = [...(v4 ? ip.subarray(12, 20) : ip.subarray(8, 40)), 0, f.protocol === 'tcp' ? 6 : 17, l4len >> 8, l4len & 0xff];
      t.is(onesSum(Uint8Array.from([...pseudo, ...l4])), 0xffff, `flow ${f.id} ${f.protocol} checksum`);
    }
  }
});

test('frame headers - with one frame size, TCP sequence numbers advance by each packet\'s payload', (t) => {
  const s = scenario();
  const h = new FrameHeaders(s.traffic.flows, s.traffic.generators, s.seed);
  const seqOf = (seq: number) => {
    const bytes = new Uint8Array(h.headerLength(0));
    h.write(new DataView(bytes.buffer), bytes, 0, 0, seq, 1518);
    return new DataView(bytes.buffer).getUint32(34 + 4);
  };
  t.is((seqOf(1) - seqOf(0) + 2 ** 32) % 2 ** 32, 1460);
  t.is((seqOf(1001) - seqOf(1000) + 2 ** 32) % 2 ** 32, 1460);
});

test('frame headers - a closed-loop flow shows the TCP model\'s own header: sequence and acknowledgement numbers from its byte offsets, ACK and PSH as it carries them, its window, the timestamp option, checksums right', (t) => {
  // Guest to guest: the connection's flow (vm 0 → vm 1) and its reverse (the ACKs), each a flow of its own.
  const s = scenario('name: g2g\nduration: 2ms\ntopology: { vms: { count: 2, queues: 1 }, workers: 2, vrss: per-flow }\ntraffic: [ { from: vm.0, to: vm.1, flows: 1, tcp: {} } ]\n');
  const h = new FrameHeaders(s.traffic.flows, s.traffic.generators, s.seed);
  const [data, acks] = [0, 1].map((id) => s.traffic.flows.find((f) => f.id === id));
  if (data === undefined || acks === undefined) return t.fail('the connection has two flows');
  t.is(data.reverse, acks.id);
  // Ethernet 14 + IPv4 20 + TCP 20 + the timestamp option 12: the models' 52 bytes of TCP/IP headers.
  t.is(h.headerLength(data.id), 66);
  const frame = (flow: number, tcp: { seq: number; payload: number; ack: number; window: number; flags: number }) => {
    const bytes = new Uint8Array(h.headerLength(flow));
    const view = new DataView(bytes.buffer);
    const shown = h.write(view, bytes, 0, flow, 0, tcp.payload + 70, tcp);
    return { bytes, view, shown };
  };
  // A segment of 1448 bytes at offset 2896 without an ACK, and the receiver's pure ACK of 4344 bytes, window 65536.
  const seg = frame(data.id, { seq: 2896, payload: 1448, ack: 0, window: 0, flags: 1 });
  const ack = frame(acks.id, { seq: 0, payload: 0, ack: 4344, window: 65536, flags: 1 | 2 });
  const first = frame(data.id, { seq: 0, payload: 1448, ack: 0, window: 0, flags: 1 });
  t.is(seg.shown, 66 + 1448, 'the segment without its FCS: headers + payload');
  t.is((seg.view.getUint32(34 + 4) - first.view.getUint32(34 + 4) + 2 ** 32) % 2 ** 32, 2896, 'sequence numbers are byte offsets from the ISN');
  // The ACK acknowledges the data direction's bytes: its number is the data flow's ISN + 4344.
  t.is((ack.view.getUint32(34 + 8) - first.view.getUint32(34 + 4) + 2 ** 32) % 2 ** 32, 4344);
  t.is(seg.bytes[34 + 13], 0x08, 'data without an ACK: PSH');
  t.is(ack.bytes[34 + 13], 0x10, 'a pure ACK: ACK');
  t.is(seg.bytes[34 + 12], 0x80, 'data offset 8 words: the timestamp option');
  t.is(ack.view.getUint16(34 + 14), 65535, 'the window capped at 65535 (no scaling shown)');
  t.is(seg.view.getUint16(34 + 14), 65535, 'a segment without an ACK shows 65535');
  // The pure ACK is whole in the capture: its checksum covers all of it.
  const ip = ack.bytes.subarray(14, 34);
  const l4 = ack.bytes.subarray(34);
  t.is(onesSum(ip), 0xffff, 'IPv4 header checksum');
  t.is(onesSum(Uint8Array.from([...ip.subarray(12, 20), 0, 6, 0, l4.length, ...l4])), 0xffff, 'TCP checksum');
  return undefined;
});

const BAD_FLAGS: [string, CaptureFlags, RegExp][] = [
  ['an unknown point', { pcap: ['nic'] }, /^--pcap nic: unknown point "nic" \(expected nic-rx or guest-rx/],
  ['a selector that is not one', { pcap: ['nic-rx:queue:1'] }, /^--pcap nic-rx:queue:1: expected .* found "queue:1" after the point$/],
  ['a VM the scenario lacks', { pcap: ['guest-rx:vm:2'] }, /^--pcap guest-rx:vm:2: the scenario has 2 VM\(s\), vm:0 to vm:1$/],
  ['a queue the VM lacks', { pcap: ['guest-rx:vm:1:queue:2'] }, /^--pcap guest-rx:vm:1:queue:2: VM 1 has 2 queue\(s\), queue:0 to queue:1$/],
  ['a flow the table lacks', { pcap: ['nic-rx:flow:7'] }, /^--pcap nic-rx:flow:7: the flow table has 7 flow\(s\), flow:0 to flow:6$/],
  ['the same interface twice', { pcap: ['nic-rx', 'nic-rx'] }, /^--pcap nic-rx: given twice/],
  ['a window that ends before it starts', { pcap: ['nic-rx'], window: '3ms-2ms' }, /^--pcap-window 3ms-2ms: expected <from>-<to>/],
  ['a window without units', { pcap: ['nic-rx'], window: '1-2' }, /^--pcap-window 1-2: expected <from>-<to>/],
  ['a window after the run', { pcap: ['nic-rx'], window: '4ms-5ms' }, /^--pcap-window 4ms-5ms: starts at or after the end of the run \(duration 4ms\)/],
  ['a size with an unknown unit', { pcap: ['nic-rx'], max: '12XB' }, /^--pcap-max 12XB: expected a file size such as 64MB/],
  ['a window without --pcap', { pcap: [], window: '1ms-2ms' }, /^--pcap-window 1ms-2ms: only with --pcap/],
];

for (const [what, flags, message] of BAD_FLAGS) {
  test(`capture flags - ${what} is refused in one line naming the flag`, (t) => {
    const err = t.throws(() => compileCaptureSpec(flags, scenario()), { instanceOf: SplitnetError });
    t.is(err?.code, 'E_USAGE');
    t.regex(err?.message ?? '', message);
    t.false((err?.message ?? '').includes('\n'));
  });
}

test('capture flags - a size bound below the header blocks is refused when the capture is made', (t) => {
  const s = scenario();
  const err = t.throws(() => new PacketCapture(s, compileCaptureSpec({ pcap: ['nic-rx'], max: '100' }, s), () => undefined), { instanceOf: SplitnetError });
  t.regex(err?.message ?? '', /^--pcap-max 100: smaller than the file's own header blocks \(\d+ bytes\)$/);
});
