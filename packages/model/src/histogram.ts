// STUB (to be implemented): HDR-style latency histogram.
export class LatencyHistogram {}
