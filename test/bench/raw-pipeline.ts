// Baseline for the live benchmark: a raw 3-hop columnar pipeline over NATS (A → B → C, three OS processes) with our codec.
//
// Run alone: npx tsc -b && node test/dist/bench/raw-pipeline.js [--batch 64] [--seconds 2] [--warmup 0.5] [--rounds 3]
// (live-bench.js imports `measureRawPipeline` and prints it beside the live datapath.)
//
// What it measures (PERF.md, "Three separate processes in a chain over NATS"): descriptors per
// second arriving at C, sustained, with nothing in between but the transport and the codec:
// - A (the back-end's role) fills one columnar batch of N descriptors per message, stamps fresh
//   sequence numbers, encodes an `rx` envelope and publishes it.
// - B (a netback worker's role) decodes and validates it with an EnvelopeDecoder (the one copy on
//   receipt), reads every descriptor, re-encodes the batch as an `rsp` envelope of its own and
//   publishes it.
// - C (the front-end's role) decodes, reads every descriptor and counts.
// Flow control: C acknowledges every ACK_EVERY messages and A keeps at most `window` messages
// unacknowledged, so the figure is what the chain delivers, not what A can blast before the
// server cuts a slow consumer off. The end of a round is a batch of 0 descriptors that follows
// the data through B, so C sees it only after everything A sent.

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { takeBatch } from '@splitnet/model';
import type { Message } from '@splitnet/model';
import { EnvelopeDecoder, PROTOCOL_VERSION, encodeEnvelope } from '@splitnet/transport';
import { connectNats } from '@splitnet/transport/nats';
import { startNatsServer } from '@splitnet/transport/nats-server';
import type { NatsTransport } from '@splitnet/transport/nats';

const RUN_ID = 'raw-pipeline';
const TO_B = 'raw.rx';
const TO_C = 'raw.rsp';
const ACK = 'raw.ack';
/** C acknowledges every this many messages (with 64 descriptors per message: every 2048 descriptors). */
const ACK_EVERY = 32;
/** The scenario's flow table size, for the decoders' limits (flow ids below it). */
const FLOWS = 64;
const FRAME_LEN = 1518;

export interface RawPipelineOptions {
  /** Descriptors per message (N). */
  readonly batch: number;
  /** Measured seconds per round, after the warm-up. */
  readonly seconds: number;
  /** Seconds at the start of a round that C does not count (JIT, socket buffers). */
  readonly warmupSeconds: number;
  readonly rounds: number;
  /** Most messages A keeps unacknowledged by C. */
  readonly window: number;
}

export const RAW_PIPELINE_DEFAULTS: RawPipelineOptions = Object.freeze({
  batch: 64,
  seconds: 2,
  warmupSeconds: 0.5,
  rounds: 3,
  window: 2048,
});

/** What one process reports to the parent when its part of a round is over. */
interface RoleReport {
  readonly role: 'a' | 'b' | 'c';
  /** Data messages handled (sent by A, relayed by B, received by C), without the end marker. */
  readonly messages: number;
  /** CPU µs (user + system) from the first data message to the end marker. */
  readonly cpuMicros: number;
  /** Decoder rejections plus sequence gaps seen by this role (must be 0). */
  readonly faults: number;
  /** Transport disconnects (a slow consumer cut off by the server shows as one). */
  readonly disconnects: number;
  /** B and C: a sum over every descriptor read (B's and C's must agree: same descriptors, intact). */
  readonly checksum: number;
  /** C only: descriptors counted after the warm-up, and over how many seconds. */
  readonly measuredDescriptors?: number;
  readonly measuredSeconds?: number;
}

export interface RawRound {
  readonly descriptorsPerSec: number;
  readonly descriptors: number;
  /** Node CPU (A + B + C) per descriptor delivered, µs: steadier than the rate on a shared machine. */
  readonly cpuMicrosPerDescriptor: { readonly a: number; readonly b: number; readonly c: number };
  /** nats-server CPU over the round as a fraction of one core (Linux /proc; undefined elsewhere). */
  readonly serverCores: number | undefined;
  readonly faults: number;
  readonly disconnects: number;
}

export interface RawPipelineResult {
  readonly options: RawPipelineOptions;
  readonly rounds: readonly RawRound[];
  /** Median over rounds of the descriptors/s at C. */
  readonly descriptorsPerSec: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function nowSeconds(): number {
  return performance.now() / 1e3;
}

/** CPU seconds a process has used so far, from /proc (Linux); undefined where there is none. */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, i.e. 11 and 12 after the name; USER_HZ is 100 on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function send(report: RoleReport): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(report, () => resolve());
  });
}

/** Close the connection and end the process (the IPC channel to the parent would keep it alive). */
async function exitAfter(tr: NatsTransport): Promise<never> {
  await tr.close();
  process.exit(0);
}

function countDisconnects(tr: NatsTransport): () => number {
  let n = 0;
  tr.onStatus((s) => {
    if (s.kind === 'disconnect') n++;
  });
  return () => n;
}

/** A: publish windows of batches until the deadline, then the end marker. */
async function roleA(url: string, batchSize: number, seconds: number, window: number): Promise<void> {
  const tr = await connectNats({ servers: url, name: 'raw-pipeline A' });
  const disconnects = countDisconnects(tr);
  let acked = 0;
  let wake: (() => void) | undefined;
  tr.subscribe(ACK, (d) => {
    acked = new DataView(d.buffer, d.byteOffset, d.byteLength).getUint32(0, true);
    const w = wake;
    wake = undefined;
    w?.();
  });
  await tr.flush();
  process.send?.('ready');
  await new Promise<void>((resolve) => process.once('message', () => resolve()));

  // One batch reused for every message: the encoder copies it, so only the fields A changes are rewritten.
  const batch = takeBatch(batchSize);
  for (let i = 0; i < batchSize; i++) {
    batch.flow[i] = i % FLOWS;
    batch.len[i] = FRAME_LEN;
    batch.emittedAt[i] = i;
  }
  batch.count = batchSize;
  const rx: Message = { kind: 'rx', vm: 0, queue: 0, batch };
  let sent = 0;
  let nextSeq = 0;
  let t = batchSize; // emulated ns; every descriptor's emittedAt must not be after its envelope's t
  const cpu0 = cpuNow();
  const deadline = nowSeconds() + seconds;
  const publish = (m: Message): void => {
    sent++;
    t += 1000;
    tr.publish(TO_B, encodeEnvelope({ v: PROTOCOL_VERSION, run: RUN_ID, from: 'backend', to: 'worker.0', seq: sent, t, at: t + 1000, m }));
  };
  while (nowSeconds() < deadline) {
    if (sent - acked >= window) {
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    const burst = Math.min(64, window - (sent - acked));
    for (let k = 0; k < burst; k++) {
      for (let i = 0; i < batchSize; i++) batch.seq[i] = nextSeq++ >>> 0;
      publish(rx);
    }
    // Let the client write its buffer and read acks: a publish loop that never yields starves the socket.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const messages = sent;
  batch.count = 0;
  publish(rx); // the end marker: 0 descriptors, behind all the data
  await tr.flush();
  await send({ role: 'a', messages, cpuMicros: cpuNow() - cpu0, faults: 0, disconnects: disconnects(), checksum: 0 });
  await exitAfter(tr);
}

/** B: decode, read every descriptor, re-encode as our own envelope, publish. */
async function roleB(url: string, batchSize: number): Promise<void> {
  const tr = await connectNats({ servers: url, name: 'raw-pipeline B' });
  const disconnects = countDisconnects(tr);
  const decoder = new EnvelopeDecoder({ run: RUN_ID, limits: { flows: FLOWS, maxBatch: batchSize } });
  let relayed = 0;
  let rspProd = 0;
  let checksum = 0;
  let cpu0 = 0;
  tr.subscribe(TO_B, (data) => {
    const env = decoder.decode(data);
    if (env === null || env.m.kind !== 'rx') return;
    const b = env.m.batch;
    if (relayed === 0) cpu0 = cpuNow();
    const count = b.count;
    // Touch every descriptor, as a worker steering packets to a guest ring does.
    for (let i = 0; i < count; i++) checksum = (checksum + (b.flow[i] as number) + (b.seq[i] as number) + (b.len[i] as number)) | 0;
    rspProd = (rspProd + count) >>> 0;
    tr.publish(
      TO_C,
      encodeEnvelope({
        v: PROTOCOL_VERSION,
        run: RUN_ID,
        from: 'worker.0',
        to: 'vm.0',
        seq: relayed + 1,
        t: env.t,
        at: env.at,
        m: { kind: 'rsp', vm: 0, queue: 0, rspProd, reqEvent: rspProd + 1, batch: b },
      }),
    );
    decoder.pool.release(b);
    if (count === 0) {
      void send({ role: 'b', messages: relayed, cpuMicros: cpuNow() - cpu0, faults: faultsOf(decoder), disconnects: disconnects(), checksum }).then(() =>
        exitAfter(tr),
      );
      return;
    }
    relayed++;
  });
  await tr.flush();
  process.send?.('ready');
}

function faultsOf(d: EnvelopeDecoder): number {
  return Object.values(d.rejected).reduce((a, b) => a + b, 0) + d.gaps;
}

/** C: decode, read every descriptor, count, acknowledge; report on the end marker. */
async function roleC(url: string, batchSize: number, warmupSeconds: number): Promise<void> {
  const tr = await connectNats({ servers: url, name: 'raw-pipeline C' });
  const disconnects = countDisconnects(tr);
  const decoder = new EnvelopeDecoder({ run: RUN_ID, limits: { flows: FLOWS, maxBatch: batchSize } });
  const ack = new Uint8Array(4);
  const ackView = new DataView(ack.buffer);
  let received = 0;
  let descriptors = 0;
  let checksum = 0;
  let cpu0 = 0;
  let firstAt = 0;
  let warmAt = -1;
  let warmDescriptors = 0;
  let lastAt = 0;
  tr.subscribe(TO_C, (data) => {
    const env = decoder.decode(data);
    if (env === null || env.m.kind !== 'rsp') return;
    const b = env.m.batch;
    const count = b.count;
    for (let i = 0; i < count; i++) checksum = (checksum + (b.flow[i] as number) + (b.seq[i] as number) + (b.len[i] as number)) | 0;
    decoder.pool.release(b);
    if (count === 0) {
      const measured = descriptors - warmDescriptors;
      void send({
        role: 'c',
        messages: received,
        cpuMicros: cpuNow() - cpu0,
        faults: faultsOf(decoder),
        disconnects: disconnects(),
        checksum,
        measuredDescriptors: warmAt < 0 ? 0 : measured,
        measuredSeconds: warmAt < 0 ? 0 : lastAt - warmAt,
      }).then(() => exitAfter(tr));
      return;
    }
    const now = nowSeconds();
    if (received === 0) {
      cpu0 = cpuNow();
      firstAt = now;
    }
    received++;
    descriptors += count;
    lastAt = now;
    if (warmAt < 0 && now - firstAt >= warmupSeconds) {
      warmAt = now;
      warmDescriptors = descriptors;
    }
    if (received % ACK_EVERY === 0) {
      ackView.setUint32(0, received, true);
      tr.publish(ACK, ack.slice());
    }
  });
  await tr.flush();
  process.send?.('ready');
}

/** A forked role process and its IPC messages, in order. */
class Role {
  private readonly inbox: unknown[] = [];
  private wake: (() => void) | undefined;
  private exitCode: number | null | undefined = undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.on('message', (m) => {
      this.inbox.push(m);
      this.wake?.();
    });
    child.once('exit', (code) => {
      this.exitCode = code;
      this.wake?.();
    });
  }

  async next(): Promise<unknown> {
    for (;;) {
      const m = this.inbox.shift();
      if (m !== undefined) return m;
      if (this.exitCode !== undefined) throw new Error(`raw pipeline: role ${this.name} exited (code ${String(this.exitCode)}) before reporting`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async exited(): Promise<void> {
    if (this.exitCode !== undefined) return;
    await new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
  }
}

function spawnRole(role: 'a' | 'b' | 'c', args: readonly (string | number)[]): Role {
  const child = fork(fileURLToPath(import.meta.url), ['--role', role, ...args.map(String)], { stdio: 'inherit' });
  return new Role(role.toUpperCase(), child);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`raw pipeline: ${what} did not finish within ${ms / 1e3} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function round(url: string, serverPid: number, o: RawPipelineOptions): Promise<RawRound> {
  // Downstream first, each subscribed (and flushed) before anything upstream publishes.
  const c = spawnRole('c', [url, o.batch, o.warmupSeconds]);
  const b = spawnRole('b', [url, o.batch]);
  const a = spawnRole('a', [url, o.batch, o.warmupSeconds + o.seconds, o.window]);
  const roles = [a, b, c];
  try {
    return await withTimeout(
      (async () => {
        for (const r of roles) if ((await r.next()) !== 'ready') throw new Error(`raw pipeline: role ${r.name} did not get ready`);
        const server0 = processCpuSeconds(serverPid);
        const t0 = nowSeconds();
        a.child.send('go');
        const [ra, rb, rc] = (await Promise.all(roles.map((r) => r.next()))) as [RoleReport, RoleReport, RoleReport];
        const server1 = processCpuSeconds(serverPid);
        const wall = nowSeconds() - t0;
        await Promise.all(roles.map((r) => r.exited()));
        const delivered = rc.messages * o.batch;
        if (rc.messages !== ra.messages) throw new Error(`raw pipeline: A sent ${ra.messages} messages, C received ${rc.messages}`);
        if (rb.checksum !== rc.checksum) throw new Error('raw pipeline: B and C read different descriptors (checksums differ)');
        const per = (r: RoleReport): number => (delivered > 0 ? r.cpuMicros / delivered : 0);
        return {
          descriptorsPerSec: (rc.measuredDescriptors ?? 0) / (rc.measuredSeconds ?? 1),
          descriptors: delivered,
          cpuMicrosPerDescriptor: { a: per(ra), b: per(rb), c: per(rc) },
          serverCores: server0 === undefined || server1 === undefined ? undefined : (server1 - server0) / wall,
          faults: ra.faults + rb.faults + rc.faults,
          disconnects: ra.disconnects + rb.disconnects + rc.disconnects,
        };
      })(),
      (o.warmupSeconds + o.seconds) * 1e3 + 60_000,
      'a round',
    );
  } finally {
    for (const r of roles) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  }
}

/**
 * Start a private nats-server (GOMAXPROCS=1, as the live runtime does; `natsBinary` as in
 * `startNatsServer`), run `rounds` rounds of the A → B → C pipeline in fresh processes, stop the
 * server. `onRound` sees each round as it ends.
 * @throws SplitnetError E_USAGE when there is no nats-server binary.
 */
export async function measureRawPipeline(
  options: Partial<RawPipelineOptions> = {},
  onRound?: (r: RawRound, index: number) => void,
  natsBinary?: string,
): Promise<RawPipelineResult> {
  const o: RawPipelineOptions = { ...RAW_PIPELINE_DEFAULTS, ...options };
  const server = await startNatsServer(natsBinary === undefined ? {} : { binary: natsBinary });
  const rounds: RawRound[] = [];
  try {
    for (let i = 0; i < o.rounds; i++) {
      const r = await round(server.url, server.pid, o);
      rounds.push(r);
      onRound?.(r, i);
    }
  } finally {
    await server.stop();
  }
  return { options: o, rounds, descriptorsPerSec: median(rounds.map((r) => r.descriptorsPerSec)) };
}

/** One round as a line of the report. */
export function formatRawRound(r: RawRound, index: number): string {
  const cpu = r.cpuMicrosPerDescriptor;
  const total = cpu.a + cpu.b + cpu.c;
  const server = r.serverCores === undefined ? '' : `, nats-server ${(r.serverCores * 100).toFixed(0)} % of a core`;
  const trouble = r.faults + r.disconnects > 0 ? `  [${r.faults} decode faults, ${r.disconnects} disconnects]` : '';
  return (
    `  round ${index + 1}  ${(r.descriptorsPerSec / 1e6).toFixed(2)} M descriptors/s at C; Node CPU ${total.toFixed(2)} µs/descriptor ` +
    `(A ${cpu.a.toFixed(2)}, B ${cpu.b.toFixed(2)}, C ${cpu.c.toFixed(2)})${server}${trouble}`
  );
}

function numberArg(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number, got ${String(argv[i + 1])}`);
  return v;
}

async function main(argv: readonly string[]): Promise<void> {
  const roleAt = argv.indexOf('--role');
  if (roleAt >= 0) {
    const [role, url = '', n = '64', x = '0', y = '0'] = argv.slice(roleAt + 1);
    if (role === 'a') await roleA(url, Number(n), Number(x), Number(y));
    else if (role === 'b') await roleB(url, Number(n));
    else if (role === 'c') await roleC(url, Number(n), Number(x));
    else throw new Error(`unknown role ${String(role)}`);
    return;
  }
  const o: RawPipelineOptions = {
    batch: Math.round(numberArg(argv, 'batch', RAW_PIPELINE_DEFAULTS.batch)),
    seconds: numberArg(argv, 'seconds', RAW_PIPELINE_DEFAULTS.seconds),
    warmupSeconds: numberArg(argv, 'warmup', RAW_PIPELINE_DEFAULTS.warmupSeconds),
    rounds: Math.round(numberArg(argv, 'rounds', RAW_PIPELINE_DEFAULTS.rounds)),
    window: Math.round(numberArg(argv, 'window', RAW_PIPELINE_DEFAULTS.window)),
  };
  console.log(`raw 3-hop columnar pipeline A → B → C over NATS: ${o.batch} descriptors/message, window ${o.window} messages`);
  const r = await measureRawPipeline(o, (round, i) => console.log(formatRawRound(round, i)));
  console.log(`median: ${(r.descriptorsPerSec / 1e6).toFixed(2)} M descriptors/s (reference, another run on a 2-core VM: 3.28 M/s at N=64)`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main(process.argv.slice(2));
}
