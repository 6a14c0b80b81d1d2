// Public API of @splitnet/transport.
export * from './subjects.js';
export * from './codec.js';
export * from './transport.js';
export * from './memory-transport.js';
export * from './nats-transport.js';
export * from './nats-server.js';
