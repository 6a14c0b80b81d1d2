// The controller's watch on its bus (outage events with their duration, a limit that ends the run) and an actor process's orphan guard (a silent controller, a bus lost for good, a frozen process), over an in-memory bus.
import test from 'ava';
import { MemoryBus, Subjects } from '@splitnet/transport';
import type { Logger } from '@splitnet/model';
import { BusWatch } from '../src/bus-watch.js';
import { beatAsController, ControllerWatch } from '../src/controller-liveness.js';
import { encodeControl } from '../src/control.js';
import { ControlPlane } from '../src/control-plane.js';
import { ActorControl, newNonce } from '../src/control-seal.js';
import { DilatedClock } from '../src/dilated-clock.js';
import type { WallClock } from '../src/dilated-clock.js';
import { RunLog } from '../src/run-log.js';

const silent: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A wall clock the test moves by hand. */
class HandClock implements WallClock {
  constructor(public ms = 1_000_000) {}
  nowMs(): number {
    return this.ms;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `p` has settled (after letting pending callbacks run). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(0);
  return done;
}

function controllerSide(limitMs: number) {
  const wall = new HandClock();
  const clock = new DilatedClock(wall, 10);
  clock.start(wall.ms);
  const log = new RunLog(clock, silent);
  const transport = new MemoryBus().connect('controller');
  const watch = new BusWatch({ transport, clock, log, limitMs, url: 'nats://127.0.0.1:4222' });
  return { wall, log, transport, watch };
}

test('bus watch - an outage is an event when it starts and one with its duration when it ends, and a summary entry', async (t) => {
  const { wall, log, transport, watch } = controllerSide(60_000);
  wall.ms += 100; // 10 ms emulated at TDF 10
  transport.simulateDisconnect('lost the connection');
  t.false(watch.up);
  wall.ms += 3000;
  t.is(watch.downMs(), 3000);
  transport.simulateReconnect();
  t.true(watch.up);
  t.deepEqual(
    log.events.map((e) => [e.kind, e.t, e.detail]),
    [
      ['nats-disconnected', 10_000_000, { url: 'nats://127.0.0.1:4222', detail: 'lost the connection' }],
      ['nats-reconnected', 310_000_000, { outageMs: 3000, outageEmulatedMs: 300 }],
    ],
  );
  t.deepEqual(watch.outages(), [{ atMs: 10, wallMs: 3000 }]);
  t.false(await settled(watch.lost), 'an outage within the limit does not end the run');
  watch.close();
  t.is(log.events.length, 2, 'nothing is left open');
});

test('bus watch - an outage longer than the limit ends the run with one line naming the server; the log then says how long it lasted', async (t) => {
  const { wall, log, transport, watch } = controllerSide(50);
  transport.simulateDisconnect();
  const err = await t.throwsAsync(watch.lost);
  t.is((err as { code?: string }).code, 'E_NATS_UNREACHABLE');
  t.regex(
    err?.message ?? '',
    /^live: the NATS server at nats:\/\/127\.0\.0\.1:4222 has been unreachable for 0\.05 s \(since 0 ms emulated\) and the run ends here \(live\.busOutageLimit\); is it still running\?$/,
  );
  wall.ms += 1234;
  watch.close();
  t.deepEqual(log.events.at(-1)?.kind, 'nats-not-reconnected');
  t.deepEqual(log.events.at(-1)?.detail, { outageMs: 1234 });
  t.deepEqual(watch.outages(), [{ atMs: 0, wallMs: null }]);
});

function actorSide(o: { silenceMs: number; outageLimitMs: number; probeSubject?: string }) {
  const bus = new MemoryBus();
  const subjects = new Subjects('r1');
  const controller = bus.connect('controller');
  const actor = bus.connect('actor');
  const wall = new HandClock();
  const watch = new ControllerWatch({ transport: actor, clock: wall, ...o });
  // As in actor-process.ts: the process's control subject, opened with its key; what opens is its controller.
  const control = new ControlPlane('r1', newNonce(), controller, subjects);
  control.setProcesses(['vm.0']);
  const actorControl = new ActorControl('r1', 'vm.0', 0, control.secretFor('vm.0', 0));
  actor.subscribe(subjects.control('vm.0'), (data) => {
    if (actorControl.open(data).ok) watch.heard();
  });
  return { subjects, controller, control, actor, wall, watch };
}

test('controller watch - beats keep an actor process in the run; once they stop while other messages arrive, it is told the controller is gone', async (t) => {
  const { subjects, controller, control, actor, wall, watch } = actorSide({ silenceMs: 5000, outageLimitMs: 60_000 });
  actor.subscribe(subjects.dataInbox('vm.0'), () => {});
  const stop = beatAsController(control, () => 0);
  for (let i = 0; i < 4; i++) {
    wall.ms += 1500; // past the silence, in steps the watch sees (no freeze)
    await sleep(600); // a look at the silence, and beats meanwhile
  }
  t.false(await settled(watch.gone), 'beating: not gone');
  stop();
  for (let i = 0; i < 5; i++) {
    controller.publish(subjects.data('vm.0', 'worker.0'), new Uint8Array([1])); // the datapath goes on
    wall.ms += 1500;
    await sleep(600);
  }
  t.regex(await watch.gone, /^no heartbeat from the run's controller for \d+ s while other messages arrive: it is gone$/);
  watch.close();
});

test("controller watch - a beat that is not sealed with the process's key (anyone on the bus can publish one) does not keep it in the run", async (t) => {
  const { subjects, controller, actor, wall, watch } = actorSide({ silenceMs: 3000, outageLimitMs: 60_000 });
  actor.subscribe(subjects.dataInbox('vm.0'), () => {});
  for (let i = 0; i < 4; i++) {
    controller.publish(subjects.control('vm.0'), encodeControl({ kind: 'hb', id: 'controller', emulatedNow: 0 }));
    controller.publish(subjects.data('vm.0', 'worker.0'), new Uint8Array([1]));
    wall.ms += 1500;
    await sleep(600);
  }
  t.regex(await watch.gone, /^no heartbeat from the run's controller for \d+ s while other messages arrive: it is gone$/);
  watch.close();
});

test('controller watch - a bus that carries nothing at all (a partition that keeps the connection, or the run over) is given the outage limit, not the silence', async (t) => {
  const { wall, watch } = actorSide({ silenceMs: 1000, outageLimitMs: 5000 });
  for (let i = 0; i < 2; i++) {
    wall.ms += 1500;
    await sleep(600);
  }
  t.false(await settled(watch.gone), 'past the silence, within the limit: not gone');
  for (let i = 0; i < 2; i++) {
    wall.ms += 1500;
    await sleep(600);
  }
  t.is(await watch.gone, "nothing has arrived on the NATS bus for 6 s, not even the controller's heartbeat (live.busOutageLimit): the run is gone");
  watch.close();
});

test('controller watch - silence while the process is disconnected does not count, but a connection lost for the outage limit ends it', async (t) => {
  const { actor, wall, watch } = actorSide({ silenceMs: 1000, outageLimitMs: 4000 });
  actor.simulateDisconnect();
  wall.ms += 1500;
  await sleep(600);
  t.false(await settled(watch.gone), 'disconnected: the silence does not count');
  wall.ms += 1500;
  await sleep(600);
  wall.ms += 1500;
  await sleep(600);
  t.is(await watch.gone, 'the NATS bus has been unreachable for 5 s (live.busOutageLimit)');
  watch.close();
});

test('controller watch - a process that did not run for a while (SIGSTOP, a blocked event loop) gives its controller a fresh window', async (t) => {
  const { wall, watch } = actorSide({ silenceMs: 3000, outageLimitMs: 4000 });
  wall.ms += 10_000; // frozen: no look at the silence for 10 s
  await sleep(600);
  t.false(await settled(watch.gone), 'the silence while frozen does not count');
  for (let i = 0; i < 3; i++) {
    wall.ms += 1500;
    await sleep(600);
  }
  t.true(await settled(watch.gone), 'silence after it does');
  watch.close();
});

test('controller watch - a process that receives nothing from its peers (the driver only sends) asks the join subject: nobody serving it ends the run within the silence', async (t) => {
  const join = 'sn.r1.join';
  const { controller, control, wall, watch } = actorSide({ silenceMs: 3000, outageLimitMs: 60_000, probeSubject: join });
  // The controller serves the join subject for the whole run and answers a probe.
  const responder = controller.respond(join, () => new TextEncoder().encode('{"kind":"refuse","reason":"probe"}'));
  const stop = beatAsController(control, () => 0);
  stop(); // one beat, then silence: the probes' answers alone keep the process in the run
  for (let i = 0; i < 4; i++) {
    wall.ms += 1500;
    await sleep(600);
  }
  t.false(await settled(watch.gone), 'the controller answers its join subject: not gone');
  responder.unsubscribe(); // the controller dies: nobody serves the run
  for (let i = 0; i < 5; i++) {
    wall.ms += 1500;
    await sleep(600);
  }
  t.regex(await watch.gone, /^no heartbeat from the run's controller for \d+ s and nobody serves its join subject: it is gone$/);
  watch.close();
});
