// STUB: being written.
export {};
