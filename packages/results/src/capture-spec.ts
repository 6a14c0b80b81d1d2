// What a packet capture takes (--pcap, --pcap-window, --pcap-max), read and checked against the scenario before the run.
import { SplitnetError } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';
import { formatDuration, parseDuration } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';

/**
 * The observation points of the receive path. `nic-rx`: a frame's last bit reaches the NIC, before
 * hardware RSS and the RX ring. `guest-rx`: netfront hands the packet to the guest's application.
 */
export const CAPTURE_POINTS = ['nic-rx', 'guest-rx'] as const;
export type CapturePoint = (typeof CAPTURE_POINTS)[number];

/** Which packets of a point an interface keeps: all, a VM's, one of its queues' (the queue netback steers the flow to), or one flow's. */
export type CaptureSelector =
  | { readonly kind: 'all' }
  | { readonly kind: 'vm'; readonly vm: number; readonly queue?: number }
  | { readonly kind: 'flow'; readonly flow: number };

/** One interface of the capture file: a point and a selector, named as the user wrote it (`guest-rx:vm:0:queue:1`). */
export interface CaptureInterface {
  readonly name: string;
  readonly point: CapturePoint;
  readonly selector: CaptureSelector;
}

export interface CaptureSpec {
  /** In the order given: interface i of the file is the i-th --pcap. */
  readonly interfaces: readonly CaptureInterface[];
  /** Packets whose time at their point lies in [from, to) (emulated ns); to is Infinity without --pcap-window. */
  readonly window: { readonly from: Nanos; readonly to: Nanos };
  /** The file stops growing here: the first packet whose block would pass it, and every later one, are left out. */
  readonly maxBytes: number;
  /** The flags as given (for messages). */
  readonly maxText: string;
}

/** The capture flags as the command line gives them. */
export interface CaptureFlags {
  readonly pcap: readonly string[];
  readonly window?: string | undefined;
  readonly max?: string | undefined;
}

/** --pcap-max when not given. */
export const DEFAULT_CAPTURE_MAX = '64MB';

const SIZE_UNITS: Readonly<Record<string, number>> = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
const SIZE_RE = new RegExp(String.raw`^\s*(\d+(?:\.\d+)?)\s*(${Object.keys(SIZE_UNITS).join('|')})?\s*$`);
const INDEX = String.raw`(0|[1-9][0-9]{0,5})`;
const SELECTOR_RE = new RegExp(String.raw`^(?:vm:${INDEX}(?::queue:${INDEX})?|flow:${INDEX})$`);
const POINT_FORMS = 'nic-rx or guest-rx, optionally followed by :vm:<v>, :vm:<v>:queue:<q> or :flow:<f>';

function usage(message: string): SplitnetError {
  return new SplitnetError('E_USAGE', message);
}

/** "64MB" → 64000000 bytes; undefined when it is not a size (a number, optionally with B, kB, MB, GB, KiB, MiB or GiB). */
export function parseByteSize(text: string): number | undefined {
  const m = SIZE_RE.exec(text);
  if (m === null) return undefined;
  const n = Math.floor(Number(m[1]) * (SIZE_UNITS[m[2] ?? 'B'] as number));
  return Number.isSafeInteger(n) ? n : undefined;
}

/** One --pcap value: `<point>[:<selector>]`, the VM, queue or flow checked against the scenario. */
function readInterface(text: string, s: CompiledScenario): CaptureInterface {
  const flag = `--pcap ${text}`;
  const colon = text.indexOf(':');
  const point = colon < 0 ? text : text.slice(0, colon);
  if (!(CAPTURE_POINTS as readonly string[]).includes(point)) {
    throw usage(`${flag}: unknown point "${point}" (expected ${POINT_FORMS})`);
  }
  if (colon < 0) return { name: text, point: point as CapturePoint, selector: { kind: 'all' } };
  const rest = text.slice(colon + 1);
  const m = SELECTOR_RE.exec(rest);
  if (m === null) throw usage(`${flag}: expected ${POINT_FORMS} (whole numbers), found "${rest}" after the point`);
  const vms = s.topology.vms;
  const flows = s.traffic.flows.length;
  if (m[3] !== undefined) {
    const flow = Number(m[3]);
    if (flow >= flows) throw usage(`${flag}: the flow table has ${flows} flow(s), flow:0 to flow:${flows - 1}`);
    return { name: text, point: point as CapturePoint, selector: { kind: 'flow', flow } };
  }
  const vm = Number(m[1]);
  const spec = vms[vm];
  if (spec === undefined) throw usage(`${flag}: the scenario has ${vms.length} VM(s), vm:0 to vm:${vms.length - 1}`);
  if (m[2] === undefined) return { name: text, point: point as CapturePoint, selector: { kind: 'vm', vm } };
  const queue = Number(m[2]);
  if (queue >= spec.queues) throw usage(`${flag}: VM ${vm} has ${spec.queues} queue(s), queue:0 to queue:${spec.queues - 1}`);
  return { name: text, point: point as CapturePoint, selector: { kind: 'vm', vm, queue } };
}

/** --pcap-window `<from>-<to>`: two durations, from before to, from before the end of the run. */
function readWindow(text: string | undefined, s: CompiledScenario): { from: Nanos; to: Nanos } {
  if (text === undefined) return { from: 0, to: Infinity };
  const flag = `--pcap-window ${text}`;
  const parts = text.split('-');
  const from = parts.length === 2 ? parseDuration(parts[0] as string) : undefined;
  const to = parts.length === 2 ? parseDuration(parts[1] as string) : undefined;
  if (from === undefined || to === undefined || from >= to) {
    throw usage(`${flag}: expected <from>-<to>, two durations of emulated time with from before to, such as 10ms-11ms`);
  }
  if (from >= s.duration) throw usage(`${flag}: starts at or after the end of the run (duration ${formatDuration(s.duration)}), so it would capture nothing`);
  return { from, to };
}

/** The capture flags, read and checked against the scenario before anything runs (a problem is one line naming the flag). */
export function compileCaptureSpec(flags: CaptureFlags, s: CompiledScenario): CaptureSpec {
  if (flags.pcap.length === 0) {
    const lone = flags.window !== undefined ? `--pcap-window ${flags.window}` : flags.max !== undefined ? `--pcap-max ${flags.max}` : undefined;
    if (lone !== undefined) throw usage(`${lone}: only with --pcap <point>, which says what to capture`);
  }
  const interfaces: CaptureInterface[] = [];
  for (const text of flags.pcap) {
    if (interfaces.some((i) => i.name === text)) throw usage(`--pcap ${text}: given twice (each --pcap is one interface of the file)`);
    interfaces.push(readInterface(text, s));
  }
  const maxText = flags.max ?? DEFAULT_CAPTURE_MAX;
  const maxBytes = parseByteSize(maxText);
  if (maxBytes === undefined || maxBytes === 0) throw usage(`--pcap-max ${maxText}: expected a file size such as 64MB, 500kB or 1GiB`);
  return { interfaces, window: readWindow(flags.window, s), maxBytes, maxText };
}
