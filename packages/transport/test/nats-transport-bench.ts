// Micro-benchmark (not a test): 1 → 1 throughput of ~1.5 KB messages through NatsTransport vs the raw nats.js client.
//
// Run: npx tsc -b && node packages/transport/dist/test/nats-transport-bench.js [--seconds 2] [--size 1500] [--rounds 3]
//
// Setup as PERF.md: a private nats-server (GOMAXPROCS=1) on loopback, the publisher in this process,
// the subscriber in a child process. The subscriber acknowledges every ACK_EVERY messages and the
// publisher keeps at most WINDOW unacknowledged, so the run measures sustained delivery instead of
// filling the server's 64 MB per-client buffer and getting the subscriber cut off as a slow consumer.
// Raw client and NatsTransport alternate round by round so both see the same machine noise;
// compare their ratio, not the absolute figures.

import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { startNatsServer } from '../src/nats-server.js';
import { connectNats } from '../src/nats-transport.js';

type Impl = 'raw' | 'transport';
const DATA = 'bench.data';
const ACK = 'bench.ack';
const END = 'bench.end';
const ACK_EVERY = 1000;
const WINDOW = 16_000; // ≈ 24 MB at 1.5 KB: well under the server's 64 MB max_pending

/** The minimal surface both implementations are driven through. */
interface Endpoint {
  publish(subject: string, data: Uint8Array): void;
  subscribe(subject: string, handler: (data: Uint8Array) => void): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

async function open(impl: Impl, url: string, name: string): Promise<Endpoint> {
  if (impl === 'transport') {
    const tr = await connectNats({ servers: url, name });
    return {
      publish: (s, d) => tr.publish(s, d),
      subscribe: (s, h) => {
        tr.subscribe(s, h);
      },
      flush: () => tr.flush(),
      close: () => tr.close(),
    };
  }
  const nc = await connect({ servers: url, name });
  return {
    publish: (s, d) => nc.publish(s, d),
    subscribe: (s, h) => {
      nc.subscribe(s, { callback: (_err, msg) => h(msg.data) });
    },
    flush: () => nc.flush(),
    close: () => nc.close(),
  };
}

interface SubResult {
  received: number;
  seconds: number;
  /** CPU time (user + system) the subscriber process spent from its first to its last message. */
  cpuMicros: number;
}

/** Child process: count messages, acknowledge progress, report on END. */
async function subscriber(url: string, impl: Impl): Promise<void> {
  const ep = await open(impl, url, `bench-sub-${impl}`);
  let received = 0;
  let first = 0n;
  let last = 0n;
  let cpuAtFirst = 0;
  let cpuAtLast = 0;
  const cpuNow = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const ack = new Uint8Array(4);
  const ackView = new DataView(ack.buffer);
  ep.subscribe(DATA, () => {
    last = process.hrtime.bigint();
    if (received === 0) {
      first = last;
      cpuAtFirst = cpuNow();
    }
    received++;
    if (received % ACK_EVERY === 0) {
      ackView.setUint32(0, received);
      ep.publish(ACK, ack.slice());
      cpuAtLast = cpuNow(); // sampled per ack, not per message: cpuUsage() is a syscall
    }
  });
  ep.subscribe(END, () => {
    const result: SubResult = { received, seconds: Number(last - first) / 1e9, cpuMicros: cpuAtLast - cpuAtFirst };
    process.send?.(result);
    void ep.close().then(() => process.exit(0));
  });
  await ep.flush();
  process.send?.('ready');
}

interface RoundResult {
  sub: SubResult;
  pubRate: number;
  /** Publisher process CPU µs per message sent. */
  pubCpuPerMsg: number;
}

async function round(impl: Impl, url: string, seconds: number, size: number): Promise<RoundResult> {
  const child = fork(fileURLToPath(import.meta.url), ['--sub', url, impl], { stdio: 'inherit' });
  const messages: unknown[] = [];
  let notify: (() => void) | undefined;
  child.on('message', (m) => {
    messages.push(m);
    notify?.();
  });
  const nextMessage = async (): Promise<unknown> => {
    while (messages.length === 0) await new Promise<void>((r) => (notify = r));
    return messages.shift();
  };
  if ((await nextMessage()) !== 'ready') throw new Error('subscriber did not get ready');

  const ep = await open(impl, url, `bench-pub-${impl}`);
  let acked = 0;
  let wake: (() => void) | undefined;
  ep.subscribe(ACK, (d) => {
    acked = new DataView(d.buffer, d.byteOffset, d.byteLength).getUint32(0);
    wake?.();
  });
  await ep.flush();

  const payload = new Uint8Array(size).map((_, i) => i & 0xff);
  let sent = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < deadline) {
    if (sent - acked >= WINDOW) {
      await new Promise<void>((r) => (wake = r));
      continue;
    }
    const burst = Math.min(1000, WINDOW - (sent - acked));
    for (let i = 0; i < burst; i++) ep.publish(DATA, payload);
    sent += burst;
    // Let the client write its buffer and read acks: a publish loop that never yields starves the socket.
    await new Promise<void>((r) => setImmediate(r));
  }
  const pubSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  await ep.flush();
  ep.publish(END, new Uint8Array(1));
  const sub = (await nextMessage()) as SubResult;
  await ep.close();
  if (sub.received !== sent) throw new Error(`${impl}: sent ${sent}, subscriber got ${sub.received}`);
  return { sub, pubRate: sent / pubSeconds, pubCpuPerMsg: (cpu.user + cpu.system) / sent };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

async function main(): Promise<void> {
  const seconds = arg('seconds', 2);
  const size = arg('size', 1500);
  const rounds = arg('rounds', 3);
  const server = await startNatsServer();
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  console.log(`NatsTransport 1→1 throughput: ${size} B payloads, ${seconds} s per round, ${rounds} rounds per implementation`);
  console.log(`machine: ${cpus().length} × ${cpu}, node ${process.version}, nats-server GOMAXPROCS=1 at ${server.url}`);
  const rates: Record<Impl, number[]> = { raw: [], transport: [] };
  const pubCpu: Record<Impl, number[]> = { raw: [], transport: [] };
  const subCpu: Record<Impl, number[]> = { raw: [], transport: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const impl of ['raw', 'transport'] as const) {
        const { sub, pubRate, pubCpuPerMsg } = await round(impl, server.url, seconds, size);
        const rate = sub.received / sub.seconds;
        const subCpuPerMsg = sub.cpuMicros / sub.received;
        rates[impl].push(rate);
        pubCpu[impl].push(pubCpuPerMsg);
        subCpu[impl].push(subCpuPerMsg);
        console.log(
          `  round ${r + 1} ${impl.padEnd(9)} delivered ${(rate / 1e3).toFixed(0).padStart(4)} k msg/s ` +
            `(${((rate * size) / 1e6).toFixed(0)} MB/s; publisher ${(pubRate / 1e3).toFixed(0)} k msg/s; ` +
            `CPU µs/msg: pub ${pubCpuPerMsg.toFixed(2)}, sub ${subCpuPerMsg.toFixed(2)}; ${sub.received} msgs)`,
        );
      }
    }
  } finally {
    await server.stop();
  }
  const raw = median(rates.raw);
  const tr = median(rates.transport);
  const cpuLine = (impl: Impl): string => `CPU µs/msg pub ${median(pubCpu[impl]).toFixed(2)}, sub ${median(subCpu[impl]).toFixed(2)}`;
  console.log(`median raw nats.js:   ${(raw / 1e3).toFixed(0)} k msg/s, ${cpuLine('raw')}`);
  console.log(
    `median NatsTransport: ${(tr / 1e3).toFixed(0)} k msg/s, ${cpuLine('transport')}  (${((tr / raw) * 100).toFixed(0)} % of raw's rate in the same run)`,
  );
  console.log('CPU per message is the steadier figure when the machine is shared; msg/s depends on what else runs.');
  console.log('reference (another run on a 2-core VM, interpolate by size): 256 B ≈ 0.82 M msg/s, 4 KiB ≈ 0.19 M msg/s');
}

if (process.argv[2] === '--sub') {
  await subscriber(process.argv[3] ?? '', process.argv[4] === 'transport' ? 'transport' : 'raw');
} else {
  await main();
}
