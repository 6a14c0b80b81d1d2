// Lays out the flow table: every generator's flows with deterministic addresses, ports and destination VMs.
import type { GeneratorInput } from './traffic.js';
import type { FlowSpec } from './types.js';

/** Source ports start above the well-known range and wrap before 65535. */
const FIRST_SRC_PORT = 1024;
const SRC_PORTS = 65535 - FIRST_SRC_PORT;
/** iperf's default port; generator g listens on 5001 + g so that generators hash apart. */
const FIRST_DST_PORT = 5001;

/**
 * Flow i of generator g (ids firstFlow + i):
 * - destination VM: the generator's VM list, round-robin;
 * - IPv4: 10.g.hi.lo → 10.255.vm.1, where hi.lo is i + 1 (so no source ends in .0.0);
 * - IPv6 (documentation prefix 2001:db8::/32): 2001:db8:g::(i+1) → 2001:db8:ffff:vm::1;
 * - ports: source 1024 + scramble(g, i) mod 64511 (spread like ephemeral ports: sequential ports
 *   make Toeplitz hashes differ only in a few bits, which piles small flow sets onto one or two
 *   queues), destination 5001 + g.
 * No randomness: the same scenario always gives the same table, and so the same RSS hashes.
 */
export function buildFlowTable(generators: readonly GeneratorInput[]): FlowSpec[] {
  const flows: FlowSpec[] = [];
  for (const [g, gen] of generators.entries()) {
    for (let i = 0; i < gen.spec.flows; i++) {
      const vm = gen.vms[i % gen.vms.length] as number;
      const host = i + 1;
      const hi = (host >> 8) & 0xff;
      const lo = host & 0xff;
      const src = gen.ipVersion === 4 ? [10, g, hi, lo] : [0x20, 0x01, 0x0d, 0xb8, 0, g, 0, 0, 0, 0, 0, 0, 0, 0, hi, lo];
      const dst = gen.ipVersion === 4 ? [10, 255, vm, 1] : [0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, vm, 0, 0, 0, 0, 0, 0, 0, 1];
      flows.push({
        id: gen.spec.firstFlow + i,
        generator: g,
        vm,
        ipVersion: gen.ipVersion,
        protocol: gen.protocol,
        src,
        dst,
        srcPort: FIRST_SRC_PORT + (scramble(g * 0x10000 + i + 1) % SRC_PORTS),
        dstPort: FIRST_DST_PORT + g,
      });
    }
  }
  return flows;
}

/** A fixed 32-bit integer mixer (a bijection): deterministic, well-spread source ports. */
export function scramble(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
