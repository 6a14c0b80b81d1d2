// The wake-up floor of this machine for a live run: how late a Node timer fires, and how long a NATS hop takes to wake an idle process.
//
// Run alone: npx tsc -b && node test/dist/bench/wake-floor.js
// (live-bench.js imports `measureWakeFloor` and sets it beside the lag bound the strict runs are judged by.)
//
// Two figures, both wall time, on whatever else the machine is doing at the time:
// - timer: a process asks for a wake-up 50 µs ahead (as a live host does when its next event is due
//   that soon) and measures when it came; libuv timers have whole-millisecond granularity;
// - NATS hop: the bench process sends a message to an echo process over a private nats-server and
//   waits for the echo, once every 2 ms (both idle in between, as a live actor process between
//   events); half the round trip is one hop: the publisher's write, the server, the receiver's wake-up.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LatencyHistogram } from '@splitnet/model';
import { connectNats } from '@splitnet/transport/nats';
import { startNatsServer } from '@splitnet/transport/nats-server';

const self = fileURLToPath(import.meta.url);
const ECHO = 'floor.echo';
const BACK = 'floor.back';

/** Percentiles of a wall-time figure in µs. */
export interface FloorSpread {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface WakeFloor {
  /** How late a timer armed 50 µs ahead fired. */
  readonly timerLateUs: FloorSpread;
  /** Half a NATS round trip between two idle processes. */
  readonly natsHopUs: FloorSpread;
}

function spread(h: LatencyHistogram): FloorSpread {
  return { n: h.count, p50: h.percentile(50) / 1000, p99: h.percentile(99) / 1000, max: h.max / 1000 };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function timerFloor(samples: number): Promise<LatencyHistogram> {
  const h = new LatencyHistogram();
  for (let i = 0; i < samples; i++) {
    const asked = 0.05;
    const t0 = performance.now();
    await new Promise<void>((r) => setTimeout(r, asked));
    h.record(Math.max(0, performance.now() - t0 - asked) * 1e6);
  }
  return h;
}

async function echo(url: string): Promise<void> {
  const t = await connectNats({ servers: url, name: 'wake-floor echo' });
  t.subscribe(ECHO, (data) => t.publish(BACK, data));
  await t.flush();
  process.send?.('ready');
  await new Promise<void>((resolve) => process.once('disconnect', resolve));
  await t.close();
}

/** Measure both figures (`samples` of each); `natsBinary` as startNatsServer takes it. */
export async function measureWakeFloor(samples = 500, natsBinary?: string): Promise<WakeFloor> {
  const timer = await timerFloor(samples);
  const server = await startNatsServer(natsBinary === undefined ? {} : { binary: natsBinary });
  const child = fork(self, ['echo', server.url], { stdio: 'inherit' });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`wake-floor echo exited with ${String(code)}`)));
    });
    const t = await connectNats({ servers: server.url, name: 'wake-floor probe' });
    const hop = new LatencyHistogram();
    let sentAt = 0;
    let answered: () => void = () => {};
    t.subscribe(BACK, () => {
      hop.record(((performance.now() - sentAt) / 2) * 1e6);
      answered();
    });
    await t.flush();
    const payload = new Uint8Array(500);
    for (let i = 0; i < samples + 20; i++) {
      await sleep(2);
      const back = new Promise<void>((r) => (answered = r));
      sentAt = performance.now();
      t.publish(ECHO, payload);
      await back;
      if (i === 19) hop.reset(); // the first round trips set up the connection's buffers
    }
    await t.close();
    return { timerLateUs: spread(timer), natsHopUs: spread(hop) };
  } finally {
    child.disconnect();
    await server.stop();
  }
}

if (process.argv[2] === 'echo') {
  await echo(process.argv[3] as string);
} else if (process.argv[1] === self) {
  const f = await measureWakeFloor();
  const fmt = (s: FloorSpread): string => `p50 ${s.p50.toFixed(0)} µs, p99 ${s.p99.toFixed(0)} µs, max ${s.max.toFixed(0)} µs (${s.n} samples)`;
  console.log(`timer armed 50 µs ahead fires late by ${fmt(f.timerLateUs)}`);
  console.log(`one NATS hop between idle processes (half a round trip): ${fmt(f.natsHopUs)}`);
}
