// What keeps the code the warm-up optimised valid for the run's hosts (checked with V8's own natives in a child process).
import test from 'ava';
import { spawnSync } from 'node:child_process';

test('live hosts share one hidden class whatever optional options they get, their effects call the same functions, and a fresh event queue keeps times and tags in Float64Arrays (V8 natives)', (t) => {
  const live = new URL('../src/index.js', import.meta.url).href;
  const runtime = new URL('../../../runtime/dist/src/index.js', import.meta.url).href;
  const transport = new URL('../../../transport/dist/src/index.js', import.meta.url).href;
  const code = `
    const { LiveHost, systemWallClock } = await import(${JSON.stringify(live)});
    const { EventQueue } = await import(${JSON.stringify(runtime)});
    const { MemoryBus } = await import(${JSON.stringify(transport)});
    const bus = new MemoryBus();
    const base = { runId: 'r', clock: systemWallClock, tdf: 1, actorIds: ['a', 'b'], linkDelay: () => 0, limits: { flows: 1, maxBatch: 64 }, duration: 1e6, measureFrom: 0, sampleInterval: 1e5 };
    const actor = (id) => ({ id, start() {}, receive() {}, timer() {}, report: (t) => ({ role: 'nic', id, t }) });
    // As the code warm-up builds its hosts, and as an actor process builds the run's (other optional keys, other order).
    const warm = new LiveHost({ ...base, transport: bus.connect('a'), local: [{ ref: 0, actor: actor('a') }], onSample: () => {}, fullReportEvery: 2 });
    const run = new LiveHost({ batchWindowMs: 0, ...base, transport: bus.connect('b'), local: [{ ref: 1, actor: actor('b') }], onEvent: () => {}, onSample: () => {}, fullReportEvery: 20 });
    const fa = warm.effects.get(0), fb = run.effects.get(1);
    console.log(JSON.stringify({
      hosts: %HaveSameMap(warm, run),
      options: %HaveSameMap(warm.o, run.o),
      send: fa.send === fb.send, timer: fa.timer === fb.timer, event: fa.event === fb.event,
      links: fb.links.length,
      times: %HasFixedFloat64Elements(new EventQueue().time),
      tags: %HasFixedFloat64Elements(new EventQueue().tag),
    }));
  `;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', code], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { hosts: true, options: true, send: true, timer: true, event: true, links: 2, times: true, tags: true });
});
