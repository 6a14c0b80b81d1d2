// Public API of @splitnet/backend.
export {};
