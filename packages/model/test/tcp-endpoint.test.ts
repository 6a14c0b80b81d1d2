// One connection end: outgoing data carries the ACK of what it received and stands in for the delayed ACK.
import test from 'ava';
import type { Nanos, TcpEndpointOutput, TcpTimerKind, TcpWireSegment } from '../src/index.js';
import { MS, TcpEndpoint, US } from '../src/index.js';

class Out implements TcpEndpointOutput {
  readonly sent: { segment: TcpWireSegment; at: Nanos }[] = [];
  readonly timers: { kind: TcpTimerKind; at: Nanos }[] = [];
  send(segment: TcpWireSegment, at: Nanos): void {
    // The end rewrites its segment and ACK for the next one: keep copies.
    this.sent.push({ segment: { ...segment, ack: segment.ack === undefined ? undefined : { ...segment.ack } }, at });
  }
  timer(kind: TcpTimerKind, at: Nanos): void {
    this.timers.push({ kind, at });
  }
}

test("tcp endpoint - a response written after a request carries the request's ACK, and its delayed-ACK timer then finds nothing to send", (t) => {
  const server = new TcpEndpoint();
  const out = new Out();
  // Get past quick-ack mode so that the request's ACK is delayed, not sent at once.
  for (let i = 0; i < 16; i++) server.onSegment({ seq: i * 100, len: 100, ack: { ack: 0, window: 65_536 }, retransmit: false }, i * US, out);
  const pureAcks = out.sent.length;
  t.is(pureAcks, 16);
  t.is(server.onSegment({ seq: 1600, len: 100, ack: { ack: 0, window: 65_536 }, retransmit: false }, 1 * MS, out), 100);
  t.is(out.sent.length, pureAcks, 'the request alone is not ACKed at once');
  t.true(out.timers.some((x) => x.kind === 'delack'));
  server.write(200, 1 * MS + 5 * US, out);
  const response = out.sent.at(-1)?.segment;
  t.deepEqual(response, { seq: 0, len: 200, ack: { ack: 1700, window: 65_536 }, retransmit: false });
  server.onTimer('delack', 1 * MS + 40 * MS, out);
  t.is(out.sent.length, pureAcks + 1, 'no pure ACK follows: the response carried it');
});

test('tcp endpoint - an end that has received nothing sends data without an ACK', (t) => {
  const client = new TcpEndpoint();
  const out = new Out();
  client.write(64, 0, out);
  t.deepEqual(out.sent, [{ segment: { seq: 0, len: 64, ack: undefined, retransmit: false }, at: 0 }]);
  t.deepEqual(out.timers, [{ kind: 'rto', at: 1_000_000_000 }]);
});
