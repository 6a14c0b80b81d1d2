// Public API of @splitnet/controller.
export {};
