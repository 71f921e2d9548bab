/** Base backups + WAL archived by basic_archive (the embedded server without pgBackRest): the folder's public face. */
export { listBaseBackups } from './layout.js';
export { baseBackup, type BaseBackupResult } from './take.js';
export { baseRestore, type BaseRestoreOptions, type BaseRestoreResult } from './restore.js';
