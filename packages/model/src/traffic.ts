// STUB (to be implemented): traffic generation with line-rate serialization.
export class TrafficSource {}
