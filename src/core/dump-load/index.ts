/**
 * Loading a dump into a database (pg_restore or psql, owners and privileges filtered), then
 * counting and comparing its rows: shared by restore and by backup's verification, so neither
 * of those two folders imports the other for it. The folder's public face.
 */
export * from './load.js';
export * from './sql-filter.js';
