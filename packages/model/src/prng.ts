// STUB (to be implemented): seeded PRNG.
export class Prng {}
