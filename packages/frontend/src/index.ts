// Public API of @splitnet/frontend.
export {};
