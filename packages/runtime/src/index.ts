// Public API of @splitnet/runtime.
export {};
