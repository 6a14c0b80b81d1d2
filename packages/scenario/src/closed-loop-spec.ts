// The keys of a closed-loop traffic generator (a TCP flow, or request/response over TCP) described as data, for its reader and the schema.
import { int, map, words } from './spec.js';

/** Linux TCP_MIN_MSS: the smallest MSS a Linux sender uses. */
export const MIN_MSS = 88;
/** The largest payload a 9018-byte jumbo frame carries after 70 bytes of Ethernet and TCP/IPv4 headers with timestamps. */
export const MAX_MSS = 8948;
/** A receive buffer beyond 1 GiB is no buffer a guest sets; it also keeps window arithmetic far from 2^31. */
export const MAX_RCVBUF = 1 << 30;
/** Request and response sizes netperf accepts are int32; a MiB is far past any transaction a study of coalescing needs. */
export const MAX_MESSAGE = 1 << 20;

export const TCP_SPEC = map(
  {
    cc: words({ values: ['cubic', 'reno'], default: 'cubic', description: "Congestion control: cubic (Linux's default, RFC 9438) or reno (RFC 5681/6582)." }),
    rcvbuf: int({
      min: 4 * MIN_MSS,
      max: MAX_RCVBUF,
      default: 131_072,
      unit: 'bytes',
      description: "The receiver's socket buffer (tcp_rmem[1] by default); it advertises half of it as its window, with no autotuning.",
    }),
    mss: int({ min: MIN_MSS, max: MAX_MSS, default: 1448, unit: 'bytes', description: 'Maximum segment size (1448: a 1500-byte MTU with timestamps).' }),
  },
  { description: 'Makes the generator closed loop: each flow is a TCP connection whose sender is clocked by the receiver’s ACKs.' },
);

export const RR_SPEC = map(
  {
    request: int({ min: 1, max: MAX_MESSAGE, default: 1, unit: 'bytes', description: 'Request size (netperf -r, first value).' }),
    response: int({ min: 1, max: MAX_MESSAGE, default: 1, unit: 'bytes', description: 'Response size (netperf -r, second value).' }),
  },
  { description: 'Request/response like netperf TCP_RR over each flow’s TCP connection: one transaction outstanding.' },
);
