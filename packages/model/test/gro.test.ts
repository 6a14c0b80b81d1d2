// The guest's GRO over one poll's TCP segments (net/core/gro.c, net/ipv4/tcp_offload.c): what merges, what ends a packet, what goes on alone.
import test from 'ava';
import {
  allocTcpColumns,
  GroList,
  TCP_HAS_ACK,
  TCP_HAS_SEGMENT,
  TCP_RETRANSMIT,
  TCP_RST,
  TCP_SYN,
  TCP_IP_HEADER_BYTES,
  type TcpColumns,
} from '../src/index.js';

type Out = [flow: number, seq: number, payload: number, ack: number, flags: number];

/** A GRO list fed `segs` ([flow, seq, payload, flags?, ack?]) in order, then flushed: what it handed on, and where the flush began. */
function run(segs: readonly (readonly number[])[]): { out: Out[]; beforeFlush: number; gro: GroList } {
  const out: Out[] = [];
  const gro = new GroList((flow, seq, payload, ack, _window, flags) => out.push([flow, seq, payload, ack, flags]));
  const cols: TcpColumns = allocTcpColumns(segs.length);
  segs.forEach((s, i) => {
    cols.seq[i] = s[1] as number;
    cols.payload[i] = s[2] as number;
    cols.flags[i] = s[3] ?? TCP_HAS_SEGMENT;
    cols.ack[i] = s[4] ?? 0;
    cols.window[i] = 65_535;
  });
  segs.forEach((s, i) => gro.receive(s[0] as number, cols, i));
  const beforeFlush = out.length;
  gro.flush();
  return { out, beforeFlush, gro };
}

const D = TCP_HAS_SEGMENT;

test('gro - in-order full segments of one flow reach TCP as one packet at the flush, flows apart, oldest first', (t) => {
  const { out, beforeFlush, gro } = run([
    [3, 0, 1448],
    [5, 100, 1448],
    [3, 1448, 1448],
    [5, 1548, 1448],
    [3, 2896, 1448],
  ]);
  t.is(beforeFlush, 0, 'nothing before napi_gro_flush');
  t.deepEqual(out, [
    [3, 0, 3 * 1448, 0, D],
    [5, 100, 2 * 1448, 0, D],
  ]);
  t.is(gro.merged, 3);
  t.is(gro.held, 0);
});

test('gro - a gap, another ACK number or other flags end the held packet at once; the segment is held in its place', (t) => {
  const { out, beforeFlush } = run([
    [1, 0, 1448],
    [1, 2896, 1448], // a hole: the held [0, 1448) goes now
    [1, 4344, 1448, D | TCP_HAS_ACK, 7], // ACK field differs
    [1, 5792, 1448, D | TCP_RETRANSMIT, 0],
  ]);
  t.is(beforeFlush, 3);
  t.deepEqual(out, [
    [1, 0, 1448, 0, D],
    [1, 2896, 1448, 0, D],
    [1, 4344, 1448, 7, D | TCP_HAS_ACK],
    [1, 5792, 1448, 0, D | TCP_RETRANSMIT],
  ]);
});

test('gro - a short segment joins the packet and ends it (len < mss); a larger one than the first does not join (len - 1 >= mss)', (t) => {
  const { out } = run([
    [2, 0, 1000],
    [2, 1000, 1448], // larger than gso_size 1000: a new packet
    [2, 2448, 500], // short: merged, the packet ends
    [2, 2948, 1448],
  ]);
  t.deepEqual(out, [
    [2, 0, 1000, 0, D],
    [2, 1000, 1948, 0, D],
    [2, 2948, 1448, 0, D],
  ]);
});

test('gro - a packet stops growing before 64 KiB from the IP header on (skb_gro_receive): 45 segments of 1448', (t) => {
  const segs = Array.from({ length: 100 }, (_, i) => [0, i * 1448, 1448]);
  const { out } = run(segs);
  const max = Math.floor((65_536 - 1 - TCP_IP_HEADER_BYTES) / 1448);
  t.is(max, 45);
  t.deepEqual(
    out.map((o) => o[2] / 1448),
    [45, 45, 10],
  );
});

test('gro - a pure ACK, a SYN or an RST goes on alone, after the held packet of its flow; other flows stay held', (t) => {
  const { out, beforeFlush } = run([
    [4, 0, 1448],
    [6, 0, 1448],
    [4, 1448, 0, D | TCP_HAS_ACK, 9],
    [6, 0, 0, D | TCP_SYN],
    [4, 1448, 1448],
    [4, 0, 0, D | TCP_RST],
  ]);
  t.is(beforeFlush, 6);
  t.deepEqual(out, [
    [4, 0, 1448, 0, D],
    [4, 1448, 0, 9, D | TCP_HAS_ACK],
    [6, 0, 1448, 0, D],
    [6, 0, 0, 0, D | TCP_SYN],
    [4, 1448, 1448, 0, D],
    [4, 0, 0, 0, D | TCP_RST],
  ]);
});
