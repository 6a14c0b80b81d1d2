// End-to-end test of `splitnet run --pcap` on a multi-host scenario: one capture file per host, which tshark reads, each agreeing with that host's own summary and accounting.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Summary } from '@splitnet/results';
import { splitnet, tshark } from './pcap-helpers.js';

/**
 * Two hosts: traffic from the wire into host 1's VM 1, and host 1's VM 0 sending UDP across the switch to host 0's
 * VM 1 — so host 0's NIC sees only frames from the switch, and host 1's only frames from the wire.
 */
const TWO_HOSTS = `name: pcap-hosts
hosts: 2
seed: 2
duration: 2ms
warmup: 0.5ms
topology: { link: 10Gbps, nicQueues: 2, vms: { count: 2, queues: 2 }, workers: 2 }
traffic:
  - { to: h1.vm.1, flows: 4, rate: 1Gbps, size: 1518 }
  - { from: h1.vm.0, to: h0.vm.1, protocol: udp, rate: 1Gbps, flows: 2 }
`;

/** Frames per interface name, and the timestamps (ns) in file order. */
function read(file: string): { perInterface: Map<string, number>; ns: number[] } {
  const perInterface = new Map<string, number>();
  const ns: number[] = [];
  for (const line of tshark(['-r', file, '-T', 'fields', '-E', 'separator=\t', '-e', 'frame.interface_name', '-e', 'frame.time_epoch']).split('\n')) {
    if (line === '') continue;
    const [name = '', t = ''] = line.split('\t');
    perInterface.set(name, (perInterface.get(name) ?? 0) + 1);
    ns.push(Math.round(Number(t) * 1e9));
  }
  return { perInterface, ns };
}

test('pcap hosts - a multi-host run writes one capture per host; each holds every frame its NIC took and every packet its guests got, as its summary counts them', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'splitnet-pcap-hosts-'));
  const scenario = join(dir, 'pcap-hosts.yaml');
  writeFileSync(scenario, TWO_HOSTS);
  const out = join(dir, 'run');
  const r = splitnet(['run', scenario, '--out', out, '--pcap', 'nic-rx', '--pcap', 'guest-rx']);
  t.is(r.code, 0, r.stderr);
  t.false(existsSync(join(out, 'packets.pcapng')), 'no one-host capture file');
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  t.is(summary.pcap, undefined, 'the captures are the hosts’, not the whole run’s');
  const hosts = summary.hosts ?? [];
  t.is(hosts.length, 2);
  let nicRx = 0;
  for (const [i, h] of hosts.entries()) {
    const file = join(out, `packets-h${i}.pcapng`);
    t.regex(r.stderr, new RegExp(`splitnet: packet capture of h${i}: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ frames`));
    const { perInterface, ns } = read(file);
    const p = h.pcap;
    if (p === undefined) return t.fail(`hosts[${i}] has no pcap`);
    t.deepEqual(
      [...perInterface],
      p.interfaces.map((x) => [x.name, x.frames]),
      `h${i}: tshark's frames per interface are the summary's`,
    );
    // Every frame the host's NIC took (from the wire or the switch) and every packet its guests got, whole run.
    t.is(perInterface.get('nic-rx'), h.accounting.emitted, `h${i} nic-rx`);
    t.is(perInterface.get('guest-rx'), h.accounting.delivered, `h${i} guest-rx`);
    t.true(h.accounting.emitted > 100, `h${i} took ${h.accounting.emitted} frames`);
    t.true(
      ns.every((x, k) => k === 0 || x >= (ns[k - 1] as number)),
      `h${i}: frames in time order`,
    );
    nicRx += perInterface.get('nic-rx') ?? 0;
  }
  t.is(nicRx, summary.accounting.emitted, 'the hosts’ nic-rx frames add up to the whole run’s');
});
