// docs/results.md's table of Prometheus metrics against the metrics splitnet registers: names, types, labels, when, and the order of the text.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_SPECS } from '@splitnet/results';
import { root } from './live-helpers.js';

/** The rows of the table under "## Metrics (Prometheus)", in order. */
function table(): { name: string; type: string; labels: string[]; when: string }[] {
  const doc = readFileSync(join(root, 'docs/results.md'), 'utf8');
  const from = doc.indexOf('## Metrics (Prometheus)');
  const section = doc.slice(from, doc.indexOf('\n## ', from + 1));
  const head = section.indexOf('| metric | type | labels | when | meaning |');
  const rows = section
    .slice(head)
    .split('\n')
    .filter((l) => l.startsWith('| `splitnet_'));
  return rows.map((l) => {
    const [name = '', type = '', labels = '', when = ''] = l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    return { name: name.replace(/`/g, ''), type, labels: [...labels.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string), when };
  });
}

test('metrics doc - the table in docs/results.md lists every registered metric, in order, with its type, labels and when', (t) => {
  const doc = table();
  t.true(doc.length > 0, 'the table was found');
  t.deepEqual(
    doc,
    METRIC_SPECS.map((m) => ({ name: m.name, type: m.type, labels: [...m.labels], when: m.when === 'live-end' ? 'live end' : m.when })),
  );
});

test('metrics doc - every metric is named splitnet_*, counters end in _total, and a unit is in the name where there is one', (t) => {
  for (const m of METRIC_SPECS) {
    t.regex(m.name, /^splitnet_[a-z_]+$/, m.name);
    t.is(m.type === 'counter', m.name.endsWith('_total'), `${m.name}: _total if and only if a counter`);
    if (/seconds|lag|bound|delay/.test(m.name)) t.regex(m.name, /_seconds(_total)?$/, `${m.name}: a time is in seconds`);
  }
});
