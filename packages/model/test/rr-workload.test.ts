// The request/response workload (netperf TCP_RR) over two TCP endpoints on a modelled path: rate, latency, and what a loss costs.
import test from 'ava';
import type { LinkConfig } from './tcp-path.js';
import { Path } from './tcp-path.js';
import type { RrConfig } from '../src/index.js';
import { MS, RrClient, RrServer, SEC, TCP_RTO_MIN, US, tcpFrameBytes, wireTimeNs } from '../src/index.js';

const ROOMY = 64 * 1024 * 1024;

/** Client on host a, server on host b; ACKs ride on the next request or response as in a real TCP_RR. */
function rrPath(requestBytes: number, responseBytes: number, link: LinkConfig, reverse?: LinkConfig): { p: Path; client: RrClient; server: RrServer } {
  const p = new Path({ forward: link, ...(reverse ? { reverse } : {}) });
  const client = new RrClient({ requestBytes, responseBytes });
  const server = new RrServer(requestBytes, responseBytes);
  p.b.onDelivered = (bytes) => {
    const respond = server.onRequestData(bytes);
    if (respond > 0) p.b.write(respond);
  };
  p.a.onDelivered = (bytes) => {
    const next = client.onResponseData(bytes, p.clock.now);
    if (next > 0) p.a.write(next);
  };
  return { p, client, server };
}

test('rr - on an idle path every transaction takes RTT + serialization of request and response, and transactions/s is its inverse', (t) => {
  const gbps = 10;
  const delay = 25 * US;
  const { p, client, server } = rrPath(64, 1024, { gbps, delay, queueBytes: ROOMY });
  p.a.write(client.start(0, 1 * SEC));
  p.run(1 * SEC + 1 * MS);
  const expected = 2 * delay + wireTimeNs(tcpFrameBytes(64), gbps) + wireTimeNs(tcpFrameBytes(1024), gbps);
  const s = client.summary(1 * SEC);
  t.true(s.transactions > 19_000, `${s.transactions} transactions`);
  t.is(server.served, s.transactions);
  // The first transactions also carry quick-ack mode's pure ACKs ahead of the response (72 ns each); from
  // then on the ACKs ride on the data and every transaction takes exactly the expected time.
  t.true(Math.abs(s.latencyP50Ns / expected - 1) < 0.001, `p50 ${s.latencyP50Ns} ns, expected ${expected}`);
  t.true(s.latencyMinNs >= expected - 1e-6);
  t.true(Math.abs(s.transactionsPerSec * (expected / SEC) - 1) < 0.005, `${s.transactionsPerSec.toFixed(0)}/s vs 1/${expected} ns`);
  t.is(p.a.sender.stats.retransmissions + p.b.sender.stats.retransmissions, 0);
});

test('rr - a response larger than the MSS arrives as several segments and still completes one transaction at a time', (t) => {
  const gbps = 10;
  const delay = 25 * US;
  const { p, client, server } = rrPath(100, 10_000, { gbps, delay, queueBytes: ROOMY });
  p.a.write(client.start(0, 200 * MS));
  p.run(201 * MS);
  // 10000 bytes = 6 full segments + 1312.
  const response = 6 * wireTimeNs(tcpFrameBytes(1448), gbps) + wireTimeNs(tcpFrameBytes(1312), gbps);
  const floor = 2 * delay + wireTimeNs(tcpFrameBytes(100), gbps) + response;
  const s = client.summary(200 * MS);
  t.is(server.served, s.transactions);
  t.true(s.latencyMinNs >= floor - 1e-6, `min ${s.latencyMinNs} ns, floor ${floor}`);
  // The client's ACKs for the response segments share its link with the next request: a few 72 ns frames.
  t.true(s.latencyP99Ns < floor * 1.01, `p99 ${s.latencyP99Ns} ns, floor ${floor}`);
});

// Without later segments to produce duplicate ACKs a lost response can only come back by the RTO
// (tail-loss probes, RFC 8985, are not modelled): one transaction pays ≥ 200 ms, the others do not.
test('rr - a lost response is resent by the RTO: that one transaction takes over 200 ms, the median does not move', (t) => {
  const gbps = 10;
  const delay = 25 * US;
  const lost = 500; // the 501st response
  const link = { gbps, delay, queueBytes: ROOMY };
  const { p, client } = rrPath(64, 1024, link, { ...link, drop: [{ seq: lost * 1024, times: 1 }] });
  p.a.write(client.start(0, 1 * SEC));
  p.run(1 * SEC + 1 * MS);
  const s = client.summary(1 * SEC);
  t.is(p.reverse.chosenDrops, 1);
  t.is(p.b.sender.stats.timeouts, 1);
  t.is(p.b.sender.stats.retransmissions, 1);
  t.true(s.latencyP50Ns < 60 * US);
  t.true(client.latency.max >= TCP_RTO_MIN, `slowest transaction ${client.latency.max / MS} ms`);
});

test('rr - request and response sizes must be whole bytes ≥ 1', (t) => {
  const cases: [RrConfig, string][] = [
    [{ requestBytes: 0 }, 'RR workload: expected a request size ≥ 1 byte, found 0'],
    [{ responseBytes: 1.5 }, 'RR workload: expected a response size ≥ 1 byte, found 1.5'],
  ];
  for (const [config, message] of cases) t.is(t.throws(() => new RrClient(config))?.message, message);
});

test('rr - the server answers each complete request once, however the bytes are split', (t) => {
  const server = new RrServer(100, 7);
  t.is(server.onRequestData(60), 0);
  t.is(server.onRequestData(60), 7);
  t.is(server.onRequestData(180), 14);
  t.is(server.served, 3);
});

test('rr - a client that never started takes its loop schedule at a restart (its stop too); a started one keeps its own', (t) => {
  const fresh = new RrClient({ requestBytes: 10, responseBytes: 20 });
  fresh.schedule(5e6, 8e6);
  t.is(fresh.reconnect(6e6), 10, 'a request on the new connection');
  t.is(fresh.onResponseData(20, 7e6), 10);
  t.is(fresh.onResponseData(20, 9e6), 0, 'past the stop: no next request');
  t.is(fresh.transactions, 2);
  t.is(fresh.transactionsPerSec(9e6), (2 * 1e9) / 4e6, 'counted from the scheduled start');
  const started = new RrClient({ requestBytes: 10, responseBytes: 20 });
  started.start(1e6, 2e6);
  started.schedule(5e6, 8e6);
  t.is(started.onResponseData(20, 3e6), 0, 'its own stop holds');
  t.is(started.transactionsPerSec(3e6), 1e9 / 2e6);
});
