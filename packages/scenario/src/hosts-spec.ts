// The `hosts` and `fabric` sections described as data: several Xen hosts and the switch joining them (read by hosts.ts).
import { COALESCING_SPEC } from './coalescing.js';
import { COSTS_SPEC } from './cost-profile.js';
import { NETBACK_SPEC } from './netback.js';
import { duration, int, list, map, oneOf, rate } from './spec.js';
import { TOPOLOGY_SPEC } from './topology.js';
import { TX_SPEC } from './tx.js';

/** Hosts a scenario may hold (switch ports). */
export const MAX_HOSTS = 64;
/**
 * A port's output queue by default [assumption: shallow-buffer top-of-rack switches hold 16-32 MB of packet memory
 * shared by 32-64 ports, i.e. ~0.5 MB a port when all are busy; real switches share it dynamically, which is not
 * modelled].
 */
export const DEFAULT_PORT_QUEUE_BYTES = 524_288;
/**
 * Per port and direction by default [assumption: a few metres of cable (~5 ns/m) plus half a top-of-rack switch's
 * port-to-port latency (0.5-2 µs store-and-forward, MAC and PHY included), rounded up to 1 µs so that the fabric's
 * links are never shorter than lockstep's lookahead of 1 µs (docs/model.md).
 */
export const DEFAULT_PORT_DELAY = 1_000;

/** What a host may set for itself; the rest (and what it leaves out) comes from the top level. */
export const HOST_SPEC = map(
  {
    topology: TOPOLOGY_SPEC,
    coalescing: COALESCING_SPEC,
    napi: map({ budget: int({ min: 1, max: 4096, unit: 'packets', description: "Packets per NAPI poll (Linux's weight)." }) }, { description: 'Guest NAPI.' }),
    costs: COSTS_SPEC,
    netback: NETBACK_SPEC,
    tx: TX_SPEC,
  },
  { description: "One host: the top level's host settings, overridden key by key by the ones it names." },
);

export const HOSTS_SPEC = oneOf({
  variants: [
    int({ min: 1, max: MAX_HOSTS, description: 'Hosts, each a copy of the top level’s host settings.' }),
    list({ items: HOST_SPEC, minItems: 1, maxItems: MAX_HOSTS, description: 'One entry per host (h0, h1, …), each overriding the top level.' }),
  ],
  description:
    'Several Xen hosts joined by a switch (fabric): a count, every host a copy of the top-level topology, coalescing, napi, costs, netback and tx, or a list of hosts each overriding those it names. Actor ids then carry the host: h0.nic, h1.vm.3; traffic names guests h<i>.vm.<j>.',
});

const PORT_KEYS = {
  link: rate({ bitsOnly: true, description: "The port's line rate (default: the host NIC's, topology.link)." }),
  queueBytes: int({ min: 64, max: 1 << 30, unit: 'bytes', description: 'Output queue capacity; a frame that does not fit is dropped (drop-tail).' }),
  delay: duration({ min: 1, description: "One way between the host's NIC and the switch port: cable plus switch latency." }),
};

export const FABRIC_SPEC = map(
  {
    link: PORT_KEYS.link,
    queueBytes: { ...PORT_KEYS.queueBytes, default: DEFAULT_PORT_QUEUE_BYTES, description: 'Every port’s output queue capacity in bytes (drop-tail).' },
    delay: { ...PORT_KEYS.delay, default: DEFAULT_PORT_DELAY, description: 'Every port’s one-way delay between host NIC and switch (cable + switch latency).' },
    ports: list({
      items: map(PORT_KEYS, {
        description: "Port i (toward host i; after the hosts', an external source's, which takes link and delay only), overriding the fabric-wide settings.",
      }),
      maxItems: MAX_HOSTS,
      description: 'Per-port settings, one entry per host in order, then one per external source (from: external) in the order of the traffic; may be shorter.',
    }),
  },
  { description: 'The switch joining the hosts (with hosts only): output-queued, drop-tail, store-and-forward.' },
);
