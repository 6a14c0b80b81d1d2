// The software flow hash Linux's stack computes when the NIC gave none (skb_get_hash), and reciprocal_scale.

/**
 * A stand-in for the kernel's flow hash [assumption]: Linux hashes the dissected flow keys (addresses,
 * ports, protocol) with jhash2 under a random seed chosen once per boot (__flow_hash_from_keys,
 * hashrnd). What matters for queue choice is that the hash is well mixed and unknown in advance, so
 * this uses murmur3's 32-bit body over the same fields, seeded from the run seed: another seed is
 * another boot. It is not bit-compatible with jhash, and need not be.
 */
export function softwareFlowHash(seed: number, input: ArrayLike<number>, protocol: number): number {
  let h = seed >>> 0;
  let k = 0;
  let n = 0;
  const mixWord = (word: number): void => {
    let w = Math.imul(word, 0xcc9e2d51);
    w = (w << 15) | (w >>> 17);
    w = Math.imul(w, 0x1b873593);
    h ^= w;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  };
  for (let i = 0; i < input.length; i++) {
    k = (k << 8) | ((input[i] ?? 0) & 0xff);
    if (++n === 4) {
      mixWord(k);
      k = 0;
      n = 0;
    }
  }
  if (n > 0) mixWord(k);
  mixWord(protocol & 0xff);
  h ^= input.length + 1;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * reciprocal_scale(val, n): ((u64)val * n) >> 32, the kernel's way of mapping a 32-bit hash onto
 * [0, n) by its high bits (skb_tx_hash, fq_codel's bucket choice). Exact in doubles: val·n < 2^53.
 */
export function reciprocalScale(hash: number, n: number): number {
  return Math.floor(((hash >>> 0) * n) / 0x1_0000_0000);
}
