// Seeded pseudo-random numbers (xoshiro128**), and per-actor seeds derived from the run seed.
import { SplitnetError } from './errors.js';

const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_MINUS_53 = 1 / 2 ** 53;
/** 2^32 / φ, splitmix's Weyl increment: consecutive states land far apart. */
const GOLDEN_GAMMA = 0x9e3779b9;

/** murmur3's 32-bit finalizer: every input bit affects every output bit (avalanche). */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The two 32-bit words of a seed. Seeds are safe integers (a run seed may be typed by a person or
 * be a timestamp), so the high word matters too; negative seeds wrap like two's complement.
 */
function seedWords(seed: number, what: string): [lo: number, hi: number] {
  if (!Number.isSafeInteger(seed)) {
    throw new SplitnetError('E_USAGE', `${what}: expected a safe integer seed, found ${String(seed)}`);
  }
  return [seed >>> 0, Math.floor(seed / TWO_POW_32) >>> 0];
}

/**
 * xoshiro128** (Blackman & Vigna): 128 bits of state, period 2^128 − 1, passes BigCrush, and
 * needs only 32-bit integer ops, which V8 runs without boxing. Not cryptographic — it only has to
 * make emulated traffic look random and be reproducible from a seed.
 *
 * The state is four int32 fields rather than a typed array so that a hot loop keeps them in
 * registers; nothing here allocates after construction.
 */
export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed`: any safe integer. Equal seeds give equal sequences on every platform. */
  constructor(seed: number) {
    const [lo, hi] = seedWords(seed, 'Prng');
    // splitmix32 (a golden-ratio Weyl sequence through murmur3's finalizer) spreads a
    // low-entropy seed (0, 1, 2…) over all 128 state bits, as the xoshiro authors recommend;
    // the high word moves the Weyl start so that seeds k and 2^32 + k differ.
    let weyl = (lo ^ fmix32(hi ^ 0x6a09e667)) | 0;
    weyl = (weyl + GOLDEN_GAMMA) | 0;
    this.s0 = fmix32(weyl) | 0;
    weyl = (weyl + GOLDEN_GAMMA) | 0;
    this.s1 = fmix32(weyl) | 0;
    weyl = (weyl + GOLDEN_GAMMA) | 0;
    this.s2 = fmix32(weyl) | 0;
    weyl = (weyl + GOLDEN_GAMMA) | 0;
    this.s3 = fmix32(weyl) | 0;
    // The all-zero state is xoshiro's one fixed point; splitmix cannot realistically produce it,
    // but a generator stuck at zero forever would be a silent disaster, so rule it out.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniform integer in [0, 2^32). */
  nextU32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result >>> 0;
  }

  /** A uniform double in [0, 1) with 53-bit resolution (every multiple of 2^−53; uses two draws). */
  next(): number {
    const hi = this.nextU32() >>> 6; // 26 bits
    const lo = this.nextU32() >>> 5; // 27 bits
    return (hi * 0x800_0000 + lo) * TWO_POW_MINUS_53;
  }

  /**
   * A uniform integer in [0, n), without modulo bias: n ≤ 2^32 rejects the top partial block of
   * u32s (at most one extra draw on average, usually none); larger n uses the 53-bit double, whose
   * bias is below n / 2^53.
   */
  below(n: number): number {
    if (!(n >= 1 && n <= Number.MAX_SAFE_INTEGER) || !Number.isInteger(n)) {
      throw new SplitnetError('E_USAGE', `Prng.below: expected an integer bound 1-2^53, found ${String(n)}`);
    }
    if (n > TWO_POW_32) return Math.floor(this.next() * n);
    // Largest multiple of n that fits in 2^32: u32s at or above it would favour small results.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /**
   * An exponentially distributed value with the given mean (Poisson inter-arrival gaps), by
   * inversion. The uniform is taken at the centre of its 2^−53 cell, i.e. strictly inside (0, 1),
   * so log never sees 0 or 1: the result is always finite and > 0 (at most ≈ 37·mean).
   */
  exponential(mean: number): number {
    const hi = this.nextU32() >>> 6;
    const lo = this.nextU32() >>> 5;
    const u = (hi * 0x800_0000 + lo + 0.5) * TWO_POW_MINUS_53;
    return -Math.log(u) * mean;
  }
}

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

function fnv1aByte(h: number, byte: number): number {
  return Math.imul(h ^ byte, FNV_PRIME);
}

/**
 * A u32 seed for one actor or generator, from the run seed and a label such as `nic` or `gen:2`.
 * FNV-1a hashes the run seed's 8 little-endian bytes and then the label's UTF-8 bytes; murmur3's
 * finalizer then mixes the result, because FNV alone leaves labels that differ only in their last
 * character too close together. Each label therefore gets its own stream, and adding an actor does
 * not perturb any other actor's randomness.
 */
export function deriveSeed(runSeed: number, label: string): number {
  const [lo, hi] = seedWords(runSeed, 'deriveSeed');
  let h = FNV_OFFSET_BASIS;
  for (let i = 0; i < 32; i += 8) h = fnv1aByte(h, (lo >>> i) & 0xff);
  for (let i = 0; i < 32; i += 8) h = fnv1aByte(h, (hi >>> i) & 0xff);
  for (const byte of utf8.encode(label)) h = fnv1aByte(h, byte);
  return fmix32(h >>> 0);
}
