// Reads a generator's closed-loop keys (tcp, rr) into the TCP and TCP_RR model settings, with the cross-key rules they bring.
import { readEnum, readInt, readMap, type MapField } from './field.js';
import { RR_SPEC, TCP_SPEC } from './closed-loop-spec.js';

/** A closed-loop generator's settings, as the TcpEndpoint and RrClient of @splitnet/model take them. */
export interface ClosedLoopInput {
  /** bulk: each flow sends as fast as its windows allow until the generator stops; rr: request/response. */
  readonly workload: 'bulk' | 'rr';
  readonly cc: 'cubic' | 'reno';
  readonly rcvbuf: number;
  readonly mss: number;
  /** Only for rr. */
  readonly requestBytes?: number;
  readonly responseBytes?: number;
  /** The resolved keys, for the resolved scenario. */
  readonly resolved: Record<string, unknown>;
}

/** What a closed-loop generator cannot have: its rate and frame sizes come from TCP, not from the scenario. */
const OPEN_LOOP_KEYS = ['rate', 'pattern', 'phase', 'size'] as const;

/**
 * The generator's `tcp` and `rr` keys, or null when it has neither (open loop, as before). `rr` implies `tcp`
 * with its defaults. A closed-loop generator needs `protocol: tcp` and takes none of the open-loop keys.
 */
export function readClosedLoop(generator: MapField): ClosedLoopInput | null {
  const tcpField = generator.get('tcp');
  const rrField = generator.get('rr');
  if (tcpField.absent && rrField.absent) return null;
  const keyField = tcpField.absent ? rrField : tcpField;
  const protocolField = generator.get('protocol');
  if (!protocolField.absent && protocolField.value !== 'tcp') {
    protocolField.expected('"tcp" (a closed-loop generator runs TCP)', '', [keyField.path]);
  }
  for (const key of OPEN_LOOP_KEYS) {
    const f = generator.get(key);
    if (!f.absent)
      f.expected(`no ${key}: (a closed-loop generator's ${key === 'size' ? 'segment sizes come from mss' : 'rate comes from its windows'})`, '', [
        keyField.path,
      ]);
  }
  const tcp = readMap(tcpField, TCP_SPEC, 'a map of cc, rcvbuf and mss');
  const K = TCP_SPEC.keys;
  const cc = readEnum(tcp.get('cc'), K.cc.default, K.cc.values);
  const mss = readInt(tcp.get('mss'), K.mss.default, K.mss);
  const rcvbufField = tcp.get('rcvbuf');
  const rcvbuf = readInt(rcvbufField, K.rcvbuf.default, K.rcvbuf);
  // The window (half the buffer) must hold two segments, or the receiver could never ACK every second one.
  if (rcvbuf < 4 * mss) {
    rcvbufField.expected(`at least ${4 * mss} bytes (a window of rcvbuf/2 must hold two segments of mss ${mss})`, '', [tcp.get('mss').path]);
  }
  const resolvedTcp = { cc, rcvbuf, mss };
  if (rrField.absent) return { workload: 'bulk', cc, rcvbuf, mss, resolved: { tcp: resolvedTcp } };
  const rr = readMap(rrField, RR_SPEC, 'a map of request and response');
  const R = RR_SPEC.keys;
  const requestBytes = readInt(rr.get('request'), R.request.default, R.request);
  const responseBytes = readInt(rr.get('response'), R.response.default, R.response);
  return {
    workload: 'rr',
    cc,
    rcvbuf,
    mss,
    requestBytes,
    responseBytes,
    resolved: { tcp: resolvedTcp, rr: { request: requestBytes, response: responseBytes } },
  };
}
