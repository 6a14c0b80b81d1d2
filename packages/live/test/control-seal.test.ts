// The sealed control channel and the sealed box of join replies: what opens, and every way a forged, replayed, reflected or foreign message is refused.
import test from 'ava';
import { ActorControl, ControllerControl, formatControlSecret, newNonce, parseControlSecret } from '../src/control-seal.js';
import { BoxKeys, isBoxKey, sealTo } from '../src/sealed-box.js';

const RUN = 'r1';
const stop = { kind: 'stop' } as const;
const hello = { kind: 'hello', id: 'vm.0', pid: 7 } as const;

/** A controller and process vm.0's first incarnation, sharing its secret. */
function pair(): { controller: ControllerControl; actor: ActorControl } {
  const controller = new ControllerControl(RUN, newNonce());
  return { controller, actor: new ActorControl(RUN, 'vm.0', 0, controller.secretFor('vm.0', 0)) };
}

test('control seal - a message sealed by one end opens at the other, both ways, with the process and incarnation that sent it', (t) => {
  const { controller, actor } = pair();
  t.deepEqual(actor.open(controller.seal('vm.0', stop)), { ok: true, value: stop });
  t.deepEqual(controller.open(actor.seal(hello)), { ok: true, value: { name: 'vm.0', incarnation: 0, m: hello } });
});

test('control seal - forged, replayed, reflected and foreign messages are refused, each with its reason', (t) => {
  const { controller, actor } = pair();
  const other = new ControllerControl(RUN, newNonce());
  const otherActor = new ActorControl(RUN, 'vm.0', 0, other.secretFor('vm.0', 0));
  const sealed = controller.seal('vm.0', stop);
  t.true(actor.open(sealed).ok);
  const tampered = Uint8Array.from(sealed);
  const at = tampered.length - 3; // a byte of the message, not of the MAC
  tampered[at] = (tampered[at] as number) ^ 1;
  const plain = new TextEncoder().encode(JSON.stringify(stop));
  const cases: [string, ReturnType<ActorControl['open']>, RegExp][] = [
    ['a replay', actor.open(sealed), /replayed control message \(counter 1\)/],
    ['an altered message', actor.open(tampered), /not JSON|MAC is wrong/],
    ['plain JSON, as before sealing', actor.open(plain), /no MAC/],
    ['another controller of the same run id', actor.open(other.seal('vm.0', stop)), /another controller of run r1 \(nonce /],
    ['its own message sent back to it', actor.open(actor.seal(hello)), /for vm\.0 \(incarnation 0, run r1\), not this process/],
    ['a message for another process', actor.open(controller.seal('vm.1', stop)), /for vm\.1/],
  ];
  for (const [label, opened, why] of cases) {
    t.false(opened.ok, label);
    if (!opened.ok) t.regex(opened.why, why, label);
  }
  // And at the controller: a process of another controller, one it never issued a key to, a forged MAC.
  const foreign = controller.open(otherActor.seal(hello));
  t.false(foreign.ok);
  if (!foreign.ok) t.regex(foreign.why, /vm\.0: a process of another controller of run r1/);
  const stranger = new ActorControl(RUN, 'vm.9', 0, { nonce: controller.nonce, key: 'ab'.repeat(32) });
  const unknown = controller.open(stranger.seal({ kind: 'hello', id: 'vm.9', pid: 1 }));
  t.false(unknown.ok);
  if (!unknown.ok) t.regex(unknown.why, /vm\.9: no process vm\.9 \(incarnation 0\) in run r1/);
  controller.secretFor('vm.9', 0);
  const forged = controller.open(stranger.seal({ kind: 'hello', id: 'vm.9', pid: 1 }));
  t.false(forged.ok);
  if (!forged.ok) t.regex(forged.why, /MAC is wrong \(forged\)/);
});

test('control seal - a restarted incarnation has a key of its own; messages may overtake each other within 64, not repeat', (t) => {
  const { controller, actor } = pair();
  const reborn = new ActorControl(RUN, 'vm.0', 1, controller.secretFor('vm.0', 1));
  t.notDeepEqual(controller.secretFor('vm.0', 1), controller.secretFor('vm.0', 0));
  // The controller now addresses the new incarnation; the dead one's late messages still open as its own.
  t.true(reborn.open(controller.seal('vm.0', stop)).ok);
  t.false(actor.open(controller.seal('vm.0', stop)).ok);
  const late = controller.open(actor.seal(hello));
  t.true(late.ok && late.value.incarnation === 0);
  // Out of order within the window: taken once each.
  const msgs = Array.from({ length: 10 }, () => reborn.seal(hello));
  for (const i of [1, 0, 3, 2, 9, 4]) t.true(controller.open(msgs[i] as Uint8Array).ok, `message ${i}`);
  t.false(controller.open(msgs[2] as Uint8Array).ok, 'a second time');
  const far = Array.from({ length: 70 }, () => reborn.seal(hello));
  t.true(controller.open(far[69] as Uint8Array).ok);
  t.false(controller.open(far[0] as Uint8Array).ok, 'older than the window');
});

test('control seal - a secret travels as one line, and only a well-formed one is taken', (t) => {
  const s = new ControllerControl(RUN, newNonce()).secretFor('nic+backend', 0);
  t.deepEqual(parseControlSecret(formatControlSecret(s)), s);
  for (const bad of ['', 'x:y', `${s.nonce}:${s.key}:extra`, `${s.nonce}:${s.key.slice(1)}`, `${s.nonce.toUpperCase()}:${s.key}`])
    t.is(parseControlSecret(bad), undefined, bad);
});

test('sealed box - only the key the joiner sent opens it; an altered box does not open', (t) => {
  const joiner = new BoxKeys();
  const eavesdropper = new BoxKeys();
  t.true(isBoxKey(joiner.publicKey));
  for (const bad of ['', 'abc', 7, 'A'.repeat(42), 'A'.repeat(44)]) t.false(isBoxKey(bad), String(bad));
  const secret = new TextEncoder().encode('{"secret":"the key of vm.3"}');
  const box = sealTo(joiner.publicKey, secret);
  t.deepEqual(joiner.open(box), Buffer.from(secret));
  t.is(eavesdropper.open(box), undefined);
  const bytes = Buffer.from(box, 'base64url');
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
  t.is(joiner.open(bytes.toString('base64url')), undefined);
  t.not(sealTo(joiner.publicKey, secret), box, 'a fresh ephemeral key each time');
});
