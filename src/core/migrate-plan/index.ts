/**
 * pgstore migrate plan: the pending migrations with their lint findings and locks, and their
 * rehearsal on a backup restored into a scratch database. Above migrate and restore (it uses
 * both; restore reads migration histories), so it is a folder of its own. The public face.
 */
export * from './plan.js';
