/** pgstore server: the embedded PostgreSQL: the folder's public face. */
export * from './server.js';
