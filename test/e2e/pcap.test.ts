// End-to-end tests of `splitnet run --pcap` as a user runs it: a real run writes the capture, tshark (Debian's package) reads it, and what it shows is checked against the run's own flow table, summary and events.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIpv6 } from '@splitnet/model';
import { loadScenarioFile } from '@splitnet/scenario';
import type { FlowSpec } from '@splitnet/scenario';
import type { Summary } from '@splitnet/results';
import { splitnet, tshark } from './pcap-helpers.js';

/**
 * Two VMs of two queues behind a two-queue NIC whose 64-descriptor rings overflow (so some frames are
 * dropped nic-ring-full); IPv4/TCP flows of one size and IPv6/UDP flows of mixed sizes (at least 128
 * bytes, so every frame holds its headers and the capture's lengths are the run's).
 */
const MIX = `name: pcap-mix
duration: 4ms
warmup: 1ms
topology: { nicQueues: 2, nicRingSize: 64, vms: { count: 2, queues: 2 }, workers: 2, vrss: per-flow }
traffic:
  - { flows: 6, rate: 6Gbps, size: 1518, pattern: poisson }
  - { flows: 4, rate: 3Gbps, size: { uniform: [128, 1518] }, protocol: udp, ipVersion: 6, pattern: poisson }
`;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'splitnet-pcap-'));
}

const scenarioFile = join(tmp(), 'pcap-mix.yaml');
writeFileSync(scenarioFile, MIX);

/** One frame as tshark decodes it. */
interface Frame {
  readonly iface: number;
  /** Timestamp, ns of emulated time. */
  readonly ns: number;
  /** From the packet id (epb_packetid): flow × 2^32 + the flow's sequence number. */
  readonly flow: number;
  readonly seq: number;
  readonly queue: number;
  readonly len: number;
  readonly comment: string;
  readonly src: string;
  readonly dst: string;
  readonly protocol: 'tcp' | 'udp';
  readonly sport: number;
  readonly dport: number;
  /** tshark's IPv4 header checksum verdict (1 good; empty for IPv6). */
  readonly ipChecksum: string;
}

const FIELDS = [
  'frame.interface_id',
  'frame.time_epoch',
  'frame.packet_id',
  'frame.interface_queue',
  'frame.len',
  'frame.comment',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'ip.checksum.status',
];

/** "0.010000795" → 10000795 (tshark prints the epoch time with the file's nanosecond resolution). */
function nanos(epoch: string): number {
  const [s, frac = ''] = epoch.split('.');
  return Number(s) * 1e9 + Number(frac.padEnd(9, '0'));
}

function readFrames(file: string): Frame[] {
  const out = tshark(['-r', file, '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-E', 'occurrence=f', ...FIELDS.flatMap((f) => ['-e', f])]);
  return out
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const [iface, epoch, id, queue, len, comment, src4, dst4, src6, dst6, tsport, tdport, usport, udport, ipChecksum] = line.split('\t') as string[] as [
        string,
        ...string[],
      ];
      const pid = BigInt(id as string);
      return {
        iface: Number(iface),
        ns: nanos(epoch as string),
        flow: Number(pid >> 32n),
        seq: Number(pid & 0xffffffffn),
        queue: Number(queue),
        len: Number(len),
        comment: comment ?? '',
        src: src4 || (src6 as string),
        dst: dst4 || (dst6 as string),
        protocol: tsport ? 'tcp' : 'udp',
        sport: Number(tsport || usport),
        dport: Number(tdport || udport),
        ipChecksum: ipChecksum ?? '',
      };
    });
}

interface Captured {
  readonly dir: string;
  readonly file: string;
  readonly summary: Summary;
  readonly flows: readonly FlowSpec[];
  readonly frames: readonly Frame[];
  readonly stderr: string;
}

/** Run MIX with these capture flags and read back what it wrote (to `pcapOut`, or to the results directory). */
function capture(flags: readonly string[], pcapOut?: string): Captured {
  const dir = join(tmp(), 'run');
  const r = splitnet(['run', scenarioFile, '--out', dir, ...flags, ...(pcapOut !== undefined ? ['--pcap-out', pcapOut] : [])]);
  if (r.code !== 0) throw new Error(`splitnet run exited ${String(r.code)}: ${r.stderr}`);
  const file = pcapOut ?? join(dir, 'packets.pcapng');
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
  const flows = loadScenarioFile(join(dir, 'scenario.resolved.yaml')).traffic.flows;
  return { dir, file, summary, flows, frames: readFrames(file), stderr: r.stderr };
}

/** The address as tshark writes it, for comparison: IPv4 dotted, IPv6 as bytes. */
function sameAddress(text: string, bytes: readonly number[]): boolean {
  return bytes.length === 4 ? text === bytes.join('.') : Buffer.from(parseIpv6(text)).equals(Buffer.from(bytes));
}

const key = (f: Frame) => `${f.ns}/${f.flow}/${f.seq}`;

// The whole capture at both points, read once: several tests compare against it.
let whole: Captured;
test.before(() => {
  whole = capture(['--pcap', 'nic-rx', '--pcap', 'guest-rx']);
});

test('pcap - tshark reads every frame the run counted at each point, each with its flow-table 5-tuple', (t) => {
  const { summary, flows, frames } = whole;
  const nic = frames.filter((f) => f.iface === 0);
  const guest = frames.filter((f) => f.iface === 1);
  t.is(nic.length, summary.accounting.emitted);
  t.is(guest.length, summary.accounting.delivered);
  t.is(summary.pcap?.frames, frames.length);
  // The NIC's drops are in the capture, marked: as many as the run counted.
  t.true(summary.drops['nic-ring-full'] > 0);
  t.is(nic.filter((f) => f.comment === 'dropped: nic-ring-full').length, summary.drops['nic-ring-full']);
  t.is(guest.filter((f) => f.comment !== '').length, 0);
  for (const f of frames) {
    const spec = flows[f.flow] as FlowSpec;
    const tuple = [f.protocol, f.sport, f.dport, sameAddress(f.src, spec.src), sameAddress(f.dst, spec.dst)];
    t.deepEqual(tuple, [spec.protocol, spec.srcPort, spec.dstPort, true, true], `frame of flow ${f.flow} seq ${f.seq}`);
    if (spec.ipVersion === 4) t.is(f.ipChecksum, '1', 'tshark finds the IPv4 header checksum good');
  }
  // Every flow of the table shows up, at both points.
  t.deepEqual(new Set(nic.map((f) => f.flow)).size, flows.length);
  t.deepEqual(new Set(guest.map((f) => f.flow)).size, flows.length);
});

test("pcap - timestamps are the run's: in time order, the offered bytes of the window, the one-way latencies", (t) => {
  const { summary, frames } = whole;
  for (let k = 1; k < frames.length; k++) if ((frames[k] as Frame).ns < (frames[k - 1] as Frame).ns) t.fail(`frame ${k + 1} is earlier than frame ${k}`);
  const [from, to] = summary.windowMs.map((ms) => ms * 1e6) as [number, number];
  const nic = frames.filter((f) => f.iface === 0);
  t.true(
    nic.every((f) => f.ns <= to),
    'no NIC arrival after the end of the run',
  );
  // The summary's offered rate counts the frames that arrived in (warmup, end], FCS included.
  const offeredBits = nic.filter((f) => f.ns > from && f.ns <= to).reduce((n, f) => n + (f.len + 4) * 8, 0);
  const offeredGbps = offeredBits / ((to - from) / 1e9) / 1e9;
  t.true(
    Math.abs(offeredGbps - summary.throughput.offeredGbps) <= 1e-5 * summary.throughput.offeredGbps,
    `${offeredGbps} vs ${summary.throughput.offeredGbps}`,
  );
  // Guest deliveries from the end of the warm-up are the latency histogram's packets; NIC → guest is their latency.
  const arrival = new Map(nic.map((f) => [`${f.flow}/${f.seq}`, f.ns]));
  const latenciesUs = frames.filter((f) => f.iface === 1 && f.ns >= from).map((f) => (f.ns - (arrival.get(`${f.flow}/${f.seq}`) as number)) / 1000);
  t.is(latenciesUs.length, summary.latencyUs.count);
  latenciesUs.sort((a, b) => a - b);
  const max = latenciesUs[latenciesUs.length - 1] as number;
  const p50 = latenciesUs[Math.ceil(latenciesUs.length / 2) - 1] as number;
  t.true(Math.abs(max - summary.latencyUs.max) <= 1e-5 * max + 0.002, `max ${max} vs ${summary.latencyUs.max}`);
  t.true(Math.abs(p50 - summary.latencyUs.p50) <= 0.002 * p50, `p50 ${p50} vs ${summary.latencyUs.p50} (histogram buckets: 0.1 %)`);
});

test("pcap - the same scenario and seed give a byte-identical capture, and capturing changes none of the run's other results", (t) => {
  const again = capture(['--pcap', 'nic-rx', '--pcap', 'guest-rx']);
  t.true(readFileSync(again.file).equals(readFileSync(whole.file)));
  const plain = join(tmp(), 'plain');
  t.is(splitnet(['run', scenarioFile, '--out', plain, '-q']).code, 0);
  for (const name of ['summary.csv', 'metrics.jsonl', 'timeseries.csv', 'events.jsonl', 'latency.json', 'metrics.prom']) {
    t.is(readFileSync(join(plain, name), 'utf8'), readFileSync(join(whole.dir, name), 'utf8'), name);
  }
  const { pcap, ...rest } = whole.summary;
  t.truthy(pcap);
  t.deepEqual(JSON.parse(readFileSync(join(plain, 'summary.json'), 'utf8')), rest);
});

test('pcap - --pcap-window and selectors keep exactly the matching frames of the whole capture', (t) => {
  const part = capture(['--pcap', 'guest-rx:vm:1:queue:0', '--pcap', 'nic-rx:flow:3', '--pcap-window', '2ms-3ms'], join(tmp(), 'part.pcapng'));
  t.false(existsSync(join(part.dir, 'packets.pcapng')), 'with --pcap-out nothing goes to the results directory');
  const frames = part.frames;
  const inWindow = (f: Frame) => f.ns >= 2e6 && f.ns < 3e6;
  const guest = whole.frames.filter((f) => f.iface === 1 && inWindow(f) && (whole.flows[f.flow] as FlowSpec).vm === 1 && f.queue === 0);
  const nic = whole.frames.filter((f) => f.iface === 0 && inWindow(f) && f.flow === 3);
  t.true(guest.length > 0 && nic.length > 0);
  t.deepEqual(frames.filter((f) => f.iface === 0).map(key), guest.map(key));
  t.deepEqual(frames.filter((f) => f.iface === 1).map(key), nic.map(key));
  t.deepEqual(part.summary.pcap?.interfaces, [
    { name: 'guest-rx:vm:1:queue:0', frames: guest.length },
    { name: 'nic-rx:flow:3', frames: nic.length },
  ]);
});

test('pcap - --pcap-max stops the capture at the bound: the file is the start of the whole capture, and the run says so in summary.json, events.jsonl and on stderr', (t) => {
  const bounded = capture(['--pcap', 'nic-rx', '--pcap', 'guest-rx', '--pcap-max', '20kB']);
  const bytes = readFileSync(bounded.file);
  t.true(bytes.length <= 20_000);
  t.true(bytes.equals(readFileSync(whole.file).subarray(0, bytes.length)));
  const p = bounded.summary.pcap;
  t.is(p?.frames, bounded.frames.length);
  t.is((p?.frames ?? 0) + (p?.framesLeftOut ?? 0), whole.frames.length);
  const firstLeftOut = whole.frames[bounded.frames.length] as Frame;
  t.is(p?.stoppedAtMs, firstLeftOut.ns / 1e6);
  const events = readFileSync(join(bounded.dir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; detail: { at?: number; maxBytes?: number } });
  t.deepEqual(
    events.filter((e) => e.kind === 'pcap-stopped').map((e) => e.detail),
    [{ at: firstLeftOut.ns, maxBytes: 20_000 }],
  );
  t.regex(bounded.stderr, /splitnet: warning: the packet capture reached --pcap-max \(20000 bytes\) at [\d.]+ ms emulated: \d+ later frames were not written/);
});

test("pcap - a guest-to-guest TCP stream's capture at both guests is one connection to Wireshark: sequence numbers follow the bytes, the ACKs acknowledge them, nothing looks lost, reordered or retransmitted, and every complete frame's checksums are right", (t) => {
  const dir = tmp();
  const r = splitnet(['run', 'examples/tcp-vm-to-vm.yaml', '--duration', '2ms', '--set', 'warmup=1ms', '--pcap', 'guest-rx', '--out', dir, '-q']);
  t.is(r.code, 0, r.stderr);
  const file = join(dir, 'packets.pcapng');
  const fields = (filter: string, ...f: string[]) =>
    tshark(['-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-Y', filter, '-T', 'fields', ...f.flatMap((x) => ['-e', x])])
      .split('\n')
      .filter((l) => l !== '');
  const data = fields('tcp.len > 0', 'tcp.seq', 'tcp.len', 'tcp.nxtseq');
  const acks = fields('tcp.len == 0', 'tcp.ack');
  t.true(data.length > 100 && acks.length > 10, `${data.length} segments, ${acks.length} ACKs`);
  // Relative sequence numbers: each segment starts where the one before ended (no loss in this run).
  data.forEach((l, k) => {
    if (k > 0) t.is(Number(l.split('\t')[0]), Number((data[k - 1] as string).split('\t')[2]), `segment ${k}`);
  });
  const highest = Math.max(...data.map((l) => Number(l.split('\t')[2])));
  t.true(
    acks.every((l) => Number(l) > 1 && Number(l) <= highest),
    'every ACK acknowledges bytes sent',
  );
  t.deepEqual(fields('tcp.analysis.flags', 'frame.number'), [], 'no retransmission, out-of-order or missing segment');
  t.deepEqual(fields('tcp.checksum.status == 0 || ip.checksum.status == 0', 'frame.number'), [], 'no bad checksum');
  t.is(fields('tcp.checksum.status == 1', 'frame.number').length, acks.length, 'the pure ACKs are whole, and Wireshark verifies them');
});

const aFile = join(tmp(), 'a-file');
writeFileSync(aFile, 'not a directory');

const BAD: [string, string[], RegExp][] = [
  ['an unknown point', ['--pcap', 'nic'], /^splitnet: error: --pcap nic: unknown point "nic" \(expected nic-rx or guest-rx/],
  ['a VM the scenario lacks', ['--pcap', 'guest-rx:vm:5'], /^splitnet: error: --pcap guest-rx:vm:5: the scenario has 2 VM\(s\), vm:0 to vm:1$/],
  ['a window that is not two durations', ['--pcap', 'nic-rx', '--pcap-window', '2ms'], /^splitnet: error: --pcap-window 2ms: expected <from>-<to>/],
  ['a size that is not one', ['--pcap', 'nic-rx', '--pcap-max', 'lots'], /^splitnet: error: --pcap-max lots: expected a file size/],
  ['a size below the header blocks', ['--pcap', 'nic-rx', '--pcap-max', '100'], /^splitnet: error: --pcap-max 100: smaller than the file's own header blocks/],
  ['--pcap-out without --pcap', ['--pcap-out', 'x.pcapng'], /^splitnet: error: --pcap-out x\.pcapng: only with --pcap/],
  [
    '--pcap on a live run',
    ['--pcap', 'nic-rx', '--runtime', 'live'],
    /^splitnet: error: --pcap nic-rx: only for a sim run .*; this live run's placement is processes$/,
  ],
  [
    '--pcap-out below a regular file',
    ['--pcap', 'nic-rx', '--pcap-out', join(aFile, 'x.pcapng')],
    /^splitnet: error: --pcap-out .*a-file\/x\.pcapng: .*a-file is a file, not a directory$/,
  ],
];

for (const [what, args, message] of BAD) {
  test(`pcap - ${what}: one line, exit 2, no results directory`, (t) => {
    const out = join(tmp(), 'never');
    const r = splitnet(['run', scenarioFile, '--out', out, ...args]);
    t.is(r.code, 2, r.stderr);
    t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    t.regex(r.stderr.trimEnd(), message);
    t.false(existsSync(out));
  });
}
