/** pgstore restore: a verified dump into a database, never destroying data by accident: the folder's public face. */
export * from './database-entries.js';
export * from './migrations.js';
export * from './restore.js';
export * from './source.js';
export * from './scratch-names.js';
