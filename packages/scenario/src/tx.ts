// The `tx` section: the transmit path's settings (the vif's rate limit, split event channels, the qdiscs on the way out), read only when a guest sends.
import { readBitRate, readDuration, readInt, readMap, type Field } from './field.js';
import { boolean, duration, int, map, rate } from './spec.js';
import type { TxSpec } from './types.js';
import { formatDuration, formatRate } from './units.js';

/** libxl's default credit interval for a vif's `rate=` when none is given (xl-network-configuration: 50ms). */
const DEFAULT_CREDIT_INTERVAL = 50_000_000;
/** tx_queue_len of an Ethernet device (ether_setup: DEFAULT_TX_QUEUE_LEN), which pfifo_fast honours. */
const DEFAULT_QDISC_LEN = 1000;

export const TX_SPEC = map(
  {
    rate: rate({
      bitsOnly: true,
      description:
        "The vif's rate= limit (netback's credit scheduler: rate × rateInterval bytes of credit per interval); absent: unlimited, netback's default.",
    }),
    rateInterval: duration({
      min: 1_000,
      max: 10_000_000_000,
      default: DEFAULT_CREDIT_INTERVAL,
      description: "credit_usec: the credit scheduler's replenish interval (xl's default 50ms).",
    }),
    splitEventChannels: boolean({
      default: true,
      description: 'feature-split-event-channels: separate TX and RX event channels per queue (both Linux ends offer it); false: one shared channel per queue.',
    }),
    guestQdiscLen: int({
      min: 1,
      max: 1_000_000,
      unit: 'packets',
      default: DEFAULT_QDISC_LEN,
      description: "Frames the guest's qdisc holds while netfront's TX queue is stopped (pfifo_fast's tx_queue_len); beyond it a send is dropped.",
    }),
    nicQdiscLen: int({
      min: 1,
      max: 1_000_000,
      unit: 'packets',
      default: DEFAULT_QDISC_LEN,
      description: "Frames the physical NIC's qdisc holds while a TX queue's descriptors are all taken; beyond it a frame is dropped.",
    }),
  },
  { description: 'The transmit path (generators with from: vm.<index>); read only when a guest sends.' },
);
const T = TX_SPEC.keys;

/** The section with its defaults, and its resolved form. */
export function readTx(field: Field): { compiled: TxSpec; resolved: Record<string, unknown> } {
  const m = readMap(field, TX_SPEC);
  const rateField = m.get('rate');
  const bits = rateField.absent ? null : readBitRate(rateField);
  const creditInterval = readDuration(m.get('rateInterval'), T.rateInterval.default, T.rateInterval.min);
  if (creditInterval > T.rateInterval.max) m.get('rateInterval').expected(`a duration up to ${formatDuration(T.rateInterval.max)}`);
  const split = m.get('splitEventChannels');
  if (!split.absent && typeof split.value !== 'boolean') split.expected('true or false');
  const guestQdiscLen = readInt(m.get('guestQdiscLen'), T.guestQdiscLen.default, T.guestQdiscLen);
  const nicQdiscLen = readInt(m.get('nicQdiscLen'), T.nicQdiscLen.default, T.nicQdiscLen);
  const creditBytes = bits === null ? null : Math.max(1, Math.floor((bits * creditInterval) / 8e9));
  const compiled: TxSpec = {
    creditBytes,
    creditInterval,
    splitEventChannels: split.absent ? T.splitEventChannels.default : (split.value as boolean),
    guestQdiscLen,
    nicQdiscLen,
  };
  const resolved = {
    ...(bits === null ? {} : { rate: formatRate({ kind: 'bits', bitsPerSecond: bits }) }),
    rateInterval: formatDuration(creditInterval),
    splitEventChannels: compiled.splitEventChannels,
    guestQdiscLen,
    nicQdiscLen,
  };
  return { compiled, resolved };
}
