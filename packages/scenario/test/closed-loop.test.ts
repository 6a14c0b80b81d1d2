// The closed-loop generator keys (tcp, rr): defaults, what they resolve to, and one clear line for each mistake.
import test from 'ava';
import { readClosedLoop } from '../src/closed-loop.js';
import { Field, MapField } from '../src/field.js';
import { formatPath, ScenarioIssue } from '../src/issue.js';

/** Read traffic[0] given as a plain object (the generator map the scenario reader hands over). */
function read(generator: Record<string, unknown>): ReturnType<typeof readClosedLoop> {
  return readClosedLoop(new MapField(new Field(generator, ['traffic', 0]), generator));
}

/** The `path: detail` line a mistake produces (the compiler prefixes file:line:col). */
function issueOf(generator: Record<string, unknown>): string {
  try {
    read(generator);
  } catch (e) {
    if (e instanceof ScenarioIssue) return `${formatPath(e.shownPath)}: ${e.detail}`;
    throw e;
  }
  return 'no issue';
}

test('closed loop - a generator without tcp or rr stays open loop', (t) => {
  t.is(read({ name: 'g', rate: '1Gbps', protocol: 'tcp' }), null);
});

test('closed loop - tcp: {} is a bulk TCP flow with CUBIC, a 131072-byte rcvbuf and MSS 1448', (t) => {
  t.deepEqual(read({ tcp: {} }), { workload: 'bulk', cc: 'cubic', rcvbuf: 131_072, mss: 1448, resolved: { tcp: { cc: 'cubic', rcvbuf: 131_072, mss: 1448 } } });
});

test('closed loop - rr alone implies tcp with its defaults, and gives the request and response sizes', (t) => {
  t.deepEqual(read({ protocol: 'tcp', rr: { request: 64, response: 1024 } }), {
    workload: 'rr',
    cc: 'cubic',
    rcvbuf: 131_072,
    mss: 1448,
    requestBytes: 64,
    responseBytes: 1024,
    resolved: { tcp: { cc: 'cubic', rcvbuf: 131_072, mss: 1448 }, rr: { request: 64, response: 1024 } },
  });
});

test('closed loop - each mistake gives one line naming the key, what was expected and what was found', (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ protocol: 'udp', tcp: {} }, 'traffic[0].protocol: expected "tcp" (a closed-loop generator runs TCP), found "udp"'],
    [{ tcp: {}, rate: '1Gbps' }, 'traffic[0].rate: expected no rate: (a closed-loop generator\'s rate comes from its windows), found "1Gbps"'],
    [{ rr: {}, size: 1518 }, "traffic[0].size: expected no size: (a closed-loop generator's segment sizes come from mss), found 1518"],
    [{ tcp: { cc: 'bbr' } }, 'traffic[0].tcp.cc: expected one of "cubic" or "reno", found "bbr"'],
    [{ tcp: { cc: 'cubc' } }, 'traffic[0].tcp.cc: expected one of "cubic" or "reno", found "cubc" (did you mean "cubic"?)'],
    [{ tcp: { mss: 9000 } }, 'traffic[0].tcp.mss: expected an integer from 88 to 8948 bytes, found 9000'],
    [{ tcp: { rcvbuf: 4096 } }, 'traffic[0].tcp.rcvbuf: expected at least 5792 bytes (a window of rcvbuf/2 must hold two segments of mss 1448), found 4096'],
    [{ tcp: { window: 1 } }, 'traffic[0].tcp: unknown key "window" (expected one of: cc, rcvbuf, mss)'],
    [{ tcp: 'cubic' }, 'traffic[0].tcp: expected a map of cc, rcvbuf and mss, found "cubic"'],
    [{ rr: { request: 0 } }, 'traffic[0].rr.request: expected an integer from 1 to 1048576 bytes, found 0'],
    [{ rr: { requests: 1 } }, 'traffic[0].rr: unknown key "requests" (expected one of: request, response; did you mean "request"?)'],
  ];
  for (const [generator, line] of cases) t.is(issueOf(generator), line, JSON.stringify(generator));
});
