// The `traffic` section described as data: each generator's keys, ranges and forms, read by traffic.ts and turned into the JSON Schema.
import { duration, int, list, map, number, oneOf, rate, SEEDED, string, type MapSpec, words } from './spec.js';
import { MAX_VMS } from './topology.js';
import { RR_SPEC, TCP_SPEC } from './closed-loop-spec.js';

/** Generator g sends from 10.g.x.y, and 10.255.x.y is where VMs live: 255 generators at most. */
export const MAX_GENERATORS = 255;
/** Flow i of a generator sends from host i+1 of a /16. */
export const MAX_FLOWS_PER_GENERATOR = 65535;
/** Bounds the flow table's memory (one small object per flow). */
export const MAX_FLOWS = 1 << 20;
export const MIN_FRAME = 64;
export const MAX_FRAME = 9018;
export { SEEDED } from './spec.js';

const FRAME = int({ min: MIN_FRAME, max: MAX_FRAME, description: 'Ethernet frame bytes, header and FCS included.' });

export const PATTERN_WORDS = words({ values: ['constant', 'poisson'] });
export const ONOFF_SPEC = map(
  {
    on: duration({ min: 1, description: 'Length of a burst at the rate.' }),
    off: duration({ min: 1, description: 'Silence between bursts.' }),
  },
  { required: ['on', 'off'], description: 'Bursts at the rate for on, then silence for off.' },
);
export const PATTERN_MAP = map({ onoff: ONOFF_SPEC }, { required: ['onoff'] });

export const CHOICE_SPEC = map(
  {
    values: list({ items: FRAME, minItems: 1, maxItems: 64, description: 'Frame sizes to draw from.' }),
    weights: list({ items: number({ min: 0, max: Infinity, minExclusive: true }), description: 'Positive weights, one per value (default: all equal).' }),
  },
  { required: ['values'], description: 'Frame sizes drawn from values with weights.' },
);
/** The map forms of a size; exactly one key. */
export const SIZE_FORMS = map({
  uniform: list({ items: FRAME, minItems: 2, maxItems: 2, description: '[min, max]: whole bytes drawn uniformly.' }),
  choice: CHOICE_SPEC,
});
const SIZE_MAPS: MapSpec[] = Object.entries(SIZE_FORMS.keys).map(([key, spec]) => map({ [key]: spec }, { required: [key] }));

export const GENERATOR_SPEC = map(
  {
    name: string({ nonEmpty: true, description: "Labels the generator's metrics (unique; default gen<index>)." }),
    vms: oneOf({
      variants: [words({ values: ['all'] }), int({ min: 0, max: MAX_VMS - 1 }), list({ items: int({ min: 0, max: MAX_VMS - 1 }), minItems: 1, unique: true })],
      default: 'all',
      description: 'Destination VMs: all, a VM index or a list of them (each < topology.vms.count); flows go round-robin over them.',
    }),
    from: string({
      pattern: '^(wire|external|(h(\\*|0|[1-9][0-9]*)\\.)?vm\\.(0|[1-9][0-9]*))$',
      patternMessage: 'wire or vm.<index> (with hosts: h<host>.vm.<index>, h*.vm.<index> for every host, or external)',
      description:
        'Who sends: wire (the default: frames arrive at the NIC, for the guests in vms) or vm.<index> (that guest sends through its netfront TX ring).',
    }),
    to: string({
      pattern: '^(wire|(h(\\*|\\+?(0|[1-9][0-9]*))\\.)?vm\\.(0|[1-9][0-9]*))$',
      patternMessage: 'wire or vm.<index> (with hosts: h<host>.vm.<index>, h*.vm.<index> for every host, or h+<k>.vm.<index> for the host k after the sender)',
      description:
        "Where a guest's frames go (with from: vm.<index>): wire, out of the physical NIC (the default), or vm.<index>, another guest on the host through the bridge (with tcp or rr, both ends of the connection are then guests).",
    }),
    flows: int({ min: 1, max: MAX_FLOWS_PER_GENERATOR, default: 8, description: 'Distinct 5-tuples (what RSS spreads).' }),
    rate: rate({
      bitsOnly: false,
      description: 'Offered load: a bit rate (10Gbps, counting preamble and gap) or a frame rate (1.5Mpps); default the link rate.',
    }),
    pattern: oneOf({
      variants: [PATTERN_WORDS, PATTERN_MAP],
      default: 'constant',
      description: 'Inter-arrival times: evenly spaced (constant), exponential (poisson), or { onoff: { on, off } } bursts.',
    }),
    phase: oneOf({
      variants: [words({ values: [SEEDED] }), duration({ min: 0 })],
      default: SEEDED,
      description:
        'Where a constant or on/off grid lies relative to start: seeded (drawn from the run seed over one cycle) or a duration; poisson takes seeded only.',
    }),
    size: oneOf({
      variants: [FRAME, ...SIZE_MAPS],
      default: 1518,
      description: 'Frame bytes (64 … 9018): fixed, { uniform: [min, max] }, or { choice: { values, weights } }.',
    }),
    protocol: words({ values: ['tcp', 'udp'], default: 'tcp', description: 'Transport protocol; the RSS input uses ports for both.' }),
    ipVersion: words({ values: [4, 6], default: 4, description: 'Address family of the flows.' }),
    srcPort: oneOf({
      variants: [words({ values: [SEEDED] }), int({ min: 1, max: 65535 })],
      default: SEEDED,
      description:
        "Flow i's source port: seeded (drawn from the run seed in Linux's ephemeral range 32768-60999) or a first port N, flow i using N + i (the last at most 65535).",
    }),
    tcp: TCP_SPEC,
    rr: RR_SPEC,
    start: duration({ min: 0, default: 0, description: 'When the generator starts (before the end of the run).' }),
    stop: duration({ min: 0, description: 'When it stops (after start; default the end of the run).' }),
  },
  { description: 'One traffic generator.' },
);

export const TRAFFIC_SPEC = list({
  items: GENERATOR_SPEC,
  minItems: 1,
  maxItems: MAX_GENERATORS,
  description: 'Traffic generators (without this key: one at line rate, 8 TCP flows over every VM).',
});
