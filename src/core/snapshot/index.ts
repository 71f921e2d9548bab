/** pgstore snapshot: snapshots of the hosts projection, diff and rollback: the folder's public face. */
export * from './diff.js';
export * from './progress.js';
export * from './snapshot.js';
