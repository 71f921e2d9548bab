/** pgstore health: the checks and their thresholds: the folder's public face. */
export * from './checks.js';
export * from './health.js';
export * from './thresholds.js';
export * from './types.js';
