// Unsigned 32-bit arithmetic for Xen's free-running ring indices (they wrap at 2^32).
export const U32_MOD = 0x1_0000_0000;

/** Wrap any integer into [0, 2^32). */
export function u32(x: number): number {
  return x >>> 0;
}

/** (a + b) mod 2^32. */
export function u32Add(a: number, b: number): number {
  return (a + b) >>> 0;
}

/** (a - b) mod 2^32: the distance from b forward to a. */
export function u32Sub(a: number, b: number): number {
  return (a - b) >>> 0;
}
