/** pgstore seed: fixtures and synthetic data: the folder's public face. */
export * from './files.js';
export * from './fixture-sets.js';
export * from './fixtures.js';
export * from './host-fixtures.js';
export * from './seed.js';
export * from './synthetic-data.js';
export * from './synthetic.js';
