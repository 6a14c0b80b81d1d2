// Control-plane messages of a live run (JSON on the bus: small, rare, and readable with `nats sub`), validated on receipt; control-seal.ts authenticates them.
import { DATAPATH_FAULT_ACTIONS } from '@splitnet/model';
import type { ActorReport, FaultCommand, Nanos } from '@splitnet/model';
import type { HostFinal } from './live-host.js';

export type ControlMessage =
  | { readonly kind: 'hello'; readonly id: string; readonly pid: number }
  /**
   * The run's epoch, for every process; or, with `id`, for that restarted process only (its rejoin),
   * with `faults`: the datapath faults in effect for its actors, which they take at the instant they rejoin.
   */
  | { readonly kind: 'start'; readonly epochMs: number; readonly id?: string; readonly faults?: readonly HeldFault[] }
  /** An actor process was restarted: peers forget its sequence numbers; it rejoins the run. */
  | { readonly kind: 'restarted'; readonly id: string }
  /** The run is over. `final`: it was interrupted; each process stops its actors now and sends its final report first. */
  | { readonly kind: 'stop'; readonly final?: boolean }
  /** `incarnation`: 0 for a process's first run, n after its n-th restart (absent: 0). */
  | { readonly kind: 'sample'; readonly id: string; readonly t: Nanos; readonly reports: readonly ActorReport[]; readonly incarnation?: number }
  | { readonly kind: 'final'; readonly id: string; readonly final: HostFinal; readonly incarnation?: number }
  /** `waitShare`: a lockstep partition's share of wall time spent waiting for its neighbours' promises. */
  | { readonly kind: 'hb'; readonly id: string; readonly emulatedNow: Nanos; readonly waitShare?: number }
  /** Actor process → controller: an event of one of its actors (stalls, ring errors, fault effects) for the run's log. */
  | {
      readonly kind: 'event';
      readonly id: string;
      readonly t: Nanos;
      readonly actor: string;
      readonly event: string;
      readonly detail: Readonly<Record<string, unknown>>;
    }
  /** Lockstep partition → controller: a part of its event log (keyed: docs/lockstep.md#the-event-log), before its final report. */
  | { readonly kind: 'lockstep-events'; readonly id: string; readonly events: readonly unknown[] }
  /** Lockstep partition → controller: its account at the end of the run (the lockstep package checks and reads it). */
  | { readonly kind: 'lockstep-final'; readonly id: string; readonly final: Readonly<Record<string, unknown>> }
  /**
   * Lockstep partition → controller, at each hello until the start: its direct links not made yet, one line each
   * (packages/lockstep/src/direct-waiting.ts; empty: none pending), for the controller's error if the hello deadline passes.
   */
  | { readonly kind: 'lockstep-waiting'; readonly id: string; readonly waiting: readonly string[] }
  /** A lockstep partition's part of a sample (its actors' reports, null for one down, and what faults add): checked by the lockstep controller. */
  | { readonly kind: 'lockstep-sample'; readonly id: string; readonly t: Nanos; readonly shot: Readonly<Record<string, unknown>> }
  /** Controller → actor processes (broadcast): a datapath fault command for the actor `actor`. */
  | { readonly kind: 'fault'; readonly actor: string; readonly cmd: FaultCommand }
  /**
   * Controller → every actor process: a node's network cut (the `partition` fault `id`) ended; messages may have been
   * lost in it, so the process's actors resync as after a NATS outage (Actor.resync).
   */
  | { readonly kind: 'resync'; readonly id: string }
  /** `splitnet fault` → controller (request): one fault, written as a scenario's faults item without its time. */
  | { readonly kind: 'fault-request'; readonly item: Readonly<Record<string, unknown>> }
  /** Controller → `splitnet fault` (reply): what was done, or why not. */
  | { readonly kind: 'fault-reply'; readonly ok: boolean; readonly message: string; readonly applied: readonly string[] };

/** A datapath fault in effect for one actor. */
export interface HeldFault {
  readonly actor: string;
  readonly cmd: FaultCommand;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeControl(m: ControlMessage): Uint8Array {
  return enc.encode(JSON.stringify(m));
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length < 200;
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Decode and check a control message sent in the clear (`splitnet fault`'s request and its reply); null if it is not one. */
export function decodeControl(data: Uint8Array): ControlMessage | null {
  let x: unknown;
  try {
    x = JSON.parse(dec.decode(data));
  } catch {
    return null;
  }
  return checkControl(x);
}

/** Check a decoded control message (control-seal.ts opens the sealed ones); null if it is not one. */
export function checkControl(x: unknown): ControlMessage | null {
  if (!isObj(x)) return null;
  switch (x['kind']) {
    case 'hello':
      return isStr(x['id']) && isNum(x['pid']) ? { kind: 'hello', id: x['id'], pid: x['pid'] } : null;
    case 'start': {
      const { epochMs, id, faults } = x;
      if (!isNum(epochMs) || (id !== undefined && !isStr(id))) return null;
      if (faults !== undefined && !(Array.isArray(faults) && faults.every((h) => isObj(h) && isStr(h['actor']) && isFaultCommand(h['cmd'])))) return null;
      return { kind: 'start', epochMs, ...(id === undefined ? {} : { id }), ...(faults === undefined ? {} : { faults: faults as HeldFault[] }) };
    }
    case 'stop':
      return x['final'] === true ? { kind: 'stop', final: true } : { kind: 'stop' };
    case 'restarted':
      return isStr(x['id']) ? { kind: 'restarted', id: x['id'] } : null;
    case 'sample':
      return isStr(x['id']) && isNum(x['t']) && Array.isArray(x['reports']) && x['reports'].every(isReport) && isIncarnation(x['incarnation'])
        ? { kind: 'sample', id: x['id'], t: x['t'], reports: x['reports'] as ActorReport[], incarnation: x['incarnation'] ?? 0 }
        : null;
    case 'final':
      return isStr(x['id']) &&
        isObj(x['final']) &&
        Array.isArray(x['final']['reports']) &&
        x['final']['reports'].every(isReport) &&
        isIncarnation(x['incarnation'])
        ? { kind: 'final', id: x['id'], final: x['final'] as unknown as HostFinal, incarnation: x['incarnation'] ?? 0 }
        : null;
    case 'event':
      return isStr(x['id']) && isNum(x['t']) && isStr(x['actor']) && isStr(x['event']) && isObj(x['detail'])
        ? { kind: 'event', id: x['id'], t: x['t'], actor: x['actor'], event: x['event'], detail: x['detail'] }
        : null;
    case 'lockstep-events':
      return isStr(x['id']) && Array.isArray(x['events']) ? { kind: 'lockstep-events', id: x['id'], events: x['events'] as unknown[] } : null;
    case 'lockstep-final':
      return isStr(x['id']) && isObj(x['final']) ? { kind: 'lockstep-final', id: x['id'], final: x['final'] } : null;
    case 'lockstep-waiting': {
      const w = x['waiting'];
      return isStr(x['id']) && Array.isArray(w) && w.length <= 1000 && w.every(isStr)
        ? { kind: 'lockstep-waiting', id: x['id'], waiting: w as string[] }
        : null;
    }
    case 'lockstep-sample':
      return isStr(x['id']) && isNum(x['t']) && isObj(x['shot']) ? { kind: 'lockstep-sample', id: x['id'], t: x['t'], shot: x['shot'] } : null;
    case 'fault': {
      const c = x['cmd'];
      return isStr(x['actor']) && isFaultCommand(c) ? { kind: 'fault', actor: x['actor'], cmd: c } : null;
    }
    case 'resync':
      return isStr(x['id']) ? { kind: 'resync', id: x['id'] } : null;
    case 'fault-request':
      return isObj(x['item']) ? { kind: 'fault-request', item: x['item'] } : null;
    case 'fault-reply':
      return typeof x['ok'] === 'boolean' && typeof x['message'] === 'string' && Array.isArray(x['applied']) && x['applied'].every((a) => typeof a === 'string')
        ? { kind: 'fault-reply', ok: x['ok'], message: x['message'], applied: x['applied'] as string[] }
        : null;
    case 'hb':
      return isStr(x['id']) && isNum(x['emulatedNow'])
        ? { kind: 'hb', id: x['id'], emulatedNow: x['emulatedNow'], ...(isNum(x['waitShare']) ? { waitShare: x['waitShare'] } : {}) }
        : null;
    default:
      return null;
  }
}

const isIncarnation = (x: unknown): x is number | undefined => x === undefined || (Number.isInteger(x) && (x as number) >= 0);
const isNumList = (x: unknown): boolean => Array.isArray(x) && x.length <= 100_000 && x.every((v) => Number.isInteger(v) && (v as number) >= 0);

function isFaultCommand(c: unknown): c is FaultCommand {
  if (!isObj(c) || !isStr(c['id']) || !isNum(c['seed']) || !isObj(c['params'])) return false;
  if (!(DATAPATH_FAULT_ACTIONS as readonly unknown[]).includes(c['action'])) return false;
  if (c['phase'] !== 'start' && c['phase'] !== 'end') return false;
  if (c['vm'] !== undefined && !(Number.isInteger(c['vm']) && (c['vm'] as number) >= 0)) return false;
  if (c['queues'] !== undefined && !isNumList(c['queues'])) return false;
  if (c['flows'] !== undefined && !isNumList(c['flows'])) return false;
  return Object.values(c['params']).every((v) => isNum(v) || (Array.isArray(v) && v.every(isStr)));
}

function isReport(r: unknown): boolean {
  return isObj(r) && ['nic', 'backend', 'worker', 'frontend', 'switch'].includes(String(r['role'])) && isStr(r['id']) && isNum(r['t']);
}
