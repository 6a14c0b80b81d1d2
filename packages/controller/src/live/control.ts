// Control-plane messages of a live run (JSON on the bus: small, rare, and readable with `nats sub`), validated on receipt.
import type { ActorReport, Nanos } from '@splitnet/model';
import type { HostFinal } from '@splitnet/runtime';

export type ControlMessage =
  | { readonly kind: 'hello'; readonly id: string; readonly pid: number }
  | { readonly kind: 'start'; readonly epochMs: number }
  /** An actor process was restarted: peers forget its sequence numbers; it rejoins the run. */
  | { readonly kind: 'restarted'; readonly id: string }
  | { readonly kind: 'stop' }
  | { readonly kind: 'sample'; readonly id: string; readonly t: Nanos; readonly reports: readonly ActorReport[] }
  | { readonly kind: 'final'; readonly id: string; readonly final: HostFinal }
  | { readonly kind: 'hb'; readonly id: string; readonly emulatedNow: Nanos };

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeControl(m: ControlMessage): Uint8Array {
  return enc.encode(JSON.stringify(m));
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length < 200;
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Decode and check a control message; null if it is not one (the caller counts it). */
export function decodeControl(data: Uint8Array): ControlMessage | null {
  let x: unknown;
  try {
    x = JSON.parse(dec.decode(data));
  } catch {
    return null;
  }
  if (!isObj(x)) return null;
  switch (x['kind']) {
    case 'hello':
      return isStr(x['id']) && isNum(x['pid']) ? { kind: 'hello', id: x['id'], pid: x['pid'] } : null;
    case 'start':
      return isNum(x['epochMs']) ? { kind: 'start', epochMs: x['epochMs'] } : null;
    case 'stop':
      return { kind: 'stop' };
    case 'restarted':
      return isStr(x['id']) ? { kind: 'restarted', id: x['id'] } : null;
    case 'sample':
      return isStr(x['id']) && isNum(x['t']) && Array.isArray(x['reports']) && x['reports'].every(isReport)
        ? { kind: 'sample', id: x['id'], t: x['t'], reports: x['reports'] as ActorReport[] }
        : null;
    case 'final':
      return isStr(x['id']) && isObj(x['final']) && Array.isArray(x['final']['reports']) && x['final']['reports'].every(isReport)
        ? { kind: 'final', id: x['id'], final: x['final'] as unknown as HostFinal }
        : null;
    case 'hb':
      return isStr(x['id']) && isNum(x['emulatedNow']) ? { kind: 'hb', id: x['id'], emulatedNow: x['emulatedNow'] } : null;
    default:
      return null;
  }
}

function isReport(r: unknown): boolean {
  return isObj(r) && ['nic', 'backend', 'worker', 'frontend'].includes(String(r['role'])) && isStr(r['id']) && isNum(r['t']);
}
