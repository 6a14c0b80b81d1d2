// Forged traffic on a real nats-server, as a hostile tenant would send it: every case is refused, or the run ends tainted (exit 4), never "ok".
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { takeBatch } from '@splitnet/model';
import type { Message } from '@splitnet/model';
import { encodeEnvelope, PROTOCOL_VERSION, Subjects } from '@splitnet/transport';
import type { Transport } from '@splitnet/transport';
import { connectNats } from '@splitnet/transport/nats';
import { startNatsServer } from '@splitnet/transport/nats-server';
import type { NatsServerHandle } from '@splitnet/transport/nats-server';
import { eventsOf, logLines, processesOf, run, scenarioFile, started, tmp, twoByTwo, waitFor } from './live-helpers.js';
import type { Ran } from './live-helpers.js';

// The live tests' 2 VMs × 2 queues over 2 workers, the paper's vRSS: worker.0 serves queue 0 of each VM.
const scenario = twoByTwo;

/** A bus without permissions (a user's own server given with --nats): what forged traffic meets there is splitnet's own checks. */
let server: NatsServerHandle;
test.before(async () => {
  server = await startNatsServer();
});
test.after.always(async () => {
  await server?.stop();
});

interface Summary {
  live: { verdict: string; tainted?: string[]; wire: { rejected: Record<string, number>; badControl: number }; restarts: number };
  accounting: { balanced: boolean; emitted: number; delivered: number; inFlight: Record<string, number> };
  drops: Record<string, number>;
  windowMs: [number, number];
}

/**
 * A live run over the open server, and `forge` called with a connection of its own once the run's processes
 * are started (their first heartbeat); returns the run's outcome and summary.
 */
async function forgedRun(
  t: ExecutionContext,
  tag: string,
  forge: (bus: Transport, s: Subjects) => Promise<void>,
  extra: readonly string[] = [],
): Promise<{ r: Ran; out: string; summary: Summary }> {
  const runId = `${tag}-${process.pid}`;
  const out = join(tmp(), tag);
  const s = new Subjects(runId);
  const bus = await connectNats({ servers: server.url, name: `forger ${tag}` });
  let started = false;
  bus.subscribe(s.heartbeatAll(), () => (started = true));
  await bus.flush();
  const running = run(['run', scenarioFile(scenario), '--runtime', 'live', '--nats', server.url, '--run-id', runId, '--out', out, ...extra]);
  let finished = false;
  void running.then(() => (finished = true));
  await waitFor('the run to start', () => started || finished);
  await forge(bus, s);
  await bus.flush();
  const r = await running;
  await bus.close();
  t.deepEqual(processesOf(runId), [], 'nothing left behind');
  return { r, out, summary: JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary };
}

/** The arguments of a live run of the scenario over the open server whose actors join from elsewhere: a driver, 2 workers, 2 front ends. */
function externalRun(runId: string, out: string): string[] {
  return [
    'run',
    scenarioFile(scenario),
    '--runtime',
    'live',
    '--placement',
    'external',
    '--nats',
    server.url,
    '--run-id',
    runId,
    '--out',
    out,
    '--join-window',
    '1s',
    '--expect',
    'frontend=2',
    '--expect',
    'worker=2',
  ];
}

/** An actor process joining run `runId` as `role`. */
function joinAs(runId: string, role: string): Promise<Ran> {
  return run(['actor', '--run', runId, '--nats', server.url, '--role', role]);
}

/** A well-formed frame as the datapath would send it, claiming to be `from` → `to`. */
function frame(runId: string, from: string, to: string, seq: number, m: Message): Uint8Array {
  return encodeEnvelope({ v: PROTOCOL_VERSION, run: runId, from, to, seq, t: 1000, at: 2000, m });
}

/** A batch of `count` well-formed packets of flow 0. */
function packets(count: number): ReturnType<typeof takeBatch> {
  const b = takeBatch(count);
  for (let i = 0; i < count; i++) {
    b.flow[i] = 0;
    b.seq[i] = i;
    b.len[i] = 1518;
    b.emittedAt[i] = 500;
  }
  b.count = count;
  return b;
}

/** The run ended tainted: exit 4, one line on stderr naming what was seen, TAINTED in the table, never "ok". */
function tainted(t: ExecutionContext, r: Ran, summary: Summary, seen: RegExp): void {
  t.is(r.code, 4, r.stderr);
  t.regex(r.stderr, /^splitnet: error: run tainted: .*; its results cannot be trusted/m);
  t.regex(r.stdout, /^live +TAINTED: /m);
  t.is(summary.live.verdict, 'tainted');
  t.true(
    (summary.live.tainted ?? []).some((l) => seen.test(l)),
    JSON.stringify(summary.live.tainted),
  );
}

// Four forgeries of the data plane in one run (each refused by its own check, before the sequence number, which a
// refused frame does not advance: they cannot mask each other), asserted kind by kind.
test.serial(
  'forged traffic - one run, four data-plane forgeries, each refused and counted by kind, the run tainted naming each: a header claiming another sender than its subject (spoofed 5); two frames from "backend" and "worker.0" with seq 2^53 − 1 (seq-jump 2; the real frames after them are not duplicates and almost every emitted packet is delivered); 20 DMA frames "from nic" carrying 1000 packets (not-allowed 20: a NIC\'s batches never cross the bus; nothing counted as delivered, in flight or dropped for them); a genuine frame re-published to another worker\'s inbox (misrouted 5, not a broken invariant); accounting balanced',
  async (t) => {
    let copied = 0;
    const { r, summary } = await forgedRun(t, 'data-plane', async (bus, s) => {
      // Spoofed: on vm.0's subject (as if vm.0 sent it) a frame that says it is the back end's rx batch.
      for (let i = 1; i <= 5; i++)
        bus.publish(s.data('worker.0', 'vm.0'), frame(s.runId, 'backend', 'worker.0', i, { kind: 'rx', vm: 0, queue: 0, batch: packets(10) }));
      // Seq-jumps.
      bus.publish(
        s.data('worker.0', 'backend'),
        frame(s.runId, 'backend', 'worker.0', Number.MAX_SAFE_INTEGER, { kind: 'rx', vm: 0, queue: 0, batch: packets(4) }),
      );
      bus.publish(s.data('vm.0', 'worker.0'), frame(s.runId, 'worker.0', 'vm.0', Number.MAX_SAFE_INTEGER, { kind: 'evt', vm: 0, port: 0 }));
      // Not allowed: DMA batches from the NIC.
      for (let i = 1; i <= 20; i++)
        bus.publish(s.data('backend', 'nic'), frame(s.runId, 'nic', 'backend', i, { kind: 'dma', nicQueue: 0, irq: true, issuedAt: 1000, batch: packets(50) }));
      // Misrouted: genuine frames of worker.0's inbox copied to worker.1's.
      await new Promise<void>((resolve) => {
        const sub = bus.subscribe(s.data('worker.0', 'backend'), (data) => {
          bus.publish(s.data('worker.1', 'backend'), data.slice());
          if (++copied === 5) {
            sub.unsubscribe();
            resolve();
          }
        });
      });
    });
    t.is(copied, 5);
    tainted(t, r, summary, /spoofed 5/);
    tainted(t, r, summary, /seq-jump 2/);
    tainted(t, r, summary, /not-allowed 20/);
    tainted(t, r, summary, /misrouted 5/);
    t.is(summary.live.wire.rejected['seq-jump'], 2);
    t.is(summary.live.wire.rejected['duplicate'], 0, 'the real frames kept flowing');
    t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
    // Almost every emitted packet was delivered: what is not is in flight or dropped with a reason, as in any run.
    t.true(summary.accounting.delivered > 0.9 * summary.accounting.emitted, JSON.stringify(summary.accounting));
    t.true(
      Object.values(summary.accounting.inFlight).every((v) => v >= 0),
      JSON.stringify(summary.accounting.inFlight),
    );
    t.true(summary.accounting.delivered <= summary.accounting.emitted);
    t.is(summary.drops['rejected'] ?? 0, 0, 'the forged packets were never emitted: no drop either');
  },
);

test.serial(
  'forged traffic - forged final, stop and fault control messages are refused: the run goes to its end, nobody restarts, no fault acts; it is tainted',
  async (t) => {
    const { r, out, summary } = await forgedRun(t, 'ctl', async (bus, s) => {
      const json = (m: unknown) => new TextEncoder().encode(JSON.stringify(m));
      const reports = { reports: [], pendingPackets: 0, sentTo: {}, receivedFrom: {}, rejected: {}, gaps: 0, lastRejection: '' };
      for (const id of ['vm.0', 'vm.1', 'worker.0']) bus.publish(s.stats(id), json({ kind: 'final', id, final: reports }));
      for (const id of ['nic', 'worker.0', 'worker.1', 'vm.0', 'vm.1']) bus.publish(s.control(id), json({ kind: 'stop' }));
      bus.publish(s.control('vm.0'), json({ kind: 'fault', actor: 'vm.0', cmd: { id: 'evil', seed: 1, action: 'stop-polling', phase: 'start', params: {} } }));
      // Sealed as the real ones are, but with a key the forger made up.
      bus.publish(
        s.control('vm.1'),
        new TextEncoder().encode(`${'0'.repeat(64)} ${JSON.stringify({ r: s.runId, c: 'f'.repeat(32), p: 'vm.1', i: 0, d: 'c', n: 1, m: { kind: 'stop' } })}`),
      );
    });
    tainted(t, r, summary, /control message\(s\) refused/);
    t.true(summary.live.wire.badControl >= 10, String(summary.live.wire.badControl));
    t.is(summary.windowMs[1], 60, 'the run went on to its end');
    t.is(summary.live.restarts, 0);
    const events = eventsOf(out);
    t.false(
      events.some((e) => e.kind === 'actor-died' || e.kind.startsWith('fault-')),
      JSON.stringify(events.filter((e) => e.kind === 'actor-died' || e.kind.startsWith('fault-'))),
    );
    t.true(summary.accounting.balanced, JSON.stringify(summary.accounting));
  },
);

test.serial('forged traffic - a second controller with the same run id is refused with a message; the first run is untouched', async (t) => {
  // The first controller must still hold the run id when the second asks, however slowly the second starts on a
  // loaded machine: placement external keeps it waiting for its actors, which join only once the second is refused.
  const runId = `twice-${process.pid}`;
  const out = join(tmp(), 'twice');
  const first = started(externalRun(runId, out));
  let exited = false;
  void first.exit.then(() => (exited = true));
  // It claimed the run id before it invites actors (packages/live/src/run-live.ts: claim, then join).
  await waitFor('the first controller to wait for its actors', () => first.stderr().includes(`run ${runId}: waiting for actors to join`) || exited);
  const second = await run(['run', scenarioFile(scenario), '--runtime', 'live', '--nats', server.url, '--run-id', runId, '--out', join(tmp(), 'second'), '-q']);
  t.is(second.code, 2, second.stderr);
  t.regex(
    second.stderr,
    /^splitnet: error: live: run id twice-\d+ is in use on this NATS server by another controller \(nonce [0-9a-f]{8}…, ours [0-9a-f]{8}…\): give this run another --run-id$/m,
  );

  const actors = [joinAs(runId, 'driver'), joinAs(runId, 'worker'), joinAs(runId, 'worker'), joinAs(runId, 'frontend'), joinAs(runId, 'frontend')];
  const r = await first.exit;
  const a = await Promise.all(actors);
  t.true(r.code === 0 || r.code === 3, r.stderr + a.map((x) => x.stderr).join('\n'));
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  t.not(summary.live.verdict, 'tainted');
  t.true(summary.accounting.balanced);
  // The first controller answered the second's question (it was asked, not merely gone).
  t.true(logLines(join(out, 'logs', 'controller.log')).some((l) => /another controller asked for this run id/.test(String(l['message']))));
  t.deepEqual(processesOf(runId), [], 'nothing left behind');
});

test.serial('forged traffic - an impostor driver joining an external run: two drivers joined, one is refused, the run is tainted', async (t) => {
  const runId = `impostor-${process.pid}`;
  const out = join(tmp(), 'impostor');
  const controller = run(externalRun(runId, out));
  const actors = [
    joinAs(runId, 'driver'),
    joinAs(runId, 'driver'),
    joinAs(runId, 'worker'),
    joinAs(runId, 'worker'),
    joinAs(runId, 'frontend'),
    joinAs(runId, 'frontend'),
  ];
  const r = await controller;
  const a = await Promise.all(actors);
  const drivers = a
    .slice(0, 2)
    .map((x) => x.code)
    .sort();
  t.deepEqual(drivers, [0, 2], a.map((x) => x.stderr).join('\n'));
  t.regex(
    a
      .slice(0, 2)
      .map((x) => x.stderr)
      .join('\n'),
    /join refused by the controller of run impostor-\d+: this run has one driver \(NIC \+ back-end\) already: 2 processes joined as driver \(an impostor, or a driver started twice\)/,
  );
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  tainted(t, r, summary, /control message\(s\) refused/);
  t.true(
    (summary.live.tainted ?? []).some((l) => /2 processes joined as driver/.test(l)),
    JSON.stringify(summary.live.tainted),
  );
  t.deepEqual(processesOf(runId), []);
});

test.serial("forged traffic - on a run's private nats-server, a client without the run's credentials cannot even connect", async (t) => {
  const runId = `private-${process.pid}`;
  const out = join(tmp(), 'private');
  const running = run(['run', scenarioFile(scenario.replace('duration: 60ms', 'duration: 200ms')), '--runtime', 'live', '--run-id', runId, '--out', out, '-q']);
  let url = '';
  let finished = false;
  void running.then(() => (finished = true));
  await waitFor('the private nats-server', () => {
    const m = /"started a private nats-server".*?"url":"(nats:\/\/[^"]+)"/.exec(safeRead(join(out, 'logs', 'controller.log')));
    url = m?.[1] ?? '';
    return url !== '' || finished;
  });
  t.not(url, '', 'the controller logged where its server is');
  const err = await t.throwsAsync(connectNats({ servers: url, name: 'stranger', maxReconnectAttempts: 0 }));
  t.regex(String(err?.message), /authori[sz]ation/i);
  const r = await running;
  t.true(r.code === 0 || r.code === 3, r.stderr);
});

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
