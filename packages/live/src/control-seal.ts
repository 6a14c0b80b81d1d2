// Authenticated control messages: each actor process shares a secret key with its run's controller, and every control message between them carries an HMAC.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { checkControl } from './control.js';
import type { ControlMessage } from './control.js';

/**
 * What one incarnation of an actor process and its controller share, handed over out of band: in the
 * environment of a process the controller spawns (SPLITNET_CONTROL_SECRET), in the join reply of one that
 * joins. `nonce` names the controller (one per `splitnet run`), `key` authenticates their messages both ways.
 */
export interface ControlSecret {
  readonly nonce: string;
  /** 32 random bytes, hex. */
  readonly key: string;
}

/** A controller's nonce: 16 random bytes, hex. */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** A fresh key for one incarnation of one process. */
export function newControlSecret(nonce: string): ControlSecret {
  return { nonce, key: randomBytes(32).toString('hex') };
}

const HEX = /^[0-9a-f]+$/;

/** The secret as one line for the environment: `<nonce>:<key>`. */
export function formatControlSecret(s: ControlSecret): string {
  return `${s.nonce}:${s.key}`;
}

/** The secret from `formatControlSecret`'s line, or undefined if it is not one. */
export function parseControlSecret(text: string): ControlSecret | undefined {
  const [nonce, key, ...rest] = text.trim().split(':');
  if (rest.length > 0 || nonce === undefined || key === undefined) return undefined;
  if (nonce.length !== 32 || key.length !== 64 || !HEX.test(nonce) || !HEX.test(key)) return undefined;
  return { nonce, key };
}

/** Who a sealed message is from and for: the run, the controller's nonce, the process and its incarnation, the direction, a counter. */
interface SealHeader {
  /** Run id. */
  readonly r: string;
  /** The controller's nonce. */
  readonly c: string;
  /** The process (its actor ids joined by '+'). */
  readonly p: string;
  /** Its incarnation. */
  readonly i: number;
  /** Direction: 'a' actor → controller, 'c' controller → actor (a message cannot be reflected back to its sender). */
  readonly d: 'a' | 'c';
  /** Counter per direction and incarnation, from 1: a replayed message is refused. */
  readonly n: number;
}

const MAC_HEX = 64;
const dec = new TextDecoder();

/**
 * Each key as a KeyObject, parsed from its hex once: re-parsing it for every message was a third of a seal's cost
 * (an actor process seals every sample and event it sends; the controller checks them all). The same HMAC-SHA256
 * under the same key: cheaper, not weaker. A process holds one key per incarnation, the controller one per process.
 */
const keyObjects = new Map<string, KeyObject>();

function keyObject(key: string): KeyObject {
  let k = keyObjects.get(key);
  if (k === undefined) keyObjects.set(key, (k = createSecretKey(Buffer.from(key, 'hex'))));
  return k;
}

function mac(key: string, body: Uint8Array): Buffer {
  return createHmac('sha256', keyObject(key)).update(body).digest();
}

/**
 * `<hmac hex> <json>`: the MAC covers the JSON's bytes exactly as sent, so nothing is canonicalised, and the
 * message stays readable with `nats sub`.
 */
function seal(key: string, h: SealHeader, m: ControlMessage): Uint8Array {
  // The JSON is written once, in place after the MAC's room (no second copy of a sample's reports).
  const json = JSON.stringify({ ...h, m });
  const out = Buffer.allocUnsafe(MAC_HEX + 1 + Buffer.byteLength(json));
  out.write(json, MAC_HEX + 1, 'utf8');
  out.write(mac(key, out.subarray(MAC_HEX + 1)).toString('hex'), 0, 'latin1');
  out[MAC_HEX] = 0x20;
  return out;
}

/** A sealed message before its MAC is checked: who it claims to be from, and how to check it. */
interface Unsealed {
  readonly h: SealHeader;
  readonly m: unknown;
  /** Whether `key` made its MAC. */
  verify(key: string): boolean;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The parts of a sealed message, or why it is not one. */
function unseal(data: Uint8Array): Unsealed | string {
  if (data.byteLength < MAC_HEX + 3 || data[MAC_HEX] !== 0x20) return 'not a sealed control message (no MAC)';
  const given = dec.decode(data.subarray(0, MAC_HEX));
  if (!HEX.test(given)) return 'not a sealed control message (no MAC)';
  const body = data.subarray(MAC_HEX + 1);
  let x: unknown;
  try {
    x = JSON.parse(dec.decode(body));
  } catch {
    return 'a sealed control message whose body is not JSON';
  }
  if (!isObj(x)) return 'a sealed control message whose body is not an object';
  const { r, c, p, i, d, n } = x;
  if (typeof r !== 'string' || typeof c !== 'string' || typeof p !== 'string' || p.length > 4096 || (d !== 'a' && d !== 'c'))
    return 'a sealed control message without its header';
  if (!Number.isSafeInteger(i) || (i as number) < 0 || !Number.isSafeInteger(n) || (n as number) < 1)
    return 'a sealed control message with a bad incarnation or counter';
  return {
    h: { r, c, p, i: i as number, d, n: n as number },
    m: x['m'],
    verify: (key) => timingSafeEqual(Buffer.from(given, 'hex'), mac(key, body)),
  };
}

/**
 * Counters seen, as IPsec's anti-replay window: anything above the highest is new; of the 64 below it, those
 * not seen yet are taken too (messages on different subjects may overtake each other in a NATS cluster).
 */
class ReplayWindow {
  private top = 0;
  private readonly seen = new Set<number>();

  accept(n: number): boolean {
    if (n > this.top) {
      this.top = n;
      for (const s of this.seen) if (s <= n - 64) this.seen.delete(s);
      this.seen.add(n);
      return true;
    }
    if (n <= this.top - 64 || this.seen.has(n)) return false;
    this.seen.add(n);
    return true;
  }
}

/** A control message that was opened, or why it was refused. */
export type Opened<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };

/** The actor process's end: seals what it sends the controller, opens what the controller sends it. */
export class ActorControl {
  private sent = 0;
  private readonly window = new ReplayWindow();

  constructor(
    private readonly run: string,
    /** The process name (its actor ids joined by '+'). */
    readonly name: string,
    readonly incarnation: number,
    private readonly secret: ControlSecret,
  ) {}

  /** The controller's nonce this process belongs to. */
  get nonce(): string {
    return this.secret.nonce;
  }

  seal(m: ControlMessage): Uint8Array {
    return seal(this.secret.key, { r: this.run, c: this.secret.nonce, p: this.name, i: this.incarnation, d: 'a', n: ++this.sent }, m);
  }

  /** A message from the controller to this process, or why it is refused (forged, replayed, another controller's, not for this process). */
  open(data: Uint8Array): Opened<ControlMessage> {
    const u = unseal(data);
    if (typeof u === 'string') return { ok: false, why: u };
    const { h } = u;
    if (h.c !== this.secret.nonce)
      return { ok: false, why: `a control message of another controller of run ${h.r} (nonce ${h.c.slice(0, 8)}…, ours ${this.secret.nonce.slice(0, 8)}…)` };
    if (h.r !== this.run || h.p !== this.name || h.i !== this.incarnation || h.d !== 'c')
      return { ok: false, why: `a control message for ${h.p} (incarnation ${h.i}, run ${h.r}), not this process` };
    if (!u.verify(this.secret.key)) return { ok: false, why: 'a control message whose MAC is wrong (forged)' };
    if (!this.window.accept(h.n)) return { ok: false, why: `a replayed control message (counter ${h.n})` };
    const m = checkControl(u.m);
    return m === null ? { ok: false, why: 'an authentic control message that is not one this process knows' } : { ok: true, value: m };
  }
}

/** What the controller opened: the message and the process incarnation that sent it. */
export interface FromProcess {
  readonly name: string;
  readonly incarnation: number;
  readonly m: ControlMessage;
}

/** The controller's end: a key per process incarnation, sealing what it sends each, opening what each sends it. */
export class ControllerControl {
  /** Per process, per incarnation: its secret, its counter and its replay window. */
  private readonly processes = new Map<string, Map<number, { secret: ControlSecret; sent: number; window: ReplayWindow }>>();
  /** Per process, its latest incarnation (what `seal` addresses). */
  private readonly latest = new Map<string, number>();

  constructor(
    private readonly run: string,
    /** This controller's nonce (one per `splitnet run`). */
    readonly nonce: string,
  ) {}

  /** The secret of process `name`'s `incarnation` (made on first use): what it is handed at spawn or join. */
  secretFor(name: string, incarnation: number): ControlSecret {
    let byInc = this.processes.get(name);
    if (!byInc) this.processes.set(name, (byInc = new Map()));
    let e = byInc.get(incarnation);
    if (!e) byInc.set(incarnation, (e = { secret: newControlSecret(this.nonce), sent: 0, window: new ReplayWindow() }));
    if (incarnation >= (this.latest.get(name) ?? 0)) this.latest.set(name, incarnation);
    return e.secret;
  }

  /** `m` sealed for process `name`'s latest incarnation. */
  seal(name: string, m: ControlMessage): Uint8Array {
    const i = this.latest.get(name) ?? 0;
    this.secretFor(name, i);
    const e = this.processes.get(name)?.get(i) as { secret: ControlSecret; sent: number };
    return seal(e.secret.key, { r: this.run, c: this.nonce, p: name, i, d: 'c', n: ++e.sent }, m);
  }

  /** A message from an actor process, or why it is refused (not sealed, an unknown process, another controller's, forged, replayed). */
  open(data: Uint8Array): Opened<FromProcess> {
    const u = unseal(data);
    if (typeof u === 'string') return { ok: false, why: u };
    const { h } = u;
    if (h.c !== this.nonce)
      return { ok: false, why: `${h.p}: a process of another controller of run ${h.r} (nonce ${h.c.slice(0, 8)}…, ours ${this.nonce.slice(0, 8)}…)` };
    const e = this.processes.get(h.p)?.get(h.i);
    if (h.r !== this.run || h.d !== 'a' || e === undefined) return { ok: false, why: `${h.p}: no process ${h.p} (incarnation ${h.i}) in run ${this.run}` };
    if (!u.verify(e.secret.key)) return { ok: false, why: `${h.p}: a control message whose MAC is wrong (forged)` };
    if (!e.window.accept(h.n)) return { ok: false, why: `${h.p}: a replayed control message (counter ${h.n})` };
    const m = checkControl(u.m);
    return m === null
      ? { ok: false, why: `${h.p}: an authentic control message that is not one the controller knows` }
      : { ok: true, value: { name: h.p, incarnation: h.i, m } };
  }
}
