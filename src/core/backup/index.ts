/** pgstore backup: taking, listing, verifying and pruning dumps: the folder's public face. */
export * from './backup.js';
export * from './catalog.js';
export * from './manifest.js';
export * from './metrics.js';
export * from './ops.js';
export * from './paths.js';
export * from './retention.js';
export * from './verify.js';
