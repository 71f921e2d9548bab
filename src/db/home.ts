/**
 * pgstore's home folder (the embedded server's files, and the default backup folder): a leaf
 * with no imports beyond node, so a command's help can name the real folder for this user
 * without loading the connection resolver (db/config.ts).
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

type Env = Record<string, string | undefined>;

/**
 * Where the embedded server keeps its files: PGSTORE_HOME (made absolute), else a per-user
 * default (as root /var/lib/pgstore). A relative XDG_DATA_HOME is invalid by the XDG spec and is ignored.
 */
export function embeddedHome(env: Env, home: string, isRoot: boolean): string {
  if (env.PGSTORE_HOME) return resolve(env.PGSTORE_HOME);
  if (isRoot) return '/var/lib/pgstore';
  const xdg = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(home, '.local', 'share');
  return join(xdg, 'pgstore');
}

/** The default backup folder for this environment and user: `<pgstore home>/backups` (it may not exist yet). */
export function defaultBackupDir(env: Env): string {
  return join(embeddedHome(env, homedir(), process.getuid?.() === 0), 'backups');
}

/** The backup folder: the given one (--dir, --backup-dir), else PGSTORE_BACKUP_DIR, else the default; always absolute. */
export function resolveBackupDir(dir: string | undefined, env: Env): string {
  return resolve(chosenBackupDir(dir, env) ?? defaultBackupDir(env));
}

/** The backup folder the user named (a flag, else PGSTORE_BACKUP_DIR), if any. */
export function chosenBackupDir(dir: string | undefined, env: Env): string | undefined {
  return dir?.trim() || env.PGSTORE_BACKUP_DIR?.trim() || undefined;
}
