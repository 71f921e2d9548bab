/**
 * The explicit list of pgstore's commands, in the order `pgstore --help` shows them.
 */
import type { RegisterCommand } from './app.js';
import { healthCommand } from './health.js';
import { migrateCommand } from './migrate.js';
import { serverCommand } from './server.js';
import { resetCommand, setupCommand } from './setup.js';

export const COMMANDS: RegisterCommand[] = [setupCommand, migrateCommand, resetCommand, healthCommand, serverCommand];
