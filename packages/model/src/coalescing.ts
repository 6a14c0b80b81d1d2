// STUB (to be implemented): the coalescing policies.
import type { Coalescer, PolicySpec } from './coalescing-types.js';
export function createCoalescer(_spec: PolicySpec): Coalescer {
  throw new Error('not implemented');
}
