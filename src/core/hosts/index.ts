/** pgstore hosts: the hosts-file entries, their import and export: the folder's public face. */
export * from './batch.js';
export * from './db.js';
export * from './export.js';
export * from './file.js';
export * from './formats.js';
export * from './hosts.js';
export * from './ids.js';
export * from './import.js';
export * from './listing.js';
export * from './replica-db.js';
export * from './validation.js';
