/**
 * The explicit list of pgstore's commands, in the order `pgstore --help` shows them.
 */
import type { RegisterCommand } from './app.js';
import { backupCommand } from './backup.js';
import { healthCommand } from './health.js';
import { migrateCommand } from './migrate.js';
import { restoreCommand } from './restore.js';
import { serverCommand } from './server.js';
import { seedCommand } from './seed.js';
import { resetCommand, setupCommand } from './setup.js';
import { hostsCommand } from './hosts.js';
import { snapshotCommand } from './snapshot.js';

export const COMMANDS: RegisterCommand[] = [setupCommand, migrateCommand, resetCommand, seedCommand, hostsCommand, snapshotCommand, backupCommand, restoreCommand, healthCommand, serverCommand];
