// Public API of @splitnet/scenario.
export type * from './types.js';
