// STUB (to be implemented): 2-level event channels.
export class EventChannels {}
