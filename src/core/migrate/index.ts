/** pgstore migrate: the two migration sets, applied, checked, linted and rehearsed: the folder's public face. */
export * from './apply.js';
export * from './diff.js';
export * from './dump.js';
export * from './files.js';
export * from './history.js';
export * from './lint.js';
export * from './locks.js';
export * from './migrate.js';
export * from './preflight.js';
export * from './scratch-db.js';
export * from './session.js';
export * from './sets.js';
export * from './status.js';
