// Public API of @splitnet/worker.
export {};
