// `splitnet fault <action> <target>`: inject a fault into a running live emulation over its control plane and print what happened.
import { SplitnetError } from '@splitnet/model';
import { decodeControl, encodeControl } from '@splitnet/live';
import { checkFaultRequest } from '@splitnet/scenario';
import { isValidRunId, Subjects, TransportError } from '@splitnet/transport';
import { connectNats } from '@splitnet/transport/nats';
import type { Transport } from '@splitnet/transport';

export interface FaultFlags {
  readonly run: string;
  readonly nats: string;
  readonly duration?: string;
  readonly probability?: string;
  readonly delay?: string;
  readonly factor?: string;
  readonly packets?: string;
  readonly size?: string;
  readonly offset?: string;
  readonly kinds?: string;
  readonly id?: string;
  readonly json?: boolean;
  readonly timeout: string;
}

function num(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new SplitnetError('E_USAGE', `--${flag}: expected a number, found "${v}"`);
  return n;
}

/** The faults item the controller compiles against its scenario (its errors then read like the scenario compiler's). */
export function faultItem(action: string, target: string, f: FaultFlags): Record<string, unknown> {
  const item: Record<string, unknown> = { action, target };
  if (f.id !== undefined) item['id'] = f.id;
  if (f.duration !== undefined) item['duration'] = f.duration;
  if (f.delay !== undefined) item['delay'] = f.delay;
  if (f.probability !== undefined) item['probability'] = num('probability', f.probability);
  if (f.factor !== undefined) item['factor'] = num('factor', f.factor);
  if (f.packets !== undefined) item['packets'] = num('packets', f.packets);
  if (f.size !== undefined) item['size'] = num('size', f.size);
  if (f.offset !== undefined) item['offset'] = num('offset', f.offset);
  if (f.kinds !== undefined) item['kinds'] = f.kinds.split(',').map((k) => k.trim());
  return item;
}

/** The fault's parameter flags that were given, by the scenario key each sets. */
const PARAM_FLAGS = ['probability', 'delay', 'factor', 'packets', 'size', 'offset', 'kinds'] as const;

/**
 * Send the request; exit 0 when the controller injected it, 2 when it (or the check before connecting)
 * rejected it, 1 when NATS or the run's controller could not be reached.
 */
export async function faultCommand(action: string, target: string, f: FaultFlags): Promise<number> {
  // Everything that can be checked without the run is checked before connecting.
  checkFaultRequest(action, target, { params: PARAM_FLAGS.filter((k) => f[k] !== undefined), duration: f.duration !== undefined });
  if (!isValidRunId(f.run)) throw new SplitnetError('E_USAGE', `--run: expected letters, digits, '-' or '_' (at most 64), found "${f.run}"`);
  const item = faultItem(action, target, f);
  const timeoutSeconds = num('timeout', f.timeout);
  if (!(timeoutSeconds > 0)) throw new SplitnetError('E_USAGE', `--timeout: expected seconds > 0, found "${f.timeout}"`);
  const timeoutMs = timeoutSeconds * 1000;
  const subjects = new Subjects(f.run);
  let t: Transport;
  try {
    t = await connectNats({ servers: f.nats, name: `splitnet fault ${f.run}`, connectTimeoutMs: timeoutMs });
  } catch (err) {
    if (err instanceof TransportError) {
      throw new SplitnetError('E_OPERATIONAL', `${err.message} (is run ${f.run} still going? --nats must be the URL of its NATS server)`, { cause: err });
    }
    throw err;
  }
  try {
    let data: Uint8Array;
    try {
      data = await t.request(subjects.control('controller'), encodeControl({ kind: 'fault-request', item }), timeoutMs);
    } catch (err) {
      if (err instanceof TransportError) {
        throw new SplitnetError('E_OPERATIONAL', `no controller of run ${f.run} answered at ${f.nats} (${err.code}): is the run still going?`, { cause: err });
      }
      throw err;
    }
    const reply = decodeControl(data);
    if (reply?.kind !== 'fault-reply') throw new SplitnetError('E_INTERNAL', 'the controller sent something that is not a fault reply');
    if (f.json) {
      process.stdout.write(JSON.stringify(reply, null, 2) + '\n');
    } else {
      process.stdout.write(`${reply.ok ? 'injected' : 'rejected'}: ${reply.message}\n`);
      for (const line of reply.applied) process.stdout.write(`  ${line}\n`);
    }
    return reply.ok ? 0 : 2;
  } finally {
    await t.close();
  }
}
