// A lockstep partition holds its samples for the controller until its end (at most SAMPLES_HELD), so that publishing them does not take the cores while a neighbour wakes to its promise; the result files stay sim's.
import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSim } from '@splitnet/controller';
import type { Nanos } from '@splitnet/model';
import { writeResults } from '@splitnet/results';
import { loadScenarioFile } from '@splitnet/scenario';
import type { CompiledScenario } from '@splitnet/scenario';
import { MemoryBus } from '@splitnet/transport';
import { PartitionWire, runLockstepInProcess } from '../src/index.js';

const root = new URL('../../../../', import.meta.url).pathname;
const trickle = (overrides: string[]): CompiledScenario =>
  loadScenarioFile(join(root, 'examples/cluster-trickle.yaml'), { duration: '4ms', overrides: ['warmup=1ms', ...overrides] });

interface Seen {
  readonly t: Nanos;
  /** Whether the partition had run to the end when the sample reached the controller's side. */
  readonly atEnd: boolean;
}

/** Every partition on a memory bus; per partition, its samples in the order they were published. */
async function published(s: CompiledScenario): Promise<Seen[][]> {
  const bus = new MemoryBus();
  const seen: Seen[][] = [];
  const wires: PartitionWire[] = [];
  const wire = (i: number): PartitionWire => {
    seen.push([]);
    return new PartitionWire(s, 'samples-test', i, bus.connect(`partition ${i}`), (t) =>
      (seen[i] as Seen[]).push({ t, atEnd: (wires[i] as PartitionWire).engine.done }),
    );
  };
  wires.push(wire(0));
  for (let i = 1; i < (wires[0] as PartitionWire).engine.plan.partitions.length; i++) wires.push(wire(i));
  for (const w of wires) w.start();
  await Promise.all(wires.map((w) => w.done));
  for (const w of wires) w.close();
  return seen;
}

const times = (s: CompiledScenario): Nanos[] => Array.from({ length: Math.floor(s.duration / s.sampleInterval) }, (_, k) => (k + 1) * s.sampleInterval);

test("lockstep samples - a run's 100 samples are all held until the partition's end, then published in time order", async (t) => {
  const s = trickle([]);
  const seen = await published(s);
  t.is(seen.length, 2);
  for (const [i, list] of seen.entries()) {
    t.deepEqual(
      list.map((x) => x.t),
      times(s),
      `partition ${i}: every sample, in order`,
    );
    t.true(
      list.every((x) => x.atEnd),
      `partition ${i}: published before its end`,
    );
  }
});

test("lockstep samples - with more than 256 samples a partition publishes them 256 at a time before its end; every one arrives and the four result files are sim's", async (t) => {
  const s = trickle(['sampleInterval=10us']);
  t.is(times(s).length, 400);
  const seen = await published(s);
  for (const [i, list] of seen.entries()) {
    t.deepEqual(
      list.map((x) => x.t),
      times(s),
      `partition ${i}: every sample, in order`,
    );
    const early = list.filter((x) => !x.atEnd).length;
    t.true(early >= 256 && early < 400, `partition ${i}: ${early} published before its end`);
  }
  const FILES = ['summary.json', 'metrics.jsonl', 'events.jsonl', 'latency.json'];
  const files = (r: Parameters<typeof writeResults>[3]): string[] => {
    const dir = mkdtempSync(join(tmpdir(), 'splitnet-samples-'));
    writeResults(dir, '', {}, r);
    return FILES.map((f) => readFileSync(join(dir, f), 'utf8'));
  };
  const bus = new MemoryBus();
  const ls = files(await runLockstepInProcess(s, 'samples-files', (i) => bus.connect(`partition ${i}`)));
  const sim = files(runSim(s));
  FILES.forEach((f, k) => t.is(ls[k], sim[k], f));
});
