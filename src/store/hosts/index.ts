/** Hosts: the event store, its projection and snapshots: the folder's public face. */
export * from './errors.js';
export * from './events-copy.js';
export * from './events-insert.js';
export * from './events.js';
export * from './grants.js';
export * from './hosts.js';
export * from './hosts-copy-out.js';
export * from './snapshots.js';
export * from './types.js';
