// doubleFields: values kept, and (checked with V8's own natives in a child process) no hidden-class change when a counter passes 2^30.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { doubleFields } from '../src/double-fields.js';

test('doubleFields keeps the values and returns the object', (t) => {
  const o = { a: 0, b: 7, c: 3 };
  t.is(doubleFields(o, ['a', 'b']), o);
  t.deepEqual(o, { a: 0, b: 7, c: 3 });
  t.true(Object.is(o.a, 0), 'still +0');
});

test('a counter passing 2^30 keeps its hidden class after doubleFields, and changes it without (V8 natives)', (t) => {
  const url = new URL('../src/double-fields.js', import.meta.url).href;
  const code = `
    const { doubleFields } = await import(${JSON.stringify(url)});
    const sameAfterGrowth = (widen) => {
      class Counter { constructor() { this.packets = 0; this.bytes = 0; if (widen) doubleFields(this, ['bytes']); } }
      const a = new Counter();
      const b = new Counter();
      b.bytes += 2 ** 31;
      return %HaveSameMap(a, b);
    };
    console.log(JSON.stringify({ widened: sameAfterGrowth(true), plain: sameAfterGrowth(false) }));
  `;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', code], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { widened: true, plain: false });
});
