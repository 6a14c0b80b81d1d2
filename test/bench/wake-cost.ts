// What one wake-up costs a Node process talking over NATS on this machine: the floor under live mode's CPU per pass.
//
// Run: npx tsc -b && node test/dist/bench/wake-cost.js [periodMs=5] [seconds=4]
//
// Two processes, A and B, each wake every `periodMs` on a timer and publish a burst of 1, 10 or 50
// messages of 500 bytes to the other over a private nats-server, so each process wakes about twice
// per period (its timer, then the other's burst arriving). Printed per burst size: the CPU each
// process used (% of a core), CPU per wake-up cycle, and CPU per message. When the per-cycle figure
// barely moves with the burst size, the wake-up, not the message, is what costs: live mode then has
// to make each pass over due events count (more work per pass, fewer passes).

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectNats } from '@splitnet/transport/nats';
import { startNatsServer } from '@splitnet/transport/nats-server';

const self = fileURLToPath(import.meta.url);

interface Report {
  readonly role: string;
  readonly cycles: number;
  readonly sent: number;
  readonly got: number;
  readonly cpuUs: number;
  readonly wallMs: number;
}

async function peer(role: string, url: string, periodMs: number, seconds: number, burst: number): Promise<void> {
  const t = await connectNats({ servers: url, name: `wake-cost ${role}` });
  const other = role === 'a' ? 'b' : 'a';
  let got = 0;
  t.subscribe(`wake.${role}`, () => {
    got++;
  });
  await t.flush();
  await new Promise((r) => setTimeout(r, 500)); // both subscribed, start-up settled
  const payload = new Uint8Array(500);
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  let cycles = 0;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      cycles++;
      for (let k = 0; k < burst; k++) t.publish(`wake.${other}`, payload);
      sent += burst;
      if (performance.now() - w0 < seconds * 1e3) setTimeout(tick, periodMs);
      else resolve();
    };
    tick();
  });
  const c = process.cpuUsage(c0);
  const report: Report = { role, cycles, sent, got, cpuUs: c.user + c.system, wallMs: performance.now() - w0 };
  process.send?.(report);
  await t.close();
}

async function main(): Promise<void> {
  const periodMs = Number(process.argv[2] ?? 5);
  const seconds = Number(process.argv[3] ?? 4);
  if (!(periodMs > 0) || !(seconds > 0)) throw new Error('usage: wake-cost.js [periodMs > 0] [seconds > 0]');
  const server = await startNatsServer({});
  try {
    console.log(`wake-up cost: 2 processes, each waking every ${periodMs} ms to publish a burst to the other over nats-server, ${seconds} s per burst size`);
    for (const burst of [1, 10, 50]) {
      const reports = await Promise.all(
        ['a', 'b'].map(
          (role) =>
            new Promise<Report>((resolve, reject) => {
              const child = fork(self, ['peer', role, server.url, String(periodMs), String(seconds), String(burst)]);
              child.once('message', (m) => resolve(m as Report));
              child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`peer ${role} exited with ${String(code)}`))));
            }),
        ),
      );
      for (const r of reports) {
        console.log(
          `  burst ${String(burst).padStart(2)}: ${r.role} ${((r.cpuUs / 1e3 / r.wallMs) * 100).toFixed(1)} % of a core; ` +
            `${(r.cpuUs / r.cycles).toFixed(0)} µs of CPU per ${periodMs} ms cycle; ${(r.cpuUs / (r.sent + r.got)).toFixed(1)} µs per message sent or received`,
        );
      }
    }
  } finally {
    await server.stop();
  }
}

if (process.argv[2] === 'peer') {
  const [, , , role, url, period, seconds, burst] = process.argv;
  await peer(role as string, url as string, Number(period), Number(seconds), Number(burst));
} else {
  await main();
}
