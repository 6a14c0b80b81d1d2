// Public API of @splitnet/nic.
export {};
