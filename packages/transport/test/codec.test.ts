// Tests for the wire codec: round trips, msgpackr's typed-array behaviour, every reject kind, gaps, and fuzzing.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { Packr } from 'msgpackr';
import { Prng, setTcpEntry, SplitnetError, tcpColumnsOf, tcpEntry } from '@splitnet/model';
import type { Message, MutableBatch, PacketBatch } from '@splitnet/model';
import {
  EnvelopeDecoder,
  MAX_SEQ_JUMP,
  PROTOCOL_VERSION,
  REJECT_KINDS,
  WIRE_BYTES_PER_PACKET,
  WIRE_TCP_BYTES_PER_PACKET,
  encodeEnvelope,
} from '../src/codec.js';
import type { Envelope, RejectKind } from '../src/codec.js';

const RUN = 'run-1';
const FLOWS = 100;
const MAX_BATCH = 256;
const T = 5_000_000.25; // send time used by most envelopes: fractional on purpose
/** The receiver of the test envelopes (the decoders are its). */
const SELF = 'worker.0';

/** A test-only Packr to craft wire bytes by hand, following the layout documented in codec.ts. */
const raw = new Packr({ useRecords: false });

function decoder(over: Partial<ConstructorParameters<typeof EnvelopeDecoder>[0]> = {}): EnvelopeDecoder {
  return new EnvelopeDecoder({ run: RUN, limits: { flows: FLOWS, maxBatch: MAX_BATCH }, self: SELF, ...over });
}

/** `count` packets in columns of `capacity`; entries past count hold junk that must not travel. */
function batch(count: number, capacity: number, seed = 1): MutableBatch {
  const p = new Prng(seed);
  const b: MutableBatch = {
    count,
    flow: new Uint32Array(capacity).fill(0xdead_beef),
    seq: new Uint32Array(capacity).fill(0xdead_beef),
    len: new Uint16Array(capacity).fill(0xbeef),
    emittedAt: new Float64Array(capacity).fill(Number.NaN),
  };
  for (let i = 0; i < count; i++) {
    b.flow[i] = p.below(FLOWS);
    b.seq[i] = i === 0 ? 0xffff_ffff : p.nextU32();
    b.len[i] = 64 + p.below(1455);
    b.emittedAt[i] = T - p.next() * 1e6; // fractional, before the send time
  }
  return b;
}

function messages(): Message[] {
  return [
    { kind: 'dma', nicQueue: 3, irq: true, issuedAt: T, batch: batch(5, 16) },
    { kind: 'dma', nicQueue: 0, irq: false, issuedAt: T - 0.25, batch: batch(0, 16) },
    { kind: 'poll', nicQueue: 7, issuedAt: T - 2500.5 },
    { kind: 'rx', vm: 2, queue: 1, batch: batch(64, 64, 2) },
    { kind: 'rsp', vm: 0, queue: 3, rspProd: 0xffff_ffff, reqEvent: 0, batch: batch(200, 256, 3) },
    { kind: 'evt', vm: 9, port: 4 },
    { kind: 'req', vm: 1, queue: 0, reqProd: 0xffff_fff0, rspEvent: 17, rspProdSeen: 0xffff_ffff, notify: true },
    { kind: 'req', vm: 0, queue: 2, reqProd: 0, rspEvent: 1, rspProdSeen: 0, notify: false },
    { kind: 'reconnect', vm: 4, queue: 1 },
    { kind: 'ring', vm: 4, queue: 1, reqProd: 0xffff_ffff, rspEvent: 3, rspProdSeen: 0xffff_ff00, newRing: false, ringAt: 0 },
    { kind: 'ring', vm: 0, queue: 0, reqProd: 256, rspEvent: 1, rspProdSeen: 0, newRing: true, ringAt: 1000.25 },
    { kind: 'connected', vm: 4, queue: 1, ringAt: 1000.25 },
  ];
}

/** The transmit path's messages (kept apart: the seeded mutation test's draws depend on the list above). */
function txMessages(): Message[] {
  return [
    { kind: 'txreq', vm: 1, queue: 1, reqProd: 0xffff_ffff, rspEvent: 2, rspProdSeen: 0xffff_fff0, notify: true, batch: batch(1, 16) },
    { kind: 'txreq', vm: 0, queue: 0, reqProd: 4, rspEvent: 1, rspProdSeen: 0, notify: false, batch: batch(0, 16) },
    { kind: 'txrsp', vm: 3, queue: 2, rspProd: 0xffff_ffff, reqEvent: 5 },
    { kind: 'xmit', vm: 2, queue: 0, batch: batch(64, 64, 2) },
    { kind: 'txpost', nicQueue: 1, batch: batch(3, 16) },
    { kind: 'txdone', nicQueue: 0, batch: batch(7, 16) },
    { kind: 'dealloc', vm: 1, queue: 1, frames: 7, slots: 9 },
    { kind: 'xmit', vm: 1, queue: 0, batch: batch(2, 16), sentFrames: 2 ** 40, sentSlots: 2 ** 40 + 5 },
    { kind: 'dealloc', vm: 0, queue: 2, frames: 0, slots: 0, freed: 123_456_789_012 },
    { kind: 'dealloc', vm: 1, queue: 0, frames: 3, slots: 4, freed: 77, from: 2 },
    { kind: 'ring', vm: 1, queue: 0, reqProd: 256, rspEvent: 1, rspProdSeen: 0, newRing: true, ringAt: 900, txRenewed: true },
  ];
}

function envelope(m: Message, seq = 1, from = 'backend'): Envelope {
  return { v: PROTOCOL_VERSION, run: RUN, from, to: SELF, seq, t: T, at: T + 1500.5, m };
}

function packets(b: PacketBatch): unknown[] {
  return Array.from({ length: b.count }, (_, i) => [b.flow[i], b.seq[i], b.len[i], b.emittedAt[i]]);
}

/** A message with its batch reduced to [0, count), for deep comparison. */
function comparable(m: Message): unknown {
  return 'batch' in m ? { ...m, batch: { count: m.batch.count, packets: packets(m.batch) } } : m;
}

function totalRejected(d: EnvelopeDecoder): number {
  return REJECT_KINDS.reduce((s, k) => s + d.rejected[k], 0);
}

/** Wire codes of the message kinds (the codec's layout comment): crafted messages name kinds by their string. */
const WIRE_KIND: Record<string, number> = { dma: 1, poll: 2, rx: 3, rsp: 4, evt: 5, req: 6, reconnect: 7, ring: 8, connected: 9 };

type RawOver = { v?: unknown; run?: unknown; from?: unknown; to?: unknown; seq?: unknown; t?: unknown; at?: unknown };

/** A frame header by hand, for crafting invalid variants. */
function rawHeader(over: RawOver = {}): unknown[] {
  const pick = (key: keyof RawOver, fallback: unknown): unknown => (key in over ? over[key] : fallback);
  return [pick('v', PROTOCOL_VERSION), pick('run', RUN), pick('from', 'backend'), pick('to', SELF)];
}

/** An envelope body of `m` by hand (a known kind name becomes its wire code). */
function rawBody(m: unknown[], over: RawOver = {}): unknown[] {
  const pick = (key: keyof RawOver, fallback: unknown): unknown => (key in over ? over[key] : fallback);
  const wire = Array.isArray(m) && typeof m[0] === 'string' && m[0] in WIRE_KIND ? [WIRE_KIND[m[0]], ...m.slice(1)] : m;
  return [pick('seq', 1), pick('t', T), pick('at', T + 10), wire];
}

/** msgpack values back to back: a frame. */
function packAll(values: readonly unknown[]): Uint8Array {
  const parts = values.map((v) => raw.pack(v));
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

/** A one-envelope frame of `m`, by hand. */
function rawFrame(m: unknown[], over: RawOver = {}): Uint8Array {
  return packAll([rawHeader(over), rawBody(m, over)]);
}

/** Raw little-endian columns for packets given as [flow, seq, len, emittedAt]. */
function rawCols(pkts: [number, number, number, number][]): Uint8Array {
  const n = pkts.length;
  const bytes = new Uint8Array(n * WIRE_BYTES_PER_PACKET);
  const dv = new DataView(bytes.buffer);
  pkts.forEach(([flow, seq, len, at], i) => {
    dv.setFloat64(8 * i, at, true);
    dv.setUint32(8 * n + 4 * i, flow, true);
    dv.setUint32(12 * n + 4 * i, seq, true);
    dv.setUint16(16 * n + 2 * i, len, true);
  });
  return bytes;
}

function expectReject(t: ExecutionContext, d: EnvelopeDecoder, bytes: Uint8Array, kind: RejectKind, label: string): void {
  const before = { ...d.rejected };
  const accepted = d.accepted;
  t.is(d.decode(bytes), null, label);
  t.is(d.rejected[kind], before[kind] + 1, `${label}: counted as ${kind}, last error: ${String(d.lastError)}`);
  t.is(totalRejected(d), REJECT_KINDS.reduce((s, k) => s + before[k], 0) + 1, label);
  t.is(d.accepted, accepted, label);
  t.true(d.lastError?.startsWith(`${kind}: `), `${label}: ${String(d.lastError)}`);
}

// ---- msgpackr facts the codec's design rests on (a library upgrade that changes them shows up here)

test('codec - msgpackr corrupts non-byte typed arrays without moreTypes, so the codec never hands it one', (t) => {
  const plain = new Packr({ useRecords: false });
  const out: unknown = plain.unpack(plain.pack([new Uint32Array([1, 2, 0xffff_ffff, 4])]));
  t.true(Array.isArray(out));
  const [col] = out as unknown[];
  t.true(col instanceof Uint8Array);
  t.is((col as Uint8Array).byteLength, 16);
  // The elements were written truncated to bytes, not as their 4-byte representation.
  t.deepEqual(Array.from((col as Uint8Array).subarray(0, 4)), [1, 2, 0xff, 4]);
});

test('codec - msgpackr moreTypes round-trips typed arrays by copying them into fresh buffers', (t) => {
  const more = new Packr({ useRecords: false, moreTypes: true });
  const f64 = new Float64Array([1.5, Number.NaN, -0, 1e300]);
  const bytes = more.pack([f64, new Uint16Array([1, 65535]), new Uint32Array([7]).subarray(0, 1)]);
  const [a, b, c] = more.unpack(bytes) as unknown[];
  t.true(a instanceof Float64Array && b instanceof Uint16Array && c instanceof Uint32Array);
  t.deepEqual(Array.from(a as Float64Array), [1.5, Number.NaN, -0, 1e300]);
  t.not((a as Float64Array).buffer, bytes.buffer);
  t.is((a as Float64Array).byteOffset, 0);
});

test('codec - msgpackr decodes bin as a view into the input (no copy) at any alignment', (t) => {
  const p = new Packr({ useRecords: false, copyBuffers: false });
  const bytes = p.pack(['x', new Uint8Array([9, 8, 7])]);
  const [, bin] = p.unpack(bytes) as unknown[];
  t.true(bin instanceof Uint8Array);
  t.is((bin as Uint8Array).buffer, bytes.buffer);
  t.deepEqual(Array.from(bin as Uint8Array), [9, 8, 7]);
});

// ---- round trips

test('codec - every message kind round-trips, batches with count below capacity too', (t) => {
  const d = decoder();
  messages().forEach((m, i) => {
    const env = envelope(m, i + 1);
    const out = d.decode(encodeEnvelope(env));
    if (out === null) return t.fail(`${m.kind}: ${String(d.lastError)}`);
    t.deepEqual({ ...out, m: comparable(out.m) }, { ...env, m: comparable(m) }, m.kind);
  });
  t.is(d.accepted, messages().length);
  t.is(totalRejected(d), 0);
  t.is(d.gaps, 0);
  t.is(d.lastError, undefined);
});

test('codec - every message kind of the transmit path round-trips and passes the validity check', (t) => {
  const d = decoder();
  txMessages().forEach((m, i) => {
    const env = envelope(m, i + 1);
    const out = d.decode(encodeEnvelope(env));
    if (out === null) return t.fail(`${m.kind}: ${String(d.lastError)}`);
    t.deepEqual({ ...out, m: comparable(out.m) }, { ...env, m: comparable(m) }, m.kind);
    t.true(validEnvelope(out), m.kind);
  });
  t.is(d.accepted, txMessages().length);
});

test("codec - the fabric's messages round-trip: an uplink, one whose frames never left (voided), a downlink; a voided mark other than 1 is malformed", (t) => {
  const d = decoder();
  const fabric: Message[] = [
    { kind: 'uplink', port: 2, batch: batch(1, 16) },
    { kind: 'uplink', port: 0, batch: batch(3, 16, 2), voided: true },
    { kind: 'downlink', batch: batch(1, 16, 3) },
  ];
  fabric.forEach((m, i) => {
    const env = envelope(m, i + 1, 'h0.nic');
    const out = d.decode(encodeEnvelope(env));
    if (out === null) return t.fail(`${m.kind}: ${String(d.lastError)}`);
    t.deepEqual({ ...out, m: comparable(out.m) }, { ...env, m: comparable(m) }, m.kind);
  });
  t.is(d.accepted, fabric.length);
  // A voided uplink is sent at the flush, before the times its frames would have left (their emittedAt): accepted.
  const ahead = batch(2, 16, 4);
  ahead.emittedAt[0] = T + 5000;
  ahead.emittedAt[1] = T + 6230.5;
  const out = d.decode(encodeEnvelope(envelope({ kind: 'uplink', port: 1, batch: ahead, voided: true }, fabric.length + 1, 'h0.nic')));
  t.deepEqual(out === null ? d.lastError : Array.from((out.m as { batch: PacketBatch }).batch.emittedAt.subarray(0, 2)), [T + 5000, T + 6230.5]);
  // An uplink whose frames did leave cannot carry a leave time after its own.
  expectReject(
    t,
    d,
    encodeEnvelope(envelope({ kind: 'uplink', port: 1, batch: ahead }, fabric.length + 2, 'h0.nic')),
    'invalid-batch',
    'a frame leaving later',
  );
  const bad = decoder();
  // 16: the uplink's wire code.
  expectReject(t, bad, rawFrame([16, 0, rawCols([[1, 2, 64, 5]]), 2]), 'malformed', 'voided: 2');
  t.regex(String(bad.lastError), /uplink\.voided: expected 1, found 2/);
});

test('codec - only [0, count) of a batch travels: 18 bytes per packet, capacity irrelevant', (t) => {
  const size = (count: number, capacity: number): number => encodeEnvelope(envelope({ kind: 'rx', vm: 0, queue: 0, batch: batch(count, capacity) })).byteLength;
  t.is(size(5, 16), size(5, 1024));
  t.is(size(70, 128) - size(60, 128), 10 * WIRE_BYTES_PER_PACKET);
});

test('codec - decoded batches own their memory and come from the batch pool', (t) => {
  const d = decoder();
  const bytes = encodeEnvelope(envelope({ kind: 'rx', vm: 0, queue: 0, batch: batch(64, 64) }));
  const out = d.decode(bytes);
  if (out === null || out.m.kind !== 'rx') return t.fail(String(d.lastError));
  const before = packets(out.m.batch);
  for (const col of [out.m.batch.flow, out.m.batch.seq, out.m.batch.len, out.m.batch.emittedAt]) t.not(col.buffer, bytes.buffer);
  bytes.fill(0); // the transport may reuse its buffer: the batch must not change
  t.deepEqual(packets(out.m.batch), before);
  // Pool batches have a power-of-two capacity ≥ 16 (so a pool takes them back).
  t.is(out.m.batch.flow.length, 64);
  const small = d.decode(encodeEnvelope(envelope({ kind: 'rx', vm: 0, queue: 0, batch: batch(3, 3) }, 2)));
  t.is(small !== null && small.m.kind === 'rx' ? small.m.batch.flow.length : -1, 16);
});

test('codec - encoded bytes stay intact after later encodes', (t) => {
  const first = encodeEnvelope(envelope({ kind: 'poll', nicQueue: 1, issuedAt: T - 2500.5 }));
  const copy = Uint8Array.from(first);
  for (let i = 0; i < 2000; i++) encodeEnvelope(envelope({ kind: 'rx', vm: 0, queue: 0, batch: batch(64, 64) }, i + 2));
  t.deepEqual(Array.from(first), Array.from(copy));
});

test('codec - times keep their fractions; seq and ring indices keep their full range', (t) => {
  // A restarted receiver (a fresh one expects 1 first: 2^53 − 1 would be a jump).
  const d = decoder({ resumed: true });
  const env: Envelope = {
    v: PROTOCOL_VERSION,
    run: RUN,
    from: 'vm.3',
    to: SELF,
    seq: Number.MAX_SAFE_INTEGER,
    t: 1e15 + 0.5,
    at: 1e15 + 1230.5,
    m: { kind: 'req', vm: 3, queue: 0, reqProd: 0xffff_ffff, rspEvent: 0x8000_0000, rspProdSeen: 1, notify: false },
  };
  t.deepEqual(d.decode(encodeEnvelope(env)), env);
});

test('codec - a batch whose count does not fit its columns is a sender bug', (t) => {
  const b = batch(4, 4);
  const bad: PacketBatch = { ...b, count: 5 };
  const e = t.throws(() => encodeEnvelope(envelope({ kind: 'rx', vm: 0, queue: 0, batch: bad })), { instanceOf: SplitnetError });
  t.is(e?.code, 'E_INTERNAL');
});

test('codec - the decoder rejects bad configuration before any input', (t) => {
  for (const options of [
    { run: 'a.b', limits: { flows: 1, maxBatch: 1 } },
    { run: 'r', limits: { flows: 0, maxBatch: 1 } },
    { run: 'r', limits: { flows: 1.5, maxBatch: 1 } },
    { run: 'r', limits: { flows: 1, maxBatch: 0 } },
    { run: 'r', limits: { flows: 1, maxBatch: Number.NaN } },
  ]) {
    const e = t.throws(() => new EnvelopeDecoder(options), { instanceOf: SplitnetError }, JSON.stringify(options));
    t.is(e?.code, 'E_USAGE');
  }
});

// ---- rejections

test('codec - random bytes are rejected as malformed or truncated, never thrown', (t) => {
  const d = decoder();
  const p = new Prng(7);
  for (let i = 0; i < 3000; i++) {
    const bytes = new Uint8Array(p.below(200));
    for (let k = 0; k < bytes.length; k++) bytes[k] = p.below(256);
    t.is(d.decode(bytes), null);
  }
  t.is(d.rejected.malformed + d.rejected.truncated, 3000);
  t.true(d.rejected.malformed > 0 && d.rejected.truncated > 0);
  t.is(d.accepted, 0);
});

test('codec - a message cut at any point is counted as truncated', (t) => {
  const d = decoder();
  let cuts = 0;
  for (const m of messages()) {
    const bytes = encodeEnvelope(envelope(m));
    for (let cut = 0; cut < bytes.length; cut++) {
      expectReject(t, d, bytes.subarray(0, cut), 'truncated', `${m.kind} cut at ${cut}/${bytes.length}`);
      cuts++;
    }
  }
  t.is(d.rejected.truncated, cuts);
  t.is(d.rejected.malformed, 0);
});

test('codec - trailing bytes after an envelope are one rejection; the envelope before them still counts', (t) => {
  const bytes = encodeEnvelope(envelope({ kind: 'poll', nicQueue: 0, issuedAt: T - 2500.5 }));
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  const d = decoder();
  t.is(d.decodeFrame(longer).length, 1);
  t.is(d.accepted, 1);
  t.is(d.rejected.malformed, 1);
  t.is(totalRejected(d), 1);
});

test('codec - a frame carries several envelopes; a bad one in the middle is counted and the rest are kept', (t) => {
  const d = decoder();
  const frame = packAll([
    rawHeader({ from: 'worker.1' }),
    rawBody(['evt', 0, 1], { seq: 1 }),
    rawBody(['evt', 0, 'x'], { seq: 2 }),
    rawBody(['evt', 0, 3], { seq: 3 }),
  ]);
  const envs = d.decodeFrame(frame);
  t.deepEqual(
    envs.map((e) => [e.seq, e.from, e.m]),
    [
      [1, 'worker.1', { kind: 'evt', vm: 0, port: 1 }],
      [3, 'worker.1', { kind: 'evt', vm: 0, port: 3 }],
    ],
  );
  t.is(d.rejected.malformed, 1);
  t.is(d.gaps, 1);
  // decode() is for one-envelope frames only.
  t.is(decoder().decode(frame), null);
  // A header alone is a truncated frame; a bad header rejects the whole frame once.
  const d2 = decoder();
  t.is(d2.decodeFrame(packAll([rawHeader()])).length, 0);
  t.is(d2.rejected.truncated, 1);
  t.is(d2.decodeFrame(packAll([rawHeader({ run: 'other' }), rawBody(['evt', 0, 1]), rawBody(['evt', 0, 1], { seq: 2 })])).length, 0);
  t.is(d2.rejected['wrong-run'], 1);
  t.is(totalRejected(d2), 2);
});

test('codec - hostile msgpack features are clean rejections and leave no state behind', (t) => {
  const d = decoder();
  const deep = new Uint8Array(200_001).fill(0x91); // [[[[…1…]]]]: nesting past the stack
  deep[200_000] = 1;
  expectReject(t, d, deep, 'malformed', 'deep nesting');
  expectReject(t, d, Uint8Array.from([0xc7, 3, 0x74, 8, 0, 0]), 'malformed', 'Float64Array extension of 2 bytes');
  expectReject(t, d, Uint8Array.from([0xd6, 0x70, 0, 0, 0, 1]), 'malformed', 'structured-clone back-reference');
  expectReject(t, d, Uint8Array.from([0xc1]), 'malformed', 'the never-used byte');
  expectReject(t, d, 'not bytes' as unknown as Uint8Array, 'malformed', 'not a Uint8Array');
  // msgpackr decodes an inline record definition for id 0x40 even with records off; it must not
  // turn the next message's 0x40 (the integer 64) into a record.
  expectReject(t, d, Uint8Array.from([0xd4, 0x72, 0x40, 0x91, 0xa1, 0x61, 0x40, 0x01]), 'malformed', 'record definition');
  const out = d.decode(encodeEnvelope(envelope({ kind: 'poll', nicQueue: 64, issuedAt: T - 2500.5 })));
  t.deepEqual(out?.m, { kind: 'poll', nicQueue: 64, issuedAt: T - 2500.5 });
});

test('codec - another run id is counted as wrong-run, whatever else is wrong', (t) => {
  const d = decoder();
  expectReject(t, d, encodeEnvelope({ ...envelope({ kind: 'poll', nicQueue: 0, issuedAt: T - 2500.5 }), run: 'run-2' }), 'wrong-run', 'run-2');
  expectReject(t, d, encodeEnvelope({ ...envelope({ kind: 'poll', nicQueue: 0, issuedAt: T - 2500.5 }), run: 'run-1x' }), 'wrong-run', 'prefix');
  expectReject(t, d, rawFrame(['poll', -1, T], { run: 'other', from: 'bogus' }), 'wrong-run', 'bad fields too');
  t.regex(d.lastError ?? '', /run "other"/);
});

test('codec - a protocol version mismatch is malformed', (t) => {
  const d = decoder();
  for (const v of [0, 1, 2, 3, 4, 5, 7, '6', null]) {
    expectReject(t, d, rawFrame(['poll', 0, T], { v }), 'malformed', `v=${String(v)}`);
    t.regex(d.lastError ?? '', /protocol version/);
  }
  // A future version may change the layout entirely: still a version error, not a shape error.
  expectReject(t, d, raw.pack([7, { any: 'thing' }]), 'malformed', 'v7 layout');
  t.regex(d.lastError ?? '', /protocol version 7/);
  // Version 5's header had no receiver: refused by its version, before its shape is looked at.
  expectReject(t, d, packAll([[5, RUN, 'backend'], rawBody(['poll', 0, T])]), 'malformed', 'v5 header');
  t.regex(d.lastError ?? '', /protocol version 5, expected 6/);
  // Version 1 (one envelope per message, [v, run, from, seq, t, at, m]) is refused the same way.
  expectReject(t, d, raw.pack([1, RUN, 'backend', 1, T, T, ['poll', 0, T]]), 'malformed', 'v1 envelope');
});

test('codec - replays and reordered old messages are duplicates; jumps count as gaps', (t) => {
  const d = decoder();
  const m: Message = { kind: 'evt', vm: 0, port: 1 };
  for (const seq of [1, 2, 3]) t.truthy(d.decode(encodeEnvelope(envelope(m, seq, 'worker.2'))));
  expectReject(t, d, encodeEnvelope(envelope(m, 2, 'worker.2')), 'duplicate', 'replay of 2');
  expectReject(t, d, encodeEnvelope(envelope(m, 3, 'worker.2')), 'duplicate', 'replay of 3');
  t.regex(d.lastError ?? '', /seq 3 .* 3.*worker\.2/);
  t.truthy(d.decode(encodeEnvelope(envelope(m, 6, 'worker.2'))));
  t.is(d.gaps, 2); // 4 and 5 never came
  expectReject(t, d, encodeEnvelope(envelope(m, 4, 'worker.2')), 'duplicate', 'late 4 after 6');
  t.is(d.gaps, 2);
  t.is(d.accepted, 4);
});

test('codec - sequence numbers are tracked per sender', (t) => {
  const d = decoder();
  const m: Message = { kind: 'poll', nicQueue: 0, issuedAt: T - 2500.5 };
  t.truthy(d.decode(encodeEnvelope(envelope(m, 1, 'nic'))));
  t.truthy(d.decode(encodeEnvelope(envelope(m, 1, 'backend'))));
  t.truthy(d.decode(encodeEnvelope(envelope(m, 2, 'nic'))));
  t.is(d.gaps, 0);
  t.is(d.rejected.duplicate, 0);
});

test('codec - the first message of a sender counts the ones before it as gaps', (t) => {
  const d = decoder();
  t.truthy(d.decode(encodeEnvelope(envelope({ kind: 'poll', nicQueue: 0, issuedAt: T - 2500.5 }, 4, 'nic'))));
  t.is(d.gaps, 3);
});

test('codec - a rejected message leaves a gap when its successor arrives', (t) => {
  const d = decoder();
  t.truthy(d.decode(encodeEnvelope(envelope({ kind: 'poll', nicQueue: 0, issuedAt: T - 2500.5 }, 1))));
  expectReject(t, d, rawFrame(['poll', 'x', T], { seq: 2 }), 'malformed', 'bad 2');
  t.truthy(d.decode(encodeEnvelope(envelope({ kind: 'poll', nicQueue: 0, issuedAt: T - 2500.5 }, 3))));
  t.is(d.gaps, 1);
});

test('codec - forgetSender lets a restarted actor count from 1 again', (t) => {
  const d = decoder();
  const m: Message = { kind: 'poll', nicQueue: 0, issuedAt: T - 2500.5 };
  t.truthy(d.decode(encodeEnvelope(envelope(m, 1, 'nic'))));
  t.truthy(d.decode(encodeEnvelope(envelope(m, 2, 'nic'))));
  expectReject(t, d, encodeEnvelope(envelope(m, 1, 'nic')), 'duplicate', 'restart unnoticed');
  d.forgetSender('nic');
  t.truthy(d.decode(encodeEnvelope(envelope(m, 1, 'nic'))));
});

test('codec - a duplicate batch goes back to the pool instead of leaking', (t) => {
  const d = decoder();
  const b = batch(64, 64);
  t.truthy(d.decode(encodeEnvelope(envelope({ kind: 'rx', vm: 0, queue: 0, batch: b }, 1))));
  expectReject(t, d, encodeEnvelope(envelope({ kind: 'rx', vm: 0, queue: 0, batch: b }, 1)), 'duplicate', 'dup batch');
  // The rejected copy was released: the pool hands it out again.
  const again = d.pool.take(64);
  t.deepEqual(packets({ ...again, count: 64 }), packets(b));
});

test('codec - wrong shapes, types and ranges of envelope and message fields are malformed', (t) => {
  const d = decoder();
  const frame = (header: unknown, body: unknown): Uint8Array => packAll([header, body]);
  const body = (m: unknown[], over: RawOver = {}): Uint8Array => frame(rawHeader(over), rawBody(m, over));
  const cases: [string, Uint8Array][] = [
    ['a map instead of the header', frame({ v: PROTOCOL_VERSION, run: RUN }, rawBody(['poll', 0, T]))],
    ['a string', raw.pack('hello')],
    ['a number', raw.pack(1)],
    ['nil', raw.pack(null)],
    ['a short header', frame([PROTOCOL_VERSION, RUN], rawBody(['poll', 0, T]))],
    ['a header without the receiver', frame([PROTOCOL_VERSION, RUN, 'backend'], rawBody(['poll', 0, T]))],
    ['to a number', body(['poll', 0, T], { to: 0 })],
    ['a long header', frame([...rawHeader(), 'extra'], rawBody(['poll', 0, T]))],
    ['a short envelope', frame(rawHeader(), [1, T, T])],
    ['a long envelope', frame(rawHeader(), [...rawBody(['poll', 0, T]), 'extra'])],
    ['a map instead of the envelope', frame(rawHeader(), { seq: 1 })],
    ['run not a string', body(['poll', 0, T], { run: 7 })],
    ['from not an actor', body(['poll', 0, T], { from: 'bogus' })],
    ['from with a leading zero', body(['poll', 0, T], { from: 'worker.03' })],
    ['from a number', body(['poll', 0, T], { from: 3 })],
    ['seq 0', body(['poll', 0, T], { seq: 0 })],
    ['seq fractional', body(['poll', 0, T], { seq: 1.5 })],
    ['seq a string', body(['poll', 0, T], { seq: '1' })],
    ['seq a bigint', body(['poll', 0, T], { seq: 2n ** 64n - 1n })],
    ['t NaN', body(['poll', 0, T], { t: Number.NaN })],
    ['t infinite', body(['poll', 0, T], { t: Number.POSITIVE_INFINITY, at: Number.POSITIVE_INFINITY })],
    ['t negative', body(['poll', 0, T], { t: -1 })],
    ['at before t', body(['poll', 0, T], { at: T - 1 })],
    ['m a map', body({ kind: 'poll', nicQueue: 0, issuedAt: T - 2500.5 } as unknown as unknown[])],
    ['unknown kind', body([99, 0])],
    ['a kind by its name (version 1 style)', frame(rawHeader(), [1, T, T + 10, ['poll', 0, T]])],
    ['poll too long', body(['poll', 0, 1, 2])],
    ['poll nicQueue negative', body(['poll', -1, T])],
    ['poll nicQueue fractional', body(['poll', 0.5, T])],
    ['poll nicQueue ≥ 2^32', body(['poll', 2 ** 32, T])],
    ['poll nicQueue a string', body(['poll', '0', T])],
    ['dma irq a number', body(['dma', 0, 1, T, [0, new Uint8Array(0)]])],
    ['dma issuedAt missing', body(['dma', 0, true, [0, new Uint8Array(0)]])],
    ['dma issuedAt after its send time', body(['dma', 0, true, T + 1, [0, new Uint8Array(0)]])],
    ['poll issuedAt missing', body(['poll', 0])],
    ['poll issuedAt negative', body(['poll', 0, -1])],
    ['poll issuedAt after its send time', body(['poll', 0, T + 1])],
    ['rx vm NaN', body(['rx', Number.NaN, 0, [0, new Uint8Array(0)]])],
    ['rsp rspProd ≥ 2^32', body(['rsp', 0, 0, 2 ** 32, 0, [0, new Uint8Array(0)]])],
    ['rsp reqEvent negative', body(['rsp', 0, 0, 0, -1, [0, new Uint8Array(0)]])],
    ['evt port missing', body(['evt', 0])],
    ['req notify a string', body(['req', 0, 0, 0, 0, 0, 'yes'])],
    ['req rspProdSeen nil', body(['req', 0, 0, 0, 0, null, true])],
    ['a Date where a number goes', body(['evt', 0, new Date(0)])],
  ];
  for (const [label, bytes] of cases) expectReject(t, d, bytes, 'malformed', label);
});

test('codec - bad batches are invalid-batch: column sizes, counts, flows, lengths, times', (t) => {
  const d = decoder();
  const ok: [number, number, number, number] = [1, 2, 64, T - 10];
  const rx = (b: unknown): Uint8Array => rawFrame(['rx', 0, 0, b]);
  t.truthy(d.decode(rx([1, rawCols([ok])])), String(d.lastError)); // the crafted layout itself is right
  const cases: [string, unknown][] = [
    ['columns one byte short', [2, rawCols([ok, ok]).subarray(1)]],
    ['columns one packet long', [1, rawCols([ok, ok])]],
    ['columns sized for 17 bytes per packet', [2, new Uint8Array(34)]],
    ['columns as an array', [1, Array.from(rawCols([ok]))]],
    ['columns as a string', [1, 'abc']],
    ['count over the limit', [MAX_BATCH + 1, new Uint8Array((MAX_BATCH + 1) * WIRE_BYTES_PER_PACKET)]],
    ['count negative', [-1, new Uint8Array(0)]],
    ['count fractional', [0.5, new Uint8Array(9)]],
    ['count a string', ['1', rawCols([ok])]],
    ['batch a map', { count: 1, cols: rawCols([ok]) }],
    ['batch with three elements', [1, rawCols([ok]), 0]],
    ['flow out of range', [2, rawCols([ok, [FLOWS, 2, 64, 0]])]],
    ['flow huge', [1, rawCols([[0xffff_ffff, 2, 64, 0]])]],
    ['zero length', [1, rawCols([[0, 2, 0, 0]])]],
    ['NaN time', [1, rawCols([[0, 2, 64, Number.NaN]])]],
    ['negative time', [1, rawCols([[0, 2, 64, -1]])]],
    ['infinite time', [1, rawCols([[0, 2, 64, Number.POSITIVE_INFINITY]])]],
    ['emitted after it was sent', [1, rawCols([[0, 2, 64, T + 1]])]],
  ];
  for (const [label, b] of cases) expectReject(t, d, rx(b), 'invalid-batch', label);
  // Each batch-carrying kind validates its batch the same way.
  const bad = [1, rawCols([[FLOWS, 0, 64, 0]])];
  expectReject(t, d, rawFrame(['dma', 0, true, T, bad], { seq: 2 }), 'invalid-batch', 'dma');
  expectReject(t, d, rawFrame(['rsp', 0, 0, 0, 0, bad], { seq: 2 }), 'invalid-batch', 'rsp');
  t.regex(d.lastError ?? '', /flow\[0\] = 100, but the scenario has 100 flows.*from backend/);
});

/** A batch of `count` frames whose odd entries carry TCP segments (an ACK on each, a retransmission on every third). */
function tcpBatch(count: number): MutableBatch {
  const b = batch(count, 32, 7);
  const tcp = tcpColumnsOf(b);
  for (let i = 1; i < count; i += 2) {
    setTcpEntry(tcp, i, {
      seq: 2 ** 40 + i * 1448,
      payload: Math.min(b.len[i] as number, 1448) - 1,
      ack: 2 ** 33 + i,
      window: 65_536,
      flags: i % 3 === 0 ? 7 : 3,
    });
  }
  return b;
}

test('codec - TCP header columns travel with the frames that carry them, and only when a batch has them', (t) => {
  const d = decoder();
  const sent = tcpBatch(9);
  const out = d.decode(encodeEnvelope(envelope({ kind: 'txpost', nicQueue: 0, batch: sent })));
  if (out === null || out.m.kind !== 'txpost') return t.fail(String(d.lastError));
  const got = out.m.batch;
  for (let i = 0; i < 9; i++) t.deepEqual(tcpEntry(got.tcp, i), tcpEntry(sent.tcp, i), `frame ${i}`);
  t.truthy(tcpEntry(got.tcp, 3));
  t.is(tcpEntry(got.tcp, 2), undefined);
  const size = (b: PacketBatch): number => encodeEnvelope(envelope({ kind: 'xmit', vm: 0, queue: 0, batch: b })).byteLength;
  t.true(size(tcpBatch(9)) >= size(batch(9, 32, 7)) + 9 * WIRE_TCP_BYTES_PER_PACKET);
});

test('codec - bad TCP header columns are invalid-batch: size, flags, numbers, payload longer than the frame', (t) => {
  const d = decoder();
  const rx = (cols: Uint8Array, len = 64): Uint8Array => rawFrame(['rx', 0, 0, [1, rawCols([[1, 2, len, T - 10]]), cols]]);
  /** One frame's TCP columns: [seq, ack, window, payload, flags]. */
  const tcpCols = (seq: number, ack: number, window: number, payload: number, flags: number): Uint8Array => {
    const bytes = new Uint8Array(WIRE_TCP_BYTES_PER_PACKET);
    const dv = new DataView(bytes.buffer);
    dv.setFloat64(0, seq, true);
    dv.setFloat64(8, ack, true);
    dv.setFloat64(16, window, true);
    dv.setUint32(24, payload, true);
    dv.setUint8(28, flags);
    return bytes;
  };
  t.truthy(d.decode(rx(tcpCols(1448, 0, 65_536, 10, 3))), String(d.lastError));
  const cases: [string, Uint8Array, string][] = [
    ['one byte short', tcpCols(0, 0, 0, 0, 1).subarray(1), 'batch.tcp: 28 bytes for count 1, expected 29'],
    ['an unknown flag', tcpCols(0, 0, 0, 0, 33), 'batch.tcp.flags[0] = 33: expected bits of 31'],
    ['a fractional seq', tcpCols(0.5, 0, 0, 0, 1), 'batch.tcp[0]: seq 0.5, ack 0, window 0: expected whole byte counts in [0, 2^53)'],
    ['a negative ack', tcpCols(0, -1, 0, 0, 3), 'batch.tcp[0]: seq 0, ack -1, window 0: expected whole byte counts in [0, 2^53)'],
    ['a NaN window', tcpCols(0, 0, Number.NaN, 0, 3), 'batch.tcp[0]: seq 0, ack 0, window NaN: expected whole byte counts in [0, 2^53)'],
    ['a payload longer than its frame', tcpCols(0, 0, 0, 65, 1), 'batch.tcp.payload[0] = 65 bytes in a 64-byte frame'],
  ];
  cases.forEach(([label, cols, line], i) => {
    expectReject(t, d, rawFrame(['rx', 0, 0, [1, rawCols([[1, 2, 64, T - 10]]), cols]], { seq: i + 2 }), 'invalid-batch', label);
    t.is(d.lastError, `invalid-batch: ${line} (from backend)`, label);
  });
});

test('codec - lastError is one line naming the problem and the sender', (t) => {
  const d = decoder();
  d.decode(rawFrame(['rx', 0, 0, [1, rawCols([[0, 0, 0, 0]])]], { from: 'worker.5' }));
  t.is(d.lastError, 'invalid-batch: batch.len[0] = 0: a frame has at least a header (from worker.5)');
  d.decode(new Uint8Array([0xc1]));
  t.regex(d.lastError ?? '', /^malformed: .*\(from an unknown sender\)$/);
  d.decode(raw.pack('x'.repeat(10_000)));
  t.false((d.lastError ?? '').includes('\n'));
  t.true((d.lastError ?? '').length < 200);
});

// ---- fuzzing

/** What any accepted envelope must satisfy, checked independently of the decoder's own code. */
function validEnvelope(e: Envelope): boolean {
  const u32 = (x: number): boolean => Number.isInteger(x) && x >= 0 && x <= 0xffff_ffff;
  const m = e.m;
  const head =
    e.v === PROTOCOL_VERSION &&
    e.run === RUN &&
    /^(nic|backend|controller|(worker|vm)\.(0|[1-9]\d*))$/.test(e.from) &&
    Number.isSafeInteger(e.seq) &&
    e.seq >= 1 &&
    Number.isFinite(e.t) &&
    e.t >= 0 &&
    Number.isFinite(e.at) &&
    e.at >= e.t;
  if (!head) return false;
  const batchOk = (b: PacketBatch): boolean => {
    if (!Number.isInteger(b.count) || b.count < 0 || b.count > MAX_BATCH) return false;
    if (!(b.flow instanceof Uint32Array && b.seq instanceof Uint32Array && b.len instanceof Uint16Array && b.emittedAt instanceof Float64Array)) return false;
    if (b.flow.length < b.count || b.seq.length < b.count || b.len.length < b.count || b.emittedAt.length < b.count) return false;
    for (let i = 0; i < b.count; i++) {
      const at = b.emittedAt[i] ?? Number.NaN;
      if ((b.flow[i] ?? FLOWS) >= FLOWS || b.len[i] === 0 || !(at >= 0 && at <= e.t)) return false;
    }
    return true;
  };
  switch (m.kind) {
    case 'dma':
      return u32(m.nicQueue) && typeof m.irq === 'boolean' && m.issuedAt >= 0 && m.issuedAt <= e.t && batchOk(m.batch);
    case 'poll':
      return u32(m.nicQueue) && m.issuedAt >= 0 && m.issuedAt <= e.t;
    case 'rx':
      return u32(m.vm) && u32(m.queue) && batchOk(m.batch);
    case 'rsp':
      return u32(m.vm) && u32(m.queue) && u32(m.rspProd) && u32(m.reqEvent) && batchOk(m.batch);
    case 'evt':
      return u32(m.vm) && u32(m.port);
    case 'req':
      return [m.vm, m.queue, m.reqProd, m.rspEvent, m.rspProdSeen].every(u32) && typeof m.notify === 'boolean';
    case 'reconnect':
    case 'connected':
      return u32(m.vm) && u32(m.queue);
    case 'ring':
      return [m.vm, m.queue, m.reqProd, m.rspEvent, m.rspProdSeen].every(u32) && typeof m.newRing === 'boolean' && (m.txRenewed ?? true) === true;
    case 'txreq':
      return [m.vm, m.queue, m.reqProd, m.rspEvent, m.rspProdSeen].every(u32) && typeof m.notify === 'boolean' && batchOk(m.batch);
    case 'txrsp':
      return [m.vm, m.queue, m.rspProd, m.reqEvent].every(u32);
    case 'xmit':
      return u32(m.vm) && u32(m.queue) && batchOk(m.batch);
    case 'txpost':
    case 'txdone':
      return u32(m.nicQueue) && batchOk(m.batch);
    case 'dealloc':
      return [m.vm, m.queue, m.frames, m.slots].every(u32);
    default:
      return false;
  }
}

/** Byte-level damage: flips, overwrites, insertions, deletions, cuts, appends. */
function mutateBytes(p: Prng, src: Uint8Array): Uint8Array {
  let b = Uint8Array.from(src);
  const edits = 1 + p.below(4);
  for (let e = 0; e < edits; e++) {
    const at = b.length === 0 ? 0 : p.below(b.length);
    switch (p.below(6)) {
      case 0:
        if (b.length > 0) b[at] = (b[at] ?? 0) ^ (1 << p.below(8));
        break;
      case 1:
        if (b.length > 0) b[at] = p.below(256);
        break;
      case 2: {
        const grown = new Uint8Array(b.length + 1);
        grown.set(b.subarray(0, at));
        grown[at] = p.below(256);
        grown.set(b.subarray(at), at + 1);
        b = grown;
        break;
      }
      case 3:
        if (b.length > 0) b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]);
        break;
      case 4:
        b = b.slice(0, at);
        break;
      default:
        b = Uint8Array.from([...b, p.below(256)]);
    }
  }
  return b;
}

/** Odd values a field may be replaced with by the structural mutator. */
function oddValue(p: Prng): unknown {
  const pool: unknown[] = [
    -1,
    0,
    1,
    0.5,
    2 ** 32,
    2 ** 53,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -0,
    '',
    'rx',
    'nic',
    RUN,
    true,
    false,
    null,
    [],
    {},
    new Uint8Array(p.below(40)),
    p.nextU32(),
    FLOWS,
    MAX_BATCH + 1,
    2n ** 63n,
  ];
  return pool[p.below(pool.length)];
}

/** Structure-level damage: replace, drop or add one element somewhere in the decoded tuple tree. */
function mutateTree(p: Prng, value: unknown): unknown {
  if (!Array.isArray(value) || value.length === 0 || p.below(4) === 0) {
    return p.below(2) === 0 ? oddValue(p) : value instanceof Uint8Array ? mutateBytes(p, value) : oddValue(p);
  }
  const copy = [...(value as unknown[])];
  const i = p.below(copy.length);
  switch (p.below(5)) {
    case 0:
      copy.splice(i, 1);
      break;
    case 1:
      copy.splice(i, 0, oddValue(p));
      break;
    default:
      copy[i] = mutateTree(p, copy[i]);
  }
  return copy;
}

test('codec - seeded random mutations never throw and always decode validly or count a rejection', (t) => {
  const p = new Prng(20_240_601);
  const bases = messages().map((m, i) => encodeEnvelope(envelope(m, i + 1, i % 2 === 0 ? 'nic' : 'worker.1')));
  const byKind: Record<RejectKind, number> = {
    malformed: 0,
    truncated: 0,
    'wrong-run': 0,
    duplicate: 0,
    'invalid-batch': 0,
    misrouted: 0,
    spoofed: 0,
    'not-allowed': 0,
    'seq-jump': 0,
  };
  let accepted = 0;
  for (let iter = 0; iter < 6000; iter++) {
    const pick = p.below(bases.length);
    const base = bases[pick] ?? new Uint8Array(0);
    const tree = iter % 2 === 0 ? undefined : mutateTree(p, raw.unpackMultiple(base));
    const bytes = tree === undefined ? mutateBytes(p, base) : packAll(Array.isArray(tree) ? tree : [tree]);
    // Every other frame comes on its sender's subject (a mutated sender is then spoofed); a rule refuses
    // the NIC's polls (one of the bases is one).
    const d = decoder({ admit: (from, m) => (from === 'nic' && m.kind === 'poll' ? 'no polls from the NIC' : undefined) });
    if (iter % 3 === 0) d.decode(base); // sometimes the original came first: replays become duplicates
    const before = { accepted: d.accepted, rejected: totalRejected(d) };
    let out: readonly Envelope[] = [];
    try {
      out = d.decodeFrame(bytes, iter % 4 < 2 ? (pick % 2 === 0 ? 'nic' : 'worker.1') : undefined);
    } catch (e) {
      return t.fail(`decodeFrame threw on iteration ${iter}: ${String(e)}`);
    }
    if (d.accepted !== before.accepted + out.length) return t.fail(`iteration ${iter}: accepted count and envelopes returned disagree`);
    if (out.length === 0 && (totalRejected(d) === before.rejected || d.lastError === undefined)) {
      return t.fail(`iteration ${iter}: a frame that yields nothing must count a rejection`);
    }
    for (const k of REJECT_KINDS) byKind[k] += d.rejected[k];
    for (const env of out) {
      if (!validEnvelope(env)) {
        return t.fail(`iteration ${iter}: accepted an invalid envelope ${JSON.stringify(env, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
      }
      accepted++;
    }
  }
  // The mutations reach every kind of rejection (and some survive as different but valid messages).
  for (const k of REJECT_KINDS) t.true(byKind[k] > 0, `${k}: ${byKind[k]}`);
  t.true(accepted > 0);
  t.log(`accepted ${accepted}, rejected ${JSON.stringify(byKind)}`);
});

// ---- senders, receivers and sequences a receiver can believe

test('codec - the header must name the sender whose subject the frame came on, and this receiver', (t) => {
  const m: Message = { kind: 'evt', vm: 0, port: 1 };
  const d = decoder();
  t.truthy(d.decode(encodeEnvelope(envelope(m, 1, 'worker.1')), 'worker.1'), 'agreeing subject and header');
  const cases: [string, Uint8Array, string | undefined, RejectKind, RegExp][] = [
    [
      "a header claiming the back end, on worker.1's subject",
      encodeEnvelope(envelope(m, 2, 'backend')),
      'worker.1',
      'spoofed',
      /names sender "backend" but it came on "worker\.1"'s subject/,
    ],
    [
      'a frame for worker.3 re-published to worker.0',
      encodeEnvelope({ ...envelope(m, 2, 'worker.1'), to: 'worker.3' }),
      'worker.1',
      'misrouted',
      /addressed to "worker\.3", received by worker\.0/,
    ],
  ];
  for (const [label, bytes, subject, kind, why] of cases) {
    t.is(d.decode(bytes, subject), null, label);
    t.is(d.rejected[kind], 1, label);
    t.regex(d.lastError ?? '', why, label);
  }
  // Neither advanced worker.1's sequence: its next message, 2, is no duplicate.
  t.truthy(d.decode(encodeEnvelope(envelope(m, 2, 'worker.1')), 'worker.1'));
  t.is(d.gaps, 0);
});

test('codec - a message its sender never sends this receiver is not-allowed: its packets are counted against the sender, its sequence number is not taken', (t) => {
  const d = decoder({ admit: (from, m) => (m.kind === 'dma' ? `a DMA batch from ${from} does not cross the bus` : undefined) });
  const dma: Message = { kind: 'dma', nicQueue: 0, irq: true, issuedAt: T, batch: batch(50, 64) };
  expectReject(t, d, encodeEnvelope(envelope(dma, 1, 'nic')), 'not-allowed', 'dma over the bus');
  t.regex(d.lastError ?? '', /^not-allowed: a DMA batch from nic does not cross the bus \(from nic\)$/);
  t.deepEqual([...d.rejectedPackets()], [['nic', 50]]);
  t.truthy(d.decode(encodeEnvelope(envelope({ kind: 'poll', nicQueue: 0, issuedAt: T }, 1, 'nic'))), 'seq 1 is still free');
});

test("codec - a sequence number far ahead of the sender's is a seq-jump and does not make its real messages duplicates", (t) => {
  const d = decoder();
  const m = (seq: number): Uint8Array => encodeEnvelope(envelope({ kind: 'rx', vm: 0, queue: 0, batch: batch(10, 16) }, seq, 'backend'));
  t.truthy(d.decode(m(1)));
  expectReject(t, d, m(Number.MAX_SAFE_INTEGER), 'seq-jump', 'seq 2^53 − 1');
  t.regex(d.lastError ?? '', /seq 9007199254740991 is 9007199254740990 past 1/);
  expectReject(t, d, m(2 + MAX_SEQ_JUMP), 'seq-jump', 'one past the largest gap');
  t.deepEqual([...d.rejectedPackets()], [['backend', 20]]);
  for (const seq of [2, 3, 4]) t.truthy(d.decode(m(seq)), `real message ${seq}`);
  t.truthy(d.decode(m(4 + MAX_SEQ_JUMP)), 'the largest gap a lossy bus may leave');
  t.is(d.gaps, MAX_SEQ_JUMP - 1);
  t.deepEqual([...d.gapsBySender()], [['backend', MAX_SEQ_JUMP - 1]]);
  t.is(d.rejected.duplicate, 0);
  t.deepEqual([...d.firstRejections().keys()], ['seq-jump']);
});

test("codec - a restarted receiver takes each sender's first sequence number as where it is; a sender it is told restarted starts at 1", (t) => {
  const d = decoder({ resumed: true });
  const m = (seq: number, from: string): Uint8Array => encodeEnvelope(envelope({ kind: 'evt', vm: 0, port: 0 }, seq, from));
  t.truthy(d.decode(m(5000, 'worker.1')), 'mid-sequence');
  t.truthy(d.decode(m(5001, 'worker.1')));
  t.is(d.gaps, 0);
  expectReject(t, d, m(5000, 'worker.1'), 'duplicate', 'replay');
  d.forgetSender('worker.2');
  t.truthy(d.decode(m(1, 'worker.2')), 'restarted: from 1');
  d.forgetSender('worker.1');
  t.truthy(d.decode(m(3, 'worker.1')), 'restarted, its first two lost');
  t.is(d.gaps, 2);
  // A receiver that did not restart expects 1 from everyone: a first message at 5000 leaves a gap.
  const fresh = decoder();
  t.truthy(fresh.decode(m(5000, 'worker.1')));
  t.is(fresh.gaps, 4999);
});
