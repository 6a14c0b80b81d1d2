// Cost profiles: the built-in default holds the lead's tuned numbers; files, overrides and inline profiles are validated.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { SplitnetError } from '@splitnet/model';
import { compileScenarioText, listProfiles, loadCostProfile } from '../src/index.js';
import { compile, errorOf } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'splitnet-profiles-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('cost profile - the default profile has the tuned numbers', (t) => {
  t.deepEqual(loadCostProfile('default'), {
    name: 'default',
    nic: { irq: 1500 },
    backend: { perBatch: 500, perPacket: 150, toeplitz: 100 },
    worker: { perPass: 500, perFlush: 500, perPacket: 1000, perCopyOp: 500, perByte: 1.0, notify: 1000, timer: 1500 },
    frontend: { virq: 2500, pollOverhead: 500, perPacket: 600, perByte: 0.25, refillPerPacket: 100, timerTick: 800, notify: 1000, wakeup: 5000 },
    dom0: { contextSwitch: 2000, wakeup: 5000 },
    link: 200,
    tx: {
      guestPerPacket: 600,
      guestPerByte: 0.25,
      guestPerSlot: 100,
      guestGcPerSlot: 100,
      netbackPerPoll: 1000,
      netbackPerPacket: 800,
      netbackPerMappedSlot: 300,
      deallocPerBatch: 500,
      deallocPerSlot: 200,
      nicCleanPerPacket: 150,
      nicDma: 1000,
    },
  });
});

test('cost profile - every number in the default profile carries a comment', (t) => {
  const info = listProfiles().find((p) => p.name === 'default');
  t.truthy(info);
  const lines = readFileSync(info?.path ?? '', 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (!/^\s*\w+:\s*[\d.]+\s*$/.test(line)) continue;
    const previous = lines[i - 1] ?? '';
    t.regex(previous, /^\s*#/, `line ${i + 1} (${line.trim()}) has a comment above it`);
  }
});

test('cost profile - listProfiles names the built-ins with a description', (t) => {
  const profiles = listProfiles();
  t.true(profiles.some((p) => p.name === 'default' && p.description.length > 0 && p.path.endsWith('default.yaml')));
});

test('cost profile - a scenario override replaces single numbers', (t) => {
  const s = compile('costs: { profile: default, override: { worker: { perPacket: 900 }, link: 0 } }');
  t.is(s.costs.worker.perPacket, 900);
  t.is(s.costs.worker.perByte, 1);
  t.is(s.costs.link, 0);
  t.is(s.costs.name, 'default');
});

test('cost profile - a profile file by path, relative to the scenario', (t) => {
  const profile = `name: slow\nnic: { irq: 3000 }\nbackend: { perBatch: 1000, perPacket: 300, toeplitz: 200 }\nworker: { perPass: 1000, perFlush: 1000, perPacket: 2000, perCopyOp: 1000, perByte: 2, notify: 2000, timer: 3000 }\nfrontend: { virq: 5000, pollOverhead: 1000, perPacket: 1200, perByte: 0.5, refillPerPacket: 200, timerTick: 1600, notify: 2000, wakeup: 10000 }\ndom0: { contextSwitch: 4000, wakeup: 10000 }\nlink: 400\n`;
  writeFileSync(join(dir, 'slow.yaml'), profile);
  const s = compileScenarioText('costs: slow.yaml\n', join(dir, 'scenario.yaml'));
  t.is(s.costs.name, 'slow');
  t.is(s.costs.frontend.virq, 5000);
  t.deepEqual(loadCostProfile(join(dir, 'slow.yaml')), s.costs);
  const overridden = compileScenarioText('costs: { profile: slow.yaml, override: { nic: { irq: 1 } } }\n', join(dir, 'scenario.yaml'));
  t.is(overridden.costs.nic.irq, 1);
  t.is(overridden.costs.link, 400);
});

test('cost profile - a profile file with mistakes is located in that file', (t) => {
  const path = join(dir, 'broken.yaml');
  writeFileSync(path, 'name: broken\nnic: { irq: 1 }\nbackend: { perBatch: 1, perPacket: -1 }\n');
  const err = t.throws(() => loadCostProfile(path), { instanceOf: SplitnetError });
  t.is(err?.message, `${path}:3:36: backend.perPacket: expected a number from 0 to 1000000000 (ns), found -1`);
  writeFileSync(path, 'name: broken\nnic: { irq: 1, irqq: 2 }\n');
  t.is(t.throws(() => loadCostProfile(path))?.message, `${path}:2:16: nic: unknown key "irqq" (expected one of: irq; did you mean "irq"?)`);
  writeFileSync(path, 'name: broken\nnic: { irq: 1 }\n');
  t.is(t.throws(() => loadCostProfile(path))?.message, `${path}:1:1: backend: expected a map of perBatch, perPacket, toeplitz, found nothing`);
});

test('cost profile - unknown names and missing files', (t) => {
  const unknown = t.throws(() => loadCostProfile('fast'), { instanceOf: SplitnetError });
  t.is(unknown?.code, 'E_USAGE');
  t.is(unknown?.message, 'unknown cost profile "fast" (built-in profiles: default; or give a path to a .yaml file)');
  const missing = t.throws(() => loadCostProfile('nowhere/profile.yaml'), { instanceOf: SplitnetError });
  t.is(missing?.code, 'E_FILE');
  t.is(missing?.message, 'nowhere/profile.yaml: no such file');
  t.is(
    errorOf(t, 'costs: nowhere.yaml\n'),
    `s.yaml:1:8: costs: expected a built-in profile (default) or a path to a .yaml file, found "nowhere.yaml" (no such file: ${join(process.cwd(), 'nowhere.yaml')})`,
  );
});

test('cost profile - a complete inline profile, the resolved form', (t) => {
  const s = compile(
    'costs:\n  name: mine\n  nic: { irq: 1 }\n  backend: { perBatch: 2, perPacket: 3, toeplitz: 3 }\n  worker: { perPass: 4, perFlush: 4, perPacket: 5, perCopyOp: 5, perByte: 6, notify: 7, timer: 8 }\n  frontend: { virq: 9, pollOverhead: 10, perPacket: 11, perByte: 12, refillPerPacket: 13, timerTick: 14, notify: 15, wakeup: 17 }\n  dom0: { contextSwitch: 18, wakeup: 19 }\n  link: 16\n',
  );
  t.is(s.costs.name, 'mine');
  t.is(s.costs.frontend.notify, 15);
  t.is(errorOf(t, 'costs:\n  name: mine\n  nic: { irq: 1 }\n'), 's.yaml:2:3: costs.backend: expected a map of perBatch, perPacket, toeplitz, found nothing');
});
