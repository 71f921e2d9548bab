/** Physical backups and point-in-time restores through pgBackRest: the folder's public face. */
export { listPhysicalBackups, type PhysicalBackup } from './list.js';
export {
  pgbackrestBackup,
  type PgbackrestBackupOptions,
  type PgbackrestBackupResult,
  type PhysicalBackupType,
} from './take.js';
export { pgbackrestRestore, type PgbackrestRestoreOptions, type PgbackrestRestoreResult } from './restore.js';
export { hasPgbackrest, pgbackrestLayout } from './layout.js';
export type { StandbyOptions } from './standby.js';
