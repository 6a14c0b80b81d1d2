// A sealed box: what the controller hands a joining process (its control secret and NATS login) encrypted to a key only that process holds.
import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/*
 * Why: a join reply travels over the bus, on a reply subject that every process of the same role login may be
 * allowed to read (compose gives all front ends one login), or that anyone reads on a bus without
 * permissions. The joiner sends a fresh X25519 public key with its request; the controller answers with an
 * ephemeral key of its own and the secret encrypted under HKDF-SHA256 of their shared key (AES-256-GCM), so
 * only the joiner can read it, and a box altered on the way does not open. (Who answers a join is not
 * authenticated: on a bus without permissions an impostor controller could answer it. docs/security.md.)
 */

const INFO = Buffer.from('splitnet join reply v1');
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function publicKeyFrom(raw: string): KeyObject | undefined {
  try {
    const x = Buffer.from(raw, 'base64url');
    if (x.length !== KEY_BYTES) return undefined;
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: x.toString('base64url') }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

function rawPublic(k: KeyObject): string {
  return String(k.export({ format: 'jwk' }).x);
}

function aeadKey(privateKey: KeyObject, publicKey: KeyObject, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', diffieHellman({ privateKey, publicKey }), salt, INFO, 32));
}

/** The joiner's key pair: its public half goes in the join request, the box of the reply opens with the private half. */
export class BoxKeys {
  readonly publicKey: string;
  private readonly privateKey: KeyObject;

  constructor() {
    const { publicKey, privateKey } = generateKeyPairSync('x25519');
    this.publicKey = rawPublic(publicKey);
    this.privateKey = privateKey;
  }

  /** The plaintext of a box sealed to this key, or undefined if it is not one (altered, or for another key). */
  open(box: string): Uint8Array | undefined {
    try {
      const b = Buffer.from(box, 'base64url');
      if (b.length < KEY_BYTES + IV_BYTES + TAG_BYTES) return undefined;
      const epk = publicKeyFrom(b.subarray(0, KEY_BYTES).toString('base64url'));
      if (epk === undefined) return undefined;
      const iv = b.subarray(KEY_BYTES, KEY_BYTES + IV_BYTES);
      const d = createDecipheriv('aes-256-gcm', aeadKey(this.privateKey, epk, b.subarray(0, KEY_BYTES)), iv);
      d.setAuthTag(b.subarray(KEY_BYTES + IV_BYTES, KEY_BYTES + IV_BYTES + TAG_BYTES));
      return Buffer.concat([d.update(b.subarray(KEY_BYTES + IV_BYTES + TAG_BYTES)), d.final()]);
    } catch {
      return undefined;
    }
  }
}

/** Whether `raw` is a public key a box can be sealed to. */
export function isBoxKey(raw: unknown): raw is string {
  return typeof raw === 'string' && raw.length < 100 && publicKeyFrom(raw) !== undefined;
}

/** `plaintext` sealed to the public key `to` (from a join request): base64url of ephemeral key, IV, tag, ciphertext. */
export function sealTo(to: string, plaintext: Uint8Array): string {
  const pub = publicKeyFrom(to);
  if (pub === undefined) throw new Error('sealTo: not an X25519 public key');
  const eph = generateKeyPairSync('x25519');
  const epk = Buffer.from(rawPublic(eph.publicKey), 'base64url');
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', aeadKey(eph.privateKey, pub, epk), iv);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([epk, iv, c.getAuthTag(), ct]).toString('base64url');
}
