// Lays out the flow table: every generator's flows with their addresses, destination VMs, and source ports fixed or drawn from the run seed.
import { Prng, deriveSeed } from '@splitnet/model';
import { SEEDED } from './traffic-spec.js';
import { isGuestToGuestTcp, type GeneratorInput } from './traffic.js';
import type { FlowSpec } from './types.js';

/**
 * Seeded source ports come from Linux's default ephemeral range (net.ipv4.ip_local_port_range,
 * 32768–60999), where a client's connections get theirs.
 */
export const EPHEMERAL_FIRST = 32768;
export const EPHEMERAL_LAST = 60999;
/** iperf's default port; generator g listens on 5001 + g so that generators hash apart. */
const FIRST_DST_PORT = 5001;

/**
 * Flow i of generator g (ids firstFlow + i):
 * - destination VM: the generator's VM list, round-robin;
 * - IPv4: 10.g.hi.lo → 10.255.vm.1, where hi.lo is i + 1 (so no source ends in .0.0);
 * - IPv6 (documentation prefix 2001:db8::/32): 2001:db8:g::(i+1) → 2001:db8:ffff:vm::1;
 * - destination port 5001 + g;
 * - source port srcPort + i when the generator fixes `srcPort`; otherwise (`seeded`) a port drawn
 *   uniformly from the ephemeral range, flow after flow, by a Prng seeded with
 *   deriveSeed(runSeed, `traffic:srcPort:<g>`). Which ports a repetition's connections get is what
 *   moves them between RSS queues, so each seed gives another spread, and flow i's port does not
 *   depend on how many flows follow it. Ports may repeat: the source addresses already make every
 *   5-tuple distinct.
 * A guest-to-guest TCP connection (a closed-loop generator from: vm.A, to: vm.B) also has a flow for the
 * direction from B back to A (its ACKs, rr responses), with the 4-tuple swapped; these come after every
 * generator's flows, in order, so that they move no other flow's id.
 * The same scenario and seed always give the same table (every process of a live run compiles it
 * from the same resolved scenario, seed included).
 */
export function buildFlowTable(generators: readonly GeneratorInput[], runSeed: number): FlowSpec[] {
  const flows: FlowSpec[] = [];
  const reverseBase = generators.reduce((n, gen) => n + gen.spec.flows, 0);
  const reverseOf: number[] = [];
  for (const [g, gen] of generators.entries()) {
    const srcPortOf = sourcePorts(gen.srcPort, runSeed, g);
    for (let i = 0; i < gen.spec.flows; i++) {
      const vm = gen.vms[i % gen.vms.length] as number;
      const host = i + 1;
      const hi = (host >> 8) & 0xff;
      const lo = host & 0xff;
      const remote = gen.ipVersion === 4 ? [10, g, hi, lo] : [0x20, 0x01, 0x0d, 0xb8, 0, g, 0, 0, 0, 0, 0, 0, 0, 0, hi, lo];
      const guest = gen.ipVersion === 4 ? [10, 255, vm, 1] : [0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, vm, 0, 0, 0, 0, 0, 0, 0, 1];
      // A guest's flow goes the other way: from the guest's address to host i + 1 of the generator's /16, or to
      // the receiving guest's address (`vm` is then that guest).
      const sender =
        gen.sender === null
          ? null
          : gen.ipVersion === 4
            ? [10, 255, gen.sender, 1]
            : [0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, gen.sender, 0, 0, 0, 0, 0, 0, 0, 1];
      const [src, dst] = sender === null ? [remote, guest] : gen.receiver === null ? [sender, remote] : [sender, guest];
      const id = gen.spec.firstFlow + i;
      if (isGuestToGuestTcp(gen)) reverseOf.push(id);
      flows.push({
        id,
        generator: g,
        vm,
        ...(gen.sender === null ? {} : { sender: gen.sender }),
        ipVersion: gen.ipVersion,
        protocol: gen.protocol,
        src,
        dst,
        srcPort: srcPortOf(i),
        dstPort: FIRST_DST_PORT + g,
        ...(isGuestToGuestTcp(gen) ? { reverse: reverseBase + reverseOf.length - 1 } : {}),
      });
    }
  }
  // The other direction of each guest-to-guest TCP connection, after every generator's flows (so no other flow's id
  // moves): from the passive guest back to the active one, the 4-tuple swapped.
  for (const id of reverseOf) {
    const f = flows[id] as FlowSpec;
    flows.push({
      id: flows.length,
      generator: f.generator,
      vm: f.sender as number,
      sender: f.vm,
      ipVersion: f.ipVersion,
      protocol: f.protocol,
      src: f.dst,
      dst: f.src,
      srcPort: f.dstPort,
      dstPort: f.srcPort,
      reverseOf: id,
    });
  }
  return flows;
}

/** Flow i's source port for generator g: fixed + i, or the next draw of the generator's port stream (called in flow order). */
function sourcePorts(fixed: number | typeof SEEDED, runSeed: number, g: number): (i: number) => number {
  if (fixed !== SEEDED) return (i) => fixed + i;
  const prng = new Prng(deriveSeed(runSeed, `traffic:srcPort:${g}`));
  return () => EPHEMERAL_FIRST + prng.below(EPHEMERAL_LAST - EPHEMERAL_FIRST + 1);
}
