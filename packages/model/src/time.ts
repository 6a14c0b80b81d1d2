// Emulated time in nanoseconds, held in a JS number (fractions allowed: a 1538-byte wire slot at 10 Gbit/s is 1230.4 ns).
export type Nanos = number;

export const NS = 1;
export const US = 1_000;
export const MS = 1_000_000;
export const SEC = 1_000_000_000;
